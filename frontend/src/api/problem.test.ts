import { describe, expect, it } from "vitest";
import i18n from "../i18n";
import { FORM_PATHS, formPath } from "../pages/task-form/formModel";
import { ApiError, describeError, fieldErrors, fieldLabel, toProblem } from "./problem";

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
    expect(fields["account_ids"]).toBe("#3: String should match pattern");
    expect(fields["window"]).toBe("start and end must differ");
    expect(unplaced).toEqual(["mystery: Extra inputs are not permitted"]);
  });

  it("keeps FastAPI's own {detail: [...]} shape readable too", () => {
    const p = toProblem(422, { detail: [{ loc: ["body", "name"], msg: "Field required", type: "missing" }] });
    expect(p.errors?.[0]?.msg).toBe("Field required");
  });
});

describe("problem+json in words", () => {
  const refused = (code: string, detail: string, errors: unknown[] = []) =>
    new ApiError(409, toProblem(409, { title: "Conflict", status: 409, code, detail, errors }));

  it("names a field by words, not by its path", async () => {
    expect(fieldLabel(["body", "task", "targets"])).toBe("Targets");
    expect(fieldLabel(["body", "settings", "send_window", "timezone"])).toBe("Send window › Time zone");
    expect(fieldLabel(["body", "account_ids", 2])).toBe("Accounts (#3)");
    expect(fieldLabel(["query", "mystery_box"])).toBe("mystery box");
    const err = new ApiError(422, toProblem(422, { title: "Invalid input", detail: "The request has invalid fields; see errors.", code: "validation_error", errors: [{ loc: ["body", "task", "targets"], msg: "Value error, needs a pending target", type: "value_error" }] }));
    expect(describeError(err)).toBe("The request has invalid fields; see errors. Targets: needs a pending target");
    expect(describeError(err)).not.toContain("task.targets");
    await i18n.changeLanguage("ru");
    expect(fieldLabel(["body", "task", "targets"])).toBe("Получатели");
    expect(describeError(err)).toBe("Некоторые поля заполнены неверно: Получатели: needs a pending target");
  });

  it("translates by code and falls back to the English detail for a code it does not know", async () => {
    await i18n.changeLanguage("ru");
    expect(describeError(refused("task_running", "task is running; pause it first"))).toBe("Задача выполняется: сначала приостановите её.");
    expect(describeError(refused("SOMETHING_NEW", "a brand new refusal"))).toBe("a brand new refusal");
    const missing = new ApiError(422, toProblem(422, { code: "validation_error", detail: "x", errors: [{ loc: ["body", "name"], msg: "Field required", type: "missing" }] }));
    expect(describeError(missing)).toBe("Некоторые поля заполнены неверно: Название: Обязательное поле");
    await i18n.changeLanguage("en");
    expect(describeError(refused("task_running", "task is running; pause it first"))).toBe("task is running; pause it first");
    expect(describeError(new ApiError(0, {}))).toMatch(/cannot be reached/);
  });
});
