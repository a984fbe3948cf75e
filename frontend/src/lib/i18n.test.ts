import { afterEach, describe, expect, it } from "vitest";
import { currentLang, STRING_KEYS, t, tf } from "./i18n";

describe("i18n", () => {
  afterEach(() => localStorage.removeItem("invite.lang"));

  it("has Russian and English for the reply texts", () => {
    expect(t("reason.reply_opt_out", "en")).toBe("Replied to opt out");
    expect(t("reason.reply_opt_out", "ru")).toBe("Отписался ответом");
    expect(t("replies.label", "ru")).toBe("Ответы");
  });

  it("says the caps are community values and names the 200-member cap, in both languages", () => {
    expect(t("caps.help", "en")).toMatch(/publishes no per-account/);
    expect(t("caps.help", "en")).toMatch(/first 200 members/);
    expect(t("caps.help", "ru")).toMatch(/не публикует/);
    expect(t("caps.help", "ru")).toMatch(/200/);
  });

  it("follows a stored choice over the browser's language", () => {
    localStorage.setItem("invite.lang", "ru");
    expect(currentLang()).toBe("ru");
    expect(t("replies.label")).toBe("Ответы");
  });

  it("has every string in both languages, with the same placeholders", () => {
    const holes = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of STRING_KEYS) {
      expect(t(key, "en").trim(), key).not.toBe("");
      expect(t(key, "ru").trim(), key).not.toBe("");
      expect(holes(t(key, "ru")), key).toEqual(holes(t(key, "en")));
    }
  });

  it("fills placeholders", () => {
    expect(tf("event.task.completed", { name: "Webinar" }, "en")).toBe("Task «Webinar» completed");
    expect(tf("banner.simulated.title", { what: "telegram, parsing" }, "ru")).toBe("Используются симуляторы: telegram, parsing");
  });
});
