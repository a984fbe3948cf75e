/** Data hooks over the generated client (TanStack Query), with polling while something runs. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { AccountOut, LaneOut, LogOut, TaskStatsOut } from "./pending";
import { api, type ApiPaths, type Schemas, unwrap } from "./client";
import { hasFeature, useCapabilities } from "./capabilities";

export type Task = Schemas["TaskOut"];
export type TaskCreate = Schemas["TaskCreate"];
export type TaskUpdate = Schemas["TaskUpdate"];
export type Target = Schemas["TargetOut"];
export type TaskListQuery = NonNullable<ApiPaths["/api/v1/tasks"]["get"]["parameters"]["query"]>;
export type TargetListQuery = {
  status?: Schemas["TargetStatus"][];
  kind?: Schemas["TargetKind"];
  q?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
};

/** Live views refresh this often; quicker while a task runs. */
export const POLL_RUNNING_MS = 3000;
export const POLL_IDLE_MS = 30_000;

const isLive = (t: Pick<Task, "status"> | undefined) => t?.status === "running" || t?.status === "scheduled";

export const keys = {
  tasks: ["tasks"] as const,
  taskList: (q: TaskListQuery) => ["tasks", "list", q] as const,
  task: (id: string) => ["tasks", "one", id] as const,
  targets: (id: string) => ["targets", id] as const,
  targetList: (id: string, q: TargetListQuery) => ["targets", id, "list", q] as const,
  targetStats: (id: string) => ["targets", id, "stats"] as const,
  accounts: ["accounts"] as const,
  lanes: (id: string) => ["lanes", id] as const,
  stats: (id: string) => ["stats", id] as const,
  logs: (id: string) => ["logs", id] as const,
};

export function useTasks(query: TaskListQuery) {
  return useQuery({
    queryKey: keys.taskList(query),
    queryFn: () => unwrap(api.GET("/api/v1/tasks", { params: { query } })),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some(isLive) ? POLL_RUNNING_MS : POLL_IDLE_MS),
  });
}

export function useTask(id: string | undefined) {
  return useQuery({
    queryKey: keys.task(id ?? ""),
    enabled: !!id,
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: id! } } })),
    refetchInterval: (q) => (isLive(q.state.data) ? POLL_RUNNING_MS : POLL_IDLE_MS),
  });
}

export function useCreateTask() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: TaskCreate) =>
      unwrap(api.POST("/api/v1/tasks", { body, headers: { "Idempotency-Key": crypto.randomUUID() } })),
    onSuccess: (task) => {
      qc.setQueryData(keys.task(task.id), task);
      void qc.invalidateQueries({ queryKey: ["tasks", "list"] });
    },
  });
}

export function useUpdateTask(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: TaskUpdate) =>
      unwrap(api.PUT("/api/v1/tasks/{task_id}", { params: { path: { task_id: id } }, body })),
    onSuccess: (task) => {
      qc.setQueryData(keys.task(id), task);
      void qc.invalidateQueries({ queryKey: ["tasks", "list"] });
    },
  });
}

export function useDeleteTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/tasks/{task_id}", { params: { path: { task_id: id } } })),
    onSuccess: (_d, id) => {
      qc.removeQueries({ queryKey: keys.task(id) });
      void qc.invalidateQueries({ queryKey: ["tasks", "list"] });
    },
  });
}

export function useDuplicateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (args: { id: string; include_targets: boolean }) =>
      unwrap(
        api.POST("/api/v1/tasks/{task_id}/duplicate", {
          params: { path: { task_id: args.id } },
          body: { include_targets: args.include_targets },
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["tasks", "list"] }),
  });
}

export type BulkTaskAction = "DELETE" | "SET_PRIORITY" | "PAUSE" | "RESUME" | "CANCEL";
export type BulkOutcome = { results: { task_id: string; ok: boolean; status: number; detail?: string | null }[] };

/**
 * Bulk actions over tasks. DELETE and SET_PRIORITY go through POST /tasks/bulk; PAUSE/RESUME/CANCEL do
 * too once the server's BulkTaskAction accepts them, and otherwise call each task's control endpoint.
 */
export function useBulkTasks() {
  const qc = useQueryClient();
  const caps = useCapabilities();
  return useMutation({
    mutationFn: async (args: { action: BulkTaskAction; ids: string[]; priority?: Schemas["Priority"] }) => {
      const bulkActions = caps.enumOf("BulkTaskAction", "action") ?? ["DELETE", "SET_PRIORITY"];
      if (bulkActions.includes(args.action)) {
        return unwrap(
          api.POST("/api/v1/tasks/bulk", {
            body: {
              action: args.action as Schemas["BulkTaskAction"]["action"],
              task_ids: args.ids,
              priority: args.priority ?? null,
            },
          }),
        ) as Promise<BulkOutcome>;
      }
      const verb = args.action.toLowerCase() as "pause" | "resume" | "cancel";
      const results: BulkOutcome["results"] = [];
      for (const id of args.ids) {
        try {
          await controlTask(id, verb);
          results.push({ task_id: id, ok: true, status: 200 });
        } catch (err) {
          const e = err as { status?: number; message?: string };
          results.push({ task_id: id, ok: false, status: e.status ?? 0, detail: e.message ?? String(err) });
        }
      }
      return { results };
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.tasks }),
  });
}

