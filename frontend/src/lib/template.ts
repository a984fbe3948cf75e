/**
 * Message templates, parsed by the same rules as the service (src/invite_service/invite_tasks/template.py,
 * whose brace errors are Python's string.Formatter's): `{name}` placeholders, `{name|fallback}` (the
 * fallback renders when the target's value is missing or empty; 0-100 characters, none of `{`, `}`, `|`),
 * `{{` and `}}` for literal braces, bare field names only (no attributes, indexes, conversions or format
 * specs). The preview is rendered here; the service still validates on save and its errors are shown next
 * to the field. `unknownPlaceholders` is the service's save-time rule for names no target has.
 */
export const STANDARD_FIELDS = ["first_name", "last_name", "username"] as const;
export const FALLBACK_MAX = 100;
/** A near miss of a known name (edit distance) is offered as "did you mean". */
export const NEAR_MISS = 2;

// Python's `$` also matches before one trailing newline; kept so both sides agree on every input.
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}\n?$/;
// A placeholder with a fallback, tried at each '{' that does not start '{{'.
const WITH_FALLBACK = /\{([A-Za-z_][A-Za-z0-9_]{0,63})\|([^{}|]*)\}/y;
const BRACE_HINT = "; write a literal brace as '{{' or '}}'";

/** A field's `fallback` is null when none is given ("" is an empty fallback: `{first_name|}`). */
export type Segment = { kind: "text"; text: string } | { kind: "field"; name: string; fallback: string | null };

export interface TemplateProblem {
  message: string;
  /** Index in the template where the problem starts. */
  at: number;
}

export type ParseResult =
  | { ok: true; segments: Segment[]; names: string[]; required: string[] }
  | { ok: false; error: TemplateProblem };

interface RawField {
  name: string;
  fallback: string | null;
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
    if (text) segments.push({ kind: "text", text });
    text = "";
    WITH_FALLBACK.lastIndex = i;
    const withFallback = WITH_FALLBACK.exec(template);
    if (withFallback) {
      const name = withFallback[1] ?? "";
      const fallback = withFallback[2] ?? "";
      segments.push({ kind: "field", name, fallback });
      fields.push({ name, fallback, conversion: null, spec: "", at: i });
      i = WITH_FALLBACK.lastIndex;
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
    segments.push({ kind: "field", name, fallback: null });
    fields.push({ name, fallback: null, conversion, spec, at: i });
    i = j + 1;
  }
  if (text) segments.push({ kind: "text", text });

  const names: string[] = [];
  for (const f of fields) {
    if (f.name === "") {
      return { ok: false, error: { message: "empty placeholder '{}': name a field, e.g. {first_name}", at: f.at } };
    }
    const head = f.name.split("|")[0] ?? "";
    if (f.name.includes("|") && FIELD.test(head)) {
      return {
        ok: false,
        error: { message: `placeholder {${f.name}}: a fallback may not contain '{', '}' or '|' (write it as {name|text})`, at: f.at },
      };
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
    if (f.fallback !== null && f.fallback.length > FALLBACK_MAX) {
      return {
        ok: false,
        error: { message: `the fallback of {${f.name}} is ${f.fallback.length} characters; at most ${FALLBACK_MAX}`, at: f.at },
      };
    }
    if (!names.includes(f.name)) names.push(f.name);
  }
  const required: string[] = [];
  for (const f of fields) if (f.fallback === null && !required.includes(f.name)) required.push(f.name);
  return { ok: true, segments, names, required };
}

export type SampleValues = Record<string, string | number | boolean | null | undefined>;

export interface Rendered {
  text: string;
  /** Placeholders without fallback the sample has no value for: they render as empty text, as the service does. */
  missing: string[];
}

/** A field's value as text; missing and null are empty (the service's rule). */
export function fieldValue(values: SampleValues, name: string): string {
  const value = values[name];
  return value === undefined || value === null ? "" : String(value);
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
    const value = fieldValue(values, seg.name);
    if (value !== "") text += value;
    else if (seg.fallback !== null) text += seg.fallback;
    else if (!missing.includes(seg.name)) missing.push(seg.name);
  }
  return { text, missing };
}

export function isProblem(x: Rendered | TemplateProblem): x is TemplateProblem {
  return (x as TemplateProblem).message !== undefined;
}

// -- unknown placeholders (the service's save-time rule) ---------------------------------------------

/** Levenshtein distance, case-insensitive (`{First_Name}` is a near miss of `{first_name}`). */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/** The known name nearest to `name` (the first listed wins a tie), null when nothing is known. */
export function closest(name: string, known: readonly string[]): string | null {
  let best: [number, string] | null = null;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (best === null || d < best[0]) best = [d, candidate];
  }
  return best === null ? null : best[1];
}

export interface Unknown {
  name: string;
  /** The nearest known name, whatever its distance. */
  closest: string | null;
  /** `closest` when it is a near miss (what "did you mean" offers), else null. */
  suggestion: string | null;
}

function unknown(name: string, near: string | null): Unknown {
  const suggestion = near !== null && distance(name, near) <= NEAR_MISS ? near : null;
  return { name, closest: near, suggestion };
}

/**
 * The placeholders without fallback `template` may not use (none for a malformed template: its parse
 * error is shown instead). `customFields`: the imported fields some target of the task has; null when
 * the task has no targets yet: then any name is accepted except a near miss of a standard field.
 */
export function unknownPlaceholders(template: string, customFields: readonly string[] | null): Unknown[] {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return [];
  const standard: readonly string[] = STANDARD_FIELDS;
  const custom = [...new Set(customFields ?? [])].filter((f) => !standard.includes(f)).sort();
  const known = [...standard, ...custom];
  const out: Unknown[] = [];
  for (const name of parsed.required) {
    if (known.includes(name)) continue;
    if (customFields === null) {
      const near = standard.filter((s) => distance(name, s) <= NEAR_MISS);
      if (near.length) out.push(unknown(name, closest(name, near)));
      continue;
    }
    out.push(unknown(name, closest(name, known)));
  }
  return out;
}

/** The service's sentence for an unknown placeholder (English, as its `detail`). */
export function unknownMessage(u: Unknown): string {
  const head = `{${u.name}} is not a field any target has`;
  if (u.suggestion !== null) return `${head}; did you mean {${u.suggestion}}?`;
  const hint = `add a fallback ({${u.name}|text}) or import targets with a '${u.name}' column`;
  if (u.closest !== null) return `${head} (the closest known field is {${u.closest}}); ${hint}`;
  return `${head}; ${hint}`;
}
