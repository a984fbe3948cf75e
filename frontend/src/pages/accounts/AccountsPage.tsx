import { Alert, Anchor, Badge, Button, Card, Group, Paper, Progress, SimpleGrid, Skeleton, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconFlask, IconInfoCircle, IconRefresh, IconUsers } from "@tabler/icons-react";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { type Account, useAccountList } from "../../api/accounts";
import { useReactivateAccount } from "../../api/hooks";
import { describeError } from "../../api/problem";
import { EmptyState, ErrorState } from "../../components/States";
import { num, resumeAt, windowName } from "../../lib/format";

const STATUS_COLOR: Record<string, string> = { active: "teal", cooling_down: "yellow", restricted: "red", unavailable: "gray" };
const PLATFORM_ORDER = ["telegram", "sandbox"];

/** The account's state in words with its reason and time: "At the hourly limit until 14:01", "Restricted until …". */
export function accountState(a: Account, t: TFunction): { label: string; color: string; why: string | null } {
  const w = a.waiting ?? null;
  const until = w?.until ?? a.cooldown_until;
  const detail = a.status_detail;
  if (a.status === "unavailable")
    return { label: t("status.unavailable"), color: "gray", why: detail ? t("why.unavailable_because", { detail }) : t("why.unavailable") };
  if (a.status === "restricted" || w?.reason === "restricted")
    return {
      label: t("status.restricted"),
      color: "red",
      why: until ? t("why.restricted_until", { until: resumeAt(until) }) : detail ? t("why.restricted_because", { detail }) : t("why.restricted"),
    };
  if (w?.reason === "cap")
    return {
      label: t("status.at_limit"),
      color: "orange",
      why: w.until
        ? t("why.cap_until", { window: windowName(w.window_seconds ?? 3600), until: resumeAt(w.until) })
        : t("why.cap", { window: windowName(w.window_seconds ?? 3600) }),
    };
  if (w?.reason === "flood_wait" || a.status === "cooling_down")
    return { label: t("status.cooling_down"), color: "yellow", why: until ? t("why.flood_until", { until: resumeAt(until) }) : t("why.flood") };
  return { label: t("status.active"), color: STATUS_COLOR[a.status] ?? "teal", why: null };
}

export function AccountsPage() {
  const { t } = useTranslation("accounts");
  const list = useAccountList();
  const accounts = list.data ?? [];
  const platforms = [...new Set(accounts.map((a) => a.platform))].sort(
    (x, y) => (PLATFORM_ORDER.indexOf(x) + 1 || 99) - (PLATFORM_ORDER.indexOf(y) + 1 || 99) || x.localeCompare(y),
  );
  return (
    <Stack gap="md">
      <div>
        <Title order={1} size="h2">
          {t("title")}
        </Title>
        <Text c="dimmed" size="sm">
          {t("intro")}
        </Text>
      </div>
      <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} title={t("caps.title")} data-testid="caps-help">
        <Text size="sm">{t("caps.source")}</Text>
        <Text size="sm" mt={4}>
          {t("common:caps.help")}
        </Text>
      </Alert>
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title={t("load_failed")} />
      ) : accounts.length === 0 ? (
        <EmptyState icon={<IconUsers size={24} />} title={t("empty.title")}>
          {t("empty.body")}
        </EmptyState>
      ) : (
        platforms.map((p) => (
          <Stack key={p} gap="sm" component="section" aria-label={platformName(p, t)} data-platform={p}>
            <Title order={2} size="h4">
              {platformName(p, t)}
            </Title>
            <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
              {accounts
                .filter((a) => a.platform === p)
                .map((a) => (
                  <AccountCard key={a.id} account={a} />
                ))}
            </SimpleGrid>
          </Stack>
        ))
      )}
    </Stack>
  );
}

function platformName(p: string, t: TFunction): string {
  return t(`platform.${p}`, { defaultValue: p.charAt(0).toUpperCase() + p.slice(1) });
}

