// The task form's live count in words: "1,240 contacts → 1,180 targets: 40 contacted in the last 7 days,
// 20 suppressed, 0 without consent", with each language's plural forms (i18next picks them from `count`;
// `n` is the number formatted for the UI's language).
import type { TFunction } from "i18next";
import type { AudiencePreview } from "../../api/audiences";
import { num } from "../../lib/format";

/** The cooldown in force for `action`: invites use the invite cooldown (null = never again to the same chat). */
export function cooldownFor(p: Pick<AudiencePreview, "message_cooldown_days" | "invite_cooldown_days">, action: string): number | null {
  return action === "message" ? p.message_cooldown_days : p.invite_cooldown_days;
}

/** `t` of the `audiences` namespace. */
export function previewText(t: TFunction, p: AudiencePreview, action: string): string {
  const n = (key: string, count: number, extra: Record<string, string> = {}) => t(key, { count, n: num(count), ...extra });
  const head = t("preview.head", { contacts: n("preview.contacts", p.contacts), targets: n("preview.targets", p.targets) });
  const parts: string[] = [];
  if (p.excluded_by_audience > 0) parts.push(n("preview.excluded_audience", p.excluded_by_audience));
  if (p.excluded_by_tag > 0) parts.push(n("preview.excluded_tag", p.excluded_by_tag));
  const days = cooldownFor(p, action);
  if (days === null) parts.push(n("preview.invited_before", p.contacted_recently));
  else if (days > 0 || p.contacted_recently > 0) parts.push(n("preview.recent", p.contacted_recently, { days: n("preview.days", days) }));
  parts.push(n("preview.suppressed", p.suppressed));
  if (p.require_consent || p.no_consent > 0) parts.push(n("preview.no_consent", p.no_consent));
  return t("preview.full", { head, parts: parts.join(", ") });
}

/** The policy in force, in a sentence: cooldowns and consent. */
export function policyText(t: TFunction, p: Pick<AudiencePreview, "message_cooldown_days" | "invite_cooldown_days" | "require_consent">): string {
  const messages = p.message_cooldown_days > 0 ? t("policy.messages_days", { count: p.message_cooldown_days, n: num(p.message_cooldown_days) }) : t("policy.messages_off");
  const invites =
    p.invite_cooldown_days === null
      ? t("policy.invites_never")
      : p.invite_cooldown_days > 0
        ? t("policy.invites_days", { count: p.invite_cooldown_days, n: num(p.invite_cooldown_days) })
        : t("policy.invites_off");
  const consent = p.require_consent ? t("policy.consent_required") : t("policy.consent_not_required");
  return [messages, invites, consent].join("; ");
}