export type ControlVerb = "start" | "pause" | "resume" | "cancel";

export function controlTask(id: string, verb: ControlVerb) {
  const options = { params: { path: { task_id: id } } };
  switch (verb) {
    case "start":
      return unwrap(api.POST("/api/v1/tasks/{task_id}/start", options));
    case "pause":
      return unwrap(api.POST("/api/v1/tasks/{task_id}/pause", options));
    case "resume":
      return unwrap(api.POST("/api/v1/tasks/{task_id}/resume", options));
    case "cancel":
      return unwrap(api.POST("/api/v1/tasks/{task_id}/cancel", options));
  }
}

export function useControlTask(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (verb: ControlVerb) => controlTask(id, verb),
    onSuccess: (task) => {
      if (task && typeof task === "object" && "id" in task) qc.setQueryData(keys.task(id), task as Task);
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.task(id) });
      void qc.invalidateQueries({ queryKey: ["tasks", "list"] });
      void qc.invalidateQueries({ queryKey: keys.targets(id) });
      void qc.invalidateQueries({ queryKey: keys.lanes(id) });
    },
  });
}

export function useTargets(taskId: string, query: TargetListQuery, live: boolean) {
  return useQuery({
    queryKey: keys.targetList(taskId, query),
    queryFn: () =>
      unwrap(api.GET("/api/v1/tasks/{task_id}/targets", { params: { path: { task_id: taskId }, query } })),
    placeholderData: keepPreviousData,
    refetchInterval: live ? POLL_RUNNING_MS * 2 : false,
  });
}

export function useTargetStats(taskId: string, live: boolean) {
  return useQuery({
    queryKey: keys.targetStats(taskId),
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/targets/stats", { params: { path: { task_id: taskId } } })),
    refetchInterval: live ? POLL_RUNNING_MS : false,
  });
}

export function useAddTargets(taskId: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (targets: Record<string, unknown>[]) =>
      unwrap(
        api.POST("/api/v1/tasks/{task_id}/targets/bulk", {
          params: { path: { task_id: taskId } },
          body: { targets, all_or_nothing: false },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.targets(taskId) });
      void qc.invalidateQueries({ queryKey: keys.task(taskId) });
    },
  });
}

export type TargetBulkAction = Schemas["BulkActionIn"]["action"];

export function useTargetBulkAction(taskId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["BulkActionIn"]) =>
      unwrap(api.POST("/api/v1/tasks/{task_id}/targets/bulk-action", { params: { path: { task_id: taskId } }, body })),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.targets(taskId) });
      void qc.invalidateQueries({ queryKey: keys.task(taskId) });
    },
  });
}

function itemsOf<T>(data: T[] | { items: T[] } | undefined): T[] {
  if (!data) return [];
  return Array.isArray(data) ? data : data.items;
}

/** The user's accounts with their usage, once the server has GET /api/v1/accounts. */
export function useAccounts() {
  const caps = useCapabilities();
  const enabled = hasFeature(caps, "accounts");
  const q = useQuery({
    queryKey: keys.accounts,
    enabled,
    queryFn: async (): Promise<AccountOut[]> => itemsOf(await unwrap(api.GET("/api/v1/accounts", {}))),
    refetchInterval: 60_000,
  });
  return { ...q, available: enabled, capabilitiesLoading: caps.loading };
}

/** The task's lanes (account × task), once the server has GET /tasks/{id}/accounts. */
export function useLanes(taskId: string, live: boolean) {
  const caps = useCapabilities();
  const enabled = hasFeature(caps, "lanes");
  const q = useQuery({
    queryKey: keys.lanes(taskId),
    enabled,
    queryFn: async (): Promise<LaneOut[]> =>
      itemsOf(await unwrap(api.GET("/api/v1/tasks/{task_id}/accounts", { params: { path: { task_id: taskId } } }))),
    refetchInterval: live ? POLL_RUNNING_MS : POLL_IDLE_MS,
  });
  return { ...q, available: enabled };
}

export function useTaskStats(taskId: string, live: boolean) {
  const caps = useCapabilities();
  const enabled = hasFeature(caps, "stats");
  const q = useQuery({
    queryKey: keys.stats(taskId),
    enabled,
    queryFn: (): Promise<TaskStatsOut> =>
      unwrap(api.GET("/api/v1/tasks/{task_id}/stats", { params: { path: { task_id: taskId } } })),
    refetchInterval: live ? POLL_RUNNING_MS * 2 : false,
  });
  return { ...q, available: enabled };
}

export function useTaskLogs(taskId: string, live: boolean) {
  const caps = useCapabilities();
  const enabled = hasFeature(caps, "logs");
  const q = useQuery({
    queryKey: keys.logs(taskId),
    enabled,
    queryFn: async (): Promise<LogOut[]> =>
      (await unwrap(api.GET("/api/v1/tasks/{task_id}/logs", { params: { path: { task_id: taskId }, query: { limit: 100 } } })))
        .items,
    refetchInterval: live ? POLL_RUNNING_MS : false,
  });
  return { ...q, available: enabled };
}
