import {
  ActionIcon,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  Menu,
  MultiSelect,
  Paper,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
  UnstyledButton,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import {
  IconArrowDown,
  IconArrowUp,
  IconFilterOff,
  IconFlag,
  IconListCheck,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlayerStop,
  IconPlus,
  IconSearch,
  IconTrash,
  IconX,
} from "@tabler/icons-react";
import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { type BulkOutcome, type BulkTaskAction, type Task, type TaskListQuery, useBulkTasks, useTasks } from "../../api/hooks";
import { useTaskEta } from "../../api/tasks";
import { ProgressCell } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime, num, resumeAt } from "../../lib/format";
import {
  ACTIONS,
  PRIORITIES,
  PRIORITY_META,
  TASK_STATUS_META,
  TASK_STATUSES,
  type Priority,
  type TaskAction,
  type TaskStatus,
} from "../../lib/status";
import { useDebounced } from "../../lib/useDebounced";
import { useSelection } from "../../lib/useSelection";
import { waitingText } from "../../lib/waiting";

const PAGE_SIZE = 25;
const SORTS = ["-created_at", "created_at", "name", "-name", "-priority", "priority", "status"];

/** The task's status as a badge, in the UI's language. */
function StatusBadge({ status }: { status: TaskStatus }) {
  const { t } = useTranslation("tasks");
  const meta = TASK_STATUS_META[status] ?? { color: "gray" };
  return (
    <Badge color={meta.color} size="sm" variant={status === "running" ? "filled" : "light"} data-status={status} style={{ overflow: "visible" }}>
      {t(`status.${status}`, { defaultValue: status })}
    </Badge>
  );
}

function PriorityTag({ priority }: { priority: Priority }) {
  const { t } = useTranslation("tasks");
  return (
    <Badge color={PRIORITY_META[priority]?.color ?? "gray"} size="sm" variant="outline" style={{ overflow: "visible" }}>
      {t(`priority.${priority}`, { defaultValue: priority })}
    </Badge>
  );
}

const actionLabel = (t: TFunction, a: string) => t(`action.${a}`, { defaultValue: a });

/** Why a running or scheduled task sends nothing now, and its ETA while it runs. */
function TaskWaiting({ task }: { task: Task }) {
  const { t } = useTranslation("tasks");
  const running = task.status === "running";
  const eta = useTaskEta(task.id, running);
  const why = waitingText(task.waiting, t);
  if (!why && !(running && eta.data)) return null;
  return (
    <Stack gap={0} mt={4}>
      {why && (
        <Text size="xs" c="orange.8" data-testid="task-waiting">
          {why}
        </Text>
      )}
      {running && eta.data && (
        <Text size="xs" c="dimmed" data-testid="task-eta">
          {t("eta", { when: resumeAt(eta.data) })}
        </Text>
      )}
    </Stack>
  );
}

