import {
  Accordion,
  Alert,
  Anchor,
  Breadcrumbs,
  Button,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconDeviceFloppy, IconSend } from "@tabler/icons-react";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { type Task, useCreateTask, useTask, useUpdateTask } from "../../api/hooks";
import type { Platform } from "../../api/audiences";
import { useMeta } from "../../api/notifications";
import { ApiError, cleanMessage, describeError, locPath } from "../../api/problem";
import { TaskStatusBadge } from "../../components/Badges";
import { ErrorState, LoadingState } from "../../components/States";
import { parseTemplate } from "../../lib/template";
import { ACTIONS, PRIORITIES } from "../../lib/status";
import { AccountPicker } from "./AccountPicker";
import { AudiencePicker } from "./AudiencePicker";
import { audiencesOf, CAP_FIELDS, emptyValues, FORM_PATHS, type FormValues, fieldLabel, formPath, toCreate, toUpdate, valuesFromTask } from "./formModel";
import { SendWindowFields } from "./SendWindowFields";
import { TemplateEditor, useUnknownMessage } from "./TemplateEditor";
import { TestMessageDialog } from "./TestMessageDialog";

export function TaskFormPage() {
  const { t } = useTranslation("form");
  const { taskId } = useParams();
  const task = useTask(taskId);
  if (!taskId) return <TaskForm />;
  if (task.isPending) return <LoadingState label={t("loading")} />;
  if (task.isError) return <ErrorState error={task.error} onRetry={() => void task.refetch()} title={t("load_failed")} />;
  return <TaskForm key={task.data.id} task={task.data} />;
}

function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p={{ base: "sm", sm: "lg" }}>
      <Stack gap="md">
        <div>
          <Title order={3} size="h4">
            {title}
          </Title>
          {description && (
            <Text size="sm" c="dimmed">
              {description}
            </Text>
          )}
        </div>
        {children}
      </Stack>
    </Paper>
  );
}

const FORM_NOTICE = "task-form-notice";

const PLATFORMS: FormValues["platform"][] = ["sandbox", "telegram"];

/** The platforms this service offers for new tasks (GET /meta); all of them from a service without /meta. */
function usePlatformChoices() {
  const { t } = useTranslation("form");
  const meta = useMeta();
  const offered = meta.data?.platforms;
  const all = PLATFORMS.map((value) => ({ value, label: t(`platform.${value}`) }));
  if (!offered) return all;
  const choices = all.filter((p) => offered.includes(p.value));
  return choices.length ? choices : all;
}

/**
 * The service's refusal placed on the form: field errors next to their fields (an unknown placeholder in the
 * UI's language, from the problem's `placeholders`), the rest above the form with the field named in words.
 */
function useProblemPlacement() {
  const { t } = useTranslation("form");
  const unknownMessage = useUnknownMessage();
  const lookup = (key: string) => t(key, { defaultValue: "" });
  return (err: unknown): { fields: Record<string, string>; unplaced: string[] } => {
    const fields: Record<string, string> = {};
    const unplaced: string[] = [];
    if (!(err instanceof ApiError)) return { fields, unplaced: [describeError(err)] };
    const placeholders = (err.problem as { placeholders?: unknown }).placeholders;
    if (err.problem.code === "UNKNOWN_PLACEHOLDER" && Array.isArray(placeholders) && placeholders.length) {
      fields.message_template = (placeholders as { name: string; suggestion: string | null; closest: string | null }[])
        .map(unknownMessage)
        .join("; ");
    }
    for (const issue of err.issues) {
      const path = formPath(locPath(issue.loc ?? []));
      const msg = cleanMessage(issue.msg ?? "is invalid");
      if (path === "message_template" && fields.message_template && issue.type === "unknown_placeholder") continue;
      const parts = path.split(".");
      let target: string | null = null;
      for (let n = parts.length; n > 0; n--) {
        const candidate = parts.slice(0, n).join(".");
        if (FORM_PATHS.has(candidate)) {
          target = candidate;
          break;
        }
      }
      if (target === null) {
        unplaced.push(path ? `${fieldLabel(path, lookup)}: ${msg}` : msg);
      } else {
        const suffix = target === path ? "" : `${fieldLabel(path, lookup)}: `;
        fields[target] = fields[target] ? `${fields[target]}; ${suffix}${msg}` : `${suffix}${msg}`;
      }
    }
    if (!Object.keys(fields).length && !unplaced.length) unplaced.push(err.message);
    return { fields, unplaced };
  };
}

