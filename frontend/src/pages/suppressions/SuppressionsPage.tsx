import { ActionIcon, Badge, Button, Group, Paper, SegmentedControl, Select, Skeleton, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconDownload, IconFileImport, IconSearch, IconShieldOff, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { describeError } from "../../api/problem";
import {
  downloadSuppressions,
  type SuppressionPlatform as Platform,
  type SuppressionReason as Reason,
  useRemoveSuppression,
  useSuppressions,
} from "../../api/suppressions";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";
import { AddSuppression } from "./AddSuppression";
import { ImportSuppressions } from "./ImportSuppressions";
import { REASONS } from "./reasons";

const PAGE_SIZE = 50;

/** The user's opt-out list: never imported, checked again before every send. */
export function SuppressionsPage() {
  const [platform, setPlatform] = useState<Platform>("telegram");
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={1} size="h2">
            Opt-out list
          </Title>
          <Text c="dimmed" size="sm">
            People on this list are left out of every import and checked again right before each send.
          </Text>
        </div>
        <SegmentedControl
          value={platform}
          onChange={(v) => setPlatform(v as Platform)}
          data={[
            { value: "telegram", label: "Telegram" },
            { value: "sandbox", label: "Sandbox" },
          ]}
          aria-label="Platform"
        />
      </Group>
      <Suppressions platform={platform} />
    </Stack>
  );
}

function Suppressions({ platform }: { platform: Platform }) {
  const confirm = useConfirm();
  const [search, setSearch] = useState("");
  const [reason, setReason] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const q = useDebounced(search.trim());
  const pages = useCursorStack(JSON.stringify([q, reason, platform]));
  const list = useSuppressions(platform, { q, reason: reason as Reason | null, cursor: pages.cursor, limit: PAGE_SIZE });
  const remove = useRemoveSuppression();

  return (
    <>
      <AddSuppression platform={platform} />
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" style={{ flex: "1 1 320px" }} wrap="wrap">
          <TextInput
            aria-label="Search the list"
            placeholder="Search"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            style={{ flex: "1 1 200px" }}
          />
          <Select aria-label="Reason" placeholder="Any reason" data={REASONS} value={reason} onChange={setReason} clearable w={200} />
        </Group>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)}>
            Import file
          </Button>
          <Button
            variant="default"
            leftSection={<IconDownload size={16} />}
            onClick={() =>
              void downloadSuppressions(platform).catch((err: unknown) => notifications.show({ color: "red", title: "Export failed", message: describeError(err) }))
            }
          >
            Export CSV
          </Button>
        </Group>
      </Group>
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title="Could not load the list" />
      ) : list.data.items.length === 0 ? (
        <EmptyState icon={<IconShieldOff size={24} />} title={q || reason ? "Nobody matches" : "The list is empty"}>
          {q || reason ? undefined : "Add anyone who asked not to be contacted; the service also adds people who block your accounts."}
        </EmptyState>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" data-testid="suppressions-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Who</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Source</Table.Th>
                <Table.Th>Added</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.items.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm" className="mono">
                        {s.key}
                      </Text>
                      <Badge size="xs" variant="outline" color="gray">
                        {s.kind}
                      </Badge>
                    </Group>
                    {s.note && (
                      <Text size="xs" c="dimmed">
                        {s.note}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{REASONS.find((r) => r.value === s.reason)?.label ?? s.reason}</Table.Td>
                  <Table.Td>{s.source}</Table.Td>
                  <Table.Td>{dateTime(s.created_at)}</Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Remove ${s.key}`}
                      onClick={async () => {
                        if (await confirm({ title: `Remove ${s.key}?`, message: "Your tasks may contact them again.", confirmLabel: "Remove", color: "red" }))
                          remove.mutate(s.id, {
                            onSuccess: () => notifications.show({ color: "teal", message: "Removed from the opt-out list" }),
                          });
                      }}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun="entries" />
      <ImportSuppressions platform={platform} opened={importing} onClose={() => setImporting(false)} />
    </>
  );
}
