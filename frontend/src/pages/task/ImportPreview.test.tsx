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
  remembered: false,
  preview: [{ row: 2, kind: "username", key: "anna_p", username: "anna_p", first_name: "Анна", last_name: null, fields: { gorod: "Москва" } }],
};

function Harness({ onChange, data = preview }: { onChange?: (m: Mapping) => void; data?: ImportValidateOut }) {
  const [mapping, setMapping] = useState<Mapping>(data.mapping);
  return (
    <ImportPreview
      preview={data}
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

  it("offers full_name and shows the split: names in the sample and the rule on examples", () => {
    const crm: ImportValidateOut = {
      ...preview,
      columns: ["ФИО", "Ник в Telegram", "Почта"],
      mapping: { "ФИО": "full_name", "Ник в Telegram": "username", "Почта": "email" },
      errors: [{ row: 5, reason: "duplicate", detail: "repeats row 3", duplicate_of_row: 3 }],
      remembered: true,
      preview: [
        { row: 2, kind: "username", key: "ivanov", username: "ivanov", first_name: "Иван", last_name: "Иванов", fields: { email: "i@example.com", middle_name: "Иванович" } },
      ],
    };
    renderUI(<Harness data={crm} />);
    expect(screen.getByLabelText("Column ФИО")).toHaveValue("Full name (split into first and last)");
    expect(screen.getByTestId("import-full-name-hint")).toHaveTextContent("“Иванов Иван Иванович” → first name Иван, last name Иванов");
    expect(screen.getByTestId("import-full-name-hint")).toHaveTextContent("“John Smith” → first name John, last name Smith");
    const sample = screen.getByTestId("import-sample");
    expect(within(sample).getAllByTestId("import-split-mark")).toHaveLength(2);
    expect(within(sample).getByText("Иван")).toBeInTheDocument();
    expect(within(sample).getByText("Иванов")).toBeInTheDocument();
    expect(screen.getByLabelText("Column Почта")).toHaveValue("Template field {email}");
    expect(screen.getByTestId("import-remembered")).toHaveTextContent("Using the mapping you chose last time for this header");
    expect(within(screen.getByTestId("import-errors")).getByText("Duplicate of row 3")).toBeInTheDocument();
  });

  it("says nothing about a remembered mapping when the service did not offer one", () => {
    renderUI(<Harness />);
    expect(screen.queryByTestId("import-remembered")).toBeNull();
    expect(screen.queryByTestId("import-full-name-hint")).toBeNull();
  });

  it("knows which mappings can be imported", () => {
    expect(hasIdentityColumn({ a: "phone", b: null })).toBe(true);
    expect(hasIdentityColumn({ a: "identity" })).toBe(true);
    expect(hasIdentityColumn({ a: "first_name", b: "city" })).toBe(false);
  });
});
