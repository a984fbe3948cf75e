import { ActionIcon, Alert, Badge, Button, FileInput, Group, Modal, Paper, SegmentedControl, Select, Skeleton, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconDownload, IconFileImport, IconSearch, IconShieldOff, IconTrash } from "@tabler/icons-react";
import { type FormEvent, useState } from "react";
import { api, download, formData, unwrap } from "../../api/client";
import { describeError, fieldErrors } from "../../api/problem";
import type { SuppressionImportOut, SuppressionIn } from "../../api/types";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime, num } from "../../lib/format";
import { detectKind } from "../../lib/pasteTargets";
import { useDebounced } from "../../lib/useDebounced";

type Reason = SuppressionIn["reason"];
type Platform = SuppressionIn["platform"];
const REASONS: { value: Reason; label: string }[] = [
  { value: "opt_out", label: "Asked to be left out" },
  { value: "blocked_us", label: "Blocked us" },
  { value: "complaint", label: "Complained" },
  { value: "manual", label: "Other" },
];
const PAGE_SIZE = 50;

/** The user's opt-out list: never imported, checked again before every send. */
export function SuppressionsPage() {
  const [platform, setPlatform] = useState<Platform>("telegram");
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={1} size="h2">
            Opt-out list
          </Title>
          <Text c="dimmed" size="sm">
            People on this list are left out of every import and checked again right before each send.
          </Text>
        </div>
        <SegmentedControl
          value={platform}
          onChange={(v) => setPlatform(v as Platform)}
          data={[
            { value: "telegram", label: "Telegram" },
            { value: "sandbox", label: "Sandbox" },
          ]}
          aria-label="Platform"
        />
      </Group>
      <Suppressions platform={platform} />
    </Stack>
  );
}

