/**
 * The import wizard's state: the file and its checked preview, the mapping being edited, the import
 * options, the parsing-job form and the job once started. Whether a request is in flight is the
 * mutations' own (ImportWizard), not kept here.
 */
import type { ImportValidateOut } from "../../api/types";
import type { Mapping } from "./ImportPreview";

export type WizardState = {
  file: File | null;
  preview: ImportValidateOut | null;
  /** The sheet the preview was read from (an Excel file with several). */
  sheet: string | null;
  mapping: Mapping;
  /** The mapping the preview was checked with, as JSON: an edit since then asks for a new check. */
  checkedMapping: string;
  dedupe: boolean;
  skipSuppressed: boolean;
  parsingId: string;
  parsingError: string | null;
  jobId: string | null;
  error: unknown;
};

export type WizardAction =
  /** A check of `file` starts; `newFile` forgets the sheet, and a cleared file forgets the preview. */
  | { type: "checking"; file: File | null; newFile: boolean }
  /**
   * A check's answer. `sent`: the mapping it was asked with, as JSON (null: the file's own or the remembered
   * one); when the user changed the mapping since, their mapping stays (another check follows).
   */
  | { type: "checked"; preview: ImportValidateOut; sent?: string | null }
  | { type: "mapping"; mapping: Mapping }
  | { type: "dedupe"; value: boolean }
  | { type: "skipSuppressed"; value: boolean }
  | { type: "parsingId"; value: string }
  | { type: "parsingRefused"; message: string }
  /** A request that may start the job is sent (from the file, or from a parsing job). */
  | { type: "starting"; fromParsing: boolean }
  | { type: "started"; jobId: string }
  | { type: "failed"; error: unknown }
  /** Back to choosing a file; the options and the parsing-job form stay as they were. */
  | { type: "reset" };

export const initialWizardState: WizardState = {
  file: null,
  preview: null,
  sheet: null,
  mapping: {},
  checkedMapping: "{}",
  dedupe: true,
  skipSuppressed: true,
  parsingId: "",
  parsingError: null,
  jobId: null,
  error: null,
};

/** 0 choose a file, 1 check it, 2 the job runs. */
export function wizardStep(s: WizardState): 0 | 1 | 2 {
  return s.jobId ? 2 : s.preview ? 1 : 0;
}

export function mappingEdited(s: WizardState): boolean {
  return JSON.stringify(s.mapping) !== s.checkedMapping;
}

export function wizardReducer(s: WizardState, a: WizardAction): WizardState {
  switch (a.type) {
    case "checking":
      return {
        ...s,
        file: a.file,
        error: null,
        ...(a.newFile ? { sheet: null, mapping: {}, checkedMapping: "{}" } : {}),
        ...(a.file ? {} : { preview: null }),
      };
    case "checked": {
      const offered = a.preview.mapping ?? {};
      const editedSince = a.sent !== undefined && a.sent !== null && JSON.stringify(s.mapping) !== a.sent;
      const mapping = editedSince ? s.mapping : offered;
      return { ...s, preview: a.preview, sheet: a.preview.sheet, mapping, checkedMapping: JSON.stringify(offered) };
    }
    case "mapping":
      return { ...s, mapping: a.mapping };
    case "dedupe":
      return { ...s, dedupe: a.value };
    case "skipSuppressed":
      return { ...s, skipSuppressed: a.value };
    case "parsingId":
      return { ...s, parsingId: a.value };
    case "parsingRefused":
      return { ...s, parsingError: a.message };
    case "starting":
      return { ...s, error: null, ...(a.fromParsing ? { parsingError: null } : {}) };
    case "started":
      return { ...s, jobId: a.jobId };
    case "failed":
      return { ...s, error: a.error };
    case "reset":
      return { ...s, file: null, preview: null, mapping: {}, jobId: null, error: null };
  }
}
