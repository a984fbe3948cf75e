/**
 * Message templates, parsed by the same rules as the service (src/invite_service/invite_tasks/template.py,
 * which uses Python's string.Formatter): `{name}` placeholders, `{{` and `}}` for literal braces, bare
 * field names only (no attributes, indexes, conversions or format specs). The preview is rendered here;
 * the service still validates on save and its errors are shown next to the field.
 */
export const STANDARD_FIELDS = ["first_name", "last_name", "username"] as const;

// Python's `$` also matches before one trailing newline; kept so both sides agree on every input.
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}\n?$/;
const BRACE_HINT = "; write a literal brace as '{{' or '}}'";

export type Segment = { kind: "text"; text: string } | { kind: "field"; name: string };

export interface TemplateProblem {
  message: string;
  /** Index in the template where the problem starts. */
  at: number;
}

export type ParseResult =
  | { ok: true; segments: Segment[]; names: string[] }
  | { ok: false; error: TemplateProblem };

interface RawField {
  name: string;
  conversion: string | null;
  spec: string;
  at: number;
}

function malformed(reason: string, at: number): ParseResult {
  return { ok: false, error: { message: `malformed template: ${reason}${BRACE_HINT}`, at } };
}

export function parseTemplate(template: string): ParseResult {
  const segments: Segment[] = [];
  const fields: RawField[] = [];
  let text = "";
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i];
    if (c === "}") {
      if (template[i + 1] === "}") {
        text += "}";
        i += 2;
        continue;
      }
      return malformed("Single '}' encountered in format string", i);
    }
    if (c !== "{") {
      text += c;
      i += 1;
      continue;
    }
    if (i + 1 >= n) return malformed("Single '{' encountered in format string", i);
    if (template[i + 1] === "{") {
      text += "{";
      i += 2;
      continue;
    }
    // A replacement field: up to the matching '}' (a format spec may nest braces).
    let j = i + 1;
    let depth = 1;
    let inSpec = false;
    for (; j < n; j++) {
      const ch = template[j];
      if (ch === "{") {
        if (!inSpec) return malformed("unexpected '{' in field name", j);
        depth += 1;
      } else if (ch === "}") {
        depth -= 1;
        if (depth === 0) break;
      } else if (ch === ":" && !inSpec) {
        inSpec = true;
      }
    }
    if (j >= n) return malformed("expected '}' before end of string", i);
    const body = template.slice(i + 1, j);
    const stop = body.search(/[!:]/);
    const name = stop < 0 ? body : body.slice(0, stop);
    let conversion: string | null = null;
    let spec = "";
    if (stop >= 0 && body[stop] === "!") {
      if (stop + 1 >= body.length) return malformed("unmatched '{' in format spec", i);
      conversion = body[stop + 1] ?? null;
      const rest = body.slice(stop + 2);
      if (rest.length > 0 && rest[0] !== ":") return malformed("expected ':' after conversion specifier", i);
      spec = rest.slice(1);
    } else if (stop >= 0) {
      spec = body.slice(stop + 1);
    }
    if (text) segments.push({ kind: "text", text });
    text = "";
    segments.push({ kind: "field", name });
    fields.push({ name, conversion, spec, at: i });
    i = j + 1;
  }
  if (text) segments.push({ kind: "text", text });

  const names: string[] = [];
  for (const f of fields) {
    if (f.name === "") {
      return { ok: false, error: { message: "empty placeholder '{}': name a field, e.g. {first_name}", at: f.at } };
    }
    if (!FIELD.test(f.name)) {
      return {
        ok: false,
        error: { message: `placeholder {${f.name}} must be a plain field name (letters, digits, _)`, at: f.at },
      };
    }
    if (f.spec || f.conversion) {
      return {
        ok: false,
        error: { message: `placeholder {${f.name}} may not have a format spec or conversion`, at: f.at },
      };
    }
    if (!names.includes(f.name)) names.push(f.name);
  }
  return { ok: true, segments, names };
}

export type SampleValues = Record<string, string | number | boolean | null | undefined>;

export interface Rendered {
  text: string;
  /** Placeholders the sample has no value for: they render as empty text, as the service does. */
  missing: string[];
}

export function renderTemplate(template: string, values: SampleValues): Rendered | TemplateProblem {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed.error;
  const missing: string[] = [];
  let text = "";
  for (const seg of parsed.segments) {
    if (seg.kind === "text") {
      text += seg.text;
      continue;
    }
    const value = values[seg.name];
    if (value === undefined || value === null || value === "") {
      if (!missing.includes(seg.name)) missing.push(seg.name);
    } else {
      text += String(value);
    }
  }
  return { text, missing };
}

export function isProblem(x: Rendered | TemplateProblem): x is TemplateProblem {
  return (x as TemplateProblem).message !== undefined;
}
