/**
 * What the running server offers, read from its own /openapi.json, so pages for endpoints that
 * land later light up without a new UI build. Falls back to the paths this build was generated from.
 */
import { useQuery } from "@tanstack/react-query";
import { API_BASE } from "./client";
import { GENERATED_PATHS } from "./generated-paths";

export type Method = "get" | "post" | "put" | "delete" | "patch";

export interface Capabilities {
  /** Whether the server has `method path` ({param} names don't matter). */
  has(path: string, method?: Method): boolean;
  /** The enum values the server accepts for a schema property, when it publishes them. */
  enumOf(schema: string, property: string): string[] | null;
  /** True when read from the live server (false: from the build's schema). */
  live: boolean;
}

interface OpenApiDoc {
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, { properties?: Record<string, { enum?: string[]; anyOf?: { enum?: string[] }[] }> }> };
}

const norm = (p: string) => p.replace(/\{[^}]+\}/g, "{}").replace(/\/+$/, "");

export function capabilitiesFrom(doc: OpenApiDoc | null): Capabilities {
  if (!doc?.paths) {
    const known = new Set(GENERATED_PATHS.map(norm));
    return { has: (path) => known.has(norm(path)), enumOf: () => null, live: false };
  }
  const table = new Map<string, Set<string>>();
  for (const [path, ops] of Object.entries(doc.paths)) table.set(norm(path), new Set(Object.keys(ops)));
  return {
    has(path, method) {
      const ops = table.get(norm(path));
      return !!ops && (method === undefined || ops.has(method));
    },
    enumOf(schema, property) {
      const prop = doc.components?.schemas?.[schema]?.properties?.[property];
      return prop?.enum ?? prop?.anyOf?.find((x) => x.enum)?.enum ?? null;
    },
    live: true,
  };
}

export const FEATURES = {
  devLogin: ["/api/v1/auth/dev-login", "post"],
  accounts: ["/api/v1/accounts", "get"],
  lanes: ["/api/v1/tasks/{task_id}/accounts", "get"],
  start: ["/api/v1/tasks/{task_id}/start", "post"],
  pause: ["/api/v1/tasks/{task_id}/pause", "post"],
  resume: ["/api/v1/tasks/{task_id}/resume", "post"],
  cancel: ["/api/v1/tasks/{task_id}/cancel", "post"],
  status: ["/api/v1/tasks/{task_id}/status", "get"],
  stats: ["/api/v1/tasks/{task_id}/stats", "get"],
  report: ["/api/v1/tasks/{task_id}/report", "get"],
  logs: ["/api/v1/tasks/{task_id}/logs", "get"],
  events: ["/api/v1/tasks/{task_id}/events", "get"],
  importValidate: ["/api/v1/import/validate", "post"],
  importFile: ["/api/v1/import/file", "post"],
  importJob: ["/api/v1/import/jobs/{job_id}", "get"],
  suppressions: ["/api/v1/suppressions", "get"],
} as const satisfies Record<string, readonly [string, Method]>;

export type Feature = keyof typeof FEATURES;

export function hasFeature(caps: Capabilities, feature: Feature): boolean {
  const [path, method] = FEATURES[feature];
  return caps.has(path, method);
}

async function fetchDoc(): Promise<OpenApiDoc | null> {
  try {
    const res = await fetch(`${API_BASE}/openapi.json`);
    return res.ok ? ((await res.json()) as OpenApiDoc) : null;
  } catch {
    return null;
  }
}

/** The server's capabilities; re-read every few minutes so a deploy that adds endpoints shows up. */
export function useCapabilities(): Capabilities & { loading: boolean; feature: (f: Feature) => boolean } {
  const q = useQuery({ queryKey: ["openapi"], queryFn: fetchDoc, staleTime: 5 * 60_000, retry: false });
  const caps = capabilitiesFrom(q.data ?? null);
  return { ...caps, loading: q.isPending, feature: (f) => hasFeature(caps, f) };
}