function AccountCard({ account: a }: { account: Account }) {
  const { t } = useTranslation("accounts");
  const state = accountState(a, t);
  const reactivate = useReactivateAccount();
  return (
    <Card withBorder radius="md" padding="md" data-testid="account-card" data-account-id={a.id}>
      <Stack gap="xs">
        <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
          <div style={{ minWidth: 0 }}>
            <Text fw={600} style={{ overflowWrap: "anywhere" }} data-testid="account-label">
              {a.label}
            </Text>
            {a.username && (
              <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
                @{a.username.replace(/^@/, "")}
              </Text>
            )}
          </div>
          <Group gap={6} wrap="wrap">
            {a.simulated && (
              <Badge color="grape" variant="light" leftSection={<IconFlask size={12} />} data-testid="simulated-badge" style={{ overflow: "visible" }}>
                {t("simulated")}
              </Badge>
            )}
            <Badge color={state.color} variant="light" data-testid="account-state" style={{ overflow: "visible" }}>
              {state.label}
            </Badge>
          </Group>
        </Group>
        {state.why && (
          <Text size="sm" c={state.color === "red" ? "red" : undefined} data-testid="account-why">
            {state.why}
          </Text>
        )}
        {a.simulated && (
          <Text size="xs" c="dimmed">
            {t("simulated_hint")}
          </Text>
        )}
        <Usage account={a} />
        <Tasks account={a} />
        {a.status === "unavailable" && (
          <Group>
            <Button
              size="xs"
              variant="light"
              leftSection={<IconRefresh size={14} />}
              loading={reactivate.isPending}
              onClick={() =>
                reactivate.mutate(a.id, {
                  onSuccess: () => notifications.show({ color: "teal", message: t("reactivated", { label: a.label }) }),
                  onError: (err) => notifications.show({ color: "red", title: t("reactivate_failed"), message: describeError(err) }),
                })
              }
            >
              {t("reactivate")}
            </Button>
            <Text size="xs" c="dimmed">
              {t("reactivate_hint")}
            </Text>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function Usage({ account: a }: { account: Account }) {
  const { t } = useTranslation("accounts");
  if (!a.usage.length) return null;
  return (
    <Paper withBorder radius="sm" p="xs" data-testid="account-usage">
      <Text size="xs" fw={600} c="dimmed" mb={4}>
        {t("usage.title")}
      </Text>
      <Stack gap={6}>
        {a.usage.map((u) => {
          const full = u.limit > 0 && u.used >= u.limit;
          return (
            <div key={`${u.action}-${u.window_seconds}`} data-testid="usage-row">
              <Group justify="space-between" gap="xs" wrap="wrap">
                <Text size="sm">{t(`usage.${u.action}`, { window: windowName(u.window_seconds), defaultValue: `${u.action} / ${windowName(u.window_seconds)}` })}</Text>
                <Text size="sm" fw={600} c={full ? "orange" : undefined}>
                  {t("usage.used_of", { used: num(u.used), limit: num(u.limit) })}
                </Text>
              </Group>
              <Progress value={u.limit ? Math.min(100, (u.used / u.limit) * 100) : 0} color={full ? "orange" : "blue"} size="sm" aria-hidden />
              {u.used > 0 && u.resets_at && (
                <Text size="xs" c="dimmed">
                  {full ? t("usage.frees_at", { time: resumeAt(u.resets_at) }) : t("usage.next_frees_at", { time: resumeAt(u.resets_at) })}
                </Text>
              )}
            </div>
          );
        })}
      </Stack>
    </Paper>
  );
}

function Tasks({ account: a }: { account: Account }) {
  const { t } = useTranslation("accounts");
  const tasks = a.tasks ?? [];
  return (
    <div data-testid="account-tasks">
      <Text size="xs" fw={600} c="dimmed">
        {t("tasks.title")}
      </Text>
      {tasks.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t("tasks.none")}
        </Text>
      ) : (
        <Group gap="xs" wrap="wrap">
          {tasks.map((task) => (
            <Anchor key={task.id} component={Link} to={`/tasks/${task.id}`} size="sm" style={{ overflowWrap: "anywhere" }}>
              {task.name} <Text span size="xs" c="dimmed">({t(`task_status.${task.status}`)})</Text>
            </Anchor>
          ))}
        </Group>
      )}
    </div>
  );
}
