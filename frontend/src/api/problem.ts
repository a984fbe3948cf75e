/**
 * RFC 9457 problem+json as the service sends it (errors.py): `errors: [{loc, msg, type}]` name the field.
 * Every failed call becomes an `ApiError`, so nothing fails silently: callers show `message` or, for
 * a form, `fieldErrors()` next to the fields and `unplaced` above the form.
 */
import type { components } from "./schema";

/** The body of every error answer, as the service's OpenAPI document declares it. */
export type ServiceProblem = components["schemas"]["Problem"];

/** One invalid field; `loc` is pydantic's location, e.g. ["body", "settings", "caps"]. */
export type FieldIssue = components["schemas"]["ProblemFieldError"];

/**
 * What an `ApiError` carries: the service's problem, or as much of one as a failure without it gives
 * (no connection, a gateway's error page, plain text), so any member may be missing.
 */
export type Problem = Partial<ServiceProblem>;

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problemMessage(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  get issues(): FieldIssue[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }

  get requestId(): string | undefined {
    return this.problem.request_id;
  }
}

/** Turns whatever came back (problem+json, FastAPI's {detail}, plain text, nothing) into a Problem. */
export function toProblem(status: number, body: unknown, statusText = ""): Problem {
  if (body && typeof body === "object") {
    const raw = body as Record<string, unknown>;
    if (Array.isArray(raw.detail)) {
      // FastAPI's default validation shape, in case a route answers without our handler.
      return { status, title: "Invalid input", errors: raw.detail as FieldIssue[] };
    }
    return { status, ...(raw as Problem) };
  }
  const text = typeof body === "string" ? body.trim() : "";
  return { status, title: statusText || `HTTP ${status}`, detail: text.slice(0, 300) || undefined };
}

function problemMessage(status: number, p: Problem): string {
  if (status === 0) return p.detail ?? "The service cannot be reached. Check your connection and try again.";
  const head = p.detail && p.detail !== p.title ? p.detail : (p.title ?? `Request failed (HTTP ${status})`);
  return head;
}

/** pydantic prefixes messages with "Value error, "; the user needs only the reason. */
export function cleanMessage(msg: string): string {
  return msg.replace(/^(Value error|Assertion failed), /i, "");
}

const SOURCES = new Set(["body", "query", "path", "header"]);

/** A location as a dotted form path: ["body","settings","send_window","timezone"] → "settings.send_window.timezone". */
export function locPath(loc: (string | number)[]): string {
  const parts = loc.length > 0 && SOURCES.has(String(loc[0])) ? loc.slice(1) : loc;
  return parts.map(String).join(".");
}

/**
 * Splits an error's field issues into those a form can show next to a field (`known(path)` says which
 * paths it has; a nested path falls back to its nearest known parent) and the rest, shown above it.
 */
export function fieldErrors(
  error: unknown,
  known: (path: string) => boolean,
  translate: (path: string) => string = (p) => p,
): { fields: Record<string, string>; unplaced: string[] } {
  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  if (!(error instanceof ApiError)) return { fields, unplaced };
  for (const issue of error.issues) {
    const path = translate(locPath(issue.loc ?? []));
    const msg = cleanMessage(issue.msg ?? "is invalid");
    let target: string | null = null;
    const parts = path.split(".");
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join(".");
      if (candidate && known(candidate)) {
        target = candidate;
        break;
      }
    }
    if (target === null) {
      unplaced.push(path ? `${path}: ${msg}` : msg);
    } else {
      const suffix = target === path ? "" : `${path.slice(target.length + 1)}: `;
      fields[target] = fields[target] ? `${fields[target]}; ${suffix}${msg}` : `${suffix}${msg}`;
    }
  }
  return { fields, unplaced };
}

/** A one-line description of any error, for notifications and alerts. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = error.issues.map((i) => {
      const path = locPath(i.loc ?? []);
      return path ? `${path}: ${cleanMessage(i.msg)}` : cleanMessage(i.msg);
    });
    return issues.length ? `${error.message} ${issues.join("; ")}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
