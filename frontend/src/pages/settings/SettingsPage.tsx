import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconBell, IconCheck, IconCopy, IconPlus, IconRefresh, IconSend, IconTrash, IconWebhook } from "@tabler/icons-react";
import { type FormEvent, type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type ChannelOut,
  DELIVERY_STATUSES,
  type DeliveryOut,
  type DeliveryStatus,
  EVENT_TYPES,
  type EventType,
  hasTestRoute,
  useApiRoutes,
  useChannels,
  useCreateChannel,
  useCreateWebhook,
  useDeleteChannel,
  useDeleteWebhook,
  useDeliveries,
  useRedeliver,
  useTestWebhook,
  useUpdateChannel,
  useUpdateWebhook,
  useWebhooks,
  type WebhookCreated,
  type WebhookOut,
} from "../../api/notifications";
import { describeError, fieldErrors } from "../../api/problem";
import { useConfirm } from "../../components/Confirm";
import { KeysetPager, useCursorStack } from "../../components/KeysetPager";
import { ErrorState } from "../../components/States";
import { dateTime } from "../../lib/format";
import { useDesktopNotifications } from "../../notify/desktop";
import { ContactPolicySection } from "./ContactPolicySection";

const PAGE_SIZE = 25;

/** Where the user hears about their tasks: this browser, webhook endpoints, Apprise channels, and the delivery log. */
export function SettingsPage() {
  const { t } = useTranslation("settings");
  const webhooks = useWebhooks();
  const absent = webhooks.data === null;
  return (
    <Stack gap="lg">
      <div>
        <Title order={1} size="h2">
          {t("settings.title")}
        </Title>
        <Text c="dimmed" size="sm">
          {t("settings.intro")}
        </Text>
      </div>
      <ContactPolicySection />
      <Section title={t("settings.browser")} icon={<IconBell size={18} />}>
        <DesktopToggle />
      </Section>
      {absent ? (
        <Alert color="gray" icon={<IconAlertTriangle size={18} />} data-testid="notifications-absent">
          {t("settings.unavailable")}
        </Alert>
      ) : (
        <>
          <WebhooksSection />
          <ChannelsSection />
          <DeliveriesSection />
        </>
      )}
    </Stack>
  );
}

function Section({ title, hint, icon, action, children }: { title: string; hint?: string; icon?: ReactNode; action?: ReactNode; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p={{ base: "sm", sm: "lg" }} component="section" aria-label={title}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs">
            {icon}
            <Title order={2} size="h4">
              {title}
            </Title>
          </Group>
          {action}
        </Group>
        {hint && (
          <Text size="sm" c="dimmed">
            {hint}
          </Text>
        )}
        {children}
      </Stack>
    </Paper>
  );
}

export function DesktopToggle() {
  const { t } = useTranslation("settings");
  const { state, setOn } = useDesktopNotifications();
  const [asking, setAsking] = useState(false);
  return (
    <Stack gap={4}>
      <Switch
        label={t("desktop.label")}
        description={t("desktop.hint")}
        checked={state === "on"}
        disabled={state === "unsupported" || state === "denied" || asking}
        onChange={async (e) => {
          const on = e.currentTarget.checked;
          setAsking(true);
          try {
            await setOn(on);
          } finally {
            setAsking(false);
          }
        }}
        data-testid="desktop-toggle"
      />
      {state === "denied" && (
        <Text size="xs" c="orange">
          {t("desktop.denied")}
        </Text>
      )}
      {state === "unsupported" && (
        <Text size="xs" c="dimmed">
          {t("desktop.unsupported")}
        </Text>
      )}
    </Stack>
  );
}

