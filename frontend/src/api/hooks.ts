/** Data hooks over the generated client (TanStack Query), with polling while something runs. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type ApiPaths, download, type Schemas, unwrap } from "./client";

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
  suppressions: ["suppressions"] as const,
  suppressionList: (platform: string, q: string, reason: string | null, cursor: string | undefined) =>
    ["suppressions", platform, q, reason, cursor] as const,
  importJob: (jobId: string | null) => ["import-job", jobId] as const,
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

export type BulkTaskAction = Schemas["BulkTaskAction"]["action"];
export type BulkOutcome = Schemas["BulkTaskResult"];

/** One action over many tasks; each task succeeds or fails on its own (`results`). */
export function useBulkTasks() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (args: { action: BulkTaskAction; ids: string[]; priority?: Schemas["Priority"] }) =>
      unwrap(api.POST("/api/v1/tasks/bulk", { body: { action: args.action, task_ids: args.ids, priority: args.priority ?? null } })),
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

/** The first targets of a task, as sample values for the template preview (the edit page). */
export function useTargetSample(taskId: string | undefined) {
  return useQuery({
    // Under keys.targets(id), so whatever refreshes the audience refreshes the sample too.
    queryKey: [...keys.targets(taskId ?? ""), "sample"],
    enabled: !!taskId,
    queryFn: () =>
      unwrap(api.GET("/api/v1/tasks/{task_id}/targets", { params: { path: { task_id: taskId! }, query: { limit: 20 } } })),
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

/** The user's accounts with their usage per window. */
export function useAccounts() {
  return useQuery({
    queryKey: keys.accounts,
    queryFn: () => unwrap(api.GET("/api/v1/accounts", {})),
    refetchInterval: 60_000,
  });
}

/** The task's lanes (account × task). */
export function useLanes(taskId: string, live: boolean) {
  return useQuery({
    queryKey: keys.lanes(taskId),
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/lanes", { params: { path: { task_id: taskId } } })),
    refetchInterval: live ? POLL_RUNNING_MS : POLL_IDLE_MS,
  });
}

/**
 * Puts an account's `unavailable` lanes back to work, in every task of the user's, once it was fixed in
 * the Integration Service. A 409 (still unusable there) carries the reason in its `detail`.
 */
export function useReactivateAccount() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (accountId: string) =>
      unwrap(api.POST("/api/v1/accounts/{account_id}/reactivate", { params: { path: { account_id: accountId } } })),
    onSettled: () => {
      // Every task's lanes: the account works for all of them.
      void qc.invalidateQueries({ queryKey: ["lanes"] });
      void qc.invalidateQueries({ queryKey: keys.accounts });
      void qc.invalidateQueries({ queryKey: keys.tasks });
    },
  });
}

export function useTaskStats(taskId: string, live: boolean) {
  return useQuery({
    queryKey: keys.stats(taskId),
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/stats", { params: { path: { task_id: taskId } } })),
    refetchInterval: live ? POLL_RUNNING_MS * 2 : false,
  });
}

export function downloadTaskReport(taskId: string, format: "csv" | "xlsx"): Promise<void> {
  return download(
    api.GET("/api/v1/tasks/{task_id}/report", { params: { path: { task_id: taskId }, query: { format } }, parseAs: "blob" }),
    `task-${taskId}.${format}`,
  );
}

export function useTaskLogs(taskId: string, live: boolean) {
  return useQuery({
    queryKey: keys.logs(taskId),
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/tasks/{task_id}/logs", { params: { path: { task_id: taskId }, query: { limit: 100 } } })))
        .items,
    refetchInterval: live ? POLL_RUNNING_MS : false,
  });
}
