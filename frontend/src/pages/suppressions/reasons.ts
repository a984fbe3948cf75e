import type { TFunction } from "i18next";
import type { SuppressionPlatform, SuppressionReason } from "../../api/suppressions";

export const REASON_VALUES: SuppressionReason[] = ["opt_out", "blocked_us", "complaint", "manual", "reply_opt_out"];
// What a person adds by hand: "replied to opt out" is added by the service when a reply says so.
export const MANUAL_REASON_VALUES = REASON_VALUES.filter((r) => r !== "reply_opt_out");

/** Select options for the reasons, in the UI's language (`t` of the `suppressions` namespace). */
export const reasonOptions = (t: TFunction, values: SuppressionReason[] = REASON_VALUES) =>
  values.map((value) => ({ value, label: t(`reason.${value}`) }));

export const reasonLabel = (t: TFunction, value: string) => t(`reason.${value}`, { defaultValue: value });

/** The platforms an entry can be limited to; "all" in a Select stands for "all platforms" (null). */
export const PLATFORMS: NonNullable<SuppressionPlatform>[] = ["telegram", "sandbox"];
export const ALL = "all";
export const platformOptions = (t: TFunction) => [
  { value: ALL, label: t("platform.all") },
  ...PLATFORMS.map((p) => ({ value: p, label: t(`platform.${p}`) })),
];
export const platformLabel = (t: TFunction, p: string | null) => (p && p !== "*" ? t(`platform.${p}`, { defaultValue: p }) : t("platform.all"));
