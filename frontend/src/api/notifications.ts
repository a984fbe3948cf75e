/**
 * Notifications (webhook endpoints, Apprise channels, the delivery log, the in-browser event feed) and the
 * service's meta (profile, simulators, platforms offered).
 *
 * The shapes follow the agreed contracts (notify-api.md, meta-api.md). The calls go through the same client
 * as every other (bearer token, ApiError, 401 → sign-in) but untyped by path: a UI built against a service
 * without these routes must still compile and run, and a 404 means "not there yet" (the feed and the banner
 * stay quiet, the Settings page says so).
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { ApiError } from "./problem";

export const EVENT_TYPES = [
  "task.completed",
  "task.paused",
  "task.failed",
  "account.restricted",
  "account.unavailable",
  "import.completed",
  "import.failed",
  "endpoint.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface WebhookOut {
  id: string;
  url: string;
  description: string;
  event_types: EventType[];
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: string;
  updated_at: string;
}
export interface WebhookCreated extends WebhookOut {
  secret: string;
}
export interface WebhookIn {
  url: string;
  description?: string;
  event_types?: EventType[];
}
export interface ChannelOut {
  id: string;
  label: string;
  scheme: string;
  url_masked: string;
  event_types: EventType[];
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: string;
  updated_at: string;
}
export interface ChannelIn {
  url: string;
  label?: string;
  event_types?: EventType[];
}
export type DeliveryStatus = "pending" | "retrying" | "succeeded" | "failed";
export const DELIVERY_STATUSES: DeliveryStatus[] = ["pending", "retrying", "succeeded", "failed"];
export interface DeliveryOut {
  id: string;
  event_id: number;
  event_type: string;
  endpoint_id: string | null;
  channel_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}
export interface DeliveryPage {
  items: DeliveryOut[];
  next_cursor: string | null;
  total: number;
}
export interface DeliveryFilter {
  endpoint_id?: string | null;
  channel_id?: string | null;
  status?: DeliveryStatus | null;
  cursor?: string;
  limit: number;
}
export interface EventOut {
  id: number;
  type: EventType | string;
  created_at: string;
  data: Record<string, unknown>;
}
export interface EventFeedPage {
  items: EventOut[];
  last_id: number;
}
export interface MetaOut {
  profile: "embedded" | "production";
  sandbox_allowed: boolean;
  simulated: string[];
  platforms: string[];
}

type Init = { params?: { path?: Record<string, string>; query?: Record<string, unknown> }; body?: unknown };
type Call = (path: string, init?: Init) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
interface UntypedClient {
  GET: Call;
  POST: Call;
  PATCH: Call;
  DELETE: Call;
}
// `api` is read at call time: tests swap it with setFetch().
const http = () => api as unknown as UntypedClient;

const isNotFound = (err: unknown) => err instanceof ApiError && err.status === 404;

/** The query's value, or null when the service has no such route (404). */
async function orNull<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T | null> {
  try {
    return (await unwrap(call)) as T;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

const drop = (q: Record<string, unknown>) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== null && v !== ""));

export const notifyKeys = {
  all: ["notifications"] as const,
  webhooks: ["notifications", "webhooks"] as const,
  channels: ["notifications", "channels"] as const,
  deliveries: (f: DeliveryFilter) => ["notifications", "deliveries", f] as const,
  meta: ["meta"] as const,
  routes: ["openapi-routes"] as const,
};

/** One page of the event feed; without `after`, just the current `last_id`. Null when the route is absent. */
export function fetchEvents(after: number | null, limit = 50): Promise<EventFeedPage | null> {
  const query = after === null ? { limit } : { after, limit };
  return orNull<EventFeedPage>(http().GET("/api/v1/notifications/events", { params: { query } }));
}

/** GET /api/v1/meta; null before the service has it (the UI then behaves as it always did). */
export function useMeta() {
  return useQuery({
    queryKey: notifyKeys.meta,
    queryFn: () => orNull<MetaOut>(http().GET("/api/v1/meta")),
    staleTime: 5 * 60_000,
    refetchInterval: 5 * 60_000,
  });
}

