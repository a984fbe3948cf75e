import { afterEach, describe, expect, it } from "vitest";
import i18n, { resources } from "../i18n";
import { currentLang, t, tf } from "./i18n";

// Plural forms differ by language (en: one/other; ru: one/few/many/other): compare the keys without them.
const PLURAL = /_(zero|one|two|few|many|other)$/;
const base = (keys: string[]) => [...new Set(keys.map((k) => k.replace(PLURAL, "")))].sort();
const cat = (lang: "en" | "ru", ns: string) => resources[lang][ns] ?? {};
const holes = (text: string) => [...new Set([...text.matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]))].sort();

describe("i18n", () => {
  afterEach(async () => {
    localStorage.removeItem("invite.lang");
    await i18n.changeLanguage("en");
  });

  it("has every namespace in both languages with the same keys", () => {
    expect(Object.keys(resources.ru).sort()).toEqual(Object.keys(resources.en).sort());
    for (const ns of Object.keys(resources.en)) {
      expect(base(Object.keys(cat("ru", ns))), ns).toEqual(base(Object.keys(cat("en", ns))));
    }
  });

  it("has every string non-empty, with the same placeholders in both languages", () => {
    for (const ns of Object.keys(resources.en)) {
      const en = cat("en", ns);
      const ru = cat("ru", ns);
      for (const [key, text] of Object.entries(en)) {
        expect(text.trim(), `${ns}:${key}`).not.toBe("");
        const b = key.replace(PLURAL, "");
        const ruText = ru[key] ?? ru[`${b}_other`] ?? ru[b];
        expect(ruText?.trim(), `${ns}:${key}`).toBeTruthy();
        expect(holes(ruText ?? "").filter((h) => h !== "count"), `${ns}:${key}`).toEqual(holes(text).filter((h) => h !== "count"));
      }
    }
  });

  it("has Russian plural forms wherever English has plurals", () => {
    for (const ns of Object.keys(resources.en)) {
      for (const key of Object.keys(cat("en", ns)).filter((k) => k.endsWith("_other"))) {
        const b = key.replace(PLURAL, "");
        for (const form of ["one", "few", "many"]) expect(cat("ru", ns)[`${b}_${form}`], `${ns}:${b}_${form}`).toBeTruthy();
      }
    }
  });

  it("says the caps are community values and names the 200-member cap, in both languages", () => {
    expect(t("caps.help", "en")).toMatch(/publishes no per-account/);
    expect(t("caps.help", "ru")).toMatch(/не публикует/);
    expect(t("caps.help", "ru")).toMatch(/200/);
  });

  it("follows the user's switch and fills placeholders", async () => {
    await i18n.changeLanguage("ru");
    expect(currentLang()).toBe("ru");
    expect(t("replies.label")).toBe("Ответы");
    expect(tf("event.task.completed", { name: "Webinar" }, "en")).toBe("Task «Webinar» completed");
    expect(tf("banner.simulated.title", { what: "telegram" })).toBe("Используются симуляторы: telegram");
    expect(tf("unit.about_days", { count: 3 })).toBe("около 3 дней");
    expect(tf("unit.about_days", { count: 21 })).toBe("около 21 дня");
  });
});
