import type { Schemas } from "../api/client";

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

export const TASK_STATUS_META: Record<TaskStatus, { label: string; color: string }> = {
  draft: { label: "Draft", color: "gray" },
  scheduled: { label: "Scheduled", color: "grape" },
  running: { label: "Running", color: "blue" },
  paused: { label: "Paused", color: "yellow" },
  completed: { label: "Completed", color: "teal" },
  cancelled: { label: "Cancelled", color: "dark" },
  failed: { label: "Failed", color: "red" },
};

export const TARGET_STATUS_META: Record<TargetStatus, { label: string; color: string }> = {
  pending: { label: "Pending", color: "gray" },
  reserved: { label: "Reserved", color: "indigo" },
  sending: { label: "Sending", color: "blue" },
  invited: { label: "Invited", color: "teal" },
  messaged: { label: "Messaged", color: "green" },
  already_member: { label: "Already member", color: "cyan" },
  failed: { label: "Failed", color: "red" },
  skipped: { label: "Skipped", color: "orange" },
  unknown: { label: "Unknown", color: "violet" },
};

export const ACTION_LABEL: Record<TaskAction, string> = {
  invite: "Invite to chat",
  message: "Send message",
  invite_or_message: "Invite, else message",
};

export const PRIORITY_META: Record<Priority, { label: string; color: string }> = {
  high: { label: "High", color: "red" },
  normal: { label: "Normal", color: "blue" },
  low: { label: "Low", color: "gray" },
};

export const LANE_STATUS_META: Record<string, { label: string; color: string }> = {
  active: { label: "Active", color: "teal" },
  cooling_down: { label: "Cooling down", color: "yellow" },
  restricted: { label: "Restricted", color: "red" },
  unavailable: { label: "Unavailable", color: "gray" },
  excluded: { label: "Excluded", color: "dark" },
};

/** Statuses in which a task's settings (other than priority) cannot change. */
export const ACTIVE_TASK_STATUSES: TaskStatus[] = ["running"];
export const FINISHED_TASK_STATUSES: TaskStatus[] = ["completed", "cancelled", "failed"];
