// THE colour map of the UI: every state, outcome and reason kind -> one Mantine colour and one label key
// (namespace `outcomes`). Badges, charts, the progress bar, counters and the reasons breakdown all read it, so a
// colour means the same thing everywhere (outcomes.test.ts checks that they do and that it covers every value).
import { DEFAULT_THEME } from "@mantine/core";
import i18n from "../i18n";
import type { Schemas } from "../api/client";

export type TaskStatus = Schemas["TaskStatus"];
export type TargetStatus = Schemas["TargetStatus"];
export type LaneStatus = Schemas["LaneStatus"];
export type ReasonKind = Schemas["ReasonOut"]["kind"];

export interface Look {
  /** A Mantine palette colour name. */
  color: string;
  /** A key of the `outcomes` namespace. */
  label: string;
}

export const TARGET_LOOK: Record<TargetStatus, Look> = {
  pending: { color: "gray", label: "target.pending" },
  reserved: { color: "indigo", label: "target.reserved" },
  sending: { color: "blue", label: "target.sending" },
  invited: { color: "teal", label: "target.invited" },
  messaged: { color: "green", label: "target.messaged" },
  already_member: { color: "cyan", label: "target.already_member" },
  failed: { color: "red", label: "target.failed" },
  skipped: { color: "orange", label: "target.skipped" },
  unknown: { color: "violet", label: "target.unknown" },
};

export const TASK_LOOK: Record<TaskStatus, Look> = {
  draft: { color: "gray", label: "task.draft" },
  scheduled: { color: "grape", label: "task.scheduled" },
  running: { color: "blue", label: "task.running" },
  paused: { color: "yellow", label: "task.paused" },
  completed: { color: "teal", label: "task.completed" },
  cancelled: { color: "dark", label: "task.cancelled" },
  failed: { color: "red", label: "task.failed" },
};

export const LANE_LOOK: Record<LaneStatus, Look> = {
  active: { color: "teal", label: "lane.active" },
  cooling_down: { color: "yellow", label: "lane.cooling_down" },
  restricted: { color: "red", label: "lane.restricted" },
  unavailable: { color: "gray", label: "lane.unavailable" },
  excluded: { color: "dark", label: "lane.excluded" },
};

/** What one platform call did (LogOut.outcome): the adapters' outcomes and the engine's own. */
export const LOG_OUTCOMES = [
  "success",
  "already_member",
  "retry_after",
  "account_restricted",
  "account_unavailable",
  "target_rejected",
  "task_misconfigured",
  "transient",
  "unknown",
  "in_doubt",
  "released",
  "suppressed",
] as const;
export type LogOutcome = (typeof LOG_OUTCOMES)[number];

export const LOG_LOOK: Record<LogOutcome, Look> = {
  success: { color: "teal", label: "log.success" },
  already_member: { color: "cyan", label: "log.already_member" },
  retry_after: { color: "yellow", label: "log.retry_after" },
  account_restricted: { color: "orange", label: "log.account_restricted" },
  account_unavailable: { color: "gray", label: "log.account_unavailable" },
  target_rejected: { color: "red", label: "log.target_rejected" },
  task_misconfigured: { color: "pink", label: "log.task_misconfigured" },
  transient: { color: "yellow", label: "log.transient" },
  unknown: { color: "violet", label: "log.unknown" },
  in_doubt: { color: "violet", label: "log.in_doubt" },
  released: { color: "gray", label: "log.released" },
  suppressed: { color: "gray", label: "log.suppressed" },
};

/** A reason's kind (GET /meta/reasons): benign is neutral, never red. */
export const KIND_LOOK: Record<ReasonKind, Look> = {
  success: { color: "teal", label: "kind.success" },
  benign: { color: "gray", label: "kind.benign" },
  retryable: { color: "yellow", label: "kind.retryable" },
  final: { color: "red", label: "kind.final" },
};

const FALLBACK = "gray";

export function targetLook(s: string): Look {
  return TARGET_LOOK[s as TargetStatus] ?? { color: FALLBACK, label: s };
}
export function taskLook(s: string): Look {
  return TASK_LOOK[s as TaskStatus] ?? { color: FALLBACK, label: s };
}
export function laneLook(s: string): Look {
  return LANE_LOOK[s as LaneStatus] ?? { color: FALLBACK, label: s };
}
export function logLook(s: string): Look {
  return LOG_LOOK[s.toLowerCase() as LogOutcome] ?? { color: FALLBACK, label: s };
}
export function kindLook(k: string | undefined): Look {
  return (k && KIND_LOOK[k as ReasonKind]) || { color: FALLBACK, label: "kind.unknown" };
}

/** The label of a look in the current language (an unknown value shows as itself). */
export function lookLabel(look: Look): string {
  return i18n.t(look.label, { ns: "outcomes", defaultValue: look.label });
}

/** The hex a chart fills with for a Mantine colour name (shade 6, as filled badges use). */
export function hex(color: string): string {
  return (DEFAULT_THEME.colors as Record<string, readonly string[]>)[color]?.[6] ?? DEFAULT_THEME.colors.gray[6];
}
