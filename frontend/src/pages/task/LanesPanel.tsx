import { Button, Group, Paper, Progress, SimpleGrid, Skeleton, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPlugConnected } from "@tabler/icons-react";
import { useEffect, useState } from "react";
import { type Task, useAccounts, useLanes, useReactivateAccount } from "../../api/hooks";
import { describeError } from "../../api/problem";
import type { AccountUsage, LaneOut } from "../../api/types";
import { LaneStatusBadge } from "../../components/Badges";
import { useConfirm } from "../../components/Confirm";
import { EmptyState, ErrorState } from "../../components/States";
import { countdown, num, plural, relative, windowName } from "../../lib/format";

function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function Quota({ u }: { u: AccountUsage }) {
  const share = u.limit > 0 ? (100 * u.used) / u.limit : 0;
  return (
    <div>
      <Group justify="space-between">
        <Text size="xs" c="dimmed">
          {u.action}s per {windowName(u.window_seconds)}
        </Text>
        <Text size="xs">
          {u.used} / {u.limit}
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
  const confirm = useConfirm();
  const reactivate = useReactivateAccount();
  const name = lane.label || lane.account_id;

  async function run() {
    const ok = await confirm({
      title: `Reactivate ${name}?`,
      message:
        "The service asks the Integration Service whether the account works again; if it does, its unavailable lanes go back to work in all your tasks.",
      confirmLabel: "Reactivate",
    });
    if (!ok) return;
    try {
      const out = await reactivate.mutateAsync(lane.account_id);
      const back = out.lanes_reactivated ? `${plural(out.lanes_reactivated, "lane")} went back to work.` : "No lane was waiting for it any more.";
      const paused = out.paused_task_ids.includes(taskId) ? " This task is paused: resuming it is up to you." : "";
      notifications.show({ color: "teal", title: `${name} reactivated`, message: back + paused, autoClose: paused ? false : 5000 });
    } catch {
      /* shown next to the button */
    }
  }

  return (
    <Stack gap={6} data-testid="reactivate">
      <Text size="xs" c="dimmed">
        The account's session is gone; log it in again in the Integration Service, then reactivate it here.
      </Text>
      <Group>
        <Button size="xs" variant="light" leftSection={<IconPlugConnected size={14} />} loading={reactivate.isPending} onClick={() => void run()}>
          Reactivate
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

function Lane({ lane, taskId, usage, now }: { lane: LaneOut; taskId: string; usage: AccountUsage[]; now: number }) {
  const cd = countdown(lane.cooldown_until, now);
  const next = countdown(lane.next_action_at, now);
  return (
    <Paper withBorder radius="md" p="sm" data-lane={lane.account_id}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600} truncate>
            {lane.label || lane.account_id}
          </Text>
          <LaneStatusBadge status={lane.status} />
        </Group>
        {cd && (
          <Text size="sm" c="yellow.8" data-testid="cooldown">
            Back in {cd}
          </Text>
        )}
        <Group gap="lg">
          <Text size="sm">
            <b>{num(lane.sent)}</b> sent
          </Text>
          <Text size="sm" c={lane.failed ? "red" : undefined}>
            <b>{num(lane.failed)}</b> failed
          </Text>
          <Text size="xs" c="dimmed">
            {lane.last_used_at ? `last ${relative(lane.last_used_at, now)}` : "not used yet"}
          </Text>
        </Group>
        {!cd && next && lane.status === "active" && (
          <Text size="xs" c="dimmed">
            Next action in {next}
          </Text>
        )}
        {lane.restricted_at && (
          <Text size="xs" c="red">
            Restricted {relative(lane.restricted_at, now)}
          </Text>
        )}
        {usage.map((u) => <Quota key={`${u.action}-${u.window_seconds}`} u={u} />)}
        {lane.last_error && (
          <Text size="xs" c="red">
            {lane.last_error}
          </Text>
        )}
        {lane.status === "unavailable" && <Reactivate lane={lane} taskId={taskId} />}
      </Stack>
    </Paper>
  );
}

/** The task's accounts at work: state, cooldown countdown, quota bars. */
export function LanesPanel({ task }: { task: Task }) {
  const live = task.status === "running";
  const lanes = useLanes(task.id, live);
  const accounts = useAccounts();
  const now = useNow();
  if (lanes.isPending) return <Skeleton height={120} />;
  if (lanes.isError) return <ErrorState error={lanes.error} onRetry={() => void lanes.refetch()} title="Could not load the accounts" />;
  if (lanes.data.length === 0) {
    return <EmptyState title="No accounts on this task" >Edit the task to pick the accounts it may use.</EmptyState>;
  }
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm" data-testid="lanes">
      {lanes.data.map((l) => (
        <Lane key={l.account_id} lane={l} taskId={task.id} now={now} usage={accounts.data?.items.find((a) => a.id === l.account_id)?.usage ?? []} />
      ))}
    </SimpleGrid>
  );
}
