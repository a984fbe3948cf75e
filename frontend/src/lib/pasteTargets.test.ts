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
  });

  it("lets the user say what the values are", () => {
    expect(parsePasted("79161234567", "phone")[0]?.body).toEqual({ phone: "79161234567" });
  });
});
