/**
 * Endpoints the UI is ready for that the service does not publish yet (DESIGN §7; issue 6: statistics),
 * and short names for generated schemas the pages use.
 *
 * Written by hand in openapi-typescript's shape from the issues' descriptions. `ApiPaths` (client.ts)
 * lets the GENERATED definition win as soon as a path appears in openapi.json, so when an endpoint
 * lands, `npm run api` regenerates the schema and `tsc` checks these pages against the real shapes:
 * whatever differs breaks the build in the small adapter it concerns, never silently at run time.
 * At run time each page asks `useCapabilities()` whether the server has the endpoint before calling it.
 * Delete an entry here once its path is in openapi.json.
 */
import type { components } from "./schema";

type Json<T> = { headers: { [name: string]: unknown }; content: { "application/json": T } };
type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type TaskPath = { query?: never; header?: never; path: { task_id: string }; cookie?: never };
type Op<Params, Res, Body = never> = {
  parameters: Params;
  responses: { 200: Json<Res> };
} & ([Body] extends [never] ? { requestBody?: never } : { requestBody: { content: { "application/json": Body } } });
type Path<Ops> = { parameters: NoParams } & Ops;

export type AccountOut = components["schemas"]["AccountOut"];
export type AccountUsage = components["schemas"]["WindowOut"];
export type LaneOut = components["schemas"]["LaneOut"];
export type ImportValidateOut = components["schemas"]["ValidateOut"];
export type ImportJobOut = components["schemas"]["ImportJobOut"];
export type ImportAccepted = components["schemas"]["ImportAccepted"];
export type RowError = components["schemas"]["RowError"];
export type SuppressionOut = components["schemas"]["SuppressionOut"];
export type SuppressionIn = components["schemas"]["SuppressionIn"];
export type SuppressionImportOut = components["schemas"]["SuppressionImportOut"];

export interface TaskStatusOut {
  status: components["schemas"]["TaskStatus"];
  progress: number;
  counters: components["schemas"]["Counters"];
  pause_reason: string | null;
  eta: string | null;
}

export interface HourlyPoint {
  hour: string;
  [outcome: string]: number | string;
}

export interface TaskStatsOut {
  by_outcome: Record<string, number>;
  by_error_code: Record<string, number>;
  per_account: { account_id: string; sent: number; failed: number }[];
  hourly: HourlyPoint[];
}

export interface LogOut {
  id: number;
  at: string;
  target_id: number | null;
  account_id: string | null;
  action: string;
  outcome: string;
  error_code: string | null;
  duration_ms: number | null;
}







interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total: number;
}


export interface PendingPaths {
  "/api/v1/tasks/{task_id}/status": Path<{ get: Op<TaskPath, TaskStatusOut> }>;
  "/api/v1/tasks/{task_id}/stats": Path<{ get: Op<TaskPath, TaskStatsOut> }>;
  "/api/v1/tasks/{task_id}/logs": Path<{
    get: Op<
      { query?: { limit?: number; cursor?: string; outcome?: string }; header?: never; path: { task_id: string }; cookie?: never },
      Page<LogOut>
    >;
  }>;
}

/** Multipart and download endpoints, called with `rawRequest` (client.ts) rather than typed JSON. */
export const PENDING_RAW = {
  importValidate: "/api/v1/import/validate",
  importFile: "/api/v1/import/file",
  importParsing: "/api/v1/import/parsing",
  importRejected: (jobId: string) => `/api/v1/import/jobs/${encodeURIComponent(jobId)}/rejected.csv`,
  report: (taskId: string, format: "csv" | "xlsx") =>
    `/api/v1/tasks/${encodeURIComponent(taskId)}/report?format=${format}`,
  events: (taskId: string) => `/api/v1/tasks/${encodeURIComponent(taskId)}/events`,
  suppressionsExport: "/api/v1/suppressions/export.csv",
  suppressionsImport: "/api/v1/suppressions/import",
} as const;
