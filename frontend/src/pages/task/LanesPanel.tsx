import { Group, Paper, Progress, SimpleGrid, Skeleton, Stack, Text } from "@mantine/core";
import { useEffect, useState } from "react";
import { type Task, useAccounts, useLanes } from "../../api/hooks";
import type { AccountUsage, LaneOut } from "../../api/pending";
import { LaneStatusBadge } from "../../components/Badges";
import { EmptyState, ErrorState, NotYetAvailable } from "../../components/States";
import { countdown, num, relative, windowName } from "../../lib/format";

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

function Lane({ lane, usage, now }: { lane: LaneOut; usage: AccountUsage[]; now: number }) {
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
  if (!lanes.available) {
    return (
      <Stack>
        <NotYetAvailable what="Account lanes" endpoint="GET /api/v1/tasks/{id}/accounts" />
        {task.account_ids.length > 0 && (
          <Text size="sm" c="dimmed">
            Accounts picked for this task: {task.account_ids.join(", ")}
          </Text>
        )}
      </Stack>
    );
  }
  if (lanes.isPending) return <Skeleton height={120} />;
  if (lanes.isError) return <ErrorState error={lanes.error} onRetry={() => void lanes.refetch()} title="Could not load the accounts" />;
  if (lanes.data.length === 0) {
    return <EmptyState title="No accounts on this task" >Edit the task to pick the accounts it may use.</EmptyState>;
  }
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm" data-testid="lanes">
      {lanes.data.map((l) => (
        <Lane key={l.account_id} lane={l} now={now} usage={accounts.data?.find((a) => a.id === l.account_id)?.usage ?? []} />
      ))}
    </SimpleGrid>
  );
}
