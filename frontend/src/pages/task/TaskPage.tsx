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
  IconClockPause,
  IconCopy,
  IconDots,
  IconEdit,
  IconFileDownload,
  IconTrash,
  IconUsers,
  IconUserCircle,
} from "@tabler/icons-react";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useTaskEvents } from "../../api/events";
import { type Task, useDeleteTask, useDuplicateTask, useTask } from "../../api/hooks";
import { describeError } from "../../api/problem";
import { downloadReport, useTaskStatus } from "../../api/taskStatus";
import { currentLang } from "../../i18n";
import { PriorityBadge, TaskStatusBadge } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { ErrorState, LoadingState } from "../../components/States";
import { about, dateTime, num, pct, relative, resumeAt } from "../../lib/format";
import { lookLabel, TARGET_LOOK } from "../../lib/outcomes";
import { ACTION_LABEL, type TaskAction } from "../../lib/status";
import { type Waiting, waitingColor, waitingText } from "../../lib/waiting";
import { announce } from "../../notify/events";
import { useFeedLive } from "../../notify/NotificationFeed";
import { ActivityPanel } from "./ActivityPanel";
import { LanesPanel } from "./LanesPanel";
import { TargetsPanel } from "./TargetsPanel";
import { estimateText, TaskControls } from "./TaskControls";

