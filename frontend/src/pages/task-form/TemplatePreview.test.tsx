import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { renderUI } from "../../test/render";
import { TemplateEditor } from "./TemplateEditor";
import { TemplatePreview } from "./TemplatePreview";

describe("TemplatePreview", () => {
  it("renders the message for the sample target", () => {
    renderUI(<TemplatePreview template="Hi {first_name} {last_name}! {{VIP}}" sample={{ first_name: "Anna", last_name: "Petrova" }} />);
    expect(screen.getByTestId("template-preview-text")).toHaveTextContent("Hi Anna Petrova! {VIP}");
    expect(screen.queryByTestId("template-missing")).toBeNull();
  });

  it("flags placeholders the sample has no value for", () => {
    renderUI(<TemplatePreview template="Hi {first_name}, see you in {city}" sample={{ first_name: "Anna" }} />);
    expect(screen.getByTestId("template-missing")).toHaveTextContent("{city}");
  });

  it("shows why a template cannot be sent", () => {
    renderUI(<TemplatePreview template="Hi {first_name!r}" sample={{}} />);
    expect(screen.getByTestId("template-preview-error")).toHaveTextContent(
      "placeholder {first_name} may not have a format spec or conversion",
    );
  });
});

function Harness({ apiError }: { apiError?: string }) {
  const [value, setValue] = useState("");
  return <TemplateEditor value={value} onChange={setValue} apiError={apiError} />;
}

describe("TemplateEditor", () => {
  it("previews live as the user types, using the editable sample", async () => {
    const user = userEvent.setup();
    renderUI(<Harness />);
    await user.type(screen.getByLabelText(/^Message/), "Hello {{first_name}, dear {{first_name}!");
    expect(screen.getByTestId("template-preview-text")).toHaveTextContent("Hello Anna, dear Anna!");
    const sampleName = screen.getByLabelText("first_name");
    await user.clear(sampleName);
    await user.type(sampleName, "Boris");
    expect(screen.getByTestId("template-preview-text")).toHaveTextContent("Hello Boris, dear Boris!");
  });

  it("inserts a placeholder at the cursor", async () => {
    const user = userEvent.setup();
    renderUI(<Harness />);
    await user.type(screen.getByLabelText(/^Message/), "Hi ");
    await user.click(screen.getByRole("button", { name: "{username}" }));
    expect(screen.getByLabelText(/^Message/)).toHaveValue("Hi {username}");
    expect(screen.getByTestId("template-preview-text")).toHaveTextContent("Hi anna_p");
  });

  it("shows the service's error for the field", () => {
    renderUI(<Harness apiError="malformed template: Single '{' encountered in format string" />);
    expect(screen.getByText(/Single '\{' encountered/)).toBeInTheDocument();
  });
});
