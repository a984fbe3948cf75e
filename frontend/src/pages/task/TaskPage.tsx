import {
  ActionIcon,
  Alert,
  Anchor,
  Breadcrumbs,
  Button,
  Group,
  Menu,
  Paper,
  Progress,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import {
  IconActivity,
  IconAlertTriangle,
  IconCopy,
  IconDots,
  IconEdit,
  IconFileDownload,
  IconTrash,
  IconUsers,
  IconUserCircle,
} from "@tabler/icons-react";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useTaskEvents } from "../../api/events";
import { downloadTaskReport, type Task, useDeleteTask, useDuplicateTask, useTask } from "../../api/hooks";
import { describeError } from "../../api/problem";
import { PriorityBadge, TaskStatusBadge } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { ErrorState, LoadingState } from "../../components/States";
import { dateTime, num, pct, relative } from "../../lib/format";
import { ACTION_LABEL, type TaskAction } from "../../lib/status";
import { announce } from "../../notify/events";
import { useFeedLive } from "../../notify/NotificationFeed";
import { ActivityPanel } from "./ActivityPanel";
import { LanesPanel } from "./LanesPanel";
import { TargetsPanel } from "./TargetsPanel";
import { TaskControls } from "./TaskControls";

export function TaskPage() {
  const { taskId = "" } = useParams();
  const task = useTask(taskId);
  useTaskEvents(taskId, task.data?.status);
  useStatusNotifications(task.data);

  useEffect(() => {
    if (task.data) document.title = `${task.data.name} · Invite Service`;
  }, [task.data]);

  if (task.isPending) return <LoadingState label="Loading the task…" />;
  if (task.isError) return <ErrorState error={task.error} onRetry={() => void task.refetch()} title="Could not load the task" />;
  return <TaskView task={task.data} />;
}

/**
 * While the service has no notification feed (an older service: useFeedLive is false), the task page still
 * tells the user when the task it shows completes, pauses itself (the breaker) or fails — through the same
 * toasts as the feed (notify/events). With the feed, the feed alone does, on every page.
 */
export function useStatusNotifications(task: Task | undefined) {
  const feedLive = useFeedLive();
  const previous = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!task) return;
    const before = previous.current;
    previous.current = task.status;
    if (feedLive || !before || before === task.status) return;
    const data = { task_id: task.id, task_name: task.name, status: task.status, reason: task.pause_reason ?? undefined };
    const id = `task-${task.id}-${task.status}-${task.updated_at}`;
    if (task.status === "completed") announce({ id, type: "task.completed", data });
    else if (task.status === "paused" && before === "running" && task.pause_reason) announce({ id, type: "task.paused", data });
    else if (task.status === "failed") announce({ id, type: "task.failed", data });
  }, [task, feedLive]);
}

const COUNTERS: { key: keyof Task["counters"]; label: string; color?: string }[] = [
  { key: "total", label: "Targets" },
  { key: "pending", label: "Waiting" },
  { key: "invited", label: "Invited", color: "teal" },
  { key: "messaged", label: "Messaged", color: "green" },
  { key: "already_member", label: "Already in", color: "cyan" },
  { key: "failed", label: "Failed", color: "red" },
  { key: "skipped", label: "Skipped", color: "orange" },
  { key: "unknown", label: "Unknown", color: "violet" },
];

