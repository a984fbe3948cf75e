import { Alert, Checkbox, Group, Paper, Progress, SimpleGrid, Skeleton, Stack, Text } from "@mantine/core";
import { IconInfoCircle } from "@tabler/icons-react";
import { useAccounts } from "../../api/hooks";
import type { AccountOut, AccountUsage } from "../../api/types";
import { LaneStatusBadge } from "../../components/Badges";
import { ErrorState } from "../../components/States";
import { countdown, windowName } from "../../lib/format";

interface Props {
  value: string[];
  onChange: (ids: string[]) => void;
  error?: string | null;
  platform: string;
}

function UsageBar({ u }: { u: AccountUsage }) {
  const share = u.limit > 0 ? (100 * u.used) / u.limit : 0;
  return (
    <div>
      <Group justify="space-between" gap={4}>
        <Text size="xs" c="dimmed">
          {u.action}s per {windowName(u.window_seconds)}
        </Text>
        <Text size="xs">
          {u.remaining} of {u.limit} left
        </Text>
      </Group>
      <Progress value={share} size="sm" color={share >= 100 ? "red" : share >= 80 ? "yellow" : "teal"} />
    </div>
  );
}

function AccountCard({ account, checked, onToggle }: { account: AccountOut; checked: boolean; onToggle: () => void }) {
  const cooldown = countdown(account.cooldown_until);
  return (
    <Paper withBorder radius="md" p="sm" className={checked ? "row-selected" : undefined}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Checkbox checked={checked} onChange={onToggle} label={account.label || account.username || account.id} aria-label={`Use account ${account.label || account.id}`} />
          <LaneStatusBadge status={account.status} />
        </Group>
        {cooldown && (
          <Text size="xs" c="yellow.8">
            Cooling down for {cooldown}
          </Text>
        )}
        {account.status_detail && (
          <Text size="xs" c="dimmed">
            {account.status_detail}
          </Text>
        )}
        {account.usage?.map((u) => <UsageBar key={`${u.action}-${u.window_seconds}`} u={u} />)}
      </Stack>
    </Paper>
  );
}

/** The accounts a task may use: each with its state and remaining quota per window. */
export function AccountPicker({ value, onChange, error, platform }: Props) {
  const accounts = useAccounts();
  const toggle = (id: string) => onChange(value.includes(id) ? value.filter((x) => x !== id) : [...value, id]);

  if (accounts.isPending) return <Skeleton height={90} radius="md" />;
  if (accounts.isError) return <ErrorState error={accounts.error} onRetry={() => void accounts.refetch()} title="Could not load your accounts" />;
  const list = accounts.data.items.filter((a) => !a.platform || a.platform === platform);
  const unknown = value.filter((id) => !list.some((a) => a.id === id));
  return (
    <Stack gap="xs">
      <div>
        <Text size="sm" fw={500}>
          Accounts
        </Text>
        <Text size="xs" c="dimmed">
          The task uses only the accounts you pick; limits are shared with your other tasks on the same account.
        </Text>
      </div>
      {list.length === 0 ? (
        <Alert color="gray" icon={<IconInfoCircle size={18} />}>
          No {platform} accounts are connected to your profile yet.
        </Alert>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="xs">
          {list.map((a) => (
            <AccountCard key={a.id} account={a} checked={value.includes(a.id)} onToggle={() => toggle(a.id)} />
          ))}
        </SimpleGrid>
      )}
      {unknown.length > 0 && (
        <Text size="xs" c="orange">
          Also selected, not among your accounts now: {unknown.join(", ")}
        </Text>
      )}
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}
