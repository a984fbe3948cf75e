/**
 * The signed-in session, kept in sessionStorage (gone when the tab closes). Three ways in:
 * "dev" (the embedded profile's dev login), "token" (a pasted bearer token) and "gateway" (the
 * gateway in front of the service authenticates; the UI sends no token of its own).
 */
export type SessionMode = "dev" | "token" | "gateway";

export interface Session {
  mode: SessionMode;
  token: string | null;
  user: string;
  /** Seconds since the epoch, when the token says. */
  expiresAt: number | null;
}

const KEY = "invite-service.session";
const listeners = new Set<() => void>();
let current: Session | null = read();
let endedReason: string | null = null;

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Session;
    if (parsed.expiresAt && parsed.expiresAt * 1000 < Date.now()) return null;
    return parsed;
  } catch {
    return null;
  }
}

function emit() {
  for (const fn of listeners) fn();
}

export function getSession(): Session | null {
  return current;
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function signIn(session: Session): void {
  current = session;
  endedReason = null;
  sessionStorage.setItem(KEY, JSON.stringify(session));
  emit();
}

/** Ends the session; `reason` is shown on the sign-in page (e.g. after a 401). */
export function signOut(reason: string | null = null): void {
  current = null;
  endedReason = reason;
  sessionStorage.removeItem(KEY);
  emit();
}

/** The reason the last session ended, read once. */
export function takeEndedReason(): string | null {
  const reason = endedReason;
  endedReason = null;
  return reason;
}

/** Reads `sub` and `exp` of a JWT for display only; the server alone verifies tokens. */
export function decodeToken(token: string): { sub: string | null; exp: number | null } {
  const part = token.split(".")[1];
  if (!part) return { sub: null, exp: null };
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { sub?: unknown; exp?: unknown };
    return {
      sub: typeof claims.sub === "string" ? claims.sub : null,
      exp: typeof claims.exp === "number" ? claims.exp : null,
    };
  } catch {
    return { sub: null, exp: null };
  }
}
