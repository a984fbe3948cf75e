/**
 * The API client: openapi-fetch typed by the generated `paths` (schema.d.ts) plus the pending ones.
 * Adds the bearer token, turns every failure into an `ApiError`, and ends the session on any 401.
 */
import createClient, { type Middleware } from "openapi-fetch";
import { getSession, signOut } from "../auth/session";
import type { PendingPaths } from "./pending";
import { ApiError, toProblem } from "./problem";
import type { components, paths } from "./schema";

export type ApiPaths = paths & Omit<PendingPaths, keyof paths>;
export type Schemas = components["schemas"];

/** "" = the same origin that served the UI; VITE_API_BASE for a UI served elsewhere. */
export const API_BASE: string = (import.meta.env.VITE_API_BASE as string | undefined) ?? "";

const SESSION_ENDED = "Your session has ended or the token was refused. Sign in again.";

function authHeader(): Record<string, string> {
  const token = getSession()?.token;
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getSession()?.token;
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.includes("/auth/dev-login") && getSession()) {
      signOut(SESSION_ENDED);
    }
    return response;
  },
};

export function makeClient(fetchImpl?: typeof fetch) {
  const client = createClient<ApiPaths>({
    // An absolute base: Request() outside a page (tests) cannot resolve a relative URL.
    baseUrl: API_BASE || (typeof window !== "undefined" ? window.location.origin : ""),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  client.use(auth);
  return client;
}

export let api = makeClient();

/** Tests swap the transport. */
export function setFetch(fetchImpl: typeof fetch): void {
  api = makeClient(fetchImpl);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * Awaits an openapi-fetch call and returns its data or throws an `ApiError` (network failures
 * included, as status 0), so callers and TanStack Query never see a half-failed result.
 */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(0, { detail: networkMessage(err) });
  }
  const { data, error, response } = result;
  if (!response.ok || error !== undefined) {
    throw new ApiError(response.status, toProblem(response.status, error, response.statusText));
  }
  return data as T;
}

function networkMessage(err: unknown): string {
  const what = err instanceof Error ? err.message : String(err);
  return `The service cannot be reached (${what}). Check that it is running and try again.`;
}

/** For multipart uploads and downloads: plain fetch with the same auth and error rules. */
export async function rawRequest(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      ...init,
      headers: { ...authHeader(), ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (err) {
    throw new ApiError(0, { detail: networkMessage(err) });
  }
  if (response.status === 401 && getSession()) signOut(SESSION_ENDED);
  if (!response.ok) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    throw new ApiError(response.status, toProblem(response.status, body, response.statusText));
  }
  return response;
}

/** Downloads a file from the API (with the token) and saves it under the server's file name. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await rawRequest(path);
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match?.[1] ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