/**
 * The API routes the service documents (its OpenAPI document, next to the UI), so optional actions such as
 * a webhook's test ping show only where the service has them. An unreachable document hides them.
 */
export function useApiRoutes() {
  return useQuery({
    queryKey: notifyKeys.routes,
    queryFn: async () => {
      try {
        const res = await fetch(new URL("openapi.json", document.baseURI));
        if (!res.ok) return new Set<string>();
        const doc = (await res.json()) as { paths?: Record<string, unknown> };
        return new Set(Object.keys(doc.paths ?? {}));
      } catch {
        return new Set<string>();
      }
    },
    staleTime: Infinity,
    retry: false,
  });
}

export function useWebhooks() {
  return useQuery({
    queryKey: notifyKeys.webhooks,
    queryFn: () => orNull<WebhookOut[]>(http().GET("/api/v1/notifications/webhooks")),
  });
}

export function useChannels() {
  return useQuery({
    queryKey: notifyKeys.channels,
    queryFn: () => orNull<ChannelOut[]>(http().GET("/api/v1/notifications/channels")),
  });
}

export function useDeliveries(filter: DeliveryFilter) {
  return useQuery({
    queryKey: notifyKeys.deliveries(filter),
    queryFn: () =>
      orNull<DeliveryPage>(
        http().GET("/api/v1/notifications/deliveries", { params: { query: drop({ ...filter }) } }),
      ),
    placeholderData: keepPreviousData,
    // Retries move on their own; the log follows them while the page is open.
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === "pending" || d.status === "retrying") ? 5000 : 30_000),
  });
}

function useInvalidateNotifications() {
  const qc = useQueryClient();
  return () => void qc.invalidateQueries({ queryKey: notifyKeys.all });
}

export function useCreateWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: async (body: WebhookIn) => (await unwrap(http().POST("/api/v1/notifications/webhooks", { body }))) as WebhookCreated,
    onSuccess: invalidate,
  });
}

export function useUpdateWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: async (args: { id: string; patch: Partial<WebhookIn> & { enabled?: boolean } }) =>
      (await unwrap(
        http().PATCH("/api/v1/notifications/webhooks/{endpoint_id}", { params: { path: { endpoint_id: args.id } }, body: args.patch }),
      )) as WebhookOut,
    onSettled: invalidate,
  });
}

export function useDeleteWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(http().DELETE("/api/v1/notifications/webhooks/{endpoint_id}", { params: { path: { endpoint_id: id } } })),
    onSettled: invalidate,
  });
}

export const TEST_ROUTE = "/api/v1/notifications/webhooks/{endpoint_id}/test";

export function useTestWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: async (id: string) =>
      (await unwrap(http().POST(TEST_ROUTE, { params: { path: { endpoint_id: id } } }))) as DeliveryOut,
    onSettled: invalidate,
  });
}

export function useCreateChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: async (body: ChannelIn) => (await unwrap(http().POST("/api/v1/notifications/channels", { body }))) as ChannelOut,
    onSuccess: invalidate,
  });
}

export function useUpdateChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: async (args: { id: string; patch: Partial<ChannelIn> & { enabled?: boolean } }) =>
      (await unwrap(
        http().PATCH("/api/v1/notifications/channels/{channel_id}", { params: { path: { channel_id: args.id } }, body: args.patch }),
      )) as ChannelOut,
    onSettled: invalidate,
  });
}

export function useDeleteChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(http().DELETE("/api/v1/notifications/channels/{channel_id}", { params: { path: { channel_id: id } } })),
    onSettled: invalidate,
  });
}

export function useRedeliver() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: async (id: string) =>
      (await unwrap(
        http().POST("/api/v1/notifications/deliveries/{delivery_id}/redeliver", { params: { path: { delivery_id: id } } }),
      )) as DeliveryOut,
    onSettled: invalidate,
  });
}
