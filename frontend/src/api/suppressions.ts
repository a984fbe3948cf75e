/** The opt-out list: its pages, single adds and removals, file imports and the CSV export. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, download, formData, type Schemas, unwrap } from "./client";
import { keys } from "./hooks";
import type { SuppressionIn } from "./types";

export type SuppressionReason = SuppressionIn["reason"];
/** A platform, or null: every platform (contract §6; the list shows all, an entry applies to all). */
export type SuppressionPlatform = NonNullable<SuppressionIn["platform"]> | null;
/** The create body as contract §6 has it: `platform` null = every platform; the UI says it added the entry. */
export type SuppressionCreate = Omit<SuppressionIn, "platform"> & { platform: SuppressionPlatform; source?: "ui" | "api" };
/** An entry as contract §6 returns it (`platform` null = every platform). */
export type Suppression = Omit<Schemas["SuppressionOut"], "platform"> & { platform: string | null };
export type SuppressionFilter = { q: string; reason: SuppressionReason | null; cursor: string | undefined; limit: number };

export function useSuppressions(platform: SuppressionPlatform, { q, reason, cursor, limit }: SuppressionFilter) {
  return useQuery({
    queryKey: keys.suppressionList(platform ?? "*", q, reason, cursor),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/suppressions", {
          params: {
            query: {
              ...(platform ? { platform } : {}),
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
    mutationFn: (body: SuppressionCreate) =>
      unwrap(api.POST("/api/v1/suppressions", { body: { ...body, source: body.source ?? "ui" } as unknown as SuppressionIn })),
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
      unwrap(
        api.POST("/api/v1/suppressions/import", {
          // No platform field: the entries apply to every platform.
          body: formData<"/api/v1/suppressions/import">(args as Parameters<typeof formData<"/api/v1/suppressions/import">>[0]),
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.suppressions }),
  });
}

export function downloadSuppressions(platform: SuppressionPlatform): Promise<void> {
  return download(
    api.GET("/api/v1/suppressions/export.csv", { params: { query: platform ? { platform } : {} }, parseAs: "blob" }),
    `opt-out-${platform ?? "all"}.csv`,
  );
}
