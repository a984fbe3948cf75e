import { ActionIcon, Badge, Button, Grid, Group, Select, Stack, Text, Textarea, TextInput, Tooltip } from "@mantine/core";
import { IconCornerDownRight } from "@tabler/icons-react";
import { useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useTargetSample } from "../../api/hooks";
import { useTaskFields } from "../../api/templates";
import { num } from "../../lib/format";
import { parseTemplate, type SampleValues, STANDARD_FIELDS, type Unknown, unknownPlaceholders } from "../../lib/template";
import { TemplatePreview } from "./TemplatePreview";

interface Props {
  value: string;
  onChange: (v: string) => void;
  /** The service's error for this field after a save (shown under the editor). */
  apiError?: string | null;
  required?: boolean;
  /** On the edit page: the task, so its imported fields are chips and its own targets the preview's sample. */
  taskId?: string;
  /** Whether the task has targets: without any, names other than near misses of standard ones are accepted. */
  hasTargets?: boolean;
}

const STANDARD: readonly string[] = STANDARD_FIELDS;

/** "did you mean" for an unknown placeholder, in the UI's language. */
export function useUnknownMessage() {
  const { t } = useTranslation("form");
  return (u: Pick<Unknown, "name" | "suggestion" | "closest">) =>
    u.suggestion
      ? t("editor.unknown.suggest", { name: `{${u.name}}`, suggestion: `{${u.suggestion}}` })
      : t("editor.unknown.hint", { name: `{${u.name}}`, fallback: `{${u.name}|…}`, column: u.name });
}

