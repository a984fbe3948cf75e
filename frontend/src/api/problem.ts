/**
 * RFC 9457 problem+json as the service sends it (errors.py): `errors: [{loc, msg, type}]` name the field.
 * Every failed call becomes an `ApiError`, so nothing fails silently: callers show `message` or, for
 * a form, `fieldErrors()` next to the fields and `unplaced` above the form.
 */
import i18n, { currentLang } from "../i18n";
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
  if (status === 0) return p.detail ?? i18n.t("problem:offline", { lng: "en" });
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

// Wrappers the service nests fields in: they name no field the user knows.
const WRAPPERS = new Set(["task", "settings", "body", "data", "__root__"]);

/**
 * A field's location in words: ["body","task","targets"] → "Targets" ("Получатели"), ["body","settings",
 * "send_window","timezone"] → "Send window › Time zone", ["body","account_ids",2] → "Accounts (#3)".
 * Names the catalogue (namespace `problem`, keys `field.<name>`) lacks read as their words ("mystery_box" → "mystery box").
 */
export function fieldLabel(loc: readonly (string | number)[]): string {
  const parts = loc.length > 0 && SOURCES.has(String(loc[0])) ? loc.slice(1) : loc;
  const names: string[] = [];
  let index: number | null = null;
  for (const part of parts) {
    if (typeof part === "number" || /^\d+$/.test(String(part))) index = Number(part);
    else if (!WRAPPERS.has(String(part))) names.push(String(part));
  }
  const word = (name: string) =>
    i18n.exists(`problem:field.${name}`) ? i18n.t(`problem:field.${name}`) : name.replace(/[_.]+/g, " ").trim();
  const shown = names.slice(-2).filter((n, i, all) => i === all.length - 1 || i18n.exists(`problem:field.${n}`));
  const label = shown.map(word).join(" › ");
  if (index === null) return label;
  const item = i18n.t("problem:item", { n: index + 1 });
  return label ? `${label} (${item})` : item;
}

/** A field issue's message in the UI's language when the catalogue knows its kind (pydantic's `type`), else as sent. */
export function issueMessage(issue: Pick<FieldIssue, "msg" | "type">): string {
  const key = `problem:issue.${issue.type}`;
  if (currentLang() !== "en" && issue.type && i18n.exists(key)) return i18n.t(key);
  return cleanMessage(issue.msg ?? "is invalid");
}

/**
 * Splits an error's field issues into those a form can show next to a field (`known(path)` says which
 * paths it has; a nested path falls back to its nearest known parent) and the rest, shown above it
 * with the field named in words.
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
    const msg = issueMessage(issue);
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
      const label = fieldLabel(issue.loc ?? []);
      unplaced.push(label ? `${label}: ${msg}` : msg);
    } else {
      const suffix = target === path ? "" : `${fieldLabel(path.slice(target.length + 1).split("."))}: `;
      fields[target] = fields[target] ? `${fields[target]}; ${suffix}${msg}` : `${suffix}${msg}`;
    }
  }
  return { fields, unplaced };
}

/**
 * What went wrong, in the UI's language: the service's `detail` stays English, so in another language
 * the problem's `code` picks a sentence from the catalogue (namespace `problem`, keys `code.<code>`);
 * a code it lacks shows the English detail. No connection reads as such in every language.
 */
export function problemText(error: ApiError): string {
  if (error.status === 0) return i18n.t("problem:offline");
  const code = error.problem.code;
  if (currentLang() !== "en" && code && i18n.exists(`problem:code.${code}`)) return i18n.t(`problem:code.${code}`);
  if (!error.problem.detail && !error.problem.title) return i18n.t("problem:http", { status: error.status });
  return error.message;
}

/** A one-line description of any error, for notifications and alerts; fields named in words. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const issues = error.issues.map((i) => {
      const label = fieldLabel(i.loc ?? []);
      return label ? `${label}: ${issueMessage(i)}` : issueMessage(i);
    });
    const head = problemText(error);
    return issues.length ? `${head} ${issues.join("; ")}` : head;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
