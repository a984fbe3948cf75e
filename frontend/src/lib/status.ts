// Value lists and labelled metadata of tasks, targets and lanes. Colours and labels come from the one map in
// lib/outcomes.ts; `label` is read in the current language each time (a getter), so a language switch
// re-renders every select and badge that uses it.
import type { Schemas } from "../api/client";
import i18n from "../i18n";
import { LANE_LOOK, type Look, TARGET_LOOK, TASK_LOOK } from "./outcomes";

export type TaskStatus = Schemas["TaskStatus"];
export type TargetStatus = Schemas["TargetStatus"];
export type Priority = Schemas["Priority"];
export type TaskAction = Schemas["TaskAction"];

export const TASK_STATUSES: TaskStatus[] = ["draft", "scheduled", "running", "paused", "completed", "cancelled", "failed"];
export const TARGET_STATUSES: TargetStatus[] = [
  "pending", "reserved", "sending", "invited", "messaged", "already_member", "failed", "skipped", "unknown",
];
export const PRIORITIES: Priority[] = ["high", "normal", "low"];
export const ACTIONS: TaskAction[] = ["invite", "message", "invite_or_message"];

export interface Meta {
  readonly label: string;
  readonly color: string;
}

function meta(look: Look): Meta {
  return {
    color: look.color,
    get label() {
      return i18n.t(look.label, { ns: "outcomes" });
    },
  };
}

function metaOf<K extends string>(looks: Record<K, Look>): Record<K, Meta> {
  return Object.fromEntries(Object.entries<Look>(looks).map(([k, look]) => [k, meta(look)])) as Record<K, Meta>;
}

export const TASK_STATUS_META: Record<TaskStatus, Meta> = metaOf(TASK_LOOK);
export const TARGET_STATUS_META: Record<TargetStatus, Meta> = metaOf(TARGET_LOOK);
export const LANE_STATUS_META: Record<string, Meta> = metaOf(LANE_LOOK);

const ACTION_KEY: Record<TaskAction, string> = {
  invite: "action.invite",
  message: "action.message",
  invite_or_message: "action.invite_or_message",
};
export const ACTION_LABEL: Record<TaskAction, string> = Object.defineProperties(
  {} as Record<TaskAction, string>,
  Object.fromEntries(
    ACTIONS.map((a) => [a, { enumerable: true, get: () => i18n.t(ACTION_KEY[a], { ns: "outcomes" }) }]),
  ),
);

export const PRIORITY_META: Record<Priority, Meta> = metaOf({
  high: { color: "red", label: "priority.high" },
  normal: { color: "blue", label: "priority.normal" },
  low: { color: "gray", label: "priority.low" },
});

/** Statuses in which a task's settings (other than priority) cannot change. */
export const ACTIVE_TASK_STATUSES: TaskStatus[] = ["running"];
export const FINISHED_TASK_STATUSES: TaskStatus[] = ["completed", "cancelled", "failed"];
