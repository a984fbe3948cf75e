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
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconFileImport, IconFilter, IconPlus, IconRotate, IconSearch, IconPlayerSkipForward, IconTrash, IconUsers, IconX } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
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
import { type Explained, useExplain } from "../../api/reasons";
import { TargetStatusBadge, WRAP } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { num, relative } from "../../lib/format";
import { TARGET_STATUS_META, TARGET_STATUSES, type TargetStatus } from "../../lib/status";
import { useDebounced } from "../../lib/useDebounced";
import { useSelection } from "../../lib/useSelection";
import { AddTargetsModal } from "./AddTargetsModal";
import { ImportWizard } from "./ImportWizard";

const PAGE_SIZE = 50;
const KINDS = ["username", "user_id", "phone"] as const;

/** A reason's text colour: a final refusal is red, a retryable one yellow, a benign one plain (never red). */
export function reasonTone(why: Explained): string | undefined {
  if (why.kind === "final") return "red";
  if (why.kind === "retryable") return "yellow.8";
  if (why.kind === "benign" || why.kind === "success") return "dimmed";
  return undefined;
}

/**
 * Whether "back to pending" can help a target: its reason is retryable. A code the catalogue does not know
 * (an older service) leaves it to the user for failed and unknown targets, as before.
 */
export function canRetry(target: Pick<Target, "status" | "error_code">, explain: (code: string) => Explained): boolean {
  if (target.status === "pending" || target.status === "reserved" || target.status === "sending") return false;
  if (!target.error_code) return target.status === "unknown";
  const kind = explain(target.error_code).kind;
  return kind === undefined ? target.status === "failed" || target.status === "unknown" : kind === "retryable";
}

/** The reason a target is where it is, as a sentence (not only on hover: phones have none). */
function ReasonText({ target, why }: { target: Target; why: Explained | null }) {
  if (!why) return <Text size="sm" c="dimmed">—</Text>;
  return (
    <div data-testid="target-reason" data-code={why.code} data-kind={why.kind ?? "unknown"} title={target.error_detail ?? undefined}>
      <Text size="xs" c={reasonTone(why)} style={{ wordBreak: "break-word" }}>
        {why.text}
      </Text>
      {/* The platform's own detail (English) only where the catalogue has no sentence for the code. */}
      <Text size="xs" c="dimmed" className="mono" style={{ wordBreak: "break-word" }}>
        {why.text !== why.code ? why.code : target.error_detail}
      </Text>
    </div>
  );
}

