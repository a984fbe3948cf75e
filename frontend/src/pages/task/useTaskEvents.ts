import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { API_BASE } from "../../api/client";
import { useCapabilities } from "../../api/capabilities";
import { keys } from "../../api/hooks";
import { PENDING_RAW } from "../../api/pending";
import { getSession } from "../../auth/session";

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
 * Live updates through GET /tasks/{id}/events (SSE) once the server has it; the queries keep polling
 * underneath, so a dropped stream only makes the page a little slower, never stale. EventSource cannot
 * send a bearer token, so the stream is read with fetch.
 */
export function useTaskEvents(taskId: string, status: string | undefined) {
  const caps = useCapabilities();
  const qc = useQueryClient();
  const enabled = caps.feature("events") && !!taskId && (status === "running" || status === "scheduled" || status === "paused");

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
        const token = getSession()?.token;
        const res = await fetch(`${API_BASE}${PENDING_RAW.events(taskId)}`, {
          headers: { Accept: "text/event-stream", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
          signal: abort.signal,
        });
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        await readEventStream(res.body, (event) => {
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
