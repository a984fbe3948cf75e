import { describe, expect, it } from "vitest";
import { FORM_PATHS, formPath } from "../pages/task-form/formModel";
import { ApiError, fieldErrors, toProblem } from "./problem";

describe("problem+json → form fields", () => {
  const err = new ApiError(
    422,
    toProblem(422, {
      title: "Invalid input",
      detail: "The request has invalid fields; see errors.",
      errors: [
        { loc: ["body", "message_template"], msg: "Value error, placeholder {a.b} must be a plain field name", type: "value_error" },
        { loc: ["body", "settings", "send_window", "timezone"], msg: "Value error, must be an IANA timezone", type: "value_error" },
        { loc: ["body", "settings", "caps", "invites_per_hour"], msg: "may only lower the telegram cap of 5", type: "less_than_equal" },
        { loc: ["body", "account_ids", 2], msg: "String should match pattern", type: "string_pattern_mismatch" },
        { loc: ["body", "settings", "send_window"], msg: "Value error, start and end must differ", type: "value_error" },
        { loc: ["body", "mystery"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
      ],
    }),
  );

  it("puts each error next to its field, without pydantic's prefix", () => {
    const { fields, unplaced } = fieldErrors(err, (p) => FORM_PATHS.has(p), formPath);
    expect(fields["message_template"]).toBe("placeholder {a.b} must be a plain field name");
    expect(fields["window.timezone"]).toBe("must be an IANA timezone");
    expect(fields["caps.invites_per_hour"]).toBe("may only lower the telegram cap of 5");
    expect(fields["account_ids"]).toBe("2: String should match pattern");
    expect(fields["window"]).toBe("start and end must differ");
    expect(unplaced).toEqual(["mystery: Extra inputs are not permitted"]);
  });

  it("keeps FastAPI's own {detail: [...]} shape readable too", () => {
    const p = toProblem(422, { detail: [{ loc: ["body", "name"], msg: "Field required", type: "missing" }] });
    expect(p.errors?.[0]?.msg).toBe("Field required");
  });
});