export function TargetsPanel({
  task,
  errorCode = null,
  onErrorCode = () => {},
}: {
  task: Task;
  errorCode?: string | null;
  onErrorCode?: (code: string | null) => void;
}) {
  const { t } = useTranslation("task");
  const explain = useExplain();
  const isPhone = useMediaQuery("(max-width: 48em)");
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 300);
  const [statuses, setStatuses] = useState<TargetStatus[]>([]);
  const [kind, setKind] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [importing, setImporting] = useState(false);
  const pages = useCursorStack(JSON.stringify([q, statuses, kind, errorCode]));
  const query = {
    limit: PAGE_SIZE,
    ...(q ? { q } : {}),
    ...(statuses.length ? { status: statuses } : {}),
    ...(kind ? { kind: kind as TargetListQuery["kind"] } : {}),
    ...(errorCode ? { error_code: errorCode } : {}),
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  } as TargetListQuery;
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
  const filtered = !!(q || statuses.length || kind || errorCode);
  // Targets seen on any page, so the bulk bar knows what a selection across pages holds.
  const seen = useRef(new Map<number, Target>());
  for (const it of items) seen.current.set(it.id, it);

  const { selected, clear: clearSelection, toggle, allOnPage, toggleAll } = useSelection(items);
  const clear = () => {
    setSearch("");
    setStatuses([]);
    setKind(null);
    onErrorCode(null);
  };
  const filterWhy = errorCode ? explain(errorCode) : null;

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
                styles={WRAP}
                onClick={() => setStatuses((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : [...cur, s]))}
              >
                {TARGET_STATUS_META[s].label} {num(stats.data.by_status[s])}
              </Badge>
            ))}
        </Group>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)}>
            {t("targets.import")}
          </Button>
          <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
            {t("targets.add")}
          </Button>
        </Group>
      </Group>

      {filterWhy && (
        <Paper withBorder radius="md" p="xs" data-testid="reason-filter" data-code={filterWhy.code}>
          <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
            <Group gap={6} wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
              <IconFilter size={16} style={{ flexShrink: 0, marginTop: 2 }} />
              <Text size="sm" style={{ wordBreak: "break-word" }}>
                {t("targets.reason_filter", { reason: filterWhy.text })}
              </Text>
            </Group>
            <ActionIcon variant="subtle" color="gray" onClick={() => onErrorCode(null)} aria-label={t("targets.reason_filter.clear")}>
              <IconX size={16} />
            </ActionIcon>
          </Group>
        </Paper>
      )}

      <Group gap="sm" wrap="wrap">
        <TextInput
          aria-label={t("targets.search")}
          placeholder={t("targets.search.placeholder")}
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          style={{ flex: "1 1 220px" }}
        />
        <MultiSelect
          aria-label={t("targets.status")}
          placeholder={statuses.length ? undefined : t("targets.any_status")}
          data={TARGET_STATUSES.map((s) => ({ value: s, label: TARGET_STATUS_META[s].label }))}
          value={statuses}
          onChange={(v) => setStatuses(v as TargetStatus[])}
          clearable
          style={{ flex: "1 1 200px" }}
        />
        <Select
          aria-label={t("targets.kind")}
          placeholder={t("targets.any_kind")}
          data={KINDS.map((k) => ({ value: k, label: t(`targets.kind.${k}`) }))}
          value={kind}
          onChange={setKind}
          clearable
          style={{ flex: "0 1 170px" }}
        />
        {filtered && (
          <Button variant="subtle" color="gray" onClick={clear}>
            {t("targets.clear")}
          </Button>
        )}
        {targets.isFetching && !targets.isPending && <Loader size="xs" type="dots" />}
      </Group>

      {selected.size > 0 && (
        <TargetBulkBar
          taskId={task.id}
          selected={selected}
          total={targets.data?.total ?? 0}
          // "Every match" goes by status and kind only: the bulk filter has no search nor reason.
          filter={!q && !errorCode && filtered ? { status: statuses, kind: (kind as Target["kind"]) ?? null } : null}
          retryable={[...selected].every((id) => {
            const target = seen.current.get(id);
            return target ? canRetry(target, explain) : false;
          })}
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
        <ErrorState error={targets.error} onRetry={() => void targets.refetch()} title={t("targets.error")} />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState icon={<IconSearch size={24} />} title={t("targets.no_match")} action={<Button variant="light" onClick={clear}>{t("targets.clear_filters")}</Button>} />
        ) : (
          <EmptyState
            icon={<IconUsers size={24} />}
            title={t("targets.empty")}
            action={
              <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
                {t("targets.add")}
              </Button>
            }
          >
            {t("targets.empty.body")}
          </EmptyState>
        )
      ) : isPhone ? (
        <Stack gap="xs" data-testid="targets-cards">
          {items.map((tg) => (
            <Card key={tg.id} withBorder padding="xs" radius="md" className={selected.has(tg.id) ? "row-selected" : undefined} data-target-key={tg.key}>
              <Group justify="space-between" wrap="wrap" gap={4}>
                <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
                  <Checkbox aria-label={t("targets.select", { key: tg.key })} checked={selected.has(tg.id)} onChange={() => toggle(tg.id)} />
                  <div style={{ minWidth: 0 }}>
                    <Text size="sm" fw={600} className="mono" style={{ wordBreak: "break-all" }}>
                      {tg.key}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {[tg.first_name, tg.last_name].filter(Boolean).join(" ") || t(`targets.kind.${tg.kind}`)}
                    </Text>
                  </div>
                </Group>
                <Group gap={4} wrap="wrap">
                  <TargetStatusBadge status={tg.status} />
                  {tg.replied_at && <RepliedBadge at={tg.replied_at} />}
                </Group>
              </Group>
              {tg.error_code && (
                <div style={{ marginTop: 4 }}>
                  <ReasonText target={tg} why={explain(tg.error_code)} />
                </div>
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
                  <Checkbox aria-label={t("targets.select_page")} checked={allOnPage} onChange={toggleAll} />
                </Table.Th>
                <Table.Th>{t("targets.col.target")}</Table.Th>
                <Table.Th>{t("targets.col.name")}</Table.Th>
                <Table.Th>{t("targets.col.status")}</Table.Th>
                <Table.Th ta="right">{t("targets.col.attempts")}</Table.Th>
                <Table.Th>{t("targets.col.account")}</Table.Th>
                <Table.Th>{t("targets.col.reason")}</Table.Th>
                <Table.Th>{t("targets.col.updated")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((tg) => (
                <Table.Tr key={tg.id} className={selected.has(tg.id) ? "row-selected" : undefined} data-target-key={tg.key}>
                  <Table.Td>
                    <Checkbox aria-label={t("targets.select", { key: tg.key })} checked={selected.has(tg.id)} onChange={() => toggle(tg.id)} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="wrap">
                      <Text size="sm" className="mono">
                        {tg.key}
                      </Text>
                      <Badge size="xs" variant="outline" color="gray" style={{ flexShrink: 0, overflow: "visible" }} styles={{ label: { overflow: "visible", textOverflow: "clip" } }}>
                        {t(`targets.kind.${tg.kind}`)}
                      </Badge>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{[tg.first_name, tg.last_name].filter(Boolean).join(" ") || "—"}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="wrap">
                      <TargetStatusBadge status={tg.status} />
                      {tg.replied_at && <RepliedBadge at={tg.replied_at} />}
                    </Group>
                  </Table.Td>
                  <Table.Td ta="right">{num(tg.attempts)}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{tg.account_id ?? "—"}</Text>
                  </Table.Td>
                  <Table.Td miw={180} maw={340}>
                    <ReasonText target={tg} why={tg.error_code ? explain(tg.error_code) : null} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed">
                      {relative(tg.updated_at)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}

      <KeysetPager pages={pages} data={targets.data} pageSize={PAGE_SIZE} noun={t("targets.noun")} />

      <AddTargetsModal taskId={task.id} opened={adding} onClose={() => setAdding(false)} />
      <ImportWizard taskId={task.id} opened={importing} onClose={() => setImporting(false)} />
    </Stack>
  );
}

const ACTIONS: Record<TargetBulkAction, { color: string; icon: typeof IconTrash }> = {
  skip: { color: "orange", icon: IconPlayerSkipForward },
  reset_to_pending: { color: "blue", icon: IconRotate },
  delete: { color: "red", icon: IconTrash },
};

function TargetBulkBar({
  taskId,
  selected,
  total,
  filter,
  retryable,
  onDone,
}: {
  taskId: string;
  selected: Set<number>;
  total: number;
  filter: { status: TargetStatus[]; kind: Target["kind"] | null } | null;
  retryable: boolean;
  onDone: () => void;
}) {
  const { t } = useTranslation("task");
  const confirm = useConfirm();
  const bulk = useTargetBulkAction(taskId);
  const [everyMatch, setEveryMatch] = useState(false);
  const n = everyMatch && filter ? total : selected.size;
  // "Back to pending" only where a retry can help (the reasons' kind), for the rows the user picked.
  const offered = (Object.keys(ACTIONS) as TargetBulkAction[]).filter((k) => k !== "reset_to_pending" || (retryable && !(everyMatch && filter)));

  async function run(action: TargetBulkAction) {
    const a = ACTIONS[action];
    const ok = await confirm({
      title: t(`bulk.${action}.title`, { count: n }),
      message: t(`bulk.${action}.warn`),
      confirmLabel: t(`bulk.${action}`),
      color: a.color,
    });
    if (!ok) return;
    try {
      const out = await bulk.mutateAsync(
        everyMatch && filter
          ? { action, filter: { status: filter.status, kind: filter.kind } }
          : { action, ids: [...selected] },
      );
      notifications.show({ color: "teal", message: t("bulk.done", { what: t(`bulk.${action}`), count: out.affected }) });
      onDone();
    } catch {
      /* shown by the mutation cache */
    }
  }

  return (
    <Paper withBorder p="xs" radius="md" bg="var(--mantine-color-blue-light)" data-testid="target-bulk-bar">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs" wrap="wrap">
          <Text size="sm" fw={600}>
            {t("bulk.selected", { count: n })}
          </Text>
          {filter && total > selected.size && (
            <Checkbox size="xs" label={t("bulk.every_match", { count: total })} checked={everyMatch} onChange={(e) => setEveryMatch(e.currentTarget.checked)} />
          )}
          <ActionIcon variant="subtle" color="gray" onClick={onDone} aria-label={t("bulk.clear")}>
            <IconX size={16} />
          </ActionIcon>
        </Group>
        <Group gap="xs" wrap="wrap">
          {offered.map((k) => {
            const a = ACTIONS[k];
            const Icon = a.icon;
            return (
              <Button key={k} size="xs" variant="light" color={a.color} leftSection={<Icon size={14} />} onClick={() => void run(k)} loading={bulk.isPending && bulk.variables?.action === k}>
                {t(`bulk.${k}`)}
              </Button>
            );
          })}
        </Group>
        {!offered.includes("reset_to_pending") && (
          <Text size="xs" c="dimmed" w="100%" data-testid="no-retry-hint">
            {t("bulk.no_retry")}
          </Text>
        )}
      </Group>
    </Paper>
  );
}

function RepliedBadge({ at }: { at: string }) {
  const { t } = useTranslation("common");
  return (
    <Badge size="sm" variant="outline" color="grape" title={new Date(at).toLocaleString()} data-testid="replied-badge" styles={WRAP}>
      {t("replies.badge")}
    </Badge>
  );
}
