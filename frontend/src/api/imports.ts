/**
 * Imports into a task or into a reusable audience (issue 16: the same jobs, mapping and rejected rows, pointed
 * at `audience_id` instead of `task_id`): the validate preview, the import job (file or parsing job) and its
 * rejected rows.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, download, formData, unwrap } from "./client";
import { audienceKeys } from "./audiences";
import { keys } from "./hooks";
import type { ImportJobOut } from "./types";

/** Where the rows go: a task id (a string, as before) or an audience. */
export type ImportInto = string | { audienceId: string };

/** The form field naming the destination: exactly one of task_id / audience_id. */
function intoField(into: ImportInto): { task_id: string } | { audience_id: string } {
  return typeof into === "string" ? { task_id: into } : { audience_id: into.audienceId };
}

/** Column → field, as the preview shows and the user edits it (null: not imported). */
export type ColumnMapping = Record<string, string | null>;

export type ImportOptions = {
  file: File;
  sheet: string | null;
  dedupe: boolean;
  skipSuppressed: boolean;
};

/** Reads a file without importing it: what was detected, the mapping, the counts and the first errors. */
export function useValidateImport(into: ImportInto) {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: ({ file, sheet, dedupe, skipSuppressed, mapping }: ImportOptions & { mapping: ColumnMapping | null }) =>
      unwrap(
        api.POST("/api/v1/import/validate", {
          body: formData<"/api/v1/import/validate">({
            file,
            ...intoField(into),
            mapping: mapping ? JSON.stringify(mapping) : null,
            sheet,
            dedupe,
            skip_suppressed: skipSuppressed,
          }),
        }),
      ),
  });
}

/** Starts the import job of a checked file. */
export function useImportFile(into: ImportInto) {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: ({ file, sheet, dedupe, skipSuppressed, mapping }: ImportOptions & { mapping: ColumnMapping }) =>
      unwrap(
        api.POST("/api/v1/import/file", {
          body: formData<"/api/v1/import/file">({
            file,
            ...intoField(into),
            mapping: JSON.stringify(mapping),
            dedupe,
            skip_suppressed: skipSuppressed,
            sheet,
          }),
        }),
      ),
  });
}

/** Starts the import job of a finished parsing job's audience. */
export function useImportFromParsing(into: ImportInto) {
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (parsingTaskId: string) =>
      unwrap(
        api.POST("/api/v1/import/parsing", {
          body: { ...intoField(into), parsing_task_id: parsingTaskId, dedupe: true, skip_suppressed: true },
        }),
      ),
  });
}

/** An import job, polled every second while it runs; once completed, the task and its audience refresh. */
export function useImportJob(into: ImportInto, jobId: string | null) {
  const qc = useQueryClient();
  const job = useQuery({
    queryKey: keys.importJob(jobId),
    enabled: !!jobId,
    queryFn: (): Promise<ImportJobOut> => unwrap(api.GET("/api/v1/import/jobs/{job_id}", { params: { path: { job_id: jobId! } } })),
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "running" ? false : 1000),
  });
  const status = job.data?.status;
  useEffect(() => {
    if (status !== "completed") return;
    if (typeof into === "string") {
      void qc.invalidateQueries({ queryKey: keys.targets(into) });
      void qc.invalidateQueries({ queryKey: keys.task(into) });
    } else {
      void qc.invalidateQueries({ queryKey: audienceKeys.all });
    }
  }, [status, qc, into]);
  return job;
}

export function downloadRejectedRows(jobId: string): Promise<void> {
  return download(
    api.GET("/api/v1/import/jobs/{job_id}/rejected.csv", { params: { path: { job_id: jobId } }, parseAs: "blob" }),
    `rejected-${jobId}.csv`,
  );
}
