import { Alert, Anchor, Badge, Button, Card, Group, Paper, SimpleGrid, Skeleton, Stack, Table, TagsInput, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconDeviceFloppy, IconShieldCheck, IconShieldOff } from "@tabler/icons-react";
import { type ReactNode, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { type ContactDetail, type HistoryItem, useContact, useContactHistory, useUpdateContact } from "../../api/audiences";
import { describeError } from "../../api/problem";
import { useExplain } from "../../api/reasons";
import { OutcomeBadge } from "../../components/Badges";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState, LoadingState } from "../../components/States";
import { dateTime } from "../../lib/format";
import { toLocalInput } from "../task-form/formModel";
import { contactIdentity, contactName } from "./ContactsTable";

const PAGE_SIZE = 50;

/** One person: identities, names, fields, tags and consent (editable), suppression, audiences, and every action across tasks. */
export function ContactPage() {
  const { t } = useTranslation("audiences");
  const id = Number(useParams().contactId);
  const contact = useContact(id);
  if (contact.isPending) return <LoadingState />;
  if (contact.isError) return <ErrorState error={contact.error} onRetry={() => void contact.refetch()} title={t("contact.load_failed")} />;
  const c = contact.data;
  return (
    <Stack gap="md" maw={1100}>
      <div>
        <Title order={1} size="h2" style={{ overflowWrap: "anywhere" }} data-testid="contact-title">
          {contactIdentity(c)}
        </Title>
        <Text c="dimmed" size="sm">
          {[contactName(c), t(`platform.${c.platform}`, { defaultValue: c.platform })].filter(Boolean).join(" · ")}
        </Text>
      </div>
      <SuppressionState c={c} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Box title={t("contact.identities")}>
          <Facts
            rows={[
              [t("contact.username"), c.username ? `@${c.username.replace(/^@/, "")}` : null],
              [t("contact.user_id"), c.user_id],
              [t("contact.phone"), c.phone],
              [t("contact.first_name"), c.first_name],
              [t("contact.last_name"), c.last_name],
              [t("contact.added"), dateTime(c.created_at)],
            ]}
          />
          <Text size="sm" fw={500} mt="xs">
            {t("contact.audiences")}
          </Text>
          <Group gap={6}>
            {c.audiences.length === 0 && (
              <Text size="sm" c="dimmed">
                —
              </Text>
            )}
            {c.audiences.map((a) => (
              <Anchor key={a.id} component={Link} to={`/audiences/${a.id}`} size="sm">
                {a.name}
              </Anchor>
            ))}
          </Group>
        </Box>
        <Box title={t("contact.fields")}>
          {Object.keys(c.fields ?? {}).length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("contact.no_fields")}
            </Text>
          ) : (
            <Facts rows={Object.entries(c.fields).map(([k, v]) => [k, v === null || v === undefined ? null : String(v)])} mono />
          )}
        </Box>
      </SimpleGrid>
      <EditContact key={c.updated_at} c={c} />
      <History id={c.id} />
    </Stack>
  );
}

