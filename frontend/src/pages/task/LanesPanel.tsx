import { Button, Group, Paper, Progress, SimpleGrid, Skeleton, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconClockPause, IconPlugConnected } from "@tabler/icons-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Task, useAccounts, useLanes, useReactivateAccount } from "../../api/hooks";
import { describeError } from "../../api/problem";
import type { TaskStatusOut } from "../../api/taskStatus";
import type { AccountOut, AccountUsage, LaneOut } from "../../api/types";
import { LaneStatusBadge } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { EmptyState, ErrorState } from "../../components/States";
import { countdown, num, relative, windowName } from "../../lib/format";
import { laneWaitingText, type Waiting } from "../../lib/waiting";

function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function Quota({ u }: { u: AccountUsage }) {
  const { t } = useTranslation("task");
  const share = u.limit > 0 ? (100 * u.used) / u.limit : 0;
  return (
    <div>
      <Group justify="space-between" wrap="wrap" gap={4}>
        <Text size="xs" c="dimmed">
          {t(`lanes.quota.${u.action === "message" ? "message" : "invite"}`, { window: windowName(u.window_seconds) })}
        </Text>
        <Text size="xs">
          {num(u.used)} / {num(u.limit)}
        </Text>
      </Group>
      <Progress value={share} size="sm" color={share >= 100 ? "red" : share >= 80 ? "yellow" : "teal"} />
    </div>
  );
}

/**
 * An `unavailable` lane (its session revoked, logged out, …) waits for the user: once the account is
 * fixed in the Integration Service, reactivating puts it back to work in all their tasks. Restricted
 * lanes are not offered this: a restriction runs its full time.
 */
function Reactivate({ lane, taskId }: { lane: LaneOut; taskId: string }) {
  const { t } = useTranslation("task");
  const confirm = useConfirm();
  const reactivate = useReactivateAccount();
  const name = lane.label || lane.account_id;

  async function run() {
    const ok = await confirm({
      title: t("lanes.reactivate.title", { name }),
      message: t("lanes.reactivate.body"),
      confirmLabel: t("lanes.reactivate"),
    });
    if (!ok) return;
    try {
      const out = await reactivate.mutateAsync(lane.account_id);
      const back = out.lanes_reactivated ? t("lanes.reactivate.back", { count: out.lanes_reactivated }) : t("lanes.reactivate.none");
      const paused = out.paused_task_ids.includes(taskId) ? ` ${t("lanes.reactivate.paused")}` : "";
      notifications.show({ color: "teal", title: t("lanes.reactivate.done", { name }), message: back + paused, autoClose: paused ? false : 5000 });
    } catch {
      /* shown next to the button */
    }
  }

  return (
    <Stack gap={6} data-testid="reactivate">
      <Text size="xs" c="dimmed">
        {t("lanes.reactivate.hint")}
      </Text>
      <Group>
        <Button size="xs" variant="light" leftSection={<IconPlugConnected size={14} />} loading={reactivate.isPending} onClick={() => void run()}>
          {t("lanes.reactivate")}
        </Button>
      </Group>
      {reactivate.isError && (
        <Text size="xs" c="red" role="alert" data-testid="reactivate-error">
          {describeError(reactivate.error)}
        </Text>
      )}
    </Stack>
  );
}

function Lane({ lane, taskId, usage, waiting, now }: { lane: LaneOut; taskId: string; usage: AccountUsage[]; waiting: Waiting | null; now: number }) {
  const { t } = useTranslation("task");
  const cd = countdown(lane.cooldown_until, now);
  const next = countdown(lane.next_action_at, now);
  const held = laneWaitingText(waiting, t, new Date(now));
  return (
    <Paper withBorder radius="md" p="sm" data-lane={lane.account_id}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap" gap={4}>
          <Text fw={600} style={{ wordBreak: "break-word" }}>
            {lane.label || lane.account_id}
          </Text>
          <LaneStatusBadge status={lane.status} />
        </Group>
        {held && (
          <Group gap={6} wrap="nowrap" align="flex-start" data-testid="lane-waiting" data-reason={waiting?.reason}>
            <IconClockPause size={16} style={{ flexShrink: 0, marginTop: 2 }} />
            <Text size="sm" c="yellow.8" fw={500}>
              {held}
            </Text>
          </Group>
        )}
        {cd && !held && (
          <Text size="sm" c="yellow.8" data-testid="cooldown">
            {t("lanes.back_in", { time: cd })}
          </Text>
        )}
        <Group gap="lg" wrap="wrap">
          <Text size="sm">{t("lanes.sent", { n: num(lane.sent) })}</Text>
          <Text size="sm" c={lane.failed ? "red" : undefined}>
            {t("lanes.failed", { n: num(lane.failed) })}
          </Text>
          <Text size="xs" c="dimmed">
            {lane.last_used_at ? t("lanes.last", { when: relative(lane.last_used_at, now) }) : t("lanes.unused")}
          </Text>
        </Group>
        {!cd && !held && next && lane.status === "active" && (
          <Text size="xs" c="dimmed">
            {t("lanes.next", { time: next })}
          </Text>
        )}
        {lane.restricted_at && (
          <Text size="xs" c="red">
            {t("lanes.restricted", { when: relative(lane.restricted_at, now) })}
          </Text>
        )}
        {usage.map((u) => (
          <Quota key={`${u.action}-${u.window_seconds}`} u={u} />
        ))}
        {lane.last_error && (
          <Text size="xs" c="red" style={{ wordBreak: "break-word" }}>
            {lane.last_error}
          </Text>
        )}
        {lane.status === "unavailable" && <Reactivate lane={lane} taskId={taskId} />}
      </Stack>
    </Paper>
  );
}

/** GET /accounts answers a list, or (issue 15) a page of them. */
function accountList(data: unknown): AccountOut[] {
  if (Array.isArray(data)) return data as AccountOut[];
  const items = (data as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as AccountOut[]) : [];
}

/** The task's accounts at work: state, what each waits for and until when, quota bars. */
export function LanesPanel({ task, status }: { task: Task; status?: TaskStatusOut }) {
  const { t } = useTranslation("task");
  const live = task.status === "running";
  const lanes = useLanes(task.id, live);
  const accounts = useAccounts();
  const now = useNow();
  if (lanes.isPending) return <Skeleton height={120} />;
  if (lanes.isError) return <ErrorState error={lanes.error} onRetry={() => void lanes.refetch()} title={t("lanes.error")} />;
  if (lanes.data.length === 0) {
    return <EmptyState title={t("lanes.empty")}>{t("lanes.empty.body")}</EmptyState>;
  }
  const list = accountList(accounts.data);
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm" data-testid="lanes">
      {lanes.data.map((l) => (
        <Lane
          key={l.account_id}
          lane={l}
          taskId={task.id}
          now={now}
          waiting={status?.lanes.find((s) => s.account_id === l.account_id)?.waiting ?? null}
          usage={list.find((a) => a.id === l.account_id)?.usage ?? []}
        />
      ))}
    </SimpleGrid>
  );
}
