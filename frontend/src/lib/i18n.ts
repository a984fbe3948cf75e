// Russian and English strings for the reply and caps texts, chosen from the browser's language (or the
// `invite.lang` key in localStorage: "ru" | "en"). The rest of the UI is English for now.
export type Lang = "en" | "ru";

const STRINGS = {
  "replies.label": { en: "Replies", ru: "Ответы" },
  "replies.hint": {
    en: "People who wrote back to the account that contacted them (their first reply; the text is not stored).",
    ru: "Люди, которые ответили аккаунту, написавшему им (первый ответ; текст не сохраняется).",
  },
  "replies.badge": { en: "replied", ru: "ответил" },
  "reason.reply_opt_out": { en: "Replied to opt out", ru: "Отписался ответом" },
  "caps.help": {
    en:
      "Empty means the platform's own caps (Telegram: 5 invites an hour and 50 a day, 40 messages a day per account). " +
      "Telegram publishes no per-account invite or message limits: these defaults are conservative values from " +
      "community experience, not official numbers. The one published cap is modelled: a channel's admins can add only " +
      "its first 200 members. A task can only lower the caps.",
    ru:
      "Пусто — лимиты платформы (Telegram: 5 приглашений в час и 50 в день, 40 сообщений в день на аккаунт). " +
      "Telegram не публикует лимиты приглашений и сообщений на аккаунт: эти значения — осторожные оценки из опыта " +
      "сообщества, а не официальные цифры. Единственный опубликованный лимит учтён: администраторы канала могут " +
      "добавить только первых 200 участников. Задача может только понизить лимиты.",
  },
} as const;

export type StringKey = keyof typeof STRINGS;

export function currentLang(): Lang {
  try {
    const chosen = globalThis.localStorage?.getItem("invite.lang");
    if (chosen === "ru" || chosen === "en") return chosen;
  } catch {
    /* storage may be unavailable (privacy mode) */
  }
  const nav = globalThis.navigator?.language ?? "en";
  return nav.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function t(key: StringKey, lang: Lang = currentLang()): string {
  return STRINGS[key][lang];
}
