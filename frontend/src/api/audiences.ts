/**
 * Audiences, contacts, a contact's history and the user's contact policy (issue 16, /api/v1/audiences and
 * /api/v1/contacts). The types follow the shared contract; the calls go through the same client (token, problem
 * errors) but by plain path, so this module compiles before and after `make ui` brings the endpoints into
 * schema.d.ts. Once they are there, these types can become `Schemas[...]` aliases.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, download, unwrap } from "./client";

export interface Page<T> {
  items: T[];
  total: number;
  next_cursor?: string | null;
}

export interface Audience {
  id: string;
  platform: string;
  name: string;
  description: string | null;
  contacts: number;
  created_at: string;
  updated_at: string;
}

export interface Consent {
  source: string | null;
  at: string | null;
  note: string | null;
}

export interface Contact {
  id: number;
  platform: string;
  kind: string;
  key: string;
  username: string | null;
  user_id: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  fields: Record<string, unknown>;
  tags: string[];
  consent: Consent | null;
  created_at: string;
  updated_at: string;
}

export interface ContactDetail extends Contact {
  audiences: { id: string; name: string }[];
  suppression: { reason: string; source: string; created_at: string } | null;
}

export interface HistoryItem {
  at: string;
  task_id: string;
  task_name: string;
  action: string;
  outcome: string;
  error_code: string | null;
  account_id: string | null;
}

/** One row to add: an identity (username, user id or phone), names, extra fields, tags and consent. */
export interface ContactIn {
  username?: string;
  user_id?: string;
  phone?: string;
  first_name?: string;
  last_name?: string;
  tags?: string[];
  consent_source?: string | null;
  consent_at?: string | null;
  consent_note?: string | null;
  [field: string]: unknown;
}

export interface AddContactsOut {
  created: number;
  merged: number;
  added: number;
  rejected: { index: number; loc: (string | number)[]; msg: string }[];
}

export interface ContactPolicy {
  message_cooldown_days: number;
  /** null = never re-invite a person to the same chat; 0 = no cap. */
  invite_cooldown_days: number | null;
  require_consent: boolean;
}

export interface AudienceSelection {
  include: string[];
  exclude: string[];
  exclude_tags: string[];
  include_new_contacts: boolean;
}

export interface ContactPolicyOverride {
  message_cooldown_days?: number | null;
  invite_cooldown_days?: number | null;
  require_consent?: boolean | null;
}

export interface AudiencePreview {
  contacts: number;
  excluded_by_audience: number;
  excluded_by_tag: number;
  suppressed: number;
  contacted_recently: number;
  no_consent: number;
  targets: number;
  message_cooldown_days: number;
  invite_cooldown_days: number | null;
  require_consent: boolean;
}

export interface ContactFilter {
  q?: string;
  tag?: string;
  field?: string;
  value?: string;
  cursor?: string;
  limit?: number;
}

type Query = Record<string, string | number | boolean | undefined>;
type Init = { params?: { query?: Query }; body?: unknown; headers?: Record<string, string>; parseAs?: "blob" };
type Answer<T> = Promise<{ data?: T; error?: unknown; response: Response }>;
type Method = <T>(path: string, init?: Init) => Answer<T>;

/** The client by plain path (see the module comment); read on each call, since tests swap the transport. */
function raw(): { GET: Method; POST: Method; PUT: Method; PATCH: Method; DELETE: Method } {
  return api as unknown as { GET: Method; POST: Method; PUT: Method; PATCH: Method; DELETE: Method };
}

const clean = (q: Query): Query => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== ""));
const idem = () => ({ "Idempotency-Key": crypto.randomUUID() });

export const audienceKeys = {
  all: ["audiences"] as const,
  list: (platform: string | null, cursor: string | undefined) => ["audiences", "list", platform, cursor] as const,
  one: (id: string) => ["audiences", "one", id] as const,
  contacts: (id: string, f: ContactFilter) => ["audiences", "contacts", id, f] as const,
  contact: (id: number) => ["contacts", "one", id] as const,
  history: (id: number, cursor: string | undefined) => ["contacts", "history", id, cursor] as const,
  policy: ["contacts", "policy"] as const,
  preview: (body: unknown) => ["audiences", "preview", body] as const,
  taskPreview: (taskId: string) => ["audiences", "task-preview", taskId] as const,
};

