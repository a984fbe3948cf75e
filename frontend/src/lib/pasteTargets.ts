/**
 * Turns pasted text into rows for POST /tasks/{id}/targets/bulk: one target a line,
 * `identity[, first name[, last name]]` separated by a tab, comma or semicolon.
 * The service normalizes and validates each row; this decides which identity a value is, and refuses
 * what the service would refuse anyway by the same rule: a bare number is a user id only from
 * MIN_USER_ID_DIGITS digits on (models/identity.py MIN_TARGET_USER_ID_DIGITS); a shorter one is neither a
 * user id nor a phone (reason `number_too_short`) and is not sent.
 */
export type PasteMode = "auto" | "username" | "user_id" | "phone";

/**
 * Telegram publishes no id ranges; the ids met in practice have 6 to 10 or more digits (folklore, the
 * same note as the service's). A 1-4 digit number in an audience is a row number or a cut phone.
 */
export const MIN_USER_ID_DIGITS = 5;

export type PasteProblem = "number_too_short";

export interface PastedRow {
  line: number;
  raw: string;
  kind: "username" | "user_id" | "phone";
  body: { username?: string; user_id?: string; phone?: string; first_name?: string; last_name?: string };
  /** Set when the row is refused here (not sent). */
  problem?: PasteProblem;
}

export function detectKind(value: string): PastedRow["kind"] {
  const v = value.trim();
  if (/^(\+|00)[\d\s().-]{6,}$/.test(v)) return "phone";
  if (/^\d+$/.test(v)) return "user_id";
  if (/^[\d\s().-]{7,}$/.test(v) && /\d{3}/.test(v)) return "phone";
  return "username";
}

/** A bare number (digits only) shorter than a user id can be. */
export function isTooShortNumber(value: string): boolean {
  const v = value.trim();
  return /^\d+$/.test(v) && v.length < MIN_USER_ID_DIGITS;
}

export function parsePasted(text: string, mode: PasteMode = "auto"): PastedRow[] {
  const rows: PastedRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const raw = line.trim();
    if (!raw || raw.startsWith("#")) return;
    const parts = raw.split(/\t|;|,/).map((p) => p.trim());
    const identity = parts[0] ?? "";
    const kind = mode === "auto" ? detectKind(identity) : mode;
    const body: PastedRow["body"] = { [kind]: identity };
    if (parts[1]) body.first_name = parts[1];
    if (parts[2]) body.last_name = parts.slice(2).join(" ");
    const row: PastedRow = { line: i + 1, raw, kind, body };
    if (kind === "user_id" && isTooShortNumber(identity)) row.problem = "number_too_short";
    rows.push(row);
  });
  return rows;
}
