/**
 * A waiting task's reason in words with when it resumes ("Waiting for the hourly limit — resumes at 14:01").
 * Local stand-in with the same signature as src/lib/waiting.ts (helper "taskui"); unified at merge.
 * `t` is a translator for the `tasks` namespace.
 */
import type { TFunction } from "i18next";
import type { Waiting } from "../../api/accounts";
import { resumeAt } from "../../lib/format";

export function waitingText(waiting: Waiting | null | undefined, t: TFunction): string | null {
  if (!waiting) return null;
  const until = waiting.until ? resumeAt(waiting.until) : null;
  switch (waiting.reason) {
    case "cap": {
      const which = waiting.window_seconds === 86400 ? "day" : waiting.window_seconds === 3600 ? "hour" : "any";
      return until ? t(`waiting.cap_${which}_until`, { until }) : t(`waiting.cap_${which}`);
    }
    case "flood_wait":
      return until ? t("waiting.flood_wait_until", { until }) : t("waiting.flood_wait");
    case "send_window":
      return until ? t("waiting.send_window_until", { until }) : t("waiting.send_window");
    case "scheduled":
      return until ? t("waiting.scheduled_until", { until }) : t("waiting.scheduled");
    case "restricted":
      return until ? t("waiting.restricted_until", { until }) : t("waiting.restricted");
    case "no_accounts":
      return t("waiting.no_accounts");
    default:
      return t("waiting.other");
  }
}
