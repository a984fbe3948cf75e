import { describe, expect, it } from "vitest";
import { isProblem, parseTemplate, renderTemplate } from "./template";

// Each case was checked against the service's own template.py (string.Formatter):
// valid → its placeholder names and the rendering with {first_name: Anna, a: A, name: N}; invalid → the message.
const VALID: [string, string[], string][] = [
  ["Hello {first_name}!", ["first_name"], "Hello Anna!"],
  ["{{literal}} and {name}", ["name"], "{literal} and N"],
  ["{a:}", ["a"], "A"],
  ["}}{{", [], "}{"],
  ["{first_name} {first_name}", ["first_name"], "Anna Anna"],
  ["{_x1}", ["_x1"], ""],
  ["x{{y}}z{w}", ["w"], "x{y}z"],
  ["{{{a}}}", ["a"], "{A}"],
  ["", [], ""],
];

const INVALID: [string, string][] = [
  ["Hi {", "malformed template: Single '{' encountered in format string; write a literal brace as '{{' or '}}'"],
  ["Hi }", "malformed template: Single '}' encountered in format string; write a literal brace as '{{' or '}}'"],
  ["{}", "empty placeholder '{}': name a field, e.g. {first_name}"],
  ["{0}", "placeholder {0} must be a plain field name (letters, digits, _)"],
  ["{a.b}", "placeholder {a.b} must be a plain field name (letters, digits, _)"],
  ["{a[0]}", "placeholder {a[0]} must be a plain field name (letters, digits, _)"],
  ["{a!r}", "placeholder {a} may not have a format spec or conversion"],
  ["{a:>10}", "placeholder {a} may not have a format spec or conversion"],
  ["{a!}", "malformed template: unmatched '{' in format spec; write a literal brace as '{{' or '}}'"],
  ["{a", "malformed template: expected '}' before end of string; write a literal brace as '{{' or '}}'"],
  ["a}b", "malformed template: Single '}' encountered in format string; write a literal brace as '{{' or '}}'"],
  ["{ a }", "placeholder { a } must be a plain field name (letters, digits, _)"],
  ["{a{b}}", "malformed template: unexpected '{' in field name; write a literal brace as '{{' or '}}'"],
  ["{1abc}", "placeholder {1abc} must be a plain field name (letters, digits, _)"],
  ["{a!r:}", "placeholder {a} may not have a format spec or conversion"],
  ["{a:{b}}", "placeholder {a} may not have a format spec or conversion"],
  [`{${"x".repeat(65)}}`, `placeholder {${"x".repeat(65)}} must be a plain field name (letters, digits, _)`],
  ["{é}", "placeholder {é} must be a plain field name (letters, digits, _)"],
  ["{a}}", "malformed template: Single '}' encountered in format string; write a literal brace as '{{' or '}}'"],
  ["{{a}", "malformed template: Single '}' encountered in format string; write a literal brace as '{{' or '}}'"],
  ["{0} then {", "malformed template: Single '{' encountered in format string; write a literal brace as '{{' or '}}'"],
];

const sample = { first_name: "Anna", a: "A", name: "N" };

describe("template rules (same as the service's template.py)", () => {
  it.each(VALID)("accepts %j", (template, names, rendered) => {
    const parsed = parseTemplate(template);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.names).toEqual(names);
    const out = renderTemplate(template, sample);
    expect(isProblem(out)).toBe(false);
    if (!isProblem(out)) expect(out.text).toBe(rendered);
  });

  it.each(INVALID)("refuses %j", (template, message) => {
    const parsed = parseTemplate(template);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toBe(message);
  });

  it("reports the placeholders the sample lacks", () => {
    const out = renderTemplate("Hi {first_name} from {city}", { first_name: "Anna" });
    expect(isProblem(out)).toBe(false);
    if (!isProblem(out)) {
      expect(out.text).toBe("Hi Anna from ");
      expect(out.missing).toEqual(["city"]);
    }
  });
});
