/**
 * Polls the user's notification events while signed in (mounted in the shell, so on every page): the first
 * call learns where the feed is now (`last_id`, no backlog of old toasts), then `after=last_id` every
 * `intervalMs` and whenever the window regains focus. A service without the feed (404) is asked again
 * only rarely, and the task page keeps its own status toasts meanwhile (useFeedLive).
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { keys } from "../api/hooks";
import { type EventOut, fetchEvents, notifyKeys } from "../api/notifications";
import { useSession } from "../auth/RequireAuth";
import { getSession } from "../auth/session";
import { announceAll } from "./events";

export const POLL_MS = 5000;
/** While the service answers 404 (no feed yet). */
export const ABSENT_POLL_MS = 60_000;

type FeedState = "unknown" | "live" | "absent";
let feedState: FeedState = "unknown";
const listeners = new Set<() => void>();
function setFeedState(next: FeedState) {
  if (next === feedState) return;
  feedState = next;
  listeners.forEach((fn) => fn());
}

/** True while the service's feed answers: then it alone raises the task toasts. */
export function useFeedLive(): boolean {
  return (
    useSyncExternalStore(
      (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      () => feedState,
      () => feedState,
    ) === "live"
  );
}

export function NotificationFeed({ intervalMs = POLL_MS, absentMs = ABSENT_POLL_MS }: { intervalMs?: number; absentMs?: number }) {
  const user = useSession()?.user ?? null;
  const qc = useQueryClient();

  useEffect(() => {
    if (!user) return;
    let stopped = false;
    let lastId: number | null = null;
    let busy = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const schedule = (ms: number) => {
      if (timer) clearTimeout(timer);
      if (!stopped) timer = setTimeout(() => void poll(), ms);
    };

    const poll = async () => {
      if (stopped || busy) return;
      if (!getSession()) return; // signed out between ticks: the shell unmounts us next
      busy = true;
      let next = intervalMs;
      try {
        const page = await fetchEvents(lastId);
        if (stopped) return;
        if (page === null) {
          setFeedState("absent");
          next = absentMs;
          return;
        }
        setFeedState("live");
        if (lastId !== null && page.items.length) {
          announceAll(page.items);
          refreshAfter(page.items);
        }
        const newest = page.items.reduce((m, e) => Math.max(m, e.id), lastId ?? 0);
        lastId = page.items.length ? newest : Math.max(lastId ?? 0, page.last_id);
      } catch {
        // A network blip or a 5xx: the next tick tries again from the same place.
      } finally {
        busy = false;
        schedule(next);
      }
    };

    // What the page shows may have changed with the event: an idle list polls only every 30 s.
    const refreshAfter = (events: EventOut[]) => {
      if (events.some((e) => e.type.startsWith("task.") || e.type.startsWith("import."))) {
        void qc.invalidateQueries({ queryKey: keys.tasks });
        void qc.invalidateQueries({ queryKey: ["targets"] });
      }
      if (events.some((e) => e.type.startsWith("account."))) {
        void qc.invalidateQueries({ queryKey: keys.accounts });
        void qc.invalidateQueries({ queryKey: ["lanes"] });
      }
      void qc.invalidateQueries({ queryKey: notifyKeys.all });
    };

    const onFocus = () => void poll();
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onVisible);
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [user, intervalMs, absentMs, qc]);

  return null;
}