function Box({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p={{ base: "sm", sm: "md" }} component="section" aria-label={title}>
      <Title order={2} size="h5" mb="xs">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function Facts({ rows, mono }: { rows: [string, string | null][]; mono?: boolean }) {
  return (
    <Stack gap={4}>
      {rows.map(([k, v]) => (
        <Group key={k} gap="xs" wrap="nowrap" align="flex-start">
          <Text size="sm" c="dimmed" w={130} style={{ flexShrink: 0 }} className={mono ? "mono" : undefined}>
            {k}
          </Text>
          <Text size="sm" style={{ overflowWrap: "anywhere" }}>
            {v || "—"}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

function SuppressionState({ c }: { c: ContactDetail }) {
  const { t } = useTranslation("audiences");
  const s = c.suppression;
  if (!s)
    return (
      <Alert color="teal" variant="light" icon={<IconShieldCheck size={18} />} data-testid="suppression-state" p="xs">
        {t("contact.not_suppressed")}
      </Alert>
    );
  return (
    <Alert color="orange" icon={<IconShieldOff size={18} />} title={t("contact.suppressed")} data-testid="suppression-state">
      {t("contact.suppressed_body", {
        reason: t(`suppressions:reason.${s.reason}`, { defaultValue: s.reason }),
        source: s.source,
        at: dateTime(s.created_at),
      })}
    </Alert>
  );
}

/** Tags and consent, saved together. A consent date is entered in the browser's zone and sent as UTC. */
function EditContact({ c }: { c: ContactDetail }) {
  const { t } = useTranslation("audiences");
  const update = useUpdateContact(c.id);
  const [tags, setTags] = useState<string[]>(c.tags);
  const [source, setSource] = useState(c.consent?.source ?? "");
  const [at, setAt] = useState(toLocalInput(c.consent?.at));
  const [note, setNote] = useState(c.consent?.note ?? "");
  useEffect(() => setTags(c.tags), [c.tags]);

  async function save() {
    const when = at ? new Date(at) : null;
    try {
      await update.mutateAsync({
        tags: tags.map((x) => x.trim().toLowerCase()).filter(Boolean),
        consent_source: source.trim() || null,
        consent_at: when && !Number.isNaN(when.getTime()) ? when.toISOString() : null,
        consent_note: note.trim() || null,
      });
      notifications.show({ color: "teal", message: t("contact.saved") });
    } catch (err) {
      notifications.show({ color: "red", title: t("contact.save_failed"), message: describeError(err) });
    }
  }

  return (
    <Box title={t("contact.tags_consent")}>
      <Stack gap="sm">
        <TagsInput label={t("contact.tags")} value={tags} onChange={setTags} clearable data-testid="contact-tags" />
        <Group gap={6}>
          {c.consent?.at || c.consent?.source ? (
            <Badge color="teal" variant="light">
              {t("consent.recorded")}
            </Badge>
          ) : (
            <Badge color="gray" variant="light">
              {t("consent.none")}
            </Badge>
          )}
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t("contact.consent_source")} placeholder={t("contact.consent_source_placeholder")} value={source} onChange={(e) => setSource(e.currentTarget.value)} />
          <TextInput type="datetime-local" label={t("contact.consent_at")} value={at} onChange={(e) => setAt(e.currentTarget.value)} />
        </SimpleGrid>
        <Textarea label={t("contact.consent_note")} autosize minRows={1} value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button leftSection={<IconDeviceFloppy size={16} />} onClick={() => void save()} loading={update.isPending}>
            {t("contact.save")}
          </Button>
        </Group>
      </Stack>
    </Box>
  );
}

function History({ id }: { id: number }) {
  const { t } = useTranslation("audiences");
  const pages = useCursorStack(String(id));
  const list = useContactHistory(id, pages.cursor, PAGE_SIZE);
  const explain = useExplain();
  const isPhone = useMediaQuery("(max-width: 48em)");
  const items = list.data?.items ?? [];
  const task = (h: HistoryItem) => (
    <Anchor component={Link} to={`/tasks/${h.task_id}`} size="sm">
      {h.task_name}
    </Anchor>
  );
  const outcome = (h: HistoryItem) => (
    <Stack gap={2}>
      <OutcomeBadge outcome={h.outcome} />
      {h.error_code && (
        <Text size="xs" c="dimmed" data-testid="history-reason">
          {explain(h.error_code).text}
        </Text>
      )}
    </Stack>
  );
  const action = (h: HistoryItem) => t(`outcomes:action.${h.action}`, { defaultValue: h.action });
  return (
    <Box title={t("history.title")}>
      {list.isPending ? (
        <Skeleton height={120} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title={t("history.load_failed")} />
      ) : items.length === 0 ? (
        <EmptyState title={t("history.empty")}>{t("history.empty_body")}</EmptyState>
      ) : isPhone ? (
        <Stack gap="xs" data-testid="history-cards">
          {items.map((h, i) => (
            <Card key={`${h.at}-${i}`} withBorder radius="md" padding="sm">
              <Group justify="space-between" wrap="nowrap" align="flex-start">
                <div style={{ minWidth: 0 }}>{task(h)}</div>
                {outcome(h)}
              </Group>
              <Text size="xs" c="dimmed">
                {action(h)} · {h.account_id ?? "—"} · {dateTime(h.at)}
              </Text>
            </Card>
          ))}
        </Stack>
      ) : (
        <div className="table-scroll">
          <Table verticalSpacing="xs" data-testid="history-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("history.time")}</Table.Th>
                <Table.Th>{t("history.task")}</Table.Th>
                <Table.Th>{t("history.action")}</Table.Th>
                <Table.Th>{t("history.outcome")}</Table.Th>
                <Table.Th>{t("history.account")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((h, i) => (
                <Table.Tr key={`${h.at}-${i}`}>
                  <Table.Td>
                    <Text size="xs">{dateTime(h.at)}</Text>
                  </Table.Td>
                  <Table.Td>{task(h)}</Table.Td>
                  <Table.Td>{action(h)}</Table.Td>
                  <Table.Td>{outcome(h)}</Table.Td>
                  <Table.Td>
                    <Text size="xs" className="mono">
                      {h.account_id ?? "—"}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun={t("history.noun")} />
    </Box>
  );
}
