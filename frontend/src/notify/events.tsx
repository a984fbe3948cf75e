/**
 * The user's notification events (task completed/paused/failed, accounts, imports, a disabled destination)
 * as toasts on any page and, when the user opted in, desktop notifications. This is the app's one
 * mechanism for them: the feed (GET /notifications/events) feeds it, and the task page feeds it from the
 * task's own status only while the service has no feed.
 */
import { Anchor, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import type { EventOut } from "../api/notifications";
import { dateTime } from "../lib/format";
import { type Lang, currentLang, type StringKey, t, tf } from "../lib/i18n";
import { notifyDesktop } from "./desktop";

export interface EventView {
  title: string;
  body: string;
  color: string;
  href?: string;
  linkLabel?: string;
  sticky: boolean;
}

const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const PAUSE_CODES: Record<string, StringKey> = {
  breaker: "pause.breaker",
  chat_full: "pause.chat_full",
  no_lanes: "pause.no_lanes",
};

/** A pause reason in words: the engine sends a sentence, or one of a few codes. */
export function reasonInWords(reason: string, lang: Lang = currentLang()): string {
  const key = PAUSE_CODES[reason.trim().toLowerCase()];
  return key ? t(key, lang) : reason;
}

/** What a toast (and a desktop notification) says about one event. */
export function describeEvent(event: Pick<EventOut, "type" | "data">, lang: Lang = currentLang()): EventView {
  const d = event.data ?? {};
  const name = str(d.task_name) || str(d.task_id).slice(0, 8);
  const taskLink = d.task_id ? { href: `#/tasks/${str(d.task_id)}`, linkLabel: t("event.open_task", lang) } : {};
  const reason = str(d.reason) || str(d.error);
  switch (event.type) {
    case "task.completed":
      return { title: tf("event.task.completed", { name }, lang), body: t("event.task.completed.body", lang), color: "teal", sticky: true, ...taskLink };
    case "task.paused":
      return {
        title: tf("event.task.paused", { name }, lang),
        body: reason ? tf("pause.reason", { reason: reasonInWords(reason, lang) }, lang) : "",
        color: "yellow",
        sticky: true,
        ...taskLink,
      };
    case "task.failed":
      return {
        title: tf("event.task.failed", { name }, lang),
        body: reason ? tf("pause.reason", { reason: reasonInWords(reason, lang) }, lang) : t("event.task.failed.body", lang),
        color: "red",
        sticky: true,
        ...taskLink,
      };
    case "account.restricted":
    case "account.unavailable": {
      const raw = str(d.platform) || "telegram";
      const platform = raw.charAt(0).toUpperCase() + raw.slice(1);
      const until = str(d.until);
      const key = event.type === "account.restricted" ? "event.account.restricted" : "event.account.unavailable";
      return {
        title: tf(key, { platform }, lang),
        body: [
          d.account_id ? tf("event.account.which", { account: str(d.account_id) }, lang) : "",
          until ? tf("event.account.until", { until: dateTime(until) }, lang) : "",
          t("event.account.body", lang),
        ]
          .filter(Boolean)
          .join(" "),
        color: "orange",
        sticky: true,
      };
    }
    case "import.completed": {
      const counts =
        d.accepted !== undefined || d.rejected !== undefined
          ? tf("event.import.counts", { accepted: str(d.accepted) || "0", rejected: str(d.rejected) || "0" }, lang)
          : "";
      return { title: t("event.import.completed", lang), body: counts, color: "teal", sticky: false, ...taskLink };
    }
    case "import.failed":
      return { title: t("event.import.failed", lang), body: reason, color: "red", sticky: true, ...taskLink };
    case "endpoint.disabled":
      return {
        title: t("event.endpoint.disabled", lang),
        body: tf("event.endpoint.body", { reason: reason || "—" }, lang),
        color: "red",
        sticky: true,
        href: "#/settings",
        linkLabel: t("event.open_settings", lang),
      };
    default:
      return { title: tf("event.other", { type: String(event.type) }, lang), body: "", color: "blue", sticky: false };
  }
}

const shown = new Set<string>();

/** Shows one event as a toast (once per id) and, when allowed, as a desktop notification. */
export function announce(event: Pick<EventOut, "type" | "data"> & { id: number | string }): void {
  const id = `notify-event-${event.id}`;
  if (shown.has(id)) return;
  shown.add(id);
  const view = describeEvent(event);
  notifications.show({
    id,
    color: view.color,
    title: view.title,
    autoClose: view.sticky ? false : 8000,
    message: (
      <Stack gap={2} data-testid="event-toast" data-event-type={event.type}>
        {view.body && <Text size="sm">{view.body}</Text>}
        {view.href && (
          // A plain anchor: toasts render outside the router (hash routes, so the href alone navigates).
          <Anchor href={view.href} size="sm">
            {view.linkLabel}
          </Anchor>
        )}
      </Stack>
    ),
  });
  notifyDesktop(view.title, view.body, id, view.href);
}

/** At most this many toasts from one poll; the rest are summed up in one more (after a laptop wakes up, say). */
export const BURST = 5;

export function announceAll(events: EventOut[]): void {
  events.slice(0, BURST).forEach(announce);
  const rest = events.length - BURST;
  if (rest > 0) {
    notifications.show({ color: "blue", title: tf("event.more", { n: rest }), message: t("event.more.body"), autoClose: 8000 });
  }
}
