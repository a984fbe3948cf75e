import { Badge, Button, Grid, Group, Select, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useMemo, useRef, useState } from "react";
import { useTargetSample } from "../../api/hooks";
import { parseTemplate, type SampleValues, STANDARD_FIELDS } from "../../lib/template";
import { TemplatePreview } from "./TemplatePreview";

const DEFAULT_SAMPLE: SampleValues = { first_name: "Anna", last_name: "Petrova", username: "anna_p" };

interface Props {
  value: string;
  onChange: (v: string) => void;
  /** The service's error for this field after a save (shown under the editor). */
  apiError?: string | null;
  required?: boolean;
  /** On the edit page: the task, so its own targets can be the preview's sample. */
  taskId?: string;
}

export function TemplateEditor({ value, onChange, apiError, required, taskId }: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const parsed = parseTemplate(value);
  const [sample, setSample] = useState<SampleValues>(DEFAULT_SAMPLE);
  const [sampleTarget, setSampleTarget] = useState<string | null>(null);

  const targets = useTargetSample(taskId);

  const custom = useMemo(
    () => (parsed.ok ? parsed.names.filter((n) => !(STANDARD_FIELDS as readonly string[]).includes(n)) : []),
    [parsed],
  );

  const insert = (name: string) => {
    const el = ref.current;
    const token = `{${name}}`;
    if (!el) {
      onChange(value + token);
      return;
    }
    const start = el.selectionStart ?? value.length;
    const end = el.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + token + value.slice(end));
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(start + token.length, start + token.length);
    });
  };

  const pickTarget = (id: string | null) => {
    setSampleTarget(id);
    const t = targets.data?.items.find((x) => String(x.id) === id);
    if (!t) {
      setSample(DEFAULT_SAMPLE);
      return;
    }
    setSample({ ...t.fields, first_name: t.first_name, last_name: t.last_name, username: t.username });
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
        setSample((s) => ({ ...s, [field]: v }));
      }}
    />
  );

  const clientError = parsed.ok ? null : parsed.error.message;
  const sampleLabel = sampleTarget
    ? targets.data?.items.find((x) => String(x.id) === sampleTarget)?.key
    : `${sample.first_name ?? ""} ${sample.last_name ?? ""}`.trim() || undefined;

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 7 }}>
        <Stack gap={6}>
          <Textarea
            ref={ref}
            label="Message"
            name="message_template"
            description="Use {first_name}, {last_name}, {username} or any column of your audience file; write {{ and }} for literal braces."
            placeholder={"Hi {first_name}! We saved you a seat in our members' chat."}
            autosize
            minRows={4}
            maxRows={14}
            value={value}
            onChange={(e) => onChange(e.currentTarget.value)}
            error={apiError || clientError}
            withAsterisk={required}
            maxLength={4096}
          />
          <Group gap={6}>
            <Text size="xs" c="dimmed">
              Insert:
            </Text>
            {STANDARD_FIELDS.map((f) => (
              <Button key={f} size="compact-xs" variant="light" onClick={() => insert(f)} type="button">
                {`{${f}}`}
              </Button>
            ))}
          </Group>
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Stack gap="xs">
          <Text size="sm" fw={500}>
            Preview
          </Text>
          <TemplatePreview template={value} sample={sample} sampleLabel={sampleLabel} />
          {taskId && (targets.data?.items.length ?? 0) > 0 && (
            <Select
              size="xs"
              label="Preview for"
              placeholder="A made-up sample"
              clearable
              value={sampleTarget}
              onChange={pickTarget}
              data={(targets.data?.items ?? []).map((t) => ({ value: String(t.id), label: t.key }))}
            />
          )}
          <Group gap="xs" grow>
            {STANDARD_FIELDS.map(sampleInput)}
          </Group>
          {custom.length > 0 && (
            <Stack gap={4}>
              <Group gap={4}>
                <Text size="xs" c="dimmed">
                  Fields from your audience:
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
