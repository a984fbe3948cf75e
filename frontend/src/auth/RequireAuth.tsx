import { useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useSyncExternalStore } from "react";
import { Navigate, useLocation } from "react-router";
import { getSession, subscribe } from "./session";

export function useSession() {
  return useSyncExternalStore(subscribe, getSession, getSession);
}

/** Sends the user to sign-in (remembering where they were) when there is no session — e.g. after any 401. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  const qc = useQueryClient();
  useEffect(() => {
    if (!session) qc.clear(); // another user's data must not linger in the cache
  }, [session, qc]);
  if (!session) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
