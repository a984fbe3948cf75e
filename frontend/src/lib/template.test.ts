import { describe, expect, it } from "vitest";
import { distance, FALLBACK_MAX, isProblem, parseTemplate, renderTemplate, unknownMessage, unknownPlaceholders } from "./template";

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

// The same cases as tests/invite_tasks/test_template_rules.py (the service's rules for fallbacks).
describe("fallbacks {name|text}", () => {
  const HI = "Привет, {first_name|друг}!";

  it.each([
    [{ first_name: "Анна" }, "Привет, Анна!"],
    [{ first_name: "" }, "Привет, друг!"],
    [{ first_name: null }, "Привет, друг!"],
    [{}, "Привет, друг!"],
  ])("renders %j as %j", (fields, expected) => {
    const out = renderTemplate(HI, fields);
    expect(isProblem(out)).toBe(false);
    if (!isProblem(out)) {
      expect(out.text).toBe(expected);
      expect(out.missing).toEqual([]);
    }
  });

  it("keeps each occurrence's own fallback; only fields without one are required", () => {
    const template = "{first_name|friend}, {first_name}, {city|}{city|there}";
    const empty = renderTemplate(template, {});
    expect(!isProblem(empty) && empty.text).toBe("friend, , there");
    expect(!isProblem(empty) && empty.missing).toEqual(["first_name"]);
    const full = renderTemplate(template, { first_name: "Ann", city: "Oslo" });
    expect(!isProblem(full) && full.text).toBe("Ann, Ann, OsloOslo");
    const parsed = parseTemplate(template);
    expect(parsed.ok && parsed.names).toEqual(["first_name", "city"]);
    expect(parsed.ok && parsed.required).toEqual(["first_name"]);
    const odd = parseTemplate("{a|x:y!z }");
    expect(odd.ok && odd.segments).toEqual([{ kind: "field", name: "a", fallback: "x:y!z " }]);
  });

  it("keeps literal braces around a fallback literal", () => {
    const a = renderTemplate("{{first_name|x}}", { first_name: "A" });
    expect(!isProblem(a) && a.text).toBe("{first_name|x}");
    const b = renderTemplate("{{{first_name|x}}}", {});
    expect(!isProblem(b) && b.text).toBe("{x}");
  });

  it.each([
    ["{first_name|a|b}", "a fallback may not contain '{', '}' or '|'"],
    ["{first_name|{x}}", "unexpected '{' in field name"],
    ["{first_name|x", "expected '}' before end of string"],
    ["{1abc|x}", "must be a plain field name"],
    ["{|x}", "must be a plain field name"],
    [`{${"x".repeat(65)}|y}`, "must be a plain field name"],
    [`{a|${"я".repeat(FALLBACK_MAX + 1)}}`, "at most 100"],
  ])("refuses %j", (template, message) => {
    const parsed = parseTemplate(template);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message).toContain(message);
  });

  it("accepts a fallback of exactly 100 characters", () => {
    const out = renderTemplate(`{a|${"я".repeat(FALLBACK_MAX)}}`, {});
    expect(!isProblem(out) && out.text).toBe("я".repeat(FALLBACK_MAX));
  });
});

describe("unknown placeholders (the save-time rule)", () => {
  it("with targets: names the closest known field and suggests a near miss", () => {
    const [typo, ...rest] = unknownPlaceholders("Hi {frist_name}", ["city"]);
    expect(rest).toEqual([]);
    expect(typo).toEqual({ name: "frist_name", closest: "first_name", suggestion: "first_name" });
    expect(unknownMessage(typo!)).toBe("{frist_name} is not a field any target has; did you mean {first_name}?");
    expect(unknownPlaceholders("in {cty}", ["city", "email"])[0]?.suggestion).toBe("city");
    const [far] = unknownPlaceholders("{crm_identifier}", ["city"]);
    expect(far?.suggestion).toBeNull();
    expect(unknownMessage(far!)).toContain("add a fallback ({crm_identifier|text})");
    expect(unknownPlaceholders("{city} {first_name} {username}", ["city"])).toEqual([]);
  });

  it("accepts any name with a fallback", () => {
    expect(unknownPlaceholders("{crm_id|}", ["city"])).toEqual([]);
    expect(unknownPlaceholders("{frist_name|друг}", [])).toEqual([]);
  });

  it("without targets yet: any name but a near miss of a standard one (any case)", () => {
    expect(unknownPlaceholders("{city} {order_no}", null)).toEqual([]);
    expect(unknownPlaceholders("{First_Name} {usrname} {lastname}", null).map((u) => u.suggestion)).toEqual([
      "first_name",
      "username",
      "last_name",
    ]);
  });

  it("says nothing about a malformed template (its parse error is shown)", () => {
    expect(unknownPlaceholders("{frist_name", ["city"])).toEqual([]);
  });

  it("measures the edit distance case-insensitively", () => {
    expect(distance("frist_name", "first_name")).toBe(2);
    expect(distance("First_Name", "first_name")).toBe(0);
    expect(distance("", "abc")).toBe(3);
  });
});