export function TemplateEditor({ value, onChange, apiError, required, taskId, hasTargets }: Props) {
  const { t } = useTranslation("form");
  const ref = useRef<HTMLTextAreaElement>(null);
  const parsed = parseTemplate(value);
  const defaultSample = useMemo<SampleValues>(
    () => ({ first_name: t("editor.sample.first_name"), last_name: t("editor.sample.last_name"), username: "anna_p" }),
    [t],
  );
  const [edited, setEdited] = useState<SampleValues | null>(null);
  const sample = edited ?? defaultSample;
  const [sampleTarget, setSampleTarget] = useState<string | null>(null);
  const unknownMessage = useUnknownMessage();

  const targets = useTargetSample(taskId);
  const fields = useTaskFields(taskId);
  const imported = useMemo(() => (fields.data?.fields ?? []).filter((f) => !f.standard && !STANDARD.includes(f.name)), [fields.data]);
  const chips = useMemo(
    () => [...STANDARD.map((name) => ({ name, targets: null as number | null })), ...imported.map((f) => ({ name: f.name, targets: f.targets }))],
    [imported],
  );

  const custom = useMemo(() => (parsed.ok ? parsed.names.filter((n) => !STANDARD.includes(n)) : []), [parsed]);
  // The service's save-time rule, checked as the user types; the service checks again on save.
  const known = taskId && hasTargets && fields.data ? imported.filter((f) => f.targets > 0).map((f) => f.name) : null;
  const unknown = taskId && hasTargets && !fields.data ? [] : unknownPlaceholders(value, known);

  /** Inserts `token` at the cursor; `select` (offsets in the token) is selected afterwards, else the cursor goes after it. */
  const insert = (token: string, select?: [number, number]) => {
    const el = ref.current;
    if (!el) {
      onChange(value + token);
      return;
    }
    const start = el.selectionStart ?? value.length;
    const end = el.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + token + value.slice(end));
    requestAnimationFrame(() => {
      el.focus();
      const [a, b] = select ?? [token.length, token.length];
      el.setSelectionRange(start + a, start + b);
    });
  };
  const insertWithFallback = (name: string) => {
    const fallback = name === "first_name" ? t("editor.fallback.first_name") : "";
    const head = `{${name}|`;
    insert(`${head}${fallback}}`, [head.length, head.length + fallback.length]);
  };

  const pickTarget = (id: string | null) => {
    setSampleTarget(id);
    const target = targets.data?.items.find((x) => String(x.id) === id);
    if (!target) {
      setEdited(null);
      return;
    }
    setEdited({ ...target.fields, first_name: target.first_name, last_name: target.last_name, username: target.username });
  };

  // One editable value of the sample target, for a standard field or one the template names.
  const sampleInput = (field: string) => (
    <TextInput
      key={field}
      size="xs"
      label={field}
      value={String(sample[field] ?? "")}
      onChange={(e) => {
        const v = e.currentTarget.value;
        setEdited((s) => ({ ...(s ?? defaultSample), [field]: v }));
      }}
    />
  );

  const clientError = parsed.ok ? (unknown.length ? unknown.map(unknownMessage).join("; ") : null) : parsed.error.message;
  const sampleLabel = sampleTarget
    ? targets.data?.items.find((x) => String(x.id) === sampleTarget)?.key
    : `${sample.first_name ?? ""} ${sample.last_name ?? ""}`.trim() || undefined;

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 7 }}>
        <Stack gap={6}>
          <Textarea
            ref={ref}
            label={t("editor.label")}
            name="message_template"
            description={t("editor.description", { open: "{{", close: "}}" })}
            placeholder={t("editor.placeholder")}
            autosize
            minRows={4}
            maxRows={14}
            value={value}
            onChange={(e) => onChange(e.currentTarget.value)}
            error={apiError || clientError}
            withAsterisk={required}
            maxLength={4096}
          />
          <Group gap={6} data-testid="template-chips">
            <Text size="xs" c="dimmed">
              {t("editor.insert")}
            </Text>
            {chips.map((f) => (
              <Group key={f.name} gap={0} wrap="nowrap">
                <Button size="compact-xs" variant="light" onClick={() => insert(`{${f.name}}`)} type="button" style={{ borderTopRightRadius: 0, borderBottomRightRadius: 0 }}>
                  {`{${f.name}}`}
                  {f.targets !== null && (
                    <Text span size="xs" c="dimmed" ml={4}>
                      {num(f.targets)}
                    </Text>
                  )}
                </Button>
                <Tooltip label={t("editor.with_fallback", { name: `{${f.name}}` })}>
                  <ActionIcon
                    size={22}
                    variant="light"
                    type="button"
                    aria-label={t("editor.with_fallback", { name: `{${f.name}}` })}
                    onClick={() => insertWithFallback(f.name)}
                    style={{ borderTopLeftRadius: 0, borderBottomLeftRadius: 0, borderLeft: "1px solid var(--mantine-color-body)" }}
                  >
                    <IconCornerDownRight size={12} />
                  </ActionIcon>
                </Tooltip>
              </Group>
            ))}
          </Group>
          <Text size="xs" c="dimmed">
            {taskId ? t("editor.fields_hint_task") : t("editor.fields_hint_new")}
          </Text>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Stack gap="xs">
          <Text size="sm" fw={500}>
            {t("editor.preview")}
          </Text>
          <TemplatePreview template={value} sample={sample} sampleLabel={sampleLabel} />
          {taskId && (targets.data?.items.length ?? 0) > 0 && (
            <Select
              size="xs"
              label={t("editor.preview_for")}
              placeholder={t("editor.preview_sample")}
              clearable
              value={sampleTarget}
              onChange={pickTarget}
              data={(targets.data?.items ?? []).map((x) => ({ value: String(x.id), label: x.key }))}
            />
          )}
          <Group gap="xs" grow>
            {STANDARD.map(sampleInput)}
          </Group>
          {custom.length > 0 && (
            <Stack gap={4}>
              <Group gap={4}>
                <Text size="xs" c="dimmed">
                  {t("editor.audience_fields")}
                </Text>
                {custom.map((c) => (
                  <Badge key={c} size="xs" variant="outline">
                    {c}
                  </Badge>
                ))}
              </Group>
              <Group gap="xs" grow>
                {custom.map(sampleInput)}
              </Group>
            </Stack>
          )}
        </Stack>
      </Grid.Col>
    </Grid>
  );
}
