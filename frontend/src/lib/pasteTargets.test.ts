import { describe, expect, it } from "vitest";
import { parsePasted } from "./pasteTargets";

describe("pasted audiences", () => {
  it("reads identities and optional names, one a line", () => {
    const rows = parsePasted("@anna_p, Anna, Petrova\n\n+49 151 1234 5678\t Jonas\n123456789\nt.me/boris_k\n# a comment");
    expect(rows.map((r) => [r.line, r.kind])).toEqual([
      [1, "username"],
      [3, "phone"],
      [4, "user_id"],
      [5, "username"],
    ]);
    expect(rows[0]?.body).toEqual({ username: "@anna_p", first_name: "Anna", last_name: "Petrova" });
    expect(rows[1]?.body).toEqual({ phone: "+49 151 1234 5678", first_name: "Jonas" });
    expect(rows.every((r) => r.problem === undefined)).toBe(true);
  });

  it("lets the user say what the values are", () => {
    expect(parsePasted("79161234567", "phone")[0]?.body).toEqual({ phone: "79161234567" });
  });

  it("takes a bare number as a user id from 5 digits on, as the service does", () => {
    const rows = parsePasted("12345\n1234\n7\n00012, Anna");
    expect(rows.map((r) => [r.raw, r.kind, r.problem ?? null])).toEqual([
      ["12345", "user_id", null],
      ["1234", "user_id", "number_too_short"],
      ["7", "user_id", "number_too_short"],
      ["00012, Anna", "user_id", null],
    ]);
  });

  it("refuses a short number as a user id even when the user says it is one, but not as a phone", () => {
    expect(parsePasted("4242", "user_id")[0]?.problem).toBe("number_too_short");
    expect(parsePasted("4242", "phone")[0]?.problem).toBeUndefined();
  });

  it("keeps local phone formats as phones", () => {
    expect(parsePasted("8 916 123-45-67\n+7 916 123 45 67").map((r) => [r.kind, r.problem ?? null])).toEqual([
      ["phone", null],
      ["phone", null],
    ]);
  });
});
