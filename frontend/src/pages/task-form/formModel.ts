/** The task form's values, and their translation to and from the API's TaskCreate/TaskUpdate/TaskOut. */
import type { AudienceSelection } from "../../api/audiences";
import type { Task, TaskCreate, TaskUpdate } from "../../api/hooks";
import type { Priority, TaskAction } from "../../lib/status";

export const CAP_FIELDS = ["invites_per_hour", "invites_per_day", "messages_per_hour", "messages_per_day"] as const;
export type CapField = (typeof CAP_FIELDS)[number];

export interface FormValues {
  name: string;
  description: string;
  platform: "sandbox" | "telegram";
  action: TaskAction;
  destination: string;
  message_template: string;
  priority: Priority;
  account_ids: string[];
  caps: Record<CapField, number | string>;
  min_delay_seconds: number | string;
  max_attempts: number | string;
  window_enabled: boolean;
  window: { days: string[]; start: string; end: string; timezone: string };
  schedule_enabled: boolean;
  scheduled_at: string;
  breaker: { restricted_lanes: number | string; restricted_share: number | string; window_minutes: number | string };
  /** The audiences the task takes its targets from (none: direct targets only). */
  audiences: AudienceSelection;
}

const noAudiences = (): AudienceSelection => ({ include: [], exclude: [], exclude_tags: [], include_new_contacts: false });

