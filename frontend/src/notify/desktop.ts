/**
 * Desktop notifications (the Notification API), strictly opt-in: the browser is asked for permission only
 * when the user turns the toggle on, and the choice is remembered in localStorage. A notification is raised
 * only when the user opted in, the browser granted it, and the page is hidden (a visible page has its toast).
 */
import { useCallback, useSyncExternalStore } from "react";

export const DESKTOP_KEY = "invite.desktop-notifications";

export type DesktopState = "unsupported" | "denied" | "off" | "on";

const listeners = new Set<() => void>();
const emit = () => listeners.forEach((fn) => fn());

function api(): typeof Notification | undefined {
  return typeof globalThis.Notification === "function" ? globalThis.Notification : undefined;
}

function optedIn(): boolean {
  try {
    return globalThis.localStorage?.getItem(DESKTOP_KEY) === "on";
  } catch {
    return false;
  }
}

function remember(on: boolean): void {
  try {
    if (on) localStorage.setItem(DESKTOP_KEY, "on");
    else localStorage.removeItem(DESKTOP_KEY);
  } catch {
    /* storage may be unavailable (privacy mode): the toggle then lasts for this page only */
  }
}

/** What the toggle shows: on only with both the user's opt-in and the browser's permission. */
export function desktopState(): DesktopState {
  const N = api();
  if (!N) return "unsupported";
  if (N.permission === "denied") return "denied";
  return optedIn() && N.permission === "granted" ? "on" : "off";
}

/**
 * The user turned the toggle on: asks the browser (this click is the user's gesture), and remembers the
 * opt-in only when permission is granted. Returns the new state.
 */
export async function enableDesktop(): Promise<DesktopState> {
  const N = api();
  if (!N) return "unsupported";
  let permission = N.permission;
  if (permission === "default") {
    try {
      permission = await N.requestPermission();
    } catch {
      permission = "default";
    }
  }
  remember(permission === "granted");
  emit();
  return desktopState();
}

export function disableDesktop(): void {
  remember(false);
  emit();
}

/** Raises a desktop notification when allowed and useful (opted in, granted, page hidden); says whether it did. */
export function notifyDesktop(title: string, body: string, tag?: string, href?: string): boolean {
  const N = api();
  if (!N || N.permission !== "granted" || !optedIn()) return false;
  if (typeof document !== "undefined" && document.visibilityState !== "hidden") return false;
  try {
    const n = new N(title, { body, tag });
    n.onclick = () => {
      window.focus();
      if (href) window.location.hash = href.replace(/^#/, "");
      n.close();
    };
    return true;
  } catch {
    // Some browsers (Android Chrome) allow notifications only from a service worker.
    return false;
  }
}

/** The toggle's state, re-read on every change made through this module. */
export function useDesktopNotifications() {
  const state = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    desktopState,
    desktopState,
  );
  const setOn = useCallback(async (on: boolean) => {
    if (on) await enableDesktop();
    else disableDesktop();
  }, []);
  return { state, setOn };
}
