import type { SuppressionReason } from "../../api/suppressions";
import { t } from "../../lib/i18n";

export const REASONS: { value: SuppressionReason; label: string }[] = [
  { value: "opt_out", label: "Asked to be left out" },
  { value: "blocked_us", label: "Blocked us" },
  { value: "complaint", label: "Complained" },
  { value: "manual", label: "Other" },
  { value: "reply_opt_out", label: t("reason.reply_opt_out") },
];

// What a person adds by hand: "replied to opt out" is added by the service when a reply says so.
export const MANUAL_REASONS = REASONS.filter((r) => r.value !== "reply_opt_out");
