import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  MultiSelect,
  Paper,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconFileImport, IconPlus, IconRotate, IconSearch, IconPlayerSkipForward, IconTrash, IconUsers, IconX } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import {
  keys,
  type Target,
  type TargetBulkAction,
  type TargetListQuery,
  type Task,
  useTargetBulkAction,
  useTargets,
  useTargetStats,
} from "../../api/hooks";
import { TargetStatusBadge } from "../../components/Badges";
import { t as tr } from "../../lib/i18n";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { num, plural, relative } from "../../lib/format";
import { TARGET_STATUS_META, TARGET_STATUSES, type TargetStatus } from "../../lib/status";
import { useDebounced } from "../../lib/useDebounced";
import { useSelection } from "../../lib/useSelection";
import { AddTargetsModal } from "./AddTargetsModal";
import { ImportWizard } from "./ImportWizard";

const PAGE_SIZE = 50;
const KINDS = [
  { value: "username", label: "Username" },
  { value: "user_id", label: "User id" },
  { value: "phone", label: "Phone" },
];

export function TargetsPanel({ task }: { task: Task }) {
  const isPhone = useMediaQuery("(max-width: 48em)");
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 300);
  const [statuses, setStatuses] = useState<TargetStatus[]>([]);
  const [kind, setKind] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [importing, setImporting] = useState(false);
  const pages = useCursorStack(JSON.stringify([q, statuses, kind]));
  const query: TargetListQuery = {
    limit: PAGE_SIZE,
    ...(q ? { q } : {}),
    ...(statuses.length ? { status: statuses } : {}),
    ...(kind ? { kind: kind as TargetListQuery["kind"] } : {}),
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  };
  const targets = useTargets(task.id, query, false);
  const stats = useTargetStats(task.id, false);
  // The task's counters are polled (or pushed by the events stream); the audience follows them.
  const qc = useQueryClient();
  const countersKey = JSON.stringify(task.counters) + task.status;
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    void qc.invalidateQueries({ queryKey: keys.targets(task.id) });
  }, [countersKey, qc, task.id]);
  const items = targets.data?.items ?? [];
  const filtered = !!(q || statuses.length || kind);

  const { selected, clear: clearSelection, toggle, allOnPage, toggleAll } = useSelection(items);
  const clear = () => {
    setSearch("");
    setStatuses([]);
    setKind(null);
  };

  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap={6} wrap="wrap" data-testid="target-stats">
          {stats.data &&
            TARGET_STATUSES.filter((s) => (stats.data.by_status[s] ?? 0) > 0).map((s) => (
              <Badge
                key={s}
                color={TARGET_STATUS_META[s].color}
                variant={statuses.includes(s) ? "filled" : "light"}
                style={{ cursor: "pointer" }}
                onClick={() => setStatuses((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : [...cur, s]))}
              >
                {TARGET_STATUS_META[s].label} {num(stats.data.by_status[s])}
              </Badge>
            ))}
        </Group>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)}>
            Import file
          </Button>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
            Add targets
          </Button>
        </Group>
      </Group>

      <Group gap="sm" wrap="wrap">
        <TextInput
          aria-label="Search targets"
          placeholder="Search usernames and names"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          style={{ flex: "1 1 220px" }}
        />
        <MultiSelect
          aria-label="Target status"
          placeholder={statuses.length ? undefined : "Any status"}
          data={TARGET_STATUSES.map((s) => ({ value: s, label: TARGET_STATUS_META[s].label }))}
          value={statuses}
          onChange={(v) => setStatuses(v as TargetStatus[])}
          clearable
          style={{ flex: "1 1 200px" }}
        />
        <Select aria-label="Kind" placeholder="Any kind" data={KINDS} value={kind} onChange={setKind} clearable style={{ flex: "0 1 150px" }} />
        {filtered && (
          <Button variant="subtle" color="gray" onClick={clear}>
            Clear
          </Button>
        )}
        {targets.isFetching && !targets.isPending && <Loader size="xs" type="dots" />}
      </Group>

      {selected.size > 0 && (
        <TargetBulkBar
          taskId={task.id}
          selected={selected}
          total={targets.data?.total ?? 0}
          filter={!q && filtered ? { status: statuses, kind: (kind as Target["kind"]) ?? null } : null}
          onDone={clearSelection}
        />
      )}

      {targets.isPending ? (
        <Stack gap={6} aria-busy="true">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} height={36} />
          ))}
        </Stack>
      ) : targets.isError ? (
        <ErrorState error={targets.error} onRetry={() => void targets.refetch()} title="Could not load the audience" />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState icon={<IconSearch size={24} />} title="No targets match" action={<Button variant="light" onClick={clear}>Clear filters</Button>} />
        ) : (
          <EmptyState
            icon={<IconUsers size={24} />}
            title="No audience yet"
            action={
              <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
                Add targets
              </Button>
            }
          >
            Paste usernames, user ids or phone numbers, or import a CSV, Excel or JSON file. Only people who agreed to hear from you.
          </EmptyState>
        )
      ) : isPhone ? (
        <Stack gap="xs" data-testid="targets-cards">
          {items.map((t) => (
            <Card key={t.id} withBorder padding="xs" radius="md" className={selected.has(t.id) ? "row-selected" : undefined}>
              <Group justify="space-between" wrap="nowrap">
                <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
                  <Checkbox aria-label={`Select ${t.key}`} checked={selected.has(t.id)} onChange={() => toggle(t.id)} />
                  <div style={{ minWidth: 0 }}>
                    <Text size="sm" fw={600} truncate className="mono">
                      {t.key}
                    </Text>
                    <Text size="xs" c="dimmed" truncate>
                      {[t.first_name, t.last_name].filter(Boolean).join(" ") || t.kind}
                    </Text>
                  </div>
                </Group>
                <Group gap={4} wrap="nowrap">
                  <TargetStatusBadge status={t.status} />
                  {t.replied_at && <RepliedBadge at={t.replied_at} />}
                </Group>
              </Group>
              {t.error_code && (
                <Text size="xs" c="red" mt={4}>
                  {t.error_code}
                  {t.error_detail ? `: ${t.error_detail}` : ""}
                </Text>
              )}
            </Card>
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" highlightOnHover data-testid="targets-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox aria-label="Select all on this page" checked={allOnPage} onChange={toggleAll} />
                </Table.Th>
                <Table.Th>Target</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Attempts</Table.Th>
                <Table.Th>Account</Table.Th>
                <Table.Th>Last error</Table.Th>
                <Table.Th>Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((t) => (
                <Table.Tr key={t.id} className={selected.has(t.id) ? "row-selected" : undefined} data-target-key={t.key}>
                  <Table.Td>
                    <Checkbox aria-label={`Select ${t.key}`} checked={selected.has(t.id)} onChange={() => toggle(t.id)} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm" className="mono">
                        {t.key}
                      </Text>
                      <Badge size="xs" variant="outline" color="gray">
                        {t.kind}
                      </Badge>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{[t.first_name, t.last_name].filter(Boolean).join(" ") || "—"}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <TargetStatusBadge status={t.status} />
                      {t.replied_at && <RepliedBadge at={t.replied_at} />}
                    </Group>
                  </Table.Td>
                  <Table.Td ta="right">{t.attempts}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{t.account_id ?? "—"}</Text>
                  </Table.Td>
                  <Table.Td maw={260}>
                    {t.error_code ? (
                      <Tooltip label={t.error_detail ?? t.error_code} multiline w={300}>
                        <Text size="xs" c="red" truncate>
                          {t.error_code}
                        </Text>
                      </Tooltip>
                    ) : (
                      <Text size="sm" c="dimmed">
                        —
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed">
                      {relative(t.updated_at)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}

      <KeysetPager pages={pages} data={targets.data} pageSize={PAGE_SIZE} noun="targets" />

      <AddTargetsModal taskId={task.id} opened={adding} onClose={() => setAdding(false)} />
      <ImportWizard taskId={task.id} opened={importing} onClose={() => setImporting(false)} />
    </Stack>
  );
}

const ACTIONS: Record<TargetBulkAction, { label: string; verb: string; color: string; icon: typeof IconTrash; warn: string }> = {
  skip: { label: "Skip", verb: "Skip", color: "orange", icon: IconPlayerSkipForward, warn: "Skipped targets are never contacted by this task." },
  reset_to_pending: {
    label: "Back to pending",
    verb: "Reset",
    color: "blue",
    icon: IconRotate,
    warn: "They are tried again. For targets in “unknown”, the platform may already have received the first attempt.",
  },
  delete: { label: "Delete", verb: "Delete", color: "red", icon: IconTrash, warn: "They are removed from this task's audience." },
};

function TargetBulkBar({
  taskId,
  selected,
  total,
  filter,
  onDone,
}: {
  taskId: string;
  selected: Set<number>;
  total: number;
  filter: { status: TargetStatus[]; kind: Target["kind"] | null } | null;
  onDone: () => void;
}) {
  const confirm = useConfirm();
  const bulk = useTargetBulkAction(taskId);
  const [everyMatch, setEveryMatch] = useState(false);
  const n = everyMatch && filter ? total : selected.size;

  async function run(action: TargetBulkAction) {
    const a = ACTIONS[action];
    const ok = await confirm({
      title: `${a.verb} ${plural(n, "target")}?`,
      message: a.warn,
      confirmLabel: a.label,
      color: a.color,
    });
    if (!ok) return;
    try {
      const out = await bulk.mutateAsync(
        everyMatch && filter
          ? { action, filter: { status: filter.status, kind: filter.kind } }
          : { action, ids: [...selected] },
      );
      notifications.show({ color: "teal", message: `${a.label}: ${plural(out.affected, "target")} changed` });
      onDone();
    } catch {
      /* shown by the mutation cache */
    }
  }

  return (
    <Paper withBorder p="xs" radius="md" bg="var(--mantine-color-blue-light)" data-testid="target-bulk-bar">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Text size="sm" fw={600}>
            {plural(n, "target")} selected
          </Text>
          {filter && total > selected.size && (
            <Checkbox size="xs" label={`All ${num(total)} that match the filters`} checked={everyMatch} onChange={(e) => setEveryMatch(e.currentTarget.checked)} />
          )}
          <ActionIcon variant="subtle" color="gray" onClick={onDone} aria-label="Clear selection">
            <IconX size={16} />
          </ActionIcon>
        </Group>
        <Group gap="xs">
          {(Object.keys(ACTIONS) as TargetBulkAction[]).map((k) => {
            const a = ACTIONS[k];
            const Icon = a.icon;
            return (
              <Button key={k} size="xs" variant="light" color={a.color} leftSection={<Icon size={14} />} onClick={() => void run(k)} loading={bulk.isPending && bulk.variables?.action === k}>
                {a.label}
              </Button>
            );
          })}
        </Group>
      </Group>
    </Paper>
  );
}

function RepliedBadge({ at }: { at: string }) {
  return (
    <Badge size="sm" variant="outline" color="grape" title={new Date(at).toLocaleString()} data-testid="replied-badge">
      {tr("replies.badge")}
    </Badge>
  );
}
