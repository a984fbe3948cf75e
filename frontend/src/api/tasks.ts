/** The tasks list's extras: a running task's ETA from GET /tasks/{id}/status (the list items carry no ETA). */
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { POLL_IDLE_MS } from "./hooks";

export function useTaskEta(taskId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["tasks", "eta", taskId],
    enabled,
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/tasks/{task_id}/status", { params: { path: { task_id: taskId } } }))).eta ?? null,
    refetchInterval: POLL_IDLE_MS,
    staleTime: 15_000,
  });
}