function Suppressions({ platform }: { platform: Platform }) {
  const qc = useQueryClient();
  const confirm = useConfirm();
  const [search, setSearch] = useState("");
  const [reason, setReason] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const q = useDebounced(search.trim());
  const pages = useCursorStack(JSON.stringify([q, reason, platform]));
  const list = useQuery({
    queryKey: ["suppressions", platform, q, reason, pages.cursor],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/suppressions", {
          params: {
            query: {
              platform,
              limit: PAGE_SIZE,
              ...(q ? { q } : {}),
              ...(reason ? { reason: reason as Reason } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/v1/suppressions/{suppression_id}", { params: { path: { suppression_id: id } } })),
    onSuccess: () => notifications.show({ color: "teal", message: "Removed from the opt-out list" }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ["suppressions"] }),
  });

  return (
    <>
      <AddSuppression platform={platform} />
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" style={{ flex: "1 1 320px" }} wrap="wrap">
          <TextInput
            aria-label="Search the list"
            placeholder="Search"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            style={{ flex: "1 1 200px" }}
          />
          <Select aria-label="Reason" placeholder="Any reason" data={REASONS} value={reason} onChange={setReason} clearable w={200} />
        </Group>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)}>
            Import file
          </Button>
          <Button
            variant="default"
            leftSection={<IconDownload size={16} />}
            onClick={() =>
              void download(
                api.GET("/api/v1/suppressions/export.csv", { params: { query: { platform } }, parseAs: "blob" }),
                `opt-out-${platform}.csv`,
              ).catch((err: unknown) => notifications.show({ color: "red", title: "Export failed", message: describeError(err) }))
            }
          >
            Export CSV
          </Button>
        </Group>
      </Group>
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title="Could not load the list" />
      ) : list.data.items.length === 0 ? (
        <EmptyState icon={<IconShieldOff size={24} />} title={q || reason ? "Nobody matches" : "The list is empty"}>
          {q || reason ? undefined : "Add anyone who asked not to be contacted; the service also adds people who block your accounts."}
        </EmptyState>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" data-testid="suppressions-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Who</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Source</Table.Th>
                <Table.Th>Added</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.items.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm" className="mono">
                        {s.key}
                      </Text>
                      <Badge size="xs" variant="outline" color="gray">
                        {s.kind}
                      </Badge>
                    </Group>
                    {s.note && (
                      <Text size="xs" c="dimmed">
                        {s.note}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{REASONS.find((r) => r.value === s.reason)?.label ?? s.reason}</Table.Td>
                  <Table.Td>{s.source}</Table.Td>
                  <Table.Td>{dateTime(s.created_at)}</Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Remove ${s.key}`}
                      onClick={async () => {
                        if (await confirm({ title: `Remove ${s.key}?`, message: "Your tasks may contact them again.", confirmLabel: "Remove", color: "red" }))
                          remove.mutate(s.id);
                      }}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun="entries" />
      <ImportSuppressions platform={platform} opened={importing} onClose={() => setImporting(false)} />
    </>
  );
}

function AddSuppression({ platform }: { platform: Platform }) {
  const qc = useQueryClient();
  const [who, setWho] = useState("");
  const [reason, setReason] = useState<Reason>("opt_out");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const add = useMutation({
    meta: { handlesError: true },
    mutationFn: (body: SuppressionIn) => unwrap(api.POST("/api/v1/suppressions", { body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["suppressions"] }),
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = who.trim();
    if (!value) {
      setErrors({ who: "Enter a username, user id or phone" });
      return;
    }
    setErrors({});
    const kind = detectKind(value);
    try {
      await add.mutateAsync({ [kind]: value, reason, platform });
      notifications.show({ color: "teal", message: `${value} is on the opt-out list` });
      setWho("");
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => ["username", "user_id", "phone", "reason", "platform"].includes(p));
      const whoError = fields.username ?? fields.user_id ?? fields.phone ?? (unplaced.join("; ") || undefined);
      setErrors({ who: whoError ?? (fields.reason ? "" : describeError(err)), reason: fields.reason ?? "" });
    }
  }

  return (
    <Paper withBorder radius="md" p="sm">
      <form onSubmit={submit} noValidate>
        <Group align="flex-start" wrap="wrap" gap="sm">
          <TextInput label="Add someone" placeholder="@username, user id or +phone" value={who} onChange={(e) => setWho(e.currentTarget.value)} error={errors.who || null} style={{ flex: "1 1 240px" }} />
          <Select label="Reason" data={REASONS} value={reason} onChange={(v) => v && setReason(v as Reason)} allowDeselect={false} error={errors.reason || null} w={220} />
          <Button type="submit" mt={25} loading={add.isPending}>
            Add to list
          </Button>
        </Group>
      </form>
    </Paper>
  );
}

function ImportSuppressions({ platform, opened, onClose }: { platform: Platform; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [reason, setReason] = useState<Reason>("opt_out");
  const [result, setResult] = useState<SuppressionImportOut | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setFile(null);
    setResult(null);
    setError(null);
    onClose();
  };
  async function submit() {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const body = formData<"/api/v1/suppressions/import">({ file, platform, reason });
      setResult(await unwrap(api.POST("/api/v1/suppressions/import", { body })));
      void qc.invalidateQueries({ queryKey: ["suppressions"] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened={opened} onClose={close} title="Import an opt-out list" size="lg">
      <Stack>
        {result ? (
          <>
            <Text size="sm">
              {num(result.rows)} rows read: <b>{num(result.created)}</b> added, {num(result.existing)} already on the list, {num(result.invalid)} invalid.
            </Text>
            {result.errors.length > 0 && (
              <Table fz="sm" striped>
                <Table.Tbody>
                  {result.errors.map((e, i) => (
                    <Table.Tr key={i}>
                      <Table.Td w={70}>row {String(e.row ?? "?")}</Table.Td>
                      <Table.Td>
                        <Text size="sm" c="red">
                          {String(e.detail ?? e.reason ?? "")}
                        </Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            <Group justify="flex-end">
              <Button onClick={close}>Done</Button>
            </Group>
          </>
        ) : (
          <>
            <FileInput label="CSV, Excel or JSON file" placeholder="Choose a file" accept=".csv,.tsv,.txt,.xlsx,.json,.ndjson" value={file} onChange={setFile} clearable />
            <Select label="Reason for rows without a reason column" data={REASONS} value={reason} onChange={(v) => v && setReason(v as Reason)} allowDeselect={false} />
            {error !== null && (
              <Alert color="red" title="The file could not be imported" role="alert">
                {describeError(error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button onClick={() => void submit()} loading={busy} disabled={!file}>
                Import
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
