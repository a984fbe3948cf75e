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
import { IconAlertTriangle, IconDeviceFloppy } from "@tabler/icons-react";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { type Task, useCreateTask, useTask, useUpdateTask } from "../../api/hooks";
import { useMeta } from "../../api/notifications";
import { describeError, fieldErrors } from "../../api/problem";
import { TaskStatusBadge } from "../../components/Badges";
import { ErrorState, LoadingState } from "../../components/States";
import { parseTemplate } from "../../lib/template";
import { ACTION_LABEL, ACTIONS, PRIORITIES, PRIORITY_META } from "../../lib/status";
import { AccountPicker } from "./AccountPicker";
import { CAP_FIELDS, emptyValues, FORM_PATHS, type FormValues, formPath, toCreate, toUpdate, valuesFromTask } from "./formModel";
import { SendWindowFields } from "./SendWindowFields";
import { TemplateEditor } from "./TemplateEditor";
import { t } from "../../lib/i18n";

export function TaskFormPage() {
  const { taskId } = useParams();
  const task = useTask(taskId);
  if (!taskId) return <TaskForm />;
  if (task.isPending) return <LoadingState label="Loading the task…" />;
  if (task.isError) return <ErrorState error={task.error} onRetry={() => void task.refetch()} title="Could not load the task" />;
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

const PLATFORMS: { value: FormValues["platform"]; label: string }[] = [
  { value: "sandbox", label: "Sandbox (simulated)" },
  { value: "telegram", label: "Telegram" },
];

/** The platforms this service offers for new tasks (GET /meta); all of them from a service without /meta. */
function usePlatformChoices() {
  const meta = useMeta();
  const offered = meta.data?.platforms;
  if (!offered) return PLATFORMS;
  const choices = PLATFORMS.filter((p) => offered.includes(p.value));
  return choices.length ? choices : PLATFORMS;
}

const CAP_LABEL: Record<(typeof CAP_FIELDS)[number], string> = {
  invites_per_hour: "Invites an hour",
  invites_per_day: "Invites a day",
  messages_per_hour: "Messages an hour",
  messages_per_day: "Messages a day",
};

function TaskForm({ task }: { task?: Task }) {
  const navigate = useNavigate();
  const create = useCreateTask();
  const update = useUpdateTask(task?.id ?? "");
  const editing = !!task;
  const onlyPriority = task?.status === "running";
  const [unplaced, setUnplaced] = useState<string[]>([]);

  const form = useForm<FormValues>({
    mode: "controlled",
    initialValues: task ? valuesFromTask(task) : emptyValues(),
    validate: {
      name: (v) => (v.trim() ? null : "Give the task a name"),
      destination: (v, values) =>
        values.action !== "message" && !v.trim() ? "Where to invite: @channel, a t.me link or an invite link" : null,
      message_template: (v, values) => {
        if (values.action !== "invite" && !v.trim()) return "Write the message to send";
        const parsed = parseTemplate(v);
        return parsed.ok ? null : parsed.error.message;
      },
      scheduled_at: (v, values) => (values.schedule_enabled && !v ? "Pick when to start" : null),
      window: { days: (v, values) => (values.window_enabled && v.length === 0 ? "Pick at least one day" : null) },
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
    document.title = `${editing ? "Edit" : "New"} task · Invite Service`;
  }, [editing]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setUnplaced([]);
    if (form.validate().hasErrors) {
      notifications.show({ id: FORM_NOTICE, color: "red", title: "Check the highlighted fields", message: "Some fields need your attention." });
      return;
    }
    try {
      const saved = task ? await update.mutateAsync(toUpdate(v, onlyPriority)) : await create.mutateAsync(toCreate(v));
      notifications.hide(FORM_NOTICE);
      notifications.show({ color: "teal", title: editing ? "Task saved" : "Task created", message: saved.name, autoClose: 3000 });
      navigate(`/tasks/${saved.id}`);
    } catch (err) {
      const { fields, unplaced: rest } = fieldErrors(err, (p) => FORM_PATHS.has(p), formPath);
      form.setErrors(fields);
      const shown = Object.keys(fields).length;
      setUnplaced(rest.length || shown ? rest : [describeError(err)]);
      if (shown) {
        notifications.hide(FORM_NOTICE);
        notifications.show({ id: FORM_NOTICE, color: "red", title: "The service did not accept the task", message: "See the highlighted fields." });
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
            Tasks
          </Anchor>
          {task && (
            <Anchor component={Link} to={`/tasks/${task.id}`}>
              {task.name}
            </Anchor>
          )}
          <Text>{editing ? "Edit" : "New task"}</Text>
        </Breadcrumbs>
        <Group justify="space-between">
          <Title order={1} size="h2">
            {editing ? "Edit task" : "New task"}
          </Title>
          {task && <TaskStatusBadge status={task.status} size="md" />}
        </Group>

        {onlyPriority && (
          <Alert color="yellow" icon={<IconAlertTriangle size={18} />}>
            This task is running: only its priority can change now. Pause it to change anything else.
          </Alert>
        )}
        {unplaced.length > 0 && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The task was not saved" role="alert" data-testid="form-errors">
            {unplaced.map((m) => (
              <Text size="sm" key={m}>
                {m}
              </Text>
            ))}
          </Alert>
        )}

        <Section title="What to do">
          <TextInput label="Name" withAsterisk placeholder="Spring webinar attendees" {...form.getInputProps("name")} name="name" disabled={lock} />
          <Textarea label="Notes" placeholder="Optional: who this audience is and why they hear from you" autosize minRows={1} {...form.getInputProps("description")} disabled={lock} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                Action
              </Text>
              <SegmentedControl
                fullWidth
                orientation={narrow ? "vertical" : "horizontal"}
                data={ACTIONS.map((a) => ({ value: a, label: ACTION_LABEL[a] }))}
                {...form.getInputProps("action")}
                disabled={lock}
                aria-label="Action"
              />
              {err("action") && <Text size="xs" c="red">{err("action")}</Text>}
            </Stack>
            {!editing && (
              <Stack gap={4}>
                <Text size="sm" fw={500}>
                  Platform
                </Text>
                <SegmentedControl
                  fullWidth
                  data={platforms}
                  {...form.getInputProps("platform")}
                  aria-label="Platform"
                />
                {err("platform") && <Text size="xs" c="red">{err("platform")}</Text>}
              </Stack>
            )}
          </SimpleGrid>
          {invites && (
            <TextInput
              label="Invite into"
              name="destination"
              withAsterisk
              description="The group or channel: @name, a t.me link, an invite link or a numeric chat id."
              placeholder="@my_members_chat"
              {...form.getInputProps("destination")}
              disabled={lock}
            />
          )}
        </Section>

        {messages && (
          <Section title="Message" description={v.action === "invite_or_message" ? "Sent when an invite is refused for privacy reasons." : undefined}>
            <TemplateEditor
              value={v.message_template}
              onChange={(t) => {
                form.setFieldValue("message_template", t);
                form.clearFieldError("message_template");
              }}
              apiError={err("message_template")}
              required
              taskId={task?.id}
            />
          </Section>
        )}

        <Section title="Accounts">
          <AccountPicker value={v.account_ids} onChange={(ids) => form.setFieldValue("account_ids", ids)} error={err("account_ids")} platform={v.platform} />
        </Section>

        <Section title="Pace and limits" description={t("caps.help")}>
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {CAP_FIELDS.map((f) => (
              <NumberInput key={f} label={CAP_LABEL[f]} placeholder="platform cap" min={1} allowDecimal={false} {...form.getInputProps(`caps.${f}`)} disabled={lock} />
            ))}
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput label="Seconds between actions of one account" placeholder="platform minimum" min={0} max={86400} {...form.getInputProps("min_delay_seconds")} disabled={lock} />
            <NumberInput label="Attempts per target" min={1} max={10} allowDecimal={false} {...form.getInputProps("max_attempts")} disabled={lock} />
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
              <Accordion.Control>Safety stop (circuit breaker)</Accordion.Control>
              <Accordion.Panel>
                <Text size="xs" c="dimmed" mb="xs">
                  The task pauses itself when this many of its accounts, or this share of them, get restricted within the window.
                </Text>
                <SimpleGrid cols={{ base: 1, sm: 3 }}>
                  <NumberInput label="Restricted accounts" min={1} allowDecimal={false} {...form.getInputProps("breaker.restricted_lanes")} disabled={lock} />
                  <NumberInput label="…or share of accounts" suffix=" %" min={1} max={100} {...form.getInputProps("breaker.restricted_share")} disabled={lock} />
                  <NumberInput label="Within (minutes)" min={1} allowDecimal={false} {...form.getInputProps("breaker.window_minutes")} disabled={lock} />
                </SimpleGrid>
              </Accordion.Panel>
            </Accordion.Item>
          </Accordion>
        </Section>

        <Section title="When and how urgent">
          <Switch
            label="Start at a set time"
            description="Otherwise the task waits in draft until you start it."
            checked={v.schedule_enabled}
            onChange={(e) => form.setFieldValue("schedule_enabled", e.currentTarget.checked)}
            disabled={lock}
          />
          {v.schedule_enabled && (
            <TextInput
              type="datetime-local"
              label="Start at"
              description={`Your local time (${Intl.DateTimeFormat().resolvedOptions().timeZone})`}
              {...form.getInputProps("scheduled_at")}
              disabled={lock}
              maw={320}
            />
          )}
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Priority
            </Text>
            <SegmentedControl
              data={PRIORITIES.map((p) => ({ value: p, label: PRIORITY_META[p].label }))}
              {...form.getInputProps("priority")}
              aria-label="Priority"
              maw={360}
            />
            <Text size="xs" c="dimmed">
              When tasks compete for the same workers, higher priority goes first.
            </Text>
          </Stack>
        </Section>

        <Group justify="flex-end" pb="xl">
          <Button variant="default" component={Link} to={task ? `/tasks/${task.id}` : "/tasks"}>
            Cancel
          </Button>
          <Button type="submit" loading={saving} leftSection={<IconDeviceFloppy size={16} />}>
            {editing ? "Save changes" : "Create task"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