export function TasksPage() {
  const { t } = useTranslation("tasks");
  const [params, setParams] = useSearchParams();
  const isPhone = useMediaQuery("(max-width: 48em)");
  const [search, setSearch] = useState(params.get("q") ?? "");
  const q = useDebounced(search.trim(), 300);
  const statuses = (params.get("status") ?? "").split(",").filter(Boolean) as TaskStatus[];
  const action = (params.get("action") || undefined) as TaskAction | undefined;
  const priority = (params.get("priority") || undefined) as Priority | undefined;
  const sort = params.get("sort") || "-created_at";

  const setParam = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const filterKey = JSON.stringify([q, statuses, action, priority, sort]);
  const pages = useCursorStack(filterKey);
  const query: TaskListQuery = {
    limit: PAGE_SIZE,
    sort,
    ...(q ? { q } : {}),
    ...(statuses.length ? { status: statuses } : {}),
    ...(action ? { action } : {}),
    ...(priority ? { priority } : {}),
    // Counting every match costs the server a full read: asked on the first page only, kept for the next.
    ...(pages.cursor ? { cursor: pages.cursor } : { with_total: true }),
  };
  const tasks = useTasks(query);
  const [known, setKnown] = useState<{ key: string; total: number } | null>(null);
  const fetched = tasks.isPlaceholderData ? undefined : tasks.data?.total;
  if (fetched != null && (known?.key !== filterKey || known.total !== fetched)) setKnown({ key: filterKey, total: fetched });
  const total = fetched ?? (known?.key === filterKey ? known.total : undefined);
  const items = tasks.data?.items ?? [];
  const filtered = !!(q || statuses.length || action || priority);

  const clearFilters = () => {
    setSearch("");
    setParams(new URLSearchParams(sort !== "-created_at" ? { sort } : {}), { replace: true });
  };

  const { selected, clear, toggle, allOnPage, toggleAll } = useSelection(items);

  const sortBy = (field: string) => setParam("sort", sort === field ? `-${field}` : field);

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1} size="h2">
            {t("title")}
          </Title>
          <Text c="dimmed" size="sm">
            {total !== undefined ? t("count", { count: total, n: num(total) }) : " "}
            {tasks.isFetching && !tasks.isPending && <Loader size={10} ml={8} type="dots" />}
          </Text>
        </div>
        <Button component={Link} to="/tasks/new" leftSection={<IconPlus size={16} />}>
          {t("new_task")}
        </Button>
      </Group>

      <Paper withBorder p="sm" radius="md">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TextInput
            aria-label={t("search.label")}
            placeholder={t("search.placeholder")}
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            rightSection={
              search ? (
                <ActionIcon variant="subtle" color="gray" onClick={() => setSearch("")} aria-label={t("search.clear")}>
                  <IconX size={14} />
                </ActionIcon>
              ) : null
            }
            style={{ flex: "1 1 200px" }}
          />
          <MultiSelect
            aria-label={t("filter.status")}
            placeholder={statuses.length ? undefined : t("filter.any_status")}
            data={TASK_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
            value={statuses}
            onChange={(v) => setParam("status", v.join(","))}
            clearable
            style={{ flex: "1 1 180px" }}
          />
          <Select
            aria-label={t("filter.action")}
            placeholder={t("filter.any_action")}
            data={ACTIONS.map((a) => ({ value: a, label: actionLabel(t, a) }))}
            value={action ?? null}
            onChange={(v) => setParam("action", v)}
            clearable
            style={{ flex: "1 1 150px" }}
          />
          <Select
            aria-label={t("filter.priority")}
            placeholder={t("filter.any_priority")}
            data={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))}
            value={priority ?? null}
            onChange={(v) => setParam("priority", v)}
            clearable
            style={{ flex: "1 1 130px" }}
          />
          <Select
            aria-label={t("sort.label")}
            data={SORTS.map((v) => ({ value: v, label: t(`sort.${v}`) }))}
            value={sort}
            onChange={(v) => setParam("sort", v === "-created_at" ? null : v)}
            allowDeselect={false}
            style={{ flex: "1 1 160px" }}
          />
          {filtered && (
            <Button variant="subtle" color="gray" leftSection={<IconFilterOff size={16} />} onClick={clearFilters}>
              {t("filter.clear")}
            </Button>
          )}
        </Group>
      </Paper>

      {selected.size > 0 && <BulkBar selected={selected} items={items} onDone={clear} />}

      {tasks.isPending ? (
        <Stack gap="xs" aria-busy="true" aria-label={t("loading")}>
          {Array.from({ length: 5 }, (_, i) => (
            <Skeleton key={i} height={44} radius="sm" />
          ))}
        </Stack>
      ) : tasks.isError ? (
        <ErrorState error={tasks.error} onRetry={() => void tasks.refetch()} title={t("load_failed")} />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={<IconSearch size={24} />}
            title={t("empty.filtered")}
            action={
              <Button variant="light" onClick={clearFilters}>
                {t("empty.clear_filters")}
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={<IconListCheck size={24} />}
            title={t("empty.title")}
            action={
              <Button component={Link} to="/tasks/new" leftSection={<IconPlus size={16} />}>
                {t("empty.create")}
              </Button>
            }
          >
            {t("empty.body")}
          </EmptyState>
        )
      ) : isPhone ? (
        <Stack gap="sm" data-testid="tasks-cards">
          {items.map((task) => (
            <TaskCard key={task.id} task={task} selected={selected.has(task.id)} onToggle={() => toggle(task.id)} />
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table highlightOnHover verticalSpacing="sm" data-testid="tasks-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox aria-label={t("select_all")} checked={allOnPage} indeterminate={!allOnPage && items.some((task) => selected.has(task.id))} onChange={toggleAll} />
                </Table.Th>
                <SortTh field="name" sort={sort} onSort={sortBy}>
                  {t("col.name")}
                </SortTh>
                <SortTh field="status" sort={sort} onSort={sortBy}>
                  {t("col.status")}
                </SortTh>
                <Table.Th miw={160}>{t("col.progress")}</Table.Th>
                <Table.Th ta="right">{t("col.targets")}</Table.Th>
                <SortTh field="priority" sort={sort} onSort={sortBy}>
                  {t("col.priority")}
                </SortTh>
                <Table.Th>{t("col.action")}</Table.Th>
                <SortTh field="created_at" sort={sort} onSort={sortBy}>
                  {t("col.created")}
                </SortTh>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((task) => (
                <Table.Tr key={task.id} className={selected.has(task.id) ? "row-selected" : undefined} data-task-id={task.id}>
                  <Table.Td>
                    <Checkbox aria-label={t("select_one", { name: task.name })} checked={selected.has(task.id)} onChange={() => toggle(task.id)} />
                  </Table.Td>
                  <Table.Td maw={320}>
                    <Anchor component={Link} to={`/tasks/${task.id}`} fw={600} lineClamp={1}>
                      {task.name}
                    </Anchor>
                    {task.destination && (
                      <Text size="xs" c="dimmed" truncate>
                        → {task.destination}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge status={task.status} />
                    <TaskWaiting task={task} />
                  </Table.Td>
                  <Table.Td>
                    <ProgressCell value={task.progress} status={task.status} total={task.counters.total} />
                  </Table.Td>
                  <Table.Td ta="right">{num(task.counters.total)}</Table.Td>
                  <Table.Td>
                    <PriorityTag priority={task.priority} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{actionLabel(t, task.action)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {dateTime(task.created_at)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}

      <KeysetPager pages={pages} data={tasks.data && total !== undefined ? { ...tasks.data, total } : undefined} pageSize={PAGE_SIZE} noun={t("noun")} />
    </Stack>
  );
}

function SortTh({ field, sort, onSort, children }: { field: string; sort: string; onSort: (f: string) => void; children: string }) {
  const active = sort.replace(/^-/, "") === field;
  const desc = sort.startsWith("-");
  return (
    <Table.Th aria-sort={active ? (desc ? "descending" : "ascending") : "none"}>
      <UnstyledButton onClick={() => onSort(field)} fw={600} fz="sm">
        <Group gap={4} wrap="nowrap">
          {children}
          {active && (desc ? <IconArrowDown size={14} /> : <IconArrowUp size={14} />)}
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

function TaskCard({ task, selected, onToggle }: { task: Task; selected: boolean; onToggle: () => void }) {
  const { t } = useTranslation("tasks");
  return (
    <Card withBorder radius="md" padding="sm" className={selected ? "row-selected" : undefined} data-task-id={task.id}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group gap="sm" wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
          <Checkbox aria-label={t("select_one", { name: task.name })} checked={selected} onChange={onToggle} mt={3} />
          <div style={{ minWidth: 0 }}>
            <Anchor component={Link} to={`/tasks/${task.id}`} fw={600} lineClamp={2}>
              {task.name}
            </Anchor>
            <Text size="xs" c="dimmed">
              {actionLabel(t, task.action)} · {t("targets", { count: task.counters.total, n: num(task.counters.total) })}
            </Text>
          </div>
        </Group>
        <Stack gap={4} align="flex-end">
          <StatusBadge status={task.status} />
          <PriorityTag priority={task.priority} />
        </Stack>
      </Group>
      <TaskWaiting task={task} />
      <ProgressCell value={task.progress} status={task.status} total={task.counters.total} />
    </Card>
  );
}

function summarize(outcome: BulkOutcome, items: Task[]): { ok: number; failures: string[] } {
  const names = new Map(items.map((task) => [task.id, task.name]));
  const failures = outcome.results
    .filter((r) => !r.ok)
    .map((r) => `${names.get(r.task_id) ?? r.task_id}: ${r.detail ?? `HTTP ${r.status}`}`);
  const ok = outcome.results.filter((r) => r.ok).length;
  return { ok, failures };
}

type Verb = "priority" | "pause" | "resume" | "cancel" | "delete";

function BulkBar({ selected, items, onDone }: { selected: Set<string>; items: Task[]; onDone: () => void }) {
  const { t } = useTranslation("tasks");
  const confirm = useConfirm();
  const bulk = useBulkTasks();
  const ids = [...selected];
  const n = ids.length;
  const names = items.filter((task) => selected.has(task.id)).map((task) => task.name);
  const listed = names.slice(0, 5).join(", ") + (n > 5 ? t("bulk.and_more", { n: num(n - 5) }) : "");

  async function run(action: BulkTaskAction, verb: Verb, opts: { priority?: Priority; color?: string; warn?: string } = {}) {
    const what = opts.priority ? t(`priority.${opts.priority}`) : "";
    const ok = await confirm({
      title: t(`bulk.${verb}.title`, { count: n, n: num(n), priority: what }),
      message: (
        <>
          <Text size="sm">{listed}</Text>
          {opts.warn && (
            <Text size="sm" c="dimmed" mt="xs">
              {opts.warn}
            </Text>
          )}
        </>
      ),
      confirmLabel: t(`bulk.${verb}.button`),
      color: opts.color,
    });
    if (!ok) return;
    try {
      const outcome = await bulk.mutateAsync({ action, ids, priority: opts.priority });
      const { ok: done, failures } = summarize(outcome, items);
      const label = t(`bulk.${verb}.button`);
      notifications.show({
        color: failures.length ? (done ? "yellow" : "red") : "teal",
        title: failures.length
          ? t("bulk.partly", { verb: label, done: num(done), n: num(n) })
          : t("bulk.done", { verb: label, count: done, n: num(done) }),
        message: failures.length ? failures.join("\n") : undefined,
        autoClose: failures.length ? false : 4000,
      });
      onDone();
    } catch {
      /* the mutation cache shows the error */
    }
  }

  return (
    <Paper withBorder p="xs" radius="md" bg="var(--mantine-color-blue-light)" data-testid="bulk-bar">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Text size="sm" fw={600}>
            {t("bulk.selected", { n: num(n) })}
          </Text>
          <Tooltip label={t("bulk.clear")}>
            <ActionIcon variant="subtle" color="gray" onClick={onDone} aria-label={t("bulk.clear")}>
              <IconX size={16} />
            </ActionIcon>
          </Tooltip>
        </Group>
        <Group gap="xs" wrap="wrap">
          <Menu>
            <Menu.Target>
              <Button size="xs" variant="default" leftSection={<IconFlag size={14} />} loading={bulk.isPending}>
                {t("bulk.priority.menu")}
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {PRIORITIES.map((p) => (
                <Menu.Item key={p} onClick={() => void run("SET_PRIORITY", "priority", { priority: p })}>
                  {t(`priority.${p}`)}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
          <Button size="xs" variant="default" leftSection={<IconPlayerPause size={14} />} onClick={() => void run("PAUSE", "pause")}>
            {t("bulk.pause.button")}
          </Button>
          <Button size="xs" variant="default" leftSection={<IconPlayerPlay size={14} />} onClick={() => void run("RESUME", "resume")}>
            {t("bulk.resume.button")}
          </Button>
          <Button
            size="xs"
            variant="default"
            color="orange"
            leftSection={<IconPlayerStop size={14} />}
            onClick={() => void run("CANCEL", "cancel", { color: "orange", warn: t("bulk.cancel.warn") })}
          >
            {t("bulk.cancel.button")}
          </Button>
          <Button
            size="xs"
            color="red"
            variant="light"
            leftSection={<IconTrash size={14} />}
            onClick={() => void run("DELETE", "delete", { color: "red", warn: t("bulk.delete.warn") })}
          >
            {t("bulk.delete.button")}
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}
