/** The opt-out list: its pages, single adds and removals, file imports and the CSV export. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, download, formData, unwrap } from "./client";
import { keys } from "./hooks";
import type { SuppressionIn } from "./types";

export type SuppressionReason = SuppressionIn["reason"];
export type SuppressionPlatform = NonNullable<SuppressionIn["platform"]>;
export type SuppressionFilter = { q: string; reason: SuppressionReason | null; cursor: string | undefined; limit: number };

export function useSuppressions(platform: SuppressionPlatform, { q, reason, cursor, limit }: SuppressionFilter) {
  return useQuery({
    queryKey: keys.suppressionList(platform, q, reason, cursor),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/suppressions", {
          params: {
            query: {
              platform,
              limit,
              ...(q ? { q } : {}),
              ...(reason ? { reason } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
  });
}

export function useAddSuppression() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: SuppressionIn) => unwrap(api.POST("/api/v1/suppressions", { body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.suppressions }),
  });
}

export function useRemoveSuppression() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) =>
      unwrap(api.DELETE("/api/v1/suppressions/{suppression_id}", { params: { path: { suppression_id: id } } })),
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.suppressions }),
  });
}

/** A file of people to leave out; `reason` fills rows that carry none. */
export function useImportSuppressions() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (args: { file: File; platform: SuppressionPlatform; reason: SuppressionReason }) =>
      unwrap(api.POST("/api/v1/suppressions/import", { body: formData<"/api/v1/suppressions/import">(args) })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.suppressions }),
  });
}

export function downloadSuppressions(platform: SuppressionPlatform): Promise<void> {
  return download(
    api.GET("/api/v1/suppressions/export.csv", { params: { query: { platform } }, parseAs: "blob" }),
    `opt-out-${platform}.csv`,
  );
}
