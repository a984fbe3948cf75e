import { Badge, Group, Paper, ScrollArea, Skeleton, Stack, Table, Text, Title } from "@mantine/core";
import { lazy, Suspense } from "react";
import { type Task, useTaskLogs, useTaskStats } from "../../api/hooks";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime } from "../../lib/format";

// Recharts is the heaviest dependency: loaded only when the Activity tab opens.
const Charts = lazy(() => import("./Charts"));

const OUTCOME_COLOR: Record<string, string> = {
  success: "teal",
  invited: "teal",
  messaged: "green",
  already_member: "cyan",
  failed: "red",
  target_rejected: "red",
  retry_after: "yellow",
  account_restricted: "orange",
  skipped: "orange",
};

export function ActivityPanel({ task }: { task: Task }) {
  const live = task.status === "running";
  const stats = useTaskStats(task.id, live);
  const logs = useTaskLogs(task.id, live);

  return (
    <Stack gap="md">
      <Paper withBorder radius="md" p="md">
        <Title order={3} size="h5" mb="sm">
          Outcomes
        </Title>
        <Suspense fallback={<Skeleton height={240} />}>
          {stats.isError ? (
            <ErrorState error={stats.error} onRetry={() => void stats.refetch()} title="Could not load the statistics" />
          ) : (
            <Charts counters={task.counters} stats={stats.data ?? null} />
          )}
        </Suspense>
      </Paper>

      <Paper withBorder radius="md" p="md">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h5">
            Live log
          </Title>
          {live && (
            <Badge color="red" variant="dot">
              live
            </Badge>
          )}
        </Group>
        {logs.isPending ? (
          <Skeleton height={160} />
        ) : logs.isError ? (
          <ErrorState error={logs.error} onRetry={() => void logs.refetch()} title="Could not load the log" />
        ) : logs.data.length === 0 ? (
          <EmptyState title="Nothing has happened yet">Every send, refusal and wait appears here as it happens.</EmptyState>
        ) : (
          <ScrollArea.Autosize mah={420}>
            <Table fz="sm" verticalSpacing={4} striped data-testid="log-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Account</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>Error</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {logs.data.map((l) => (
                  <Table.Tr key={l.id}>
                    <Table.Td>{dateTime(l.at)}</Table.Td>
                    <Table.Td>{l.account_id ?? "—"}</Table.Td>
                    <Table.Td>{l.action}</Table.Td>
                    <Table.Td>
                      <Badge size="sm" variant="light" color={OUTCOME_COLOR[l.outcome.toLowerCase()] ?? "gray"}>
                        {l.outcome}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" c={l.error_code ? "red" : "dimmed"}>
                        {l.error_code ?? "—"}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        )}
      </Paper>
    </Stack>
  );
}
