import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap } from "./client";
import { keys } from "./hooks";

/** Parses a text/event-stream body into events (data lines joined), calling `onEvent` for each. */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (event: string, data: string) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}

/**
 * Live updates through GET /tasks/{id}/events (SSE); the queries keep polling underneath, so a dropped
 * stream only makes the page a little slower, never stale. EventSource cannot send a bearer token, so
 * the stream is read through the API client (fetch).
 */
export function useTaskEvents(taskId: string, status: string | undefined) {
  const qc = useQueryClient();
  const enabled = !!taskId && (status === "running" || status === "scheduled" || status === "paused");

  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      void qc.invalidateQueries({ queryKey: keys.task(taskId) });
      void qc.invalidateQueries({ queryKey: keys.lanes(taskId) });
    };
    const connect = async (attempt: number) => {
      try {
        const body = await unwrap(
          api.GET("/api/v1/tasks/{task_id}/events", {
            params: { path: { task_id: taskId } },
            headers: { Accept: "text/event-stream" },
            parseAs: "stream",
            signal: abort.signal,
          }),
        );
        if (!body) throw new Error("events: no body");
        await readEventStream(body, (event) => {
          if (event !== "heartbeat" && event !== "ping") refresh();
        });
        attempt = 0;
      } catch {
        if (abort.signal.aborted) return;
      }
      if (!abort.signal.aborted) retry = setTimeout(() => void connect(attempt + 1), Math.min(30_000, 1000 * 2 ** attempt));
    };
    void connect(0);
    return () => {
      abort.abort();
      if (retry) clearTimeout(retry);
    };
  }, [enabled, taskId, qc]);
}