export function useAudiences(platform: string | null, cursor?: string, limit = 100) {
  return useQuery({
    queryKey: audienceKeys.list(platform, cursor),
    queryFn: () => unwrap(raw().GET<Page<Audience>>("/api/v1/audiences", { params: { query: clean({ platform: platform ?? undefined, cursor, limit }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useAudience(id: string) {
  return useQuery({
    queryKey: audienceKeys.one(id),
    queryFn: () => unwrap(raw().GET<Audience>(`/api/v1/audiences/${encodeURIComponent(id)}`)),
  });
}

export function useCreateAudience() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: { platform: string; name: string; description?: string | null }) =>
      unwrap(raw().POST<Audience>("/api/v1/audiences", { body, headers: idem() })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useUpdateAudience(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: { name?: string; description?: string | null }) =>
      unwrap(raw().PATCH<Audience>(`/api/v1/audiences/${encodeURIComponent(id)}`, { body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useDeleteAudience() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (id: string) => unwrap(raw().DELETE<unknown>(`/api/v1/audiences/${encodeURIComponent(id)}`)),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useAudienceContacts(id: string, filter: ContactFilter) {
  return useQuery({
    queryKey: audienceKeys.contacts(id, filter),
    queryFn: () =>
      unwrap(raw().GET<Page<Contact>>(`/api/v1/audiences/${encodeURIComponent(id)}/contacts`, { params: { query: clean({ ...filter }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useAddContacts(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: { contacts: ContactIn[]; contact_ids?: number[] }) =>
      unwrap(
        raw().POST<AddContactsOut>(`/api/v1/audiences/${encodeURIComponent(id)}/contacts`, {
          body: { contact_ids: [], ...body },
          headers: idem(),
        }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function useRemoveContacts(id: string) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (contactIds: number[]) =>
      unwrap(raw().POST<{ removed: number }>(`/api/v1/audiences/${encodeURIComponent(id)}/contacts/remove`, { body: { contact_ids: contactIds } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: audienceKeys.all }),
  });
}

export function downloadAudience(audience: Pick<Audience, "id" | "name">): Promise<void> {
  return download(
    raw().GET<Blob>(`/api/v1/audiences/${encodeURIComponent(audience.id)}/export.csv`, { parseAs: "blob" }),
    `audience-${audience.name}.csv`,
  );
}

export function useContact(id: number) {
  return useQuery({
    queryKey: audienceKeys.contact(id),
    queryFn: () => unwrap(raw().GET<ContactDetail>(`/api/v1/contacts/${id}`)),
  });
}

export type ContactPatch = Partial<Pick<Contact, "first_name" | "last_name" | "fields" | "tags">> & {
  consent_source?: string | null;
  consent_at?: string | null;
  consent_note?: string | null;
};

export function useUpdateContact(id: number) {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: ContactPatch) => unwrap(raw().PATCH<ContactDetail>(`/api/v1/contacts/${id}`, { body })),
    onSuccess: (c) => {
      qc.setQueryData(audienceKeys.contact(id), c);
      void qc.invalidateQueries({ queryKey: ["audiences", "contacts"] });
    },
  });
}

export function useContactHistory(id: number, cursor: string | undefined, limit = 50) {
  return useQuery({
    queryKey: audienceKeys.history(id, cursor),
    queryFn: () => unwrap(raw().GET<Page<HistoryItem>>(`/api/v1/contacts/${id}/history`, { params: { query: clean({ cursor, limit }) } })),
    placeholderData: keepPreviousData,
  });
}

export function useContactPolicy() {
  return useQuery({
    queryKey: audienceKeys.policy,
    queryFn: () => unwrap(raw().GET<ContactPolicy>("/api/v1/contacts/policy")),
  });
}

export function useSaveContactPolicy() {
  const qc = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    mutationFn: (body: ContactPolicy) => unwrap(raw().PUT<ContactPolicy>("/api/v1/contacts/policy", { body })),
    onSuccess: (p) => {
      qc.setQueryData(audienceKeys.policy, p);
      void qc.invalidateQueries({ queryKey: ["audiences", "preview"] });
    },
  });
}

export interface PreviewRequest {
  platform: string;
  action: string;
  destination: string | null;
  audiences: AudienceSelection;
  contact_policy?: ContactPolicyOverride | null;
}

/** The live count of the task form's picker; off while nothing is included. */
export function useAudiencePreview(body: PreviewRequest | null) {
  return useQuery({
    queryKey: audienceKeys.preview(body),
    enabled: !!body && body.audiences.include.length > 0,
    queryFn: () => unwrap(raw().POST<AudiencePreview>("/api/v1/audiences/preview", { body })),
    placeholderData: keepPreviousData,
  });
}

/** What start/resume would add to a saved task now. */
export function useTaskAudiencePreview(taskId: string, enabled: boolean) {
  return useQuery({
    queryKey: audienceKeys.taskPreview(taskId),
    enabled,
    queryFn: () => unwrap(raw().GET<AudiencePreview>(`/api/v1/tasks/${encodeURIComponent(taskId)}/audience-preview`)),
  });
}
