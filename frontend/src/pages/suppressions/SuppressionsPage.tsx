import { ActionIcon, Badge, Button, Card, Group, Paper, Select, Skeleton, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconDownload, IconFileImport, IconSearch, IconShieldOff, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { describeError } from "../../api/problem";
import {
  downloadSuppressions,
  type Suppression,
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
import { ALL, platformLabel, platformOptions, reasonLabel, reasonOptions } from "./reasons";

const PAGE_SIZE = 50;

/** The user's opt-out list: never imported, checked again before every send. All platforms by default. */
export function SuppressionsPage() {
  const { t } = useTranslation("suppressions");
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={1} size="h2">
            {t("title")}
          </Title>
          <Text c="dimmed" size="sm">
            {t("intro")}
          </Text>
        </div>
      </Group>
      <AddSuppression />
      <Suppressions />
    </Stack>
  );
}

function Suppressions() {
  const { t } = useTranslation("suppressions");
  const [shown, setShown] = useState<string>(ALL);
  const platform = (shown === ALL ? null : shown) as Platform;
  const confirm = useConfirm();
  const isPhone = useMediaQuery("(max-width: 48em)");
  const [search, setSearch] = useState("");
  const [reason, setReason] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const q = useDebounced(search.trim());
  const pages = useCursorStack(JSON.stringify([q, reason, platform]));
  const list = useSuppressions(platform, { q, reason: reason as Reason | null, cursor: pages.cursor, limit: PAGE_SIZE });
  const remove = useRemoveSuppression();
  const items = (list.data?.items ?? []) as Suppression[];

  const onRemove = async (s: Suppression) => {
    if (await confirm({ title: t("remove.title", { who: s.key }), message: t("remove.body"), confirmLabel: t("remove.button"), color: "red" }))
      remove.mutate(s.id, { onSuccess: () => notifications.show({ color: "teal", message: t("remove.done") }) });
  };
  const removeButton = (s: Suppression) => (
    <ActionIcon variant="subtle" color="red" aria-label={t("remove.label", { who: s.key })} onClick={() => void onRemove(s)}>
      <IconTrash size={16} />
    </ActionIcon>
  );
  const who = (s: Suppression) => (
    <>
      <Group gap={6} wrap="wrap">
        <Text size="sm" className="mono" style={{ overflowWrap: "anywhere" }}>
          {s.key}
        </Text>
        <Badge size="xs" variant="outline" color="gray" style={{ overflow: "visible" }}>
          {t(`kind.${s.kind}`, { defaultValue: s.kind })}
        </Badge>
      </Group>
      {s.note && (
        <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {s.note}
        </Text>
      )}
    </>
  );
  const source = (s: Suppression) => t(`source.${s.source.split(":")[0]}`, { defaultValue: s.source });

  return (
    <>
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" style={{ flex: "1 1 320px" }} wrap="wrap">
          <TextInput
            aria-label={t("search.label")}
            placeholder={t("search.placeholder")}
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            style={{ flex: "1 1 200px" }}
          />
          <Select
            aria-label={t("filter.platform")}
            data={platformOptions(t)}
            value={shown}
            onChange={(v) => setShown(v ?? ALL)}
            allowDeselect={false}
            style={{ flex: "1 1 160px" }}
            data-testid="platform-filter"
          />
          <Select aria-label={t("filter.reason")} placeholder={t("filter.any_reason")} data={reasonOptions(t)} value={reason} onChange={setReason} clearable style={{ flex: "1 1 180px" }} />
        </Group>
        <Group gap="xs" wrap="wrap">
          <Button variant="default" leftSection={<IconFileImport size={16} />} onClick={() => setImporting(true)}>
            {t("import.open")}
          </Button>
          <Button
            variant="default"
            leftSection={<IconDownload size={16} />}
            onClick={() =>
              void downloadSuppressions(platform).catch((err: unknown) =>
                notifications.show({ color: "red", title: t("export.failed"), message: describeError(err) }),
              )
            }
          >
            {t("export.button")}
          </Button>
        </Group>
      </Group>
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title={t("load_failed")} />
      ) : items.length === 0 ? (
        <EmptyState icon={<IconShieldOff size={24} />} title={q || reason ? t("empty.filtered") : t("empty.title")}>
          {q || reason ? undefined : t("empty.body")}
        </EmptyState>
      ) : isPhone ? (
        <Stack gap="xs" data-testid="suppressions-cards">
          {items.map((s) => (
            <Card key={s.id} withBorder radius="md" padding="sm" data-testid="suppression-card">
              <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
                <div style={{ minWidth: 0 }}>{who(s)}</div>
                {removeButton(s)}
              </Group>
              <Text size="xs" c="dimmed" mt={4}>
                {reasonLabel(t, s.reason)} · {platformLabel(t, s.platform)} · {source(s)}
              </Text>
              <Text size="xs" c="dimmed">
                {dateTime(s.created_at)}
              </Text>
            </Card>
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" data-testid="suppressions-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("col.who")}</Table.Th>
                <Table.Th>{t("col.platform")}</Table.Th>
                <Table.Th>{t("col.reason")}</Table.Th>
                <Table.Th>{t("col.source")}</Table.Th>
                <Table.Th>{t("col.added")}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>{who(s)}</Table.Td>
                  <Table.Td>{platformLabel(t, s.platform)}</Table.Td>
                  <Table.Td>{reasonLabel(t, s.reason)}</Table.Td>
                  <Table.Td>{source(s)}</Table.Td>
                  <Table.Td>{dateTime(s.created_at)}</Table.Td>
                  <Table.Td>{removeButton(s)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun={t("noun")} />
      <ImportSuppressions platform={platform} opened={importing} onClose={() => setImporting(false)} />
    </>
  );
}
