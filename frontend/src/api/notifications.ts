/**
 * Notifications (webhook endpoints, Apprise channels, the delivery log, the in-browser event feed) and the
 * service's meta (profile, simulators, platforms offered).
 *
 * Notification calls are typed by the generated schema like every other. GET /meta is not, on purpose: its
 * route lands with the production-profile work (switch it to the typed client once the schema has it).
 * A 404 means "not there": the feed and the banner stay quiet, the Settings page says so; the optional
 * test ping's button shows only where the running service documents it.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { API_BASE, api, type Schemas, unwrap } from "./client";
import { ApiError } from "./problem";

export type EventType = Schemas["NotificationEventType"];
/** Every event type, in the order the Settings page lists them; `satisfies` keeps it in step with the schema. */
export const EVENT_TYPES = [
  "task.completed",
  "task.paused",
  "task.failed",
  "account.restricted",
  "account.unavailable",
  "import.completed",
  "import.failed",
  "endpoint.disabled",
] as const satisfies readonly EventType[];

export type WebhookOut = Schemas["WebhookOut"];
export type WebhookCreated = Schemas["WebhookCreated"];
export type WebhookIn = Schemas["WebhookIn"];
export type WebhookPatch = Schemas["WebhookPatch"];
export type ChannelOut = Schemas["ChannelOut"];
export type ChannelIn = Schemas["ChannelIn"];
export type ChannelPatch = Schemas["ChannelPatch"];
export type DeliveryStatus = Schemas["DeliveryStatus"];
export const DELIVERY_STATUSES = ["pending", "retrying", "succeeded", "failed"] as const satisfies readonly DeliveryStatus[];
export type DeliveryOut = Schemas["DeliveryOut"];
export type DeliveryPage = Schemas["Page_DeliveryOut_"];
export interface DeliveryFilter {
  endpoint_id?: string | null;
  channel_id?: string | null;
  status?: DeliveryStatus | null;
  cursor?: string;
  limit: number;
}
/** `type` widened: a newer service may send a type this build does not know (shown generically). */
export type EventOut = Omit<Schemas["EventOut"], "type"> & { type: EventType | (string & {}) };
export type EventFeedPage = Schemas["EventFeed"];

export type MetaOut = Schemas["Meta"];

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
  return orNull<EventFeedPage>(api.GET("/api/v1/notifications/events", { params: { query } }));
}

/** GET /api/v1/meta; null before the service has it (the UI then behaves as it always did). */
export function useMeta() {
  return useQuery({
    queryKey: notifyKeys.meta,
    queryFn: () => orNull<MetaOut>(api.GET("/api/v1/meta")),
    staleTime: 5 * 60_000,
    refetchInterval: 5 * 60_000,
  });
}

/**
 * The API routes the service documents (its public OpenAPI document), so optional actions such as
 * a webhook's test ping show only where the service has them. An unreachable document hides them.
 */
export function useApiRoutes() {
  return useQuery({
    queryKey: notifyKeys.routes,
    queryFn: async () => {
      try {
        const res = await fetch(`${API_BASE}/openapi.json`); // as the sign-in page reads it (auth.ts)
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
    queryFn: () => orNull<WebhookOut[]>(api.GET("/api/v1/notifications/webhooks")),
  });
}

export function useChannels() {
  return useQuery({
    queryKey: notifyKeys.channels,
    queryFn: () => orNull<ChannelOut[]>(api.GET("/api/v1/notifications/channels")),
  });
}

export function useDeliveries(filter: DeliveryFilter) {
  return useQuery({
    queryKey: notifyKeys.deliveries(filter),
    queryFn: () =>
      orNull<DeliveryPage>(
        api.GET("/api/v1/notifications/deliveries", {
          params: {
            query: {
              limit: filter.limit,
              ...(filter.endpoint_id ? { endpoint_id: filter.endpoint_id } : {}),
              ...(filter.channel_id ? { channel_id: filter.channel_id } : {}),
              ...(filter.status ? { status: filter.status } : {}),
              ...(filter.cursor ? { cursor: filter.cursor } : {}),
            },
          },
        }),
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
    mutationFn: (body: WebhookIn) => unwrap(api.POST("/api/v1/notifications/webhooks", { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (args: { id: string; patch: WebhookPatch }) =>
      unwrap(api.PATCH("/api/v1/notifications/webhooks/{endpoint_id}", { params: { path: { endpoint_id: args.id } }, body: args.patch })),
    onSettled: invalidate,
  });
}

export function useDeleteWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/notifications/webhooks/{endpoint_id}", { params: { path: { endpoint_id: id } } })),
    onSettled: invalidate,
  });
}

/**
 * Whether the running service documents the test ping (optional in the contract: an older or slimmer
 * service may lack it, whatever it names the path parameter).
 */
export const hasTestRoute = (routes: Set<string> | undefined) =>
  [...(routes ?? [])].some((p) => /^\/api\/v1\/notifications\/webhooks\/\{[^}]+\}\/test$/.test(p));

export function useTestWebhook() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/notifications/webhooks/{endpoint_id}/test", { params: { path: { endpoint_id: id } } })),
    onSettled: invalidate,
  });
}

export function useCreateChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: ChannelIn) => unwrap(api.POST("/api/v1/notifications/channels", { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (args: { id: string; patch: ChannelPatch }) =>
      unwrap(api.PATCH("/api/v1/notifications/channels/{channel_id}", { params: { path: { channel_id: args.id } }, body: args.patch })),
    onSettled: invalidate,
  });
}

export function useDeleteChannel() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/notifications/channels/{channel_id}", { params: { path: { channel_id: id } } })),
    onSettled: invalidate,
  });
}

export function useRedeliver() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/notifications/deliveries/{delivery_id}/redeliver", { params: { path: { delivery_id: id } } })),
    onSettled: invalidate,
  });
}
