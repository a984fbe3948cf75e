import { Badge, Button, Card, Group, Paper, ScrollArea, Select, Skeleton, Stack, Table, Text, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Task, useTaskStats } from "../../api/hooks";
import { type Explained, useExplain } from "../../api/reasons";
import { type LogOut, type TaskStatusOut, useFilteredLogs } from "../../api/taskStatus";
import { OutcomeBadge, WRAP } from "../../components/Badges";
import { EmptyState, ErrorState } from "../../components/States";
import { timeExact } from "../../lib/format";
import { LOG_LOOK, LOG_OUTCOMES, lookLabel } from "../../lib/outcomes";
import { ReasonBreakdown } from "./ReasonBreakdown";

// Recharts is the heaviest dependency: loaded only when the Activity tab opens.
const Charts = lazy(() => import("./Charts"));

/** A reason's text colour: a final refusal is red, a retryable one yellow, a benign one plain. */
function reasonColor(why: Explained): string | undefined {
  if (why.kind === "final") return "red";
  if (why.kind === "retryable") return "yellow.8";
  if (why.kind === "benign" || why.kind === "success") return "dimmed";
  return undefined;
}

export function ActivityPanel({ task, status, onReason }: { task: Task; status?: TaskStatusOut; onReason?: (code: string) => void }) {
  const { t } = useTranslation("task");
  const live = task.status === "running";
  const stats = useTaskStats(task.id, live);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [account, setAccount] = useState<string | null>(null);
  const logs = useFilteredLogs(task.id, { ...(outcome ? { outcome } : {}), ...(account ? { account_id: account } : {}) }, live);
  const explain = useExplain();
  const isPhone = useMediaQuery("(max-width: 48em)");
  const accounts = (status?.lanes ?? []).map((l) => ({ value: l.account_id, label: l.label || l.account_id }));
  for (const id of task.account_ids) if (!accounts.some((a) => a.value === id)) accounts.push({ value: id, label: id });
  const filtered = !!(outcome || account);

  return (
    <Stack gap="md">
      <Paper withBorder radius="md" p="md">
        <Title order={3} size="h5" mb="sm">
          {t("activity.outcomes")}
        </Title>
        <Suspense fallback={<Skeleton height={240} />}>
          {stats.isError ? (
            <ErrorState error={stats.error} onRetry={() => void stats.refetch()} title={t("activity.stats_error")} />
          ) : (
            <Charts counters={task.counters} stats={stats.data ?? null} />
          )}
        </Suspense>
      </Paper>

      <Paper withBorder radius="md" p="md">
        <Title order={3} size="h5" mb="sm">
          {t("breakdown.title")}
        </Title>
        <ReasonBreakdown stats={stats.data} onPick={(code) => onReason?.(code)} />
      </Paper>

      <Paper withBorder radius="md" p="md">
        <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
          <Group gap="xs">
            <Title order={3} size="h5">
              {t("log.title")}
            </Title>
            {live && (
              <Badge color="red" variant="dot" styles={WRAP}>
                {t("log.live")}
              </Badge>
            )}
          </Group>
          <Group gap="xs" wrap="wrap" style={{ flex: "1 1 260px", justifyContent: "flex-end" }}>
            <Select
              aria-label={t("log.filter.outcome")}
              placeholder={t("log.filter.any_outcome")}
              data={LOG_OUTCOMES.map((o) => ({ value: o, label: lookLabel(LOG_LOOK[o]) }))}
              value={outcome}
              onChange={setOutcome}
              clearable
              size="xs"
              style={{ flex: "1 1 160px", maxWidth: 240 }}
              data-testid="log-filter-outcome"
            />
            <Select
              aria-label={t("log.filter.account")}
              placeholder={t("log.filter.any_account")}
              data={accounts}
              value={account}
              onChange={setAccount}
              clearable
              size="xs"
              style={{ flex: "1 1 160px", maxWidth: 240 }}
              data-testid="log-filter-account"
            />
          </Group>
        </Group>
        {logs.isPending ? (
          <Skeleton height={160} />
        ) : logs.isError ? (
          <ErrorState error={logs.error} onRetry={() => void logs.refetch()} title={t("log.error")} />
        ) : logs.data.length === 0 ? (
          filtered ? (
            <EmptyState
              title={t("log.no_match")}
              action={
                <Button
                  variant="light"
                  onClick={() => {
                    setOutcome(null);
                    setAccount(null);
                  }}
                >
                  {t("log.clear")}
                </Button>
              }
            />
          ) : (
            <EmptyState title={t("log.empty")}>{t("log.empty.body")}</EmptyState>
          )
        ) : isPhone ? (
          <Stack gap="xs" data-testid="log-cards">
            {logs.data.map((l) => (
              <LogCard key={l.id} l={l} why={l.error_code ? explain(l.error_code) : null} />
            ))}
          </Stack>
        ) : (
          <ScrollArea.Autosize mah={480}>
            <Table fz="sm" verticalSpacing={4} striped data-testid="log-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("log.col.time")}</Table.Th>
                  <Table.Th>{t("log.col.target")}</Table.Th>
                  <Table.Th>{t("log.col.account")}</Table.Th>
                  <Table.Th>{t("log.col.outcome")}</Table.Th>
                  <Table.Th>{t("log.col.reason")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {logs.data.map((l) => {
                  const why = l.error_code ? explain(l.error_code) : null;
                  return (
                    <Table.Tr key={l.id} data-log={l.id}>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{timeExact(l.at)}</Table.Td>
                      <Table.Td className="mono" data-testid="log-target">
                        {l.target ?? "—"}
                      </Table.Td>
                      <Table.Td>{l.account_label || l.account_id || "—"}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="wrap">
                          <OutcomeBadge outcome={l.outcome} />
                          <Text size="xs" c="dimmed">
                            {t(`log.action.${l.action}`, { defaultValue: l.action })}
                          </Text>
                        </Group>
                      </Table.Td>
                      <Table.Td maw={360}>
                        {why ? (
                          <Text size="xs" c={reasonColor(why)} data-testid="log-reason" style={{ wordBreak: "break-word" }}>
                            {why.text}
                          </Text>
                        ) : (
                          <Text size="xs" c="dimmed">
                            —
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        )}
      </Paper>
    </Stack>
  );
}

/** One log row as a card (narrow screens): nothing cut, every field on its own line. */
function LogCard({ l, why }: { l: LogOut; why: Explained | null }) {
  const { t } = useTranslation("task");
  return (
    <Card withBorder padding="xs" radius="md" data-log={l.id}>
      <Group justify="space-between" wrap="wrap" gap={4}>
        <Text size="sm" fw={600} className="mono" style={{ wordBreak: "break-all" }} data-testid="log-target">
          {l.target ?? "—"}
        </Text>
        <OutcomeBadge outcome={l.outcome} />
      </Group>
      <Text size="xs" c="dimmed">
        {timeExact(l.at)} · {l.account_label || l.account_id || "—"} · {t(`log.action.${l.action}`, { defaultValue: l.action })}
      </Text>
      {why && (
        <Text size="xs" c={reasonColor(why)} mt={2} data-testid="log-reason" style={{ wordBreak: "break-word" }}>
          {why.text}
        </Text>
      )}
    </Card>
  );
}
