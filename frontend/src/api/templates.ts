/** Message templates of a task: the fields its targets have (the editor's insert chips) and "send a test to myself". */
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "./client";
import { keys } from "./hooks";

export type TaskField = Schemas["FieldOut"];
export type MessageTestIn = Schemas["MessageTestIn"];
export type MessageTestOut = Schemas["MessageTestOut"];

/** The standard fields and every imported field of the task's targets, with how many targets have it. */
export function useTaskFields(taskId: string | undefined) {
  return useQuery({
    // Under keys.targets(id): whatever refreshes the audience (an import) refreshes the fields too.
    queryKey: [...keys.targets(taskId ?? ""), "fields"],
    enabled: !!taskId,
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/fields", { params: { path: { task_id: taskId! } } })),
  });
}

/** Sends the task's message, rendered for a target (or a sample), to the user's own address. */
export function useTestMessage(taskId: string) {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: MessageTestIn) =>
      unwrap(
        api.POST("/api/v1/tasks/{task_id}/test-message", {
          params: { path: { task_id: taskId } },
          body,
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      ),
  });
}
