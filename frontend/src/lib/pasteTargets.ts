/**
 * Turns pasted text into rows for POST /tasks/{id}/targets/bulk: one target a line,
 * `identity[, first name[, last name]]` separated by a tab, comma or semicolon.
 * The service normalizes and validates each row; this only decides which identity a value is.
 */
export type PasteMode = "auto" | "username" | "user_id" | "phone";

export interface PastedRow {
  line: number;
  raw: string;
  kind: "username" | "user_id" | "phone";
  body: { username?: string; user_id?: string; phone?: string; first_name?: string; last_name?: string };
}

export function detectKind(value: string): PastedRow["kind"] {
  const v = value.trim();
  if (/^(\+|00)[\d\s().-]{6,}$/.test(v)) return "phone";
  if (/^\d+$/.test(v)) return "user_id";
  if (/^[\d\s().-]{7,}$/.test(v) && /\d{3}/.test(v)) return "phone";
  return "username";
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
    rows.push({ line: i + 1, raw, kind, body });
  });
  return rows;
}
