import { Anchor, Badge, Button, Card, Checkbox, Group, Paper, Skeleton, Stack, Table, Text, TextInput } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { IconSearch, IconTag, IconTrash, IconUser } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { type Contact, type ContactFilter, useAudienceContacts } from "../../api/audiences";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { EmptyState, ErrorState } from "../../components/States";
import { dateTime } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";
import { useSelection } from "../../lib/useSelection";

const PAGE_SIZE = 50;

export const contactName = (c: Pick<Contact, "first_name" | "last_name">) => [c.first_name, c.last_name].filter(Boolean).join(" ");
export const contactIdentity = (c: Pick<Contact, "username" | "user_id" | "phone" | "key">) =>
  c.username ? `@${c.username.replace(/^@/, "")}` : (c.phone ?? c.user_id ?? c.key);
const fieldText = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** The filters as the API takes them: empty ones left out; a field filter needs both a field and a value. */
export function contactFilter(q: string, tag: string, field: string, value: string): ContactFilter {
  const f: ContactFilter = {};
  if (q.trim()) f.q = q.trim();
  if (tag.trim()) f.tag = tag.trim().toLowerCase();
  if (field.trim() && value.trim()) {
    f.field = field.trim();
    f.value = value.trim();
  }
  return f;
}

/** An audience's contacts: search, tag and custom-field filters, tags as chips, fields and consent; selectable for removal. */
export function ContactsTable({ audienceId, onRemove, removing }: { audienceId: string; onRemove: (ids: number[], done: () => void) => void; removing: boolean }) {
  const { t } = useTranslation("audiences");
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [field, setField] = useState("");
  const [value, setValue] = useState("");
  const filter = useDebounced(JSON.stringify(contactFilter(search, tag, field, value)));
  const pages = useCursorStack(filter);
  const list = useAudienceContacts(audienceId, { ...(JSON.parse(filter) as ContactFilter), cursor: pages.cursor, limit: PAGE_SIZE });
  const items = list.data?.items ?? [];
  const sel = useSelection(items);
  const isPhone = useMediaQuery("(max-width: 48em)");
  const fieldNames = [...new Set(items.flatMap((c) => Object.keys(c.fields ?? {})))].sort();
  const filtered = filter !== "{}";

  const tags = (c: Contact) => (
    <Group gap={4} wrap="wrap">
      {c.tags.map((x) => (
        <Badge key={x} size="sm" variant="light" leftSection={<IconTag size={10} />} style={{ cursor: "pointer" }} onClick={() => setTag(x)} data-testid="tag-chip">
          {x}
        </Badge>
      ))}
    </Group>
  );
  const consent = (c: Contact) =>
    c.consent?.at || c.consent?.source ? (
      <Text size="xs">
        {c.consent.source ?? t("consent.yes")}
        {c.consent.at ? ` · ${dateTime(c.consent.at)}` : ""}
      </Text>
    ) : (
      <Text size="xs" c="dimmed">
        {t("consent.none")}
      </Text>
    );
  const who = (c: Contact) => (
    <>
      <Anchor component={Link} to={`/contacts/${c.id}`} size="sm" className="mono" style={{ overflowWrap: "anywhere" }}>
        {contactIdentity(c)}
      </Anchor>
      {contactName(c) && (
        <Text size="xs" c="dimmed">
          {contactName(c)}
        </Text>
      )}
    </>
  );

  return (
    <Stack gap="sm">
      <Group gap="sm" wrap="wrap">
        <TextInput
          aria-label={t("filter.search")}
          placeholder={t("filter.search_placeholder")}
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          style={{ flex: "2 1 220px" }}
        />
        <TextInput aria-label={t("filter.tag")} placeholder={t("filter.tag")} leftSection={<IconTag size={16} />} value={tag} onChange={(e) => setTag(e.currentTarget.value)} style={{ flex: "1 1 140px" }} />
        <TextInput aria-label={t("filter.field")} placeholder={t("filter.field")} value={field} onChange={(e) => setField(e.currentTarget.value)} style={{ flex: "1 1 120px" }} />
        <TextInput aria-label={t("filter.value")} placeholder={t("filter.value")} value={value} onChange={(e) => setValue(e.currentTarget.value)} style={{ flex: "1 1 120px" }} />
        <Button
          color="red"
          variant="light"
          leftSection={<IconTrash size={16} />}
          disabled={sel.selected.size === 0}
          loading={removing}
          onClick={() => onRemove([...sel.selected], sel.clear)}
          data-testid="remove-selected"
        >
          {t("remove.selected", { count: sel.selected.size, n: sel.selected.size })}
        </Button>
      </Group>
      {list.isPending ? (
        <Skeleton height={160} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} title={t("contacts.load_failed")} />
      ) : items.length === 0 ? (
        <EmptyState icon={<IconUser size={24} />} title={filtered ? t("contacts.empty_filtered") : t("contacts.empty")}>
          {filtered ? undefined : t("contacts.empty_body")}
        </EmptyState>
      ) : isPhone ? (
        <Stack gap="xs" data-testid="contacts-cards">
          {items.map((c) => (
            <Card key={c.id} withBorder radius="md" padding="sm">
              <Group wrap="nowrap" align="flex-start" gap="xs">
                <Checkbox aria-label={t("select", { who: contactIdentity(c) })} checked={sel.selected.has(c.id)} onChange={() => sel.toggle(c.id)} />
                <div style={{ minWidth: 0 }}>
                  {who(c)}
                  {tags(c)}
                  {consent(c)}
                  {fieldNames
                    .filter((f) => fieldText(c.fields[f]))
                    .map((f) => (
                      <Text key={f} size="xs" c="dimmed">
                        {f}: {fieldText(c.fields[f])}
                      </Text>
                    ))}
                </div>
              </Group>
            </Card>
          ))}
        </Stack>
      ) : (
        <Paper withBorder radius="md" className="table-scroll">
          <Table verticalSpacing="xs" data-testid="contacts-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox aria-label={t("select_page")} checked={sel.allOnPage} onChange={sel.toggleAll} />
                </Table.Th>
                <Table.Th>{t("col.contact")}</Table.Th>
                <Table.Th>{t("col.tags")}</Table.Th>
                {fieldNames.map((f) => (
                  <Table.Th key={f} className="mono">
                    {f}
                  </Table.Th>
                ))}
                <Table.Th>{t("col.consent")}</Table.Th>
                <Table.Th>{t("col.added")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.id} data-testid="contact-row">
                  <Table.Td>
                    <Checkbox aria-label={t("select", { who: contactIdentity(c) })} checked={sel.selected.has(c.id)} onChange={() => sel.toggle(c.id)} />
                  </Table.Td>
                  <Table.Td>{who(c)}</Table.Td>
                  <Table.Td>{tags(c)}</Table.Td>
                  {fieldNames.map((f) => (
                    <Table.Td key={f}>
                      <Text size="sm">{fieldText(c.fields[f])}</Text>
                    </Table.Td>
                  ))}
                  <Table.Td>{consent(c)}</Table.Td>
                  <Table.Td>
                    <Text size="xs">{dateTime(c.created_at)}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun={t("contacts.noun")} />
    </Stack>
  );
}
