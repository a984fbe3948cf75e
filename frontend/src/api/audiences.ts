/**
 * Audiences, contacts, a contact's history and the user's contact policy (issue 16, /api/v1/audiences and
 * /api/v1/contacts): typed by the generated schema like every other call.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type ApiPaths, download, type Schemas, unwrap } from "./client";

export type Audience = Schemas["AudienceOut"];
export type Contact = Schemas["ContactOut"];
export type ContactDetail = Schemas["ContactDetail"];
export type HistoryItem = Schemas["HistoryItem"];
export type AddContactsOut = Schemas["AddContactsOut"];
export type ContactPolicy = Schemas["ContactPolicyOut"];
export type AudiencePreview = Schemas["AudiencePreview"];
export type ContactPolicyOverride = Schemas["ContactPolicyOverride"];
/** The picker's value: every list present (the schema's defaults made explicit). */
export type AudienceSelection = Required<Schemas["AudienceSelection"]>;
/** One row to add: an identity (username, user id or phone), names, extra fields, tags and consent. */
export type ContactIn = Schemas["AddContactsIn"]["contacts"] extends (infer R)[] | undefined ? R : never;
export type ContactPatch = Schemas["ContactUpdate"];
export type ContactFilter = Omit<NonNullable<ApiPaths["/api/v1/audiences/{audience_id}/contacts"]["get"]["parameters"]["query"]>, never>;
export type PreviewRequest = Schemas["AudiencePreviewIn"];
export type Platform = Schemas["Platform"];
export type TaskAction = Schemas["TaskAction"];

type Query = Record<string, string | number | boolean | undefined | null>;
/** The query without empty values (an empty `q` is no filter). */
const clean = <Q extends Query>(q: Q): Q => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== null && v !== "")) as Q;
const idem = () => ({ "Idempotency-Key": crypto.randomUUID() });
const audience = (id: string) => ({ path: { audience_id: id } });
const contact = (id: number) => ({ path: { contact_id: id } });

export const audienceKeys = {
  all: ["audiences"] as const,
  list: (platform: Platform | null, cursor: string | undefined) => ["audiences", "list", platform, cursor] as const,
  one: (id: string) => ["audiences", "one", id] as const,
  contacts: (id: string, f: ContactFilter) => ["audiences", "contacts", id, f] as const,
  contact: (id: number) => ["contacts", "one", id] as const,
  history: (id: number, cursor: string | undefined) => ["contacts", "history", id, cursor] as const,
  policy: ["contacts", "policy"] as const,
  preview: (body: unknown) => ["audiences", "preview", body] as const,
  taskPreview: (taskId: string) => ["audiences", "task-preview", taskId] as const,
};

export function useAudiences(platform: Platform | null, cursor?: string, limit = 100) {
  return useQuery({
    queryKey: audienceKeys.list(platform, cursor),
    queryFn: () => unwrap(api.GET("/api/v1/audiences", { params: { query: clean({ platform: platform ?? undefined, cursor, limit }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useAudience(id: string) {
  return useQuery({
    queryKey: audienceKeys.one(id),
    queryFn: () => unwrap(api.GET("/api/v1/audiences/{audience_id}", { params: audience(id) })),
  });
}

export function useCreateAudience() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: Schemas["AudienceIn"]) => unwrap(api.POST("/api/v1/audiences", { body, headers: idem() })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useUpdateAudience(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: Schemas["AudienceUpdate"]) => unwrap(api.PATCH("/api/v1/audiences/{audience_id}", { params: audience(id), body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useDeleteAudience() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/audiences/{audience_id}", { params: audience(id) })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useAudienceContacts(id: string, filter: ContactFilter) {
  return useQuery({
    queryKey: audienceKeys.contacts(id, filter),
    queryFn: () =>
      unwrap(api.GET("/api/v1/audiences/{audience_id}/contacts", { params: { ...audience(id), query: clean({ ...filter }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useAddContacts(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: { contacts: ContactIn[]; contact_ids?: number[] }) =>
      unwrap(
        api.POST("/api/v1/audiences/{audience_id}/contacts", { params: audience(id), body: { contact_ids: [], ...body }, headers: idem() }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useRemoveContacts(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (contactIds: number[]) =>
      unwrap(api.POST("/api/v1/audiences/{audience_id}/contacts/remove", { params: audience(id), body: { contact_ids: contactIds } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function downloadAudience(a: Pick<Audience, "id" | "name">): Promise<void> {
  return download(
    api.GET("/api/v1/audiences/{audience_id}/export.csv", { params: audience(a.id), parseAs: "blob" }),
    `audience-${a.name}.csv`,
  );
}

export function useContact(id: number) {
  return useQuery({
    queryKey: audienceKeys.contact(id),
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}", { params: contact(id) })),
  });
}

export function useUpdateContact(id: number) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: ContactPatch) => unwrap(api.PATCH("/api/v1/contacts/{contact_id}", { params: contact(id), body })),
    onSuccess: (c) => {
      qc.setQueryData(audienceKeys.contact(id), c);
      void qc.invalidateQueries({ queryKey: ["audiences", "contacts"] });
    },
  });
}

export function useContactHistory(id: number, cursor: string | undefined, limit = 50) {
  return useQuery({
    queryKey: audienceKeys.history(id, cursor),
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}/history", { params: { ...contact(id), query: clean({ cursor, limit }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useContactPolicy() {
  return useQuery({
    queryKey: audienceKeys.policy,
    queryFn: () => unwrap(api.GET("/api/v1/contacts/policy", {})),
  });
}

export function useSaveContactPolicy() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: ContactPolicy) => unwrap(api.PUT("/api/v1/contacts/policy", { body })),
    onSuccess: (p) => {
      qc.setQueryData(audienceKeys.policy, p);
      void qc.invalidateQueries({ queryKey: ["audiences", "preview"] });
    },
  });
}

/** The live count of the task form's picker; off while nothing is included. */
export function useAudiencePreview(body: PreviewRequest | null) {
  return useQuery({
    queryKey: audienceKeys.preview(body),
    enabled: !!body && body.audiences.include.length > 0,
    queryFn: () => unwrap(api.POST("/api/v1/audiences/preview", { body: body! })),
    placeholderData: keepPreviousData,
  });
}

/** What start/resume would add to a saved task now. */
export function useTaskAudiencePreview(taskId: string, enabled: boolean) {
  return useQuery({
    queryKey: audienceKeys.taskPreview(taskId),
    enabled,
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}/audience-preview", { params: { path: { task_id: taskId } } })),
  });
}
