// Why a task (or one account of it) is not sending right now, in words, with when it resumes (contract §1:
// WaitingOut on TaskOut, TaskStatusOut and each lane). Pure: the task page, the lanes panel and the tasks
// list all say it the same way. Strings live in the `task` namespace.
import type { TFunction } from "i18next";
import type { Schemas } from "../api/client";
import i18n from "../i18n";
import { resumeAt } from "./format";

export type Waiting = Schemas["WaitingOut"];

function when(until: string | null, t: TFunction, now: Date): string {
  const d = until ? new Date(until) : null;
  if (!d || Number.isNaN(d.getTime())) return "";
  const today = d.toDateString() === now.toDateString();
  return t(today ? "task:resume.today" : "task:resume.later", { time: resumeAt(until, now) });
}

function capKey(window: number | null): "hour" | "day" | "window" {
  return window === 3600 ? "hour" : window === 86400 ? "day" : "window";
}

/**
 * The task-level sentence: "Waiting for the hourly limit — resumes at 14:01", "Outside the send window —
 * resumes Mon 09:00", "Scheduled — starts at 09:00", … ; null when the task is not waiting.
 */
export function waitingText(waiting: Waiting | null | undefined, t: TFunction = i18n.t, now = new Date()): string | null {
  if (!waiting) return null;
  const at = when(waiting.until, t, now);
  const tail = at ? "" : "_open";
  switch (waiting.reason) {
    case "cap":
      return t(`task:waiting.cap.${capKey(waiting.window_seconds)}${tail}`, { at, window: windowWords(waiting.window_seconds, t) });
    case "flood_wait":
      return t(`task:waiting.flood_wait${tail}`, { at });
    case "send_window":
      return t(`task:waiting.send_window${tail}`, { at });
    case "scheduled":
      return t(`task:waiting.scheduled${tail}`, { at });
    case "restricted":
      return t("task:waiting.restricted");
    case "no_accounts":
      return t("task:waiting.no_accounts");
    default:
      return t("task:waiting.other");
  }
}

/** One account's hold, short, for its card: "At the hourly limit until 14:01". Null when it can send. */
export function laneWaitingText(waiting: Waiting | null | undefined, t: TFunction = i18n.t, now = new Date()): string | null {
  if (!waiting) return null;
  const at = waiting.until ? resumeAt(waiting.until, now) : "";
  const tail = at ? "" : "_open";
  switch (waiting.reason) {
    case "cap":
      return t(`task:lane_waiting.cap.${capKey(waiting.window_seconds)}${tail}`, { at, window: windowWords(waiting.window_seconds, t) });
    case "flood_wait":
      return t(`task:lane_waiting.flood_wait${tail}`, { at });
    case "send_window":
      return t(`task:lane_waiting.send_window${tail}`, { at });
    case "scheduled":
      return t(`task:lane_waiting.scheduled${tail}`, { at });
    case "restricted":
      return t(`task:lane_waiting.restricted${tail}`, { at });
    default:
      return t("task:lane_waiting.no_accounts");
  }
}

/** Colour of the waiting notice: the user has to act (red-ish) or just wait (neutral). */
export function waitingColor(waiting: Waiting): string {
  return waiting.reason === "restricted" || waiting.reason === "no_accounts" ? "orange" : waiting.reason === "scheduled" ? "grape" : "blue";
}

function windowWords(seconds: number | null, t: TFunction): string {
  if (!seconds) return "";
  if (seconds % 3600 === 0) return t("task:window.hours", { count: seconds / 3600 });
  return t("task:window.minutes", { count: Math.round(seconds / 60) });
}
