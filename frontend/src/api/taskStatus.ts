// The task page's live data beyond hooks.ts: GET /tasks/{id}/status (waiting reason, ETA, estimate, lanes'
// holds) and the filtered live log.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, download, type Schemas, unwrap } from "./client";
import { keys, POLL_IDLE_MS, POLL_RUNNING_MS } from "./hooks";

export type TaskStatusOut = Schemas["TaskStatusOut"];
export type LogOut = Schemas["LogOut"];
export type LogQuery = { outcome?: string; account_id?: string; error_code?: string };

export const statusKey = (id: string) => ["task-status", id] as const;

export function useTaskStatus(taskId: string, live: boolean) {
  return useQuery({
    queryKey: statusKey(taskId),
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/status", { params: { path: { task_id: taskId } } })),
    refetchInterval: live ? POLL_RUNNING_MS : POLL_IDLE_MS,
  });
}

export function useFilteredLogs(taskId: string, filter: LogQuery, live: boolean) {
  return useQuery({
    queryKey: [...keys.logs(taskId), filter],
    queryFn: async () =>
      (
        await unwrap(
          api.GET("/api/v1/tasks/{task_id}/logs", { params: { path: { task_id: taskId }, query: { limit: 100, ...filter } } }),
        )
      ).items,
    placeholderData: keepPreviousData,
    refetchInterval: live ? POLL_RUNNING_MS : false,
  });
}

/** The report (CSV or Excel) with its reasons in `lang` (contract §2). */
export function downloadReport(taskId: string, format: "csv" | "xlsx", lang: "en" | "ru"): Promise<void> {
  return download(
    api.GET("/api/v1/tasks/{task_id}/report", { params: { path: { task_id: taskId }, query: { format, lang } }, parseAs: "blob" }),
    `task-${taskId}.${format}`,
  );
}