function TaskForm({ task }: { task?: Task }) {
  const { t } = useTranslation("form");
  const navigate = useNavigate();
  const create = useCreateTask();
  const update = useUpdateTask(task?.id ?? "");
  const editing = !!task;
  const onlyPriority = task?.status === "running";
  const [unplaced, setUnplaced] = useState<string[]>([]);
  const [testing, setTesting] = useState(false);
  const place = useProblemPlacement();

  const form = useForm<FormValues>({
    mode: "controlled",
    initialValues: task ? valuesFromTask(task) : emptyValues(),
    validate: {
      name: (v) => (v.trim() ? null : t("error.name")),
      destination: (v, values) => (values.action !== "message" && !v.trim() ? t("error.destination") : null),
      message_template: (v, values) => {
        if (values.action !== "invite" && !v.trim()) return t("error.message");
        const parsed = parseTemplate(v);
        return parsed.ok ? null : parsed.error.message;
      },
      scheduled_at: (v, values) => (values.schedule_enabled && !v ? t("error.scheduled_at") : null),
      window: { days: (v, values) => (values.window_enabled && v.length === 0 ? t("error.days") : null) },
    },
  });
  const v = form.values;
  const saving = create.isPending || update.isPending;
  const platforms = usePlatformChoices();
  const offeredKey = platforms.map((p) => p.value).join(",");
  const { setFieldValue } = form;
  useEffect(() => {
    // A new task's default platform may not be offered here (production without the sandbox).
    const offered = offeredKey.split(",") as FormValues["platform"][];
    if (!editing && offered[0] && !offered.includes(v.platform)) setFieldValue("platform", offered[0]);
  }, [editing, offeredKey, v.platform, setFieldValue]);

  useEffect(() => {
    document.title = `${editing ? t("title.edit") : t("title.new")} · Invite Service`;
  }, [editing, t]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setUnplaced([]);
    if (form.validate().hasErrors) {
      notifications.show({ id: FORM_NOTICE, color: "red", title: t("notice.check"), message: t("notice.check_body") });
      return;
    }
    try {
      const saved = task ? await update.mutateAsync(toUpdate(v, onlyPriority, !!audiencesOf(task))) : await create.mutateAsync(toCreate(v));
      notifications.hide(FORM_NOTICE);
      notifications.show({ color: "teal", title: editing ? t("notice.saved") : t("notice.created"), message: saved.name, autoClose: 3000 });
      navigate(`/tasks/${saved.id}`);
    } catch (err) {
      const { fields, unplaced: rest } = place(err);
      form.setErrors(fields);
      const shown = Object.keys(fields).length;
      setUnplaced(rest);
      if (shown) {
        notifications.hide(FORM_NOTICE);
        notifications.show({ id: FORM_NOTICE, color: "red", title: t("notice.refused"), message: t("notice.refused_body") });
      }
    }
  }

  const err = (path: string) => (form.errors[path] as string | undefined) ?? null;
  const invites = v.action !== "message";
  const messages = v.action !== "invite";
  const lock = onlyPriority;
  const narrow = useMediaQuery("(max-width: 36em)");

  return (
    <form onSubmit={submit} noValidate data-testid="task-form">
      <Stack gap="md" maw={1100}>
        <Breadcrumbs>
          <Anchor component={Link} to="/tasks">
            {t("crumb.tasks")}
          </Anchor>
          {task && (
            <Anchor component={Link} to={`/tasks/${task.id}`}>
              {task.name}
            </Anchor>
          )}
          <Text>{editing ? t("crumb.edit") : t("title.new")}</Text>
        </Breadcrumbs>
        <Group justify="space-between">
          <Title order={1} size="h2">
            {editing ? t("title.edit") : t("title.new")}
          </Title>
          {task && <TaskStatusBadge status={task.status} size="md" />}
        </Group>

        {onlyPriority && (
          <Alert color="yellow" icon={<IconAlertTriangle size={18} />}>
            {t("running")}
          </Alert>
        )}
        {unplaced.length > 0 && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("not_saved")} role="alert" data-testid="form-errors">
            {unplaced.map((m) => (
              <Text size="sm" key={m}>
                {m}
              </Text>
            ))}
          </Alert>
        )}

        <Section title={t("section.what")}>
          <TextInput label={t("field.name")} withAsterisk placeholder={t("name.placeholder")} {...form.getInputProps("name")} name="name" disabled={lock} />
          <Textarea label={t("field.description")} placeholder={t("description.placeholder")} autosize minRows={1} {...form.getInputProps("description")} disabled={lock} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                {t("field.action")}
              </Text>
              <SegmentedControl
                fullWidth
                orientation={narrow ? "vertical" : "horizontal"}
                data={ACTIONS.map((a) => ({ value: a, label: t(`action.${a}`) }))}
                {...form.getInputProps("action")}
                disabled={lock}
                aria-label={t("field.action")}
              />
              {err("action") && <Text size="xs" c="red">{err("action")}</Text>}
            </Stack>
            {!editing && (
              <Stack gap={4}>
                <Text size="sm" fw={500}>
                  {t("field.platform")}
                </Text>
                <SegmentedControl
                  fullWidth
                  data={platforms}
                  {...form.getInputProps("platform")}
                  aria-label={t("field.platform")}
                />
                <Text size="xs" c="dimmed" data-testid="platform-help">
                  {platforms.some((p) => p.value === "sandbox") ? t("platform.help") : t("platform.help_production")}
                </Text>
                {err("platform") && <Text size="xs" c="red">{err("platform")}</Text>}
              </Stack>
            )}
          </SimpleGrid>
          {invites && (
            <TextInput
              label={t("field.destination")}
              name="destination"
              withAsterisk
              description={t("destination.help")}
              placeholder="@my_members_chat"
              {...form.getInputProps("destination")}
              disabled={lock}
            />
          )}
        </Section>

        <Section title={t("audiences:picker.section")} description={t("audiences:picker.section_help")}>
          <AudiencePicker
            platform={(task?.platform ?? v.platform) as Platform}
            action={v.action}
            destination={v.destination}
            value={v.audiences}
            onChange={(a) => {
              form.setFieldValue("audiences", a);
              form.clearFieldError("audiences");
            }}
            error={err("audiences")}
            disabled={lock}
          />
        </Section>

        {messages && (
          <Section title={t("section.message")} description={v.action === "invite_or_message" ? t("section.message_fallback") : undefined}>
            <TemplateEditor
              value={v.message_template}
              onChange={(text) => {
                form.setFieldValue("message_template", text);
                form.clearFieldError("message_template");
              }}
              apiError={err("message_template")}
              required
              taskId={task?.id}
              hasTargets={(task?.counters.total ?? 0) > 0}
            />
            {task && task.action !== "invite" && (
              <Group justify="flex-start">
                <Button variant="light" leftSection={<IconSend size={16} />} onClick={() => setTesting(true)} type="button">
                  {t("test.open")}
                </Button>
                <TestMessageDialog
                  taskId={task.id}
                  opened={testing}
                  onClose={() => setTesting(false)}
                  unsaved={v.message_template !== (task.message_template ?? "") || v.action !== task.action}
                />
              </Group>
            )}
          </Section>
        )}

        <Section title={t("section.accounts")}>
          <AccountPicker value={v.account_ids} onChange={(ids) => form.setFieldValue("account_ids", ids)} error={err("account_ids")} platform={v.platform} />
        </Section>

        <Section title={t("section.pace")} description={t("common:caps.help")}>
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {CAP_FIELDS.map((f) => (
              <NumberInput key={f} label={t(`field.caps.${f}`)} placeholder={t("caps.placeholder")} min={1} allowDecimal={false} {...form.getInputProps(`caps.${f}`)} disabled={lock} />
            ))}
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput label={t("field.min_delay_seconds")} placeholder={t("delay.placeholder")} min={0} max={86400} {...form.getInputProps("min_delay_seconds")} disabled={lock} />
            <NumberInput label={t("field.max_attempts")} min={1} max={10} allowDecimal={false} {...form.getInputProps("max_attempts")} disabled={lock} />
          </SimpleGrid>
          <SendWindowFields
            enabled={v.window_enabled}
            onEnabled={(x) => form.setFieldValue("window_enabled", x)}
            days={v.window.days}
            onDays={(x) => form.setFieldValue("window.days", x)}
            start={v.window.start}
            onStart={(x) => form.setFieldValue("window.start", x)}
            end={v.window.end}
            onEnd={(x) => form.setFieldValue("window.end", x)}
            timezone={v.window.timezone}
            onTimezone={(x) => form.setFieldValue("window.timezone", x)}
            errors={{
              window: err("window") ?? undefined,
              days: err("window.days") ?? undefined,
              start: err("window.start") ?? undefined,
              end: err("window.end") ?? undefined,
              timezone: err("window.timezone") ?? undefined,
            }}
            disabled={lock}
          />
          <Accordion variant="contained" chevronPosition="left">
            <Accordion.Item value="breaker">
              <Accordion.Control>{t("breaker.title")}</Accordion.Control>
              <Accordion.Panel>
                <Text size="xs" c="dimmed" mb="xs">
                  {t("breaker.help")}
                </Text>
                <SimpleGrid cols={{ base: 1, sm: 3 }}>
                  <NumberInput label={t("field.breaker.restricted_lanes")} min={1} allowDecimal={false} {...form.getInputProps("breaker.restricted_lanes")} disabled={lock} />
                  <NumberInput label={t("breaker.share")} suffix=" %" min={1} max={100} {...form.getInputProps("breaker.restricted_share")} disabled={lock} />
                  <NumberInput label={t("field.breaker.window_minutes")} min={1} allowDecimal={false} {...form.getInputProps("breaker.window_minutes")} disabled={lock} />
                </SimpleGrid>
              </Accordion.Panel>
            </Accordion.Item>
          </Accordion>
        </Section>

        <Section title={t("section.when")}>
          <Switch
            label={t("schedule.label")}
            description={t("schedule.help")}
            checked={v.schedule_enabled}
            onChange={(e) => form.setFieldValue("schedule_enabled", e.currentTarget.checked)}
            disabled={lock}
          />
          {v.schedule_enabled && (
            <TextInput
              type="datetime-local"
              label={t("field.scheduled_at")}
              description={t("schedule.local", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })}
              {...form.getInputProps("scheduled_at")}
              disabled={lock}
              maw={320}
            />
          )}
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              {t("field.priority")}
            </Text>
            <SegmentedControl
              data={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))}
              {...form.getInputProps("priority")}
              aria-label={t("field.priority")}
              maw={360}
            />
            <Text size="xs" c="dimmed">
              {t("priority.help")}
            </Text>
          </Stack>
        </Section>

        <Group justify="flex-end" pb="xl">
          <Button variant="default" component={Link} to={task ? `/tasks/${task.id}` : "/tasks"}>
            {t("cancel")}
          </Button>
          <Button type="submit" loading={saving} leftSection={<IconDeviceFloppy size={16} />}>
            {editing ? t("save") : t("create")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