function EventTypesField({ value, onChange }: { value: EventType[]; onChange: (v: EventType[]) => void }) {
  const { t } = useTranslation("settings");
  return (
    <Checkbox.Group label={t("settings.events")} description={t("settings.events.hint")} value={value} onChange={(v) => onChange(v as EventType[])}>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} mt={6} spacing={6}>
        {EVENT_TYPES.map((type) => (
          <Checkbox key={type} value={type} label={<Code>{type}</Code>} />
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}

function EventTypesCell({ types }: { types: string[] }) {
  const { t } = useTranslation("settings");
  if (!types.length) return <Text size="sm">{t("settings.events.all")}</Text>;
  return (
    <Group gap={4}>
      {types.map((type) => (
        <Badge key={type} size="xs" variant="outline" color="gray" tt="none" style={{ overflow: "visible" }}>
          {type}
        </Badge>
      ))}
    </Group>
  );
}

/** A destination turned off after repeated failures says why, where the user looks first. */
function DisabledReason({ enabled, reason, failures }: { enabled: boolean; reason: string | null; failures: number }) {
  const { t } = useTranslation("settings");
  if (!enabled && reason)
    return (
      <Alert color="red" variant="light" p="xs" mt={4} icon={<IconAlertTriangle size={16} />} data-testid="disabled-reason">
        <Text size="sm" fw={600}>
          {t("settings.disabled_reason", { reason })}
        </Text>
      </Alert>
    );
  if (failures > 0)
    return (
      <Text size="xs" c="orange">
        {t("settings.failures", { n: failures })}
      </Text>
    );
  return null;
}

function useDeleteConfirm() {
  const { t } = useTranslation("settings");
  const confirm = useConfirm();
  return (titleKey: string, what: string) =>
    confirm({ title: t(titleKey), message: t("settings.delete_body", { what }), confirmLabel: t("settings.delete"), color: "red" });
}

function WebhooksSection() {
  const { t } = useTranslation("settings");
  const list = useWebhooks();
  const update = useUpdateWebhook();
  const remove = useDeleteWebhook();
  const test = useTestWebhook();
  const routes = useApiRoutes();
  const askDelete = useDeleteConfirm();
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<WebhookCreated | null>(null);
  const canTest = hasTestRoute(routes.data);

  return (
    <Section
      title={t("settings.webhooks")}
      hint={t("settings.webhooks.hint")}
      icon={<IconWebhook size={18} />}
      action={
        <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
          {t("settings.add_webhook")}
        </Button>
      }
    >
      {list.isPending ? (
        <Skeleton height={60} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data?.length ? (
        <Text size="sm" c="dimmed">
          {t("settings.webhooks.empty")}
        </Text>
      ) : (
        <div className="table-scroll">
          <Table verticalSpacing="xs" miw={680} data-testid="webhooks-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("settings.url")}</Table.Th>
                <Table.Th>{t("settings.events")}</Table.Th>
                <Table.Th>{t("settings.enabled")}</Table.Th>
                <Table.Th w={90} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.map((w: WebhookOut) => (
                <Table.Tr key={w.id} data-testid="webhook-row">
                  <Table.Td maw={420}>
                    <Text size="sm" className="mono" style={{ wordBreak: "break-all" }}>
                      {w.url}
                    </Text>
                    {w.description && (
                      <Text size="xs" c="dimmed">
                        {w.description}
                      </Text>
                    )}
                    <DisabledReason enabled={w.enabled} reason={w.disabled_reason} failures={w.consecutive_failures} />
                  </Table.Td>
                  <Table.Td>
                    <EventTypesCell types={w.event_types} />
                  </Table.Td>
                  <Table.Td>
                    <Switch
                      checked={w.enabled}
                      aria-label={`${t("settings.enabled")}: ${w.url}`}
                      onChange={(e) => update.mutate({ id: w.id, patch: { enabled: e.currentTarget.checked } })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      {canTest && (
                        <Tooltip label={t("settings.send_test")}>
                          <ActionIcon
                            variant="subtle"
                            aria-label={`${t("settings.send_test")}: ${w.url}`}
                            onClick={() => test.mutate(w.id, { onSuccess: () => notifications.show({ color: "teal", message: t("settings.test_sent") }) })}
                          >
                            <IconSend size={16} />
                          </ActionIcon>
                        </Tooltip>
                      )}
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`${t("settings.delete")}: ${w.url}`}
                        onClick={async () => {
                          if (await askDelete("settings.delete_webhook", w.url)) remove.mutate(w.id);
                        }}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
      <AddWebhook
        opened={adding}
        onClose={() => setAdding(false)}
        onCreated={(w) => {
          setAdding(false);
          setCreated(w);
        }}
      />
      <SecretOnce created={created} onClose={() => setCreated(null)} />
    </Section>
  );
}

function AddWebhook({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (w: WebhookCreated) => void }) {
  const { t } = useTranslation("settings");
  const create = useCreateWebhook();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<EventType[]>([]);
  const { fields, unplaced } = fieldErrors(create.error, (p) => p === "url" || p === "description" || p === "event_types");
  const close = () => {
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { url: url.trim(), description: description.trim(), event_types: types },
      {
        onSuccess: (w) => {
          setUrl("");
          setDescription("");
          setTypes([]);
          create.reset();
          onCreated(w);
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={close} title={t("settings.add_webhook")} size="lg">
      <form onSubmit={submit}>
        <Stack>
          <TextInput label={t("settings.url")} placeholder="https://example.com/hooks/invite" required value={url} onChange={(e) => setUrl(e.currentTarget.value)} error={fields.url} data-autofocus />
          <TextInput label={t("settings.description")} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fields.description} />
          <EventTypesField value={types} onChange={setTypes} />
          {fields.event_types && (
            <Text size="xs" c="red">
              {fields.event_types}
            </Text>
          )}
          <FormProblems error={create.error} unplaced={unplaced} hasFields={Object.keys(fields).length > 0} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t("settings.cancel")}
            </Button>
            <Button type="submit" loading={create.isPending}>
              {t("settings.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A failed create: the issues no field shows, or the error itself when it named no field. */
function FormProblems({ error, unplaced, hasFields }: { error: unknown; unplaced: string[]; hasFields: boolean }) {
  if (!error) return null;
  const lines = unplaced.length ? unplaced : hasFields ? [] : [describeError(error)];
  if (!lines.length) return null;
  return (
    <Alert color="red" icon={<IconAlertTriangle size={16} />} role="alert">
      {lines.map((m) => (
        <Text size="sm" key={m}>
          {m}
        </Text>
      ))}
    </Alert>
  );
}

/** The new endpoint's signing secret, shown this once (the service keeps only what it needs to sign). */
function SecretOnce({ created, onClose }: { created: WebhookCreated | null; onClose: () => void }) {
  const { t } = useTranslation("settings");
  return (
    <Modal opened={created !== null} onClose={onClose} title={t("settings.secret.title")} size="lg" closeOnClickOutside={false}>
      {created && (
        <Stack>
          <Alert color="yellow" icon={<IconAlertTriangle size={18} />}>
            {t("settings.secret.once")}
          </Alert>
          <Group wrap="nowrap" gap="xs">
            <Code block style={{ flex: 1, wordBreak: "break-all" }} data-testid="webhook-secret">
              {created.secret}
            </Code>
            <CopyButton value={created.secret}>
              {({ copied, copy }) => (
                <Button variant={copied ? "filled" : "light"} color={copied ? "teal" : "blue"} leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />} onClick={copy}>
                  {copied ? t("settings.copied") : t("settings.copy")}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end">
            <Button onClick={onClose}>{t("settings.done")}</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function ChannelsSection() {
  const { t } = useTranslation("settings");
  const list = useChannels();
  const update = useUpdateChannel();
  const remove = useDeleteChannel();
  const askDelete = useDeleteConfirm();
  const [adding, setAdding] = useState(false);
  return (
    <Section
      title={t("settings.channels")}
      hint={t("settings.channels.hint")}
      icon={<IconBell size={18} />}
      action={
        <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
          {t("settings.add_channel")}
        </Button>
      }
    >
      {list.isPending ? (
        <Skeleton height={60} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data?.length ? (
        <Text size="sm" c="dimmed">
          {t("settings.channels.empty")}
        </Text>
      ) : (
        <div className="table-scroll">
          <Table verticalSpacing="xs" miw={680} data-testid="channels-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("settings.label")}</Table.Th>
                <Table.Th>{t("settings.apprise_url")}</Table.Th>
                <Table.Th>{t("settings.events")}</Table.Th>
                <Table.Th>{t("settings.enabled")}</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.map((c: ChannelOut) => (
                <Table.Tr key={c.id} data-testid="channel-row">
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm">{c.label || "—"}</Text>
                      <Badge size="xs" variant="light" tt="none">
                        {c.scheme}
                      </Badge>
                    </Group>
                  </Table.Td>
                  <Table.Td maw={380}>
                    <Text size="sm" className="mono" style={{ wordBreak: "break-all" }}>
                      {c.url_masked}
                    </Text>
                    <DisabledReason enabled={c.enabled} reason={c.disabled_reason} failures={c.consecutive_failures} />
                  </Table.Td>
                  <Table.Td>
                    <EventTypesCell types={c.event_types} />
                  </Table.Td>
                  <Table.Td>
                    <Switch
                      checked={c.enabled}
                      aria-label={`${t("settings.enabled")}: ${c.label || c.url_masked}`}
                      onChange={(e) => update.mutate({ id: c.id, patch: { enabled: e.currentTarget.checked } })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`${t("settings.delete")}: ${c.label || c.url_masked}`}
                      onClick={async () => {
                        if (await askDelete("settings.delete_channel", c.label || c.url_masked)) remove.mutate(c.id);
                      }}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
      <AddChannel opened={adding} onClose={() => setAdding(false)} />
    </Section>
  );
}

function AddChannel({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("settings");
  const create = useCreateChannel();
  const [url, setUrl] = useState("");
  const [label, setLabel] = useState("");
  const [types, setTypes] = useState<EventType[]>([]);
  const { fields, unplaced } = fieldErrors(create.error, (p) => p === "url" || p === "label" || p === "event_types");
  const close = () => {
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { url: url.trim(), label: label.trim(), event_types: types },
      {
        onSuccess: () => {
          setUrl("");
          setLabel("");
          setTypes([]);
          close();
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={close} title={t("settings.add_channel")} size="lg">
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label={t("settings.apprise_url")}
            description={t("settings.channels.hint")}
            placeholder="mailto://user:pass@example.com"
            required
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            error={fields.url}
            data-autofocus
          />
          <TextInput label={t("settings.label")} value={label} onChange={(e) => setLabel(e.currentTarget.value)} error={fields.label} />
          <EventTypesField value={types} onChange={setTypes} />
          <FormProblems error={create.error} unplaced={unplaced} hasFields={Object.keys(fields).length > 0} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t("settings.cancel")}
            </Button>
            <Button type="submit" loading={create.isPending}>
              {t("settings.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

const DELIVERY_COLOR: Record<DeliveryStatus, string> = { pending: "gray", retrying: "yellow", succeeded: "teal", failed: "red" };

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  const { t } = useTranslation("settings");
  return (
    <Badge color={DELIVERY_COLOR[status] ?? "gray"} variant="light" size="sm" data-status={status} style={{ overflow: "visible" }}>
      {t(`delivery.${status}`)}
    </Badge>
  );
}

function DeliveriesSection() {
  const { t } = useTranslation("settings");
  const webhooks = useWebhooks();
  const channels = useChannels();
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [channel, setChannel] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const pages = useCursorStack(JSON.stringify([endpoint, channel, status]));
  const list = useDeliveries({ endpoint_id: endpoint, channel_id: channel, status: status as DeliveryStatus | null, cursor: pages.cursor, limit: PAGE_SIZE });
  const redeliver = useRedeliver();
  const names = new Map<string, string>();
  webhooks.data?.forEach((w) => names.set(w.id, w.description || w.url));
  channels.data?.forEach((c) => names.set(c.id, c.label || c.url_masked));
  const target = (d: DeliveryOut) => (d.endpoint_id ? names.get(d.endpoint_id) ?? d.endpoint_id : d.channel_id ? names.get(d.channel_id) ?? d.channel_id : "—");

  return (
    <Section title={t("settings.deliveries")} icon={<IconSend size={18} />}>
      <Group gap="sm" wrap="wrap">
        <Select
          aria-label={t("settings.filter.endpoint")}
          placeholder={t("settings.filter.endpoint")}
          data={(webhooks.data ?? []).map((w) => ({ value: w.id, label: w.description || w.url }))}
          value={endpoint}
          onChange={(v) => {
            setEndpoint(v);
            if (v) setChannel(null);
          }}
          clearable
          w={240}
        />
        <Select
          aria-label={t("settings.filter.channel")}
          placeholder={t("settings.filter.channel")}
          data={(channels.data ?? []).map((c) => ({ value: c.id, label: c.label || c.url_masked }))}
          value={channel}
          onChange={(v) => {
            setChannel(v);
            if (v) setEndpoint(null);
          }}
          clearable
          w={240}
        />
        <Select
          aria-label={t("settings.filter.status")}
          placeholder={t("settings.filter.status")}
          data={DELIVERY_STATUSES.map((s) => ({ value: s, label: t(`delivery.${s}`) }))}
          value={status}
          onChange={setStatus}
          clearable
          w={180}
        />
      </Group>
      {list.isPending ? (
        <Skeleton height={80} />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data?.items.length ? (
        <Text size="sm" c="dimmed">
          {t("settings.deliveries.empty")}
        </Text>
      ) : (
        <div className="table-scroll">
          <Table verticalSpacing="xs" miw={900} data-testid="deliveries-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("settings.col.when")}</Table.Th>
                <Table.Th>{t("settings.col.event")}</Table.Th>
                <Table.Th>{t("settings.col.to")}</Table.Th>
                <Table.Th>{t("settings.col.status")}</Table.Th>
                <Table.Th>{t("settings.col.code")}</Table.Th>
                <Table.Th>{t("settings.col.attempts")}</Table.Th>
                <Table.Th>{t("settings.col.next")}</Table.Th>
                <Table.Th>{t("settings.col.error")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.items.map((d) => (
                <Table.Tr key={d.id} data-testid="delivery-row">
                  <Table.Td>{dateTime(d.created_at)}</Table.Td>
                  <Table.Td>
                    <Code>{d.event_type}</Code>
                  </Table.Td>
                  <Table.Td maw={240}>
                    <Text size="sm" truncate>
                      {target(d)}
                    </Text>
                  </Table.Td>
                  <Table.Td miw={110}>
                    <DeliveryStatusBadge status={d.status} />
                  </Table.Td>
                  <Table.Td>{d.last_status_code ?? "—"}</Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>{d.status === "pending" || d.status === "retrying" ? dateTime(d.next_attempt_at) : "—"}</Table.Td>
                  <Table.Td maw={260}>
                    <Text size="xs" c={d.last_error ? "red" : "dimmed"} lineClamp={2} title={d.last_error ?? undefined}>
                      {d.last_error ?? "—"}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="light"
                      leftSection={<IconRefresh size={14} />}
                      loading={redeliver.isPending && redeliver.variables === d.id}
                      onClick={() => redeliver.mutate(d.id, { onSuccess: () => notifications.show({ color: "teal", message: t("settings.redelivered") }) })}
                    >
                      {t("settings.redeliver")}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}
      {list.data && <KeysetPager pages={pages} data={list.data} pageSize={PAGE_SIZE} noun="deliveries" />}
    </Section>
  );
}
