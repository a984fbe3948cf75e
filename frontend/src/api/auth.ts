/** Signing in: whether the server offers the sign-in by name, that sign-in, and a probe of a token or gateway session. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { API_BASE, type ApiPaths, api, unwrap } from "./client";

const DEV_LOGIN = "/api/v1/auth/dev-login" satisfies keyof ApiPaths;

/**
 * Whether this server offers the sign-in by name. Only the embedded profile mounts the dev login
 * (main.py): that is a fact of the deployment, not of the schema this UI was built from, so it is read
 * from the server's own document. If that cannot be read, the name form shows (with "I have a token").
 */
export function useDevLoginOffered(): { loading: boolean; offered: boolean } {
  const doc = useQuery({
    queryKey: ["openapi", "dev-login"],
    queryFn: async () => {
      const res = await fetch(`${API_BASE}/openapi.json`);
      return res.ok ? ((await res.json()) as { paths?: Record<string, unknown> }) : null;
    },
    staleTime: Infinity,
    retry: false,
  });
  return { loading: doc.isPending, offered: !doc.data?.paths || DEV_LOGIN in doc.data.paths };
}

/** The embedded profile's sign-in by name: a token for `user`. */
export function useDevLogin() {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (user: string) => unwrap(api.POST(DEV_LOGIN, { body: { user } })),
  });
}

/**
 * Asks for one task with `authorization` (a bearer token), or with no header of its own (a gateway in
 * front of the service authenticates): it succeeds only if the service accepts that session.
 */
export function useProbeAccess() {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: async (authorization: string | null) => {
      await unwrap(
        api.GET("/api/v1/tasks", {
          params: { query: { limit: 1 } },
          headers: authorization ? { Authorization: authorization } : {},
        }),
      );
    },
  });
}
