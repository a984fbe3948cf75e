/**
 * The API client: openapi-fetch typed by the generated `paths` (schema.d.ts), for every call the UI
 * makes (JSON, multipart uploads, file downloads, the event stream), so `tsc` checks each against the
 * service's document. Adds the bearer token, turns every failure into an `ApiError`, and ends the
 * session on any 401.
 */
import createClient, { type Middleware } from "openapi-fetch";
import { getSession, signOut } from "../auth/session";
import { ApiError, toProblem } from "./problem";
import type { components, paths } from "./schema";

export type ApiPaths = paths;
export type Schemas = components["schemas"];

/** "" = the same origin that served the UI; VITE_API_BASE for a UI served elsewhere. */
export const API_BASE: string = (import.meta.env.VITE_API_BASE as string | undefined) ?? "";

const SESSION_ENDED = "Your session has ended or the token was refused. Sign in again.";

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

/** Like `unwrap`, keeping the response (a download needs its headers). */
async function settle<T>(call: Promise<Result<T>>): Promise<{ data: T; response: Response }> {
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
  return { data: data as T, response };
}

/**
 * Awaits an openapi-fetch call and returns its data or throws an `ApiError` (network failures
 * included, as status 0), so callers and TanStack Query never see a half-failed result.
 */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  return (await settle(call)).data;
}

function networkMessage(err: unknown): string {
  const what = err instanceof Error ? err.message : String(err);
  return `The service cannot be reached (${what}). Check that it is running and try again.`;
}

/** The multipart body a path's POST takes, as the generated schema declares it. */
export type FormBody<P extends keyof paths> = paths[P] extends {
  post: { requestBody: { content: { "multipart/form-data": infer B } } };
}
  ? B
  : never;

/**
 * A multipart body for `api.POST(path, { body })`. The schema names the fields (tsc checks them) but
 * types the file as a string (OpenAPI's `format: binary`), so a field may also be a Blob. openapi-fetch
 * sends a FormData as it is, and the browser sets the boundary.
 */
export function formData<P extends keyof paths>(fields: { [K in keyof FormBody<P>]: FormBody<P>[K] | Blob }): FormBody<P> {
  const fd = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    fd.append(name, value instanceof Blob ? value : String(value));
  }
  return fd as unknown as FormBody<P>;
}

/**
 * Saves a file answer (a call made with `parseAs: "blob"`) under the server's file name; a failure
 * throws an `ApiError` like any other call.
 */
export async function download(call: Promise<Result<Blob>>, fallbackName: string): Promise<void> {
  const { data: blob, response } = await settle(call);
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
