// The UI's translations: i18next with one flat JSON file per namespace and language under locales/{en,ru}/,
// all bundled (there are two languages and the files are small; a request per namespace would cost more).
// The language comes from the user's choice (localStorage "invite.lang"), else the browser; English otherwise.
// API problem `detail` stays English: pages translate by the problem's `code`.
import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";

export const LANGS = ["en", "ru"] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_KEY = "invite.lang";

type Catalogue = Record<string, string>;
const files = import.meta.glob<Catalogue>("./locales/*/*.json", { eager: true, import: "default" });

/** Every catalogue: resources[lang][namespace] = { key: text }. */
export const resources: Record<Lang, Record<string, Catalogue>> = { en: {}, ru: {} };
for (const [path, catalogue] of Object.entries(files)) {
  const [, lang, ns] = /\.\/locales\/(\w+)\/([\w-]+)\.json$/.exec(path) ?? [];
  if ((lang === "en" || lang === "ru") && ns) resources[lang][ns] = catalogue;
}
export const NAMESPACES = Object.keys(resources.en);

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources,
    supportedLngs: [...LANGS],
    nonExplicitSupportedLngs: true, // "ru-RU" is Russian
    load: "languageOnly",
    fallbackLng: "en",
    ns: NAMESPACES,
    defaultNS: "common",
    keySeparator: false, // flat keys: "waiting.cap" is one key, not a path
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
    detection: { order: ["localStorage", "navigator"], lookupLocalStorage: LANG_KEY, caches: ["localStorage"] },
    initAsync: false,
  });

function syncDocumentLang(lng: string) {
  if (typeof document !== "undefined") document.documentElement.lang = lng;
}
syncDocumentLang(i18n.resolvedLanguage ?? "en");
i18n.on("languageChanged", syncDocumentLang);

/** The language the UI speaks now ("en" or "ru"). */
export function currentLang(): Lang {
  const lng = i18n.resolvedLanguage ?? i18n.language ?? "en";
  return lng.startsWith("ru") ? "ru" : "en";
}

/** The BCP 47 locale for Intl formatters. */
export function locale(): string {
  return currentLang() === "ru" ? "ru-RU" : "en-GB";
}

export default i18n;