/** The task's audiences as TaskOut carries them (contract: `audiences` = AudienceSelection | null). */
export function audiencesOf(task: Task): AudienceSelection | null {
  const a = task.audiences;
  if (!a || !a.include?.length) return null;
  return { include: [...a.include], exclude: [...(a.exclude ?? [])], exclude_tags: [...(a.exclude_tags ?? [])], include_new_contacts: !!a.include_new_contacts };
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function emptyValues(): FormValues {
  return {
    name: "",
    description: "",
    platform: "sandbox",
    action: "invite",
    destination: "",
    message_template: "",
    priority: "normal",
    account_ids: [],
    caps: { invites_per_hour: "", invites_per_day: "", messages_per_hour: "", messages_per_day: "" },
    min_delay_seconds: "",
    max_attempts: 3,
    window_enabled: false,
    window: { days: ["0", "1", "2", "3", "4", "5", "6"], start: "09:00", end: "21:00", timezone: browserTimeZone() },
    schedule_enabled: false,
    scheduled_at: "",
    breaker: { restricted_lanes: 2, restricted_share: 33, window_minutes: 60 },
    audiences: noAudiences(),
  };
}

const hhmm = (t: unknown, fallback: string) => (typeof t === "string" && /^\d\d:\d\d/.test(t) ? t.slice(0, 5) : fallback);

/** An ISO time → the value of an <input type="datetime-local"> in the browser's zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function valuesFromTask(task: Task): FormValues {
  const base = emptyValues();
  const s = (task.settings ?? {}) as Record<string, unknown>;
  const caps = (s.caps ?? {}) as Record<string, unknown>;
  const win = s.send_window as Record<string, unknown> | null | undefined;
  const breaker = (s.breaker ?? {}) as Record<string, unknown>;
  const n = (v: unknown, fallback: number | string = "") => (typeof v === "number" ? v : fallback);
  return {
    ...base,
    name: task.name,
    description: task.description ?? "",
    platform: task.platform === "telegram" ? "telegram" : "sandbox",
    action: task.action as TaskAction,
    destination: task.destination ?? "",
    message_template: task.message_template ?? "",
    priority: task.priority,
    account_ids: [...task.account_ids],
    caps: {
      invites_per_hour: n(caps.invites_per_hour),
      invites_per_day: n(caps.invites_per_day),
      messages_per_hour: n(caps.messages_per_hour),
      messages_per_day: n(caps.messages_per_day),
    },
    min_delay_seconds: n(s.min_delay_seconds),
    max_attempts: n(s.max_attempts, 3),
    window_enabled: !!win,
    window: win
      ? {
          days: Array.isArray(win.days) ? (win.days as number[]).map(String) : base.window.days,
          start: hhmm(win.start, "09:00"),
          end: hhmm(win.end, "21:00"),
          timezone: typeof win.timezone === "string" ? win.timezone : "UTC",
        }
      : base.window,
    schedule_enabled: !!task.scheduled_at,
    scheduled_at: toLocalInput(task.scheduled_at),
    breaker: {
      restricted_lanes: n(breaker.restricted_lanes, 2),
      restricted_share: typeof breaker.restricted_share === "number" ? Math.round(breaker.restricted_share * 1000) / 10 : 33,
      window_minutes: n(breaker.window_minutes, 60),
    },
    audiences: audiencesOf(task) ?? noAudiences(),
  };
}

const numOrNull = (v: number | string): number | null => (v === "" || v === null || v === undefined ? null : Number(v));

function settingsOf(v: FormValues): NonNullable<TaskCreate["settings"]> {
  const share = numOrNull(v.breaker.restricted_share);
  return {
    caps: Object.fromEntries(CAP_FIELDS.map((f) => [f, numOrNull(v.caps[f])])) as Record<CapField, number | null>,
    min_delay_seconds: numOrNull(v.min_delay_seconds),
    max_attempts: numOrNull(v.max_attempts) ?? 3,
    send_window: v.window_enabled
      ? {
          days: v.window.days.map(Number).sort(),
          start: `${v.window.start}:00`,
          end: `${v.window.end}:00`,
          timezone: v.window.timezone,
        }
      : null,
    breaker: {
      restricted_lanes: numOrNull(v.breaker.restricted_lanes) ?? 2,
      restricted_share: share === null ? 1 / 3 : share / 100,
      window_minutes: numOrNull(v.breaker.window_minutes) ?? 60,
    },
  };
}

function scheduledAt(v: FormValues): string | null {
  if (!v.schedule_enabled || !v.scheduled_at) return null;
  const d = new Date(v.scheduled_at);
  return Number.isNaN(d.getTime()) ? v.scheduled_at : d.toISOString();
}

/** The audience fields of a create/update body: only sent when there are audiences (or, on an update, to drop them). */
function audienceBody(v: FormValues, clear: boolean): { audiences?: AudienceSelection | null } {
  if (v.audiences.include.length) return { audiences: { ...v.audiences } };
  return clear ? { audiences: null } : {};
}

export function toCreate(v: FormValues): TaskCreate {
  return {
    ...audienceBody(v, false),
    name: v.name.trim(),
    description: v.description.trim() || null,
    platform: v.platform,
    action: v.action,
    destination: v.destination.trim() || null,
    message_template: v.message_template || null,
    priority: v.priority,
    account_ids: v.account_ids,
    settings: settingsOf(v),
    scheduled_at: scheduledAt(v),
  };
}

/** `hadAudiences`: the saved task took audiences, so an empty picker means "no audiences any more". */
export function toUpdate(v: FormValues, onlyPriority: boolean, hadAudiences = false): TaskUpdate {
  if (onlyPriority) return { priority: v.priority };
  const { platform: _platform, ...rest } = toCreate(v);
  return { ...rest, ...audienceBody(v, hadAudiences) };
}

/** The API's field paths (loc without "body") → this form's paths. */
export function formPath(apiPath: string): string {
  return apiPath
    .replace(/^settings\.send_window(?=\.|$)/, "window")
    .replace(/^settings\.caps(?=\.|$)/, "caps")
    .replace(/^settings\.breaker(?=\.|$)/, "breaker")
    .replace(/^settings\.(min_delay_seconds|max_attempts)$/, "$1")
    .replace(/^audiences(\..*)?$/, "audiences");
}

export const FORM_PATHS = new Set([
  "name",
  "description",
  "platform",
  "action",
  "destination",
  "message_template",
  "priority",
  "account_ids",
  "scheduled_at",
  "audiences",
  "min_delay_seconds",
  "max_attempts",
  "window",
  "window.days",
  "window.start",
  "window.end",
  "window.timezone",
  "breaker.restricted_lanes",
  "breaker.restricted_share",
  "breaker.window_minutes",
  ...CAP_FIELDS.map((f) => `caps.${f}`),
]);

/**
 * The words for a form path (for errors that cannot sit next to their field): `lookup` reads the `form`
 * catalogue's `field.*` ("" when it has no such key); an unknown leaf is its name in words.
 */
export function fieldLabel(path: string, lookup: (key: string) => string): string {
  const form = formPath(path.replace(/^(body|task)\./, ""));
  const known = lookup(`field.${form}`);
  if (known) return known;
  const parent = form.includes(".") ? lookup(`field.${form.slice(0, form.lastIndexOf("."))}`) : "";
  const leaf = (form.split(".").pop() ?? form).replace(/_/g, " ");
  const words = leaf.charAt(0).toUpperCase() + leaf.slice(1);
  return parent ? `${parent}: ${leaf}` : words;
}
