// Strings outside React components (desktop notifications, toasts built in plain functions) go through these;
// components use react-i18next's useTranslation(). Both read the same i18next catalogues (src/i18n/).
import i18n, { currentLang, type Lang } from "../i18n";

export { currentLang, type Lang };
/** Keys are plain strings now (checked by the catalogue test, not the type system). */
export type StringKey = string;

/** A key of the `common` namespace (or "ns:key"), in `lang` or the current language. */
export function t(key: string, lang?: Lang): string {
  return i18n.t(key, { lng: lang ?? currentLang() });
}

/** `t` with `{{name}}` placeholders filled from `vars`. */
export function tf(key: string, vars: Record<string, string | number>, lang?: Lang): string {
  return i18n.t(key, { ...vars, lng: lang ?? currentLang() });
}
