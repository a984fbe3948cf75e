// Numbers, dates and durations in the UI's language (src/i18n): formatters are cheap to look up by locale,
// and reading the language on each call means a language switch re-renders everything correctly.
import i18n, { locale } from "../i18n";

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>(key: string, make: () => T): T {
  let f = cache.get(key) as T | undefined;
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f;
}

export function num(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return cached(`n:${locale()}`, () => new Intl.NumberFormat(locale())).format(n);
}

export function pct(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const digits = n >= 10 || n === 0 ? 0 : 1;
  return cached(`p${digits}:${locale()}`, () =>
    new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: digits, minimumFractionDigits: digits }),
  ).format(n / 100);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return cached(`dt:${locale()}`, () => new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" })).format(d);
}

/** To the second, for logs: "14:01:05" today, "2 Dec, 14:01:05" on another day. */
export function timeExact(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === now.toDateString();
  const key = `te${sameDay ? 1 : 0}:${locale()}`;
  return cached(key, () =>
    new Intl.DateTimeFormat(locale(), {
      ...(sameDay ? {} : { day: "numeric", month: "short" }),
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }),
  ).format(d);
}

/** When something resumes, as short as is clear: "14:01" today, "Mon 09:00" within a week, else a date. */
export function resumeAt(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const ahead = d.getTime() - now.getTime();
  const sameDay = d.toDateString() === now.toDateString();
  const opts: Intl.DateTimeFormatOptions = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : ahead < 6 * 86400_000
      ? { weekday: "short", hour: "2-digit", minute: "2-digit" }
      : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  return cached(`ra:${JSON.stringify(opts)}:${locale()}`, () => new Intl.DateTimeFormat(locale(), opts)).format(d);
}

export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const rtf = cached(`r:${locale()}`, () => new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }));
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

/** "1 h 05 min" / "1 ч 05 мин", "42 s": a countdown to `iso`, or null when it has passed. */
export function countdown(iso: string | null | undefined, now = Date.now()): string | null {
  if (!iso) return null;
  let s = Math.ceil((new Date(iso).getTime() - now) / 1000);
  if (!(s > 0)) return null;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return i18n.t("unit.h_min", { h, m: String(m).padStart(2, "0") });
  if (m > 0) return i18n.t("unit.min_s", { m, s: String(s).padStart(2, "0") });
  return i18n.t("unit.s", { s });
}

/** A duration in words for estimates: "about 3 days", "about 5 hours" (rounded the way a person would say it). */
export function about(seconds: number): string {
  if (seconds < 3600) return i18n.t("unit.about_minutes", { count: Math.max(1, Math.round(seconds / 60)) });
  if (seconds < 2 * 86400) return i18n.t("unit.about_hours", { count: Math.round(seconds / 3600) });
  return i18n.t("unit.about_days", { count: Math.round(seconds / 86400) });
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** A rate-limit window in words: 3600 → "hour"/"час", 86400 → "day"/"сутки". */
export function windowName(seconds: number): string {
  if (seconds === 3600) return i18n.t("unit.window_hour");
  if (seconds === 86400) return i18n.t("unit.window_day");
  if (seconds % 86400 === 0) return i18n.t("unit.window_days", { count: seconds / 86400 });
  if (seconds % 3600 === 0) return i18n.t("unit.window_hours", { count: seconds / 3600 });
  if (seconds % 60 === 0) return i18n.t("unit.window_minutes", { count: seconds / 60 });
  return i18n.t("unit.window_seconds", { count: seconds });
}