function TaskView({ task }: { task: Task }) {
  const [params, setParams] = useSearchParams();
  // A draft opens on its audience (what to fill in next); a task that has run opens on its charts and
  // live log. Chosen once per visit, so the page never switches tabs under the user when the task starts.
  const [opening] = useState(() => (task.status === "draft" ? "audience" : "activity"));
  const tab = params.get("tab") ?? opening;
  const live = task.status === "running" || task.status === "scheduled";
  const inFlight = task.counters.reserved + task.counters.sending;

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/tasks">
          Tasks
        </Anchor>
        <Text truncate maw={260}>
          {task.name}
        </Text>
      </Breadcrumbs>

      <Paper withBorder radius="md" p={{ base: "sm", sm: "lg" }}>
        <Stack gap="md">
          <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
            <Stack gap={4} style={{ minWidth: 0, flex: "1 1 320px" }}>
              <Group gap="xs">
                <Title order={1} size="h2" style={{ wordBreak: "break-word" }} data-testid="task-name">
                  {task.name}
                </Title>
                <TaskStatusBadge status={task.status} size="lg" />
                <PriorityBadge priority={task.priority} />
              </Group>
              <Text size="sm" c="dimmed">
                {ACTION_LABEL[task.action as TaskAction] ?? task.action}
                {task.destination ? ` → ${task.destination}` : ""} · {task.platform} ·{" "}
                {task.account_ids.length ? `${task.account_ids.length} account${task.account_ids.length === 1 ? "" : "s"}` : "no accounts yet"}
              </Text>
              {task.description && <Text size="sm">{task.description}</Text>}
            </Stack>
            <Group gap="xs" wrap="wrap">
              <TaskControls task={task} />
              <TaskMenu task={task} />
            </Group>
          </Group>

          {task.pause_reason && (task.status === "paused" || task.status === "failed") && (
            <Alert color={task.status === "failed" ? "red" : "yellow"} icon={<IconAlertTriangle size={18} />} title="Paused by the service">
              {task.pause_reason}
            </Alert>
          )}

          <div>
            <Group justify="space-between" mb={4}>
              <Text size="sm" fw={500}>
                {pct(task.progress)} done
                {inFlight > 0 && (
                  <Text span c="dimmed" size="sm">
                    {" "}
                    · {num(inFlight)} in flight
                  </Text>
                )}
              </Text>
              <Text size="xs" c="dimmed">
                {task.finished_at
                  ? `Finished ${relative(task.finished_at)}`
                  : task.started_at
                    ? `Started ${relative(task.started_at)}`
                    : task.scheduled_at
                      ? `Starts ${dateTime(task.scheduled_at)}`
                      : `Created ${relative(task.created_at)}`}
              </Text>
            </Group>
            <Progress.Root size="lg" aria-label={`Progress ${pct(task.progress)}`}>
              {(["invited", "messaged", "already_member", "failed", "skipped"] as const).map((k) => {
                const value = task.counters.total ? (100 * task.counters[k]) / task.counters.total : 0;
                const color = { invited: "teal", messaged: "green", already_member: "cyan", failed: "red", skipped: "orange" }[k];
                return (
                  <Tooltip key={k} label={`${k.replace("_", " ")}: ${num(task.counters[k])}`}>
                    <Progress.Section value={value} color={color} animated={live} striped={live} />
                  </Tooltip>
                );
              })}
            </Progress.Root>
          </div>

          <SimpleGrid cols={{ base: 4, sm: 8 }} spacing="xs" data-testid="task-counters">
            {COUNTERS.map((c) => (
              <div key={c.key}>
                <Text size="xs" c="dimmed" truncate>
                  {c.label}
                </Text>
                <Text fw={700} size="lg" c={c.color} data-counter={c.key}>
                  {num(task.counters[c.key])}
                </Text>
              </div>
            ))}
          </SimpleGrid>
        </Stack>
      </Paper>

      <Tabs value={tab} onChange={(v) => setParams(v && v !== opening ? { tab: v } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="audience" leftSection={<IconUsers size={16} />}>
            Audience
          </Tabs.Tab>
          <Tabs.Tab value="accounts" leftSection={<IconUserCircle size={16} />}>
            Accounts
          </Tabs.Tab>
          <Tabs.Tab value="activity" leftSection={<IconActivity size={16} />}>
            Activity
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="audience" pt="md">
          <TargetsPanel task={task} />
        </Tabs.Panel>
        <Tabs.Panel value="accounts" pt="md">
          <LanesPanel task={task} />
        </Tabs.Panel>
        <Tabs.Panel value="activity" pt="md">
          <ActivityPanel task={task} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function TaskMenu({ task }: { task: Task }) {
  const confirm = useConfirm();
  const navigate = useNavigate();
  const remove = useDeleteTask();
  const duplicate = useDuplicateTask();
  const running = task.status === "running";

  async function onDelete() {
    const ok = await confirm({
      title: `Delete “${task.name}”?`,
      message: `The task and its ${num(task.counters.total)} targets are deleted for good.`,
      confirmLabel: "Delete",
      color: "red",
    });
    if (!ok) return;
    try {
      await remove.mutateAsync(task.id);
      notifications.show({ color: "teal", message: `Deleted “${task.name}”` });
      navigate("/tasks", { replace: true });
    } catch {
      /* shown by the mutation cache */
    }
  }

  async function onDuplicate(include_targets: boolean) {
    try {
      const copy = await duplicate.mutateAsync({ id: task.id, include_targets });
      notifications.show({ color: "teal", message: `Created “${copy.name}”` });
      navigate(`/tasks/${copy.id}`);
    } catch {
      /* shown by the mutation cache */
    }
  }

  async function onReport(format: "csv" | "xlsx") {
    try {
      await downloadTaskReport(task.id, format);
    } catch (err) {
      notifications.show({ color: "red", title: "The report could not be downloaded", message: describeError(err) });
    }
  }

  return (
    <Group gap="xs">
      <Tooltip label={running ? "Only the priority can change while it runs" : "Edit"}>
        <Button component={Link} to={`/tasks/${task.id}/edit`} variant="default" leftSection={<IconEdit size={16} />}>
          Edit
        </Button>
      </Tooltip>
      <Menu position="bottom-end">
        <Menu.Target>
          <ActionIcon variant="default" size="lg" aria-label="More actions">
            <IconDots size={18} />
          </ActionIcon>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => void onDuplicate(false)}>
            Duplicate settings
          </Menu.Item>
          <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => void onDuplicate(true)}>
            Duplicate with audience
          </Menu.Item>
          <Menu.Divider />
          <Menu.Label>Report</Menu.Label>
          <Menu.Item leftSection={<IconFileDownload size={16} />} onClick={() => void onReport("csv")}>
            Download CSV
          </Menu.Item>
          <Menu.Item leftSection={<IconFileDownload size={16} />} onClick={() => void onReport("xlsx")}>
            Download Excel
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => void onDelete()} disabled={running}>
            Delete task
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </Group>
  );
}