export function TaskPage() {
  const { t } = useTranslation("task");
  const { taskId = "" } = useParams();
  const task = useTask(taskId);
  useTaskEvents(taskId, task.data?.status);
  useStatusNotifications(task.data);

  useEffect(() => {
    if (task.data) document.title = `${task.data.name} · Invite Service`;
  }, [task.data]);

  if (task.isPending) return <LoadingState label={t("page.loading")} />;
  if (task.isError) return <ErrorState error={task.error} onRetry={() => void task.refetch()} title={t("page.error")} />;
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

const COUNTERS: { key: keyof Task["counters"]; label: string; colored: boolean }[] = [
  { key: "total", label: "counter.total", colored: false },
  { key: "pending", label: "counter.pending", colored: false },
  { key: "invited", label: "counter.invited", colored: true },
  { key: "messaged", label: "counter.messaged", colored: true },
  { key: "already_member", label: "counter.already_member", colored: true },
  { key: "failed", label: "counter.failed", colored: true },
  { key: "skipped", label: "counter.skipped", colored: true },
  { key: "unknown", label: "counter.unknown", colored: true },
];
const BAR = ["invited", "messaged", "already_member", "failed", "skipped"] as const;

/** The header's "why is it not sending" line: from /status (fresh), else from the task itself. */
export function WaitingNotice({ waiting }: { waiting: Waiting | null | undefined }) {
  const { t } = useTranslation("task");
  const text = waitingText(waiting, t);
  if (!waiting || !text) return null;
  return (
    <Alert color={waitingColor(waiting)} variant="light" icon={<IconClockPause size={18} />} data-testid="task-waiting" data-reason={waiting.reason} p="xs">
      <Text size="sm" fw={500}>
        {text}
      </Text>
    </Alert>
  );
}

function TaskView({ task }: { task: Task }) {
  const { t } = useTranslation("task");
  const [params, setParams] = useSearchParams();
  // A draft opens on its audience (what to fill in next); a task that has run opens on its charts and
  // live log. Chosen once per visit, so the page never switches tabs under the user when the task starts.
  const [opening] = useState(() => (task.status === "draft" ? "audience" : "activity"));
  const tab = params.get("tab") ?? opening;
  const errorCode = params.get("error_code");
  const live = task.status === "running" || task.status === "scheduled";
  const inFlight = task.counters.reserved + task.counters.sending;
  const status = useTaskStatus(task.id, live).data;
  const waiting = status ? status.waiting : task.waiting;
  const eta = live && status?.eta ? status.eta : null;
  const accounts = task.account_ids.length;

  const go = (next: { tab?: string | null; error_code?: string | null }) => {
    const p = new URLSearchParams();
    const nextTab = next.tab === undefined ? tab : next.tab;
    if (nextTab && nextTab !== opening) p.set("tab", nextTab);
    const code = next.error_code === undefined ? errorCode : next.error_code;
    if (code) p.set("error_code", code);
    setParams(p, { replace: true });
  };

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/tasks">
          {t("page.tasks")}
        </Anchor>
        <Text truncate maw={260}>
          {task.name}
        </Text>
      </Breadcrumbs>

      <Paper withBorder radius="md" p={{ base: "sm", sm: "lg" }}>
        <Stack gap="md">
          <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
            <Stack gap={4} style={{ minWidth: 0, flex: "1 1 320px" }}>
              <Group gap="xs" wrap="wrap">
                <Title order={1} size="h2" style={{ wordBreak: "break-word" }} data-testid="task-name">
                  {task.name}
                </Title>
                <TaskStatusBadge status={task.status} size="lg" />
                <PriorityBadge priority={task.priority} />
              </Group>
              <Text size="sm" c="dimmed">
                {ACTION_LABEL[task.action as TaskAction] ?? task.action}
                {task.destination ? ` → ${task.destination}` : ""} · {task.platform} ·{" "}
                {accounts ? t("page.accounts", { count: accounts }) : t("page.no_accounts")}
              </Text>
              {task.description && <Text size="sm">{task.description}</Text>}
            </Stack>
            <Group gap="xs" wrap="wrap">
              <TaskControls task={task} status={status} />
              <TaskMenu task={task} />
            </Group>
          </Group>

          <WaitingNotice waiting={waiting} />
          {!live && status?.estimate?.basis === "if_started_now" && estimateText(status.estimate, status.eta, t) && (
            <Text size="sm" c="dimmed" data-testid="task-estimate">
              {t("page.estimate", { text: estimateText(status.estimate, status.eta, t) })}
            </Text>
          )}

          {task.pause_reason && (task.status === "paused" || task.status === "failed") && (
            <Alert color={task.status === "failed" ? "red" : "yellow"} icon={<IconAlertTriangle size={18} />} title={t("page.paused_by_service")}>
              {task.pause_reason}
            </Alert>
          )}

          <div>
            <Group justify="space-between" mb={4} wrap="wrap" gap={4}>
              <Text size="sm" fw={500}>
                {t("page.done", { pct: pct(task.progress) })}
                {inFlight > 0 && (
                  <Text span c="dimmed" size="sm">
                    {" "}
                    · {t("page.in_flight", { n: num(inFlight) })}
                  </Text>
                )}
              </Text>
              <Text size="xs" c="dimmed" data-testid="task-when">
                {eta ? (
                  <span data-testid="task-eta">{t("page.eta", { at: resumeAt(eta), about: about(Math.max(60, (new Date(eta).getTime() - Date.now()) / 1000)) })}</span>
                ) : task.finished_at ? (
                  t("page.finished", { when: relative(task.finished_at) })
                ) : task.started_at ? (
                  t("page.started", { when: relative(task.started_at) })
                ) : task.scheduled_at ? (
                  t("page.starts", { when: dateTime(task.scheduled_at) })
                ) : (
                  t("page.created", { when: relative(task.created_at) })
                )}
              </Text>
            </Group>
            <Progress.Root size="lg" aria-label={t("page.progress", { pct: pct(task.progress) })}>
              {BAR.map((k) => {
                const value = task.counters.total ? (100 * task.counters[k]) / task.counters.total : 0;
                const look = TARGET_LOOK[k];
                return (
                  <Tooltip key={k} label={`${lookLabel(look)}: ${num(task.counters[k])}`}>
                    <Progress.Section value={value} color={look.color} animated={live} striped={live} data-key={k} />
                  </Tooltip>
                );
              })}
            </Progress.Root>
          </div>

          <SimpleGrid cols={{ base: 2, xs: 4, md: 8 }} spacing="xs" data-testid="task-counters">
            {COUNTERS.map((c) => (
              <div key={c.key}>
                <Text size="xs" c="dimmed">
                  {t(c.label)}
                </Text>
                <Text fw={700} size="lg" c={c.colored ? TARGET_LOOK[c.key as keyof typeof TARGET_LOOK].color : undefined} data-counter={c.key}>
                  {num(task.counters[c.key])}
                </Text>
              </div>
            ))}
          </SimpleGrid>
        </Stack>
      </Paper>

      <Tabs value={tab} onChange={(v) => go({ tab: v })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="audience" leftSection={<IconUsers size={16} />}>
            {t("tab.audience")}
          </Tabs.Tab>
          <Tabs.Tab value="accounts" leftSection={<IconUserCircle size={16} />}>
            {t("tab.accounts")}
          </Tabs.Tab>
          <Tabs.Tab value="activity" leftSection={<IconActivity size={16} />}>
            {t("tab.activity")}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="audience" pt="md">
          <TargetsPanel task={task} errorCode={errorCode} onErrorCode={(code) => go({ error_code: code })} />
        </Tabs.Panel>
        <Tabs.Panel value="accounts" pt="md">
          <LanesPanel task={task} status={status} />
        </Tabs.Panel>
        <Tabs.Panel value="activity" pt="md">
          <ActivityPanel task={task} status={status} onReason={(code) => go({ tab: "audience", error_code: code })} />
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
  const { t } = useTranslation("task");
  const running = task.status === "running";

  async function onDelete() {
    const ok = await confirm({
      title: t("menu.delete.title", { name: task.name }),
      message: t("menu.delete.body", { count: task.counters.total }),
      confirmLabel: t("menu.delete.confirm"),
      color: "red",
    });
    if (!ok) return;
    try {
      await remove.mutateAsync(task.id);
      notifications.show({ color: "teal", message: t("menu.deleted", { name: task.name }) });
      navigate("/tasks", { replace: true });
    } catch {
      /* shown by the mutation cache */
    }
  }

  async function onDuplicate(include_targets: boolean) {
    try {
      const copy = await duplicate.mutateAsync({ id: task.id, include_targets });
      notifications.show({ color: "teal", message: t("menu.created", { name: copy.name }) });
      navigate(`/tasks/${copy.id}`);
    } catch {
      /* shown by the mutation cache */
    }
  }

  async function onReport(format: "csv" | "xlsx") {
    try {
      await downloadReport(task.id, format, currentLang());
    } catch (err) {
      notifications.show({ color: "red", title: t("menu.report.error"), message: describeError(err) });
    }
  }

  return (
    <Group gap="xs">
      <Tooltip label={running ? t("menu.edit.running") : t("menu.edit")}>
        <Button component={Link} to={`/tasks/${task.id}/edit`} variant="default" leftSection={<IconEdit size={16} />}>
          {t("menu.edit")}
        </Button>
      </Tooltip>
      <Menu position="bottom-end">
        <Menu.Target>
          <ActionIcon variant="default" size="lg" aria-label={t("menu.more")}>
            <IconDots size={18} />
          </ActionIcon>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => void onDuplicate(false)}>
            {t("menu.duplicate")}
          </Menu.Item>
          <Menu.Item leftSection={<IconCopy size={16} />} onClick={() => void onDuplicate(true)}>
            {t("menu.duplicate_with_audience")}
          </Menu.Item>
          <Menu.Divider />
          <Menu.Label>{t("menu.report")}</Menu.Label>
          <Menu.Item leftSection={<IconFileDownload size={16} />} onClick={() => void onReport("csv")}>
            {t("menu.csv")}
          </Menu.Item>
          <Menu.Item leftSection={<IconFileDownload size={16} />} onClick={() => void onReport("xlsx")}>
            {t("menu.xlsx")}
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => void onDelete()} disabled={running}>
            {t("menu.delete")}
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </Group>
  );
}
