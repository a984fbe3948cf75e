import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { ImportValidateOut } from "../../api/types";
import { renderUI } from "../../test/render";
import { hasIdentityColumn, ImportPreview, type Mapping } from "./ImportPreview";

const preview: ImportValidateOut = {
  format: "csv",
  encoding: "cp1251",
  delimiter: ";",
  sheet: null,
  sheets: [],
  has_header: true,
  columns: ["ник", "имя", "город"],
  mapping: { "ник": "username", "имя": "first_name", "город": "gorod" },
  rows: 120,
  valid: 110,
  invalid: 6,
  duplicates: 3,
  suppressed: 1,
  errors: [
    { row: 4, reason: "invalid_username", detail: "username must be 5-32 letters, digits or underscores, starting with a letter" },
    { row: 9, reason: "no_identity", detail: "no username, user_id or phone" },
  ],
  preview: [{ row: 2, kind: "username", key: "anna_p", username: "anna_p", first_name: "Анна", last_name: null, fields: { gorod: "Москва" } }],
  remembered: false,
};

function Harness({ onChange }: { onChange?: (m: Mapping) => void }) {
  const [mapping, setMapping] = useState<Mapping>(preview.mapping);
  return (
    <ImportPreview
      preview={preview}
      mapping={mapping}
      onMappingChange={(m) => {
        setMapping(m);
        onChange?.(m);
      }}
    />
  );
}

describe("ImportPreview", () => {
  it("shows what the service detected, the counts and the first errors", () => {
    renderUI(<Harness />);
    expect(screen.getByTestId("import-encoding")).toHaveTextContent("cp1251");
    expect(screen.getByTestId("import-delimiter")).toHaveTextContent("semicolon");
    const counts = screen.getByTestId("import-counts");
    expect(within(counts).getByText("110")).toHaveAttribute("data-count", "valid");
    expect(within(counts).getByText("6")).toHaveAttribute("data-count", "invalid");
    const errors = screen.getByTestId("import-errors");
    expect(within(errors).getByText(/username must be 5-32/)).toBeInTheDocument();
    expect(within(errors).getByText("9")).toBeInTheDocument();
    const sample = screen.getByTestId("import-sample");
    expect(within(sample).getByText("anna_p")).toBeInTheDocument();
    expect(within(sample).getByText("{gorod}")).toBeInTheDocument();
    expect(within(sample).getByText("Москва")).toBeInTheDocument();
    expect(screen.queryByTestId("import-no-identity")).toBeNull();
  });

  it("lets the user change a column's mapping, and warns without an identity column", async () => {
    const onChange = vi.fn();
    const user = userEvent.setup();
    renderUI(<Harness onChange={onChange} />);
    const column = screen.getByLabelText("Column ник");
    expect(column).toHaveValue("Username");
    await user.click(column);
    const listbox = await waitFor(() => {
      const el = document.getElementById(column.getAttribute("aria-controls") ?? "");
      expect(el).not.toBeNull();
      return el as HTMLElement;
    });
    fireEvent.click(within(listbox).getByRole("option", { name: "Ignore", hidden: true }));
    expect(onChange).toHaveBeenLastCalledWith({ "ник": "ignore", "имя": "first_name", "город": "gorod" });
    expect(screen.getByTestId("import-no-identity")).toBeInTheDocument();
  });

  it("knows which mappings can be imported", () => {
    expect(hasIdentityColumn({ a: "phone", b: null })).toBe(true);
    expect(hasIdentityColumn({ a: "identity" })).toBe(true);
    expect(hasIdentityColumn({ a: "first_name", b: "city" })).toBe(false);
  });
});
