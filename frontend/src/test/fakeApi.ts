/** A fake service for component tests: answers by method and path, records every call (with its query and body). */
import { vi } from "vitest";
import { setFetch } from "../api/client";
import { jsonResponse } from "./render";

export interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export type Route = (call: Call) => Response | undefined;

export const notFound = () => jsonResponse({ title: "Not found", status: 404 }, 404, "application/problem+json");

/** Installs `route` as the API's transport; an unanswered call is a 404, as the real service answers it. */
export function fakeApi(route: Route): Call[] {
  const calls: Call[] = [];
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(req.url, "http://x");
      const text = req.method === "GET" || req.method === "DELETE" ? "" : await req.text();
      const call: Call = {
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      calls.push(call);
      return route(call) ?? notFound();
    }) as unknown as typeof fetch,
  );
  return calls;
}
