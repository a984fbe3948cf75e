import { describe, expect, it } from "vitest";
import type { ImportValidateOut } from "../../api/types";
import { initialWizardState, mappingEdited, type WizardAction, wizardReducer, type WizardState, wizardStep } from "./importWizardState";

const file = new File(["username\n@anna\n"], "people.csv");

function preview(overrides: Partial<ImportValidateOut> = {}): ImportValidateOut {
  return {
    format: "xlsx",
    encoding: null,
    delimiter: null,
    sheet: "Sheet1",
    sheets: ["Sheet1", "Sheet2"],
    has_header: true,
    columns: ["username"],
    mapping: { username: "username" },
    rows: 1,
    valid: 1,
    invalid: 0,
    duplicates: 0,
    suppressed: 0,
    errors: [],
    preview: [],
    remembered: false,
    ...overrides,
  };
}

const run = (...actions: WizardAction[]): WizardState => actions.reduce(wizardReducer, initialWizardState);

describe("wizardReducer", () => {
  it("goes from a chosen file to its preview, taking the sheet and mapping the service read", () => {
    const checking = run({ type: "checking", file, newFile: true });
    expect(checking.file).toBe(file);
    expect(wizardStep(checking)).toBe(0);

    const s = wizardReducer(checking, { type: "checked", preview: preview() });
    expect(wizardStep(s)).toBe(1);
    expect(s.sheet).toBe("Sheet1");
    expect(s.mapping).toEqual({ username: "username" });
    expect(mappingEdited(s)).toBe(false);
  });

  it("asks for a new check once the mapping is edited, until the check comes back", () => {
    const s = run({ type: "checking", file, newFile: true }, { type: "checked", preview: preview() }, { type: "mapping", mapping: { username: "user_id" } });
    expect(mappingEdited(s)).toBe(true);
    const rechecked = wizardReducer(s, { type: "checked", preview: preview({ mapping: { username: "user_id" } }) });
    expect(mappingEdited(rechecked)).toBe(false);
  });

  it("keeps the user's mapping when they changed it while a check was in flight", () => {
    const edited = run(
      { type: "checking", file, newFile: true },
      { type: "checked", preview: preview() },
      { type: "mapping", mapping: { username: "user_id" } },
      { type: "mapping", mapping: { username: "phone" } },
    );
    // The answer to the check sent with user_id comes back after the second edit.
    const s = wizardReducer(edited, { type: "checked", preview: preview({ mapping: { username: "user_id" } }), sent: JSON.stringify({ username: "user_id" }) });
    expect(s.mapping).toEqual({ username: "phone" });
    expect(mappingEdited(s)).toBe(true);
    const settled = wizardReducer(s, { type: "checked", preview: preview({ mapping: { username: "phone" } }), sent: JSON.stringify({ username: "phone" }) });
    expect(settled.mapping).toEqual({ username: "phone" });
    expect(mappingEdited(settled)).toBe(false);
  });

  it("starts a new file with the mapping the service offers for it", () => {
    const s = run({ type: "checking", file, newFile: true }, { type: "checked", preview: preview() }, { type: "mapping", mapping: { username: "user_id" } }, { type: "checking", file, newFile: true });
    expect(s.mapping).toEqual({});
    expect(mappingEdited(s)).toBe(false);
  });

  it("forgets the sheet only for a new file, and the preview only when the file is cleared", () => {
    const checked = run({ type: "checking", file, newFile: true }, { type: "checked", preview: preview() });
    const otherSheet = wizardReducer(checked, { type: "checking", file, newFile: false });
    expect(otherSheet.sheet).toBe("Sheet1");
    expect(otherSheet.preview).not.toBeNull();

    const newFile = wizardReducer(checked, { type: "checking", file, newFile: true });
    expect(newFile.sheet).toBeNull();
    expect(newFile.preview).not.toBeNull();

    const cleared = wizardReducer(checked, { type: "checking", file: null, newFile: true });
    expect(cleared.preview).toBeNull();
    expect(wizardStep(cleared)).toBe(0);
  });

  it("clears the last error when a request starts, and the parsing error only for a parsing request", () => {
    const failed = run({ type: "parsingRefused", message: "no such job" }, { type: "failed", error: new Error("boom") });
    const fromFile = wizardReducer(failed, { type: "starting", fromParsing: false });
    expect(fromFile.error).toBeNull();
    expect(fromFile.parsingError).toBe("no such job");
    const fromParsing = wizardReducer(failed, { type: "starting", fromParsing: true });
    expect(fromParsing.parsingError).toBeNull();
  });

  it("shows the job once started; a reset goes back to choosing a file and keeps the options", () => {
    const started = run(
      { type: "dedupe", value: false },
      { type: "skipSuppressed", value: false },
      { type: "parsingId", value: "job-1" },
      { type: "checking", file, newFile: true },
      { type: "checked", preview: preview() },
      { type: "started", jobId: "j1" },
    );
    expect(wizardStep(started)).toBe(2);

    const s = wizardReducer(started, { type: "reset" });
    expect(wizardStep(s)).toBe(0);
    expect(s).toMatchObject({ file: null, preview: null, mapping: {}, jobId: null, error: null });
    expect(s).toMatchObject({ dedupe: false, skipSuppressed: false, parsingId: "job-1" });
  });
});
