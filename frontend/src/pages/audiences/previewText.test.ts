import { afterEach, describe, expect, it } from "vitest";
import type { AudiencePreview } from "../../api/audiences";
import i18n from "../../i18n";
import { policyText, previewText } from "./previewText";

const P: AudiencePreview = {
  contacts: 1240,
  excluded_by_audience: 0,
  excluded_by_tag: 0,
  suppressed: 20,
  contacted_recently: 40,
  no_consent: 0,
  targets: 1180,
  message_cooldown_days: 7,
  invite_cooldown_days: null,
  require_consent: true,
};

const say = async (lang: "en" | "ru", p: AudiencePreview, action = "message") => {
  await i18n.changeLanguage(lang);
  return previewText(i18n.getFixedT(lang, "audiences"), p, action);
};

afterEach(async () => {
  await i18n.changeLanguage("en");
});

describe("the audience picker's count", () => {
  it("says the issue's sentence in English, with the cooldown of the action", async () => {
    expect(await say("en", P)).toBe("1,240 contacts → 1,180 targets: 40 contacted in the last 7 days, 20 suppressed, 0 without consent");
    expect(await say("en", { ...P, contacts: 1, targets: 1, contacted_recently: 1, suppressed: 0, message_cooldown_days: 1 })).toBe(
      "1 contact → 1 target: 1 contacted in the last 1 day, 0 suppressed, 0 without consent",
    );
    // Invites: the default policy never re-invites a person to the same chat.
    expect(await say("en", { ...P, require_consent: false }, "invite")).toBe("1,240 contacts → 1,180 targets: 40 already invited to this chat, 20 suppressed");
    expect(await say("en", { ...P, invite_cooldown_days: 30, excluded_by_tag: 3, excluded_by_audience: 2 }, "invite")).toBe(
      "1,240 contacts → 1,180 targets: 2 in an excluded audience, 3 with an excluded tag, 40 contacted in the last 30 days, 20 suppressed, 0 without consent",
    );
  });

  it("uses the Russian plural forms (one / few / many)", async () => {
    expect(await say("ru", P)).toBe(
      "1\u00a0240 контактов → 1\u00a0180 целей: 40 человек уже получали контакт за последние 7 дней, в стоп-листе: 20, без согласия: 0",
    );
    expect(await say("ru", { ...P, contacts: 21, targets: 2, contacted_recently: 3, message_cooldown_days: 2 })).toBe(
      "21 контакт → 2 цели: 3 человека уже получали контакт за последние 2 дня, в стоп-листе: 20, без согласия: 0",
    );
    expect(await say("ru", { ...P, contacts: 1, targets: 1, contacted_recently: 1, message_cooldown_days: 1 })).toBe(
      "1 контакт → 1 цель: 1 человек уже получал контакт за последние 1 день, в стоп-листе: 20, без согласия: 0",
    );
  });

  it("states the policy in force in both languages", async () => {
    expect(policyText(i18n.getFixedT("en", "audiences"), P)).toBe(
      "a message at most once per 7 days; never re-invite a person to the same chat; consent required",
    );
    expect(policyText(i18n.getFixedT("ru", "audiences"), { message_cooldown_days: 0, invite_cooldown_days: 5, require_consent: false })).toBe(
      "сообщения без ограничения; приглашение не чаще раза в 5 дней; согласие не требуется",
    );
  });
});
