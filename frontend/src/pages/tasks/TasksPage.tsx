import {
  ActionIcon,
  Anchor,
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
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { type BulkOutcome, type BulkTaskAction, type Task, type TaskListQuery, useBulkTasks, useTasks } from "../../api/hooks";
import { PriorityBadge, ProgressCell, TaskStatusBadge } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime, num, plural } from "../../lib/format";
import {
  ACTION_LABEL,
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

const PAGE_SIZE = 25;
const SORTS = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "name", label: "Name A–Z" },
  { value: "-name", label: "Name Z–A" },
  { value: "-priority", label: "Priority high–low" },
  { value: "priority", label: "Priority low–high" },
  { value: "status", label: "Status" },
];

export function TasksPage() {
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
    ...(pages.cursor ? { cursor: pages.cursor } : {}),
  };
  const tasks = useTasks(query);
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
            Tasks
          </Title>
          <Text c="dimmed" size="sm">
            {tasks.data ? plural(tasks.data.total, "task") : " "}
            {tasks.isFetching && !tasks.isPending && <Loader size={10} ml={8} type="dots" />}
          </Text>
        </div>
        <Button component={Link} to="/tasks/new" leftSection={<IconPlus size={16} />}>
          New task
        </Button>
      </Group>

      <Paper withBorder p="sm" radius="md">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TextInput
            aria-label="Search tasks"
            placeholder="Search by name"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            rightSection={
              search ? (
                <ActionIcon variant="subtle" color="gray" onClick={() => setSearch("")} aria-label="Clear search">
                  <IconX size={14} />
                </ActionIcon>
              ) : null
            }
            style={{ flex: "1 1 200px" }}
          />
          <MultiSelect
            aria-label="Status"
            placeholder={statuses.length ? undefined : "Any status"}
            data={TASK_STATUSES.map((s) => ({ value: s, label: TASK_STATUS_META[s].label }))}
            value={statuses}
            onChange={(v) => setParam("status", v.join(","))}
            clearable
            style={{ flex: "1 1 180px" }}
          />
          <Select
            aria-label="Action"
            placeholder="Any action"
            data={ACTIONS.map((a) => ({ value: a, label: ACTION_LABEL[a] }))}
            value={action ?? null}
            onChange={(v) => setParam("action", v)}
            clearable
            style={{ flex: "1 1 150px" }}
          />
          <Select
            aria-label="Priority"
            placeholder="Any priority"
            data={PRIORITIES.map((p) => ({ value: p, label: PRIORITY_META[p].label }))}
            value={priority ?? null}
            onChange={(v) => setParam("priority", v)}
            clearable
            style={{ flex: "1 1 130px" }}
          />
          <Select
            aria-label="Sort"
            data={SORTS}
            value={sort}
            onChange={(v) => setParam("sort", v === "-created_at" ? null : v)}
            allowDeselect={false}
            style={{ flex: "1 1 160px" }}
          />
          {filtered && (
            <Button variant="subtle" color="gray" leftSection={<IconFilterOff size={16} />} onClick={clearFilters}>
              Clear
            </Button>
          )}
        </Group>
      </Paper>

      {selected.size > 0 && <BulkBar selected={selected} items={items} onDone={clear} />}

      {tasks.isPending ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading tasks">
          {Array.from({ length: 5 }, (_, i) => (
            <Skeleton key={i} height={44} radius="sm" />
          ))}
        </Stack>
      ) : tasks.isError ? (
        <ErrorState error={tasks.error} onRetry={() => void tasks.refetch()} title="Could not load your tasks" />
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={<IconSearch size={24} />}
            title="No tasks match these filters"
            action={
              <Button variant="light" onClick={clearFilters}>
                Clear filters
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={<IconListCheck size={24} />}
            title="No tasks yet"
            action={
              <Button component={Link} to="/tasks/new" leftSection={<IconPlus size={16} />}>
                Create your first task
              </Button>
            }
          >
            A task invites your audience into a group or channel, or sends them a message, from the accounts you pick and
            inside every platform limit.
          </EmptyState>
        )
      ) : isPhone ? (
        <Stack gap="sm" data-testid="tasks-cards">
          {items.map((t) => (
            <TaskCard key={t.id} task={t} selected={selected.has(t.id)} onToggle={() => toggle(t.id)} />
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table highlightOnHover verticalSpacing="sm" data-testid="tasks-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox aria-label="Select all on this page" checked={allOnPage} indeterminate={!allOnPage && items.some((t) => selected.has(t.id))} onChange={toggleAll} />
                </Table.Th>
                <SortTh field="name" sort={sort} onSort={sortBy}>
                  Name
                </SortTh>
                <SortTh field="status" sort={sort} onSort={sortBy}>
                  Status
                </SortTh>
                <Table.Th miw={160}>Progress</Table.Th>
                <Table.Th ta="right">Targets</Table.Th>
                <SortTh field="priority" sort={sort} onSort={sortBy}>
                  Priority
                </SortTh>
                <Table.Th>Action</Table.Th>
                <SortTh field="created_at" sort={sort} onSort={sortBy}>
                  Created
                </SortTh>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((t) => (
                <Table.Tr key={t.id} className={selected.has(t.id) ? "row-selected" : undefined} data-task-id={t.id}>
                  <Table.Td>
                    <Checkbox aria-label={`Select ${t.name}`} checked={selected.has(t.id)} onChange={() => toggle(t.id)} />
                  </Table.Td>
                  <Table.Td maw={320}>
                    <Anchor component={Link} to={`/tasks/${t.id}`} fw={600} lineClamp={1}>
                      {t.name}
                    </Anchor>
                    {t.destination && (
                      <Text size="xs" c="dimmed" truncate>
                        → {t.destination}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <TaskStatusBadge status={t.status} />
                  </Table.Td>
                  <Table.Td>
                    <ProgressCell value={t.progress} status={t.status} total={t.counters.total} />
                  </Table.Td>
                  <Table.Td ta="right">{num(t.counters.total)}</Table.Td>
                  <Table.Td>
                    <PriorityBadge priority={t.priority} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{ACTION_LABEL[t.action as TaskAction] ?? t.action}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {dateTime(t.created_at)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}

      <KeysetPager pages={pages} data={tasks.data} pageSize={PAGE_SIZE} noun="tasks" />
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
  return (
    <Card withBorder radius="md" padding="sm" className={selected ? "row-selected" : undefined} data-task-id={task.id}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group gap="sm" wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
          <Checkbox aria-label={`Select ${task.name}`} checked={selected} onChange={onToggle} mt={3} />
          <div style={{ minWidth: 0 }}>
            <Anchor component={Link} to={`/tasks/${task.id}`} fw={600} lineClamp={2}>
              {task.name}
            </Anchor>
            <Text size="xs" c="dimmed">
              {ACTION_LABEL[task.action as TaskAction] ?? task.action} · {plural(task.counters.total, "target")}
            </Text>
          </div>
        </Group>
        <Stack gap={4} align="flex-end">
          <TaskStatusBadge status={task.status} />
          <PriorityBadge priority={task.priority} />
        </Stack>
      </Group>
      <ProgressCell value={task.progress} status={task.status} total={task.counters.total} />
    </Card>
  );
}

function summarize(outcome: BulkOutcome, items: Task[]): { ok: number; failures: string[] } {
  const names = new Map(items.map((t) => [t.id, t.name]));
  const failures = outcome.results
    .filter((r) => !r.ok)
    .map((r) => `${names.get(r.task_id) ?? r.task_id}: ${r.detail ?? `HTTP ${r.status}`}`);
  const ok = outcome.results.filter((r) => r.ok).length;
  return { ok, failures };
}

function BulkBar({ selected, items, onDone }: { selected: Set<string>; items: Task[]; onDone: () => void }) {
  const confirm = useConfirm();
  const bulk = useBulkTasks();
  const ids = [...selected];
  const n = ids.length;
  const names = items.filter((t) => selected.has(t.id)).map((t) => t.name);
  const listed = names.slice(0, 5).join(", ") + (n > 5 ? ` and ${n - 5} more` : "");

  async function run(action: BulkTaskAction, verb: string, opts: { priority?: Priority; color?: string; warn?: string } = {}) {
    const ok = await confirm({
      title: `${verb} ${plural(n, "task")}?`,
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
      confirmLabel: verb,
      color: opts.color,
    });
    if (!ok) return;
    try {
      const outcome = await bulk.mutateAsync({ action, ids, priority: opts.priority });
      const { ok: done, failures } = summarize(outcome, items);
      notifications.show({
        color: failures.length ? (done ? "yellow" : "red") : "teal",
        title: failures.length ? `${verb}: ${done} of ${n} done` : `${verb}: done for ${plural(done, "task")}`,
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
            {n} selected
          </Text>
          <Tooltip label="Clear selection">
            <ActionIcon variant="subtle" color="gray" onClick={onDone} aria-label="Clear selection">
              <IconX size={16} />
            </ActionIcon>
          </Tooltip>
        </Group>
        <Group gap="xs" wrap="wrap">
          <Menu>
            <Menu.Target>
              <Button size="xs" variant="default" leftSection={<IconFlag size={14} />} loading={bulk.isPending}>
                Set priority
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {PRIORITIES.map((p) => (
                <Menu.Item key={p} onClick={() => void run("SET_PRIORITY", `Set priority ${PRIORITY_META[p].label.toLowerCase()} for`, { priority: p })}>
                  {PRIORITY_META[p].label}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
          <Button size="xs" variant="default" leftSection={<IconPlayerPause size={14} />} onClick={() => void run("PAUSE", "Pause")}>
            Pause
          </Button>
          <Button size="xs" variant="default" leftSection={<IconPlayerPlay size={14} />} onClick={() => void run("RESUME", "Resume")}>
            Resume
          </Button>
          <Button
            size="xs"
            variant="default"
            color="orange"
            leftSection={<IconPlayerStop size={14} />}
            onClick={() => void run("CANCEL", "Cancel", { color: "orange", warn: "Targets not yet reached are skipped. This cannot be undone." })}
          >
            Cancel
          </Button>
          <Button
            size="xs"
            color="red"
            variant="light"
            leftSection={<IconTrash size={14} />}
            onClick={() => void run("DELETE", "Delete", { color: "red", warn: "The tasks and all their targets are deleted. Running tasks are kept." })}
          >
            Delete
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}
