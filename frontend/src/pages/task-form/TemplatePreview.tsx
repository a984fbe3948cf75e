import { Alert, Group, Paper, Stack, Text } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { parseTemplate, type SampleValues } from "../../lib/template";

/**
 * The message as the sample target would receive it, rendered by the service's rules. A placeholder
 * the sample has no value for renders empty (as on send) and is flagged so the user notices.
 */
export function TemplatePreview({ template, sample, sampleLabel }: { template: string; sample: SampleValues; sampleLabel?: string }) {
  const parsed = parseTemplate(template);
  if (!template.trim()) {
    return (
      <Paper withBorder radius="md" p="md" data-testid="template-preview">
        <Text size="sm" c="dimmed">
          The preview appears here as you type.
        </Text>
      </Paper>
    );
  }
  if (!parsed.ok) {
    return (
      <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The template cannot be sent as written" data-testid="template-preview-error">
        <Text size="sm">{parsed.error.message}</Text>
        <Text size="xs" c="dimmed" mt={4}>
          Near position {parsed.error.at + 1}: <code>{template.slice(parsed.error.at, parsed.error.at + 24)}</code>
        </Text>
      </Alert>
    );
  }
  const missing: string[] = [];
  return (
    <Stack gap={6} data-testid="template-preview">
      <Paper radius="lg" p="sm" bg="var(--mantine-color-blue-light)" maw={520} style={{ borderBottomLeftRadius: 4 }}>
        <Text size="sm" className="template-preview" data-testid="template-preview-text">
          {parsed.segments.map((seg, i) => {
            if (seg.kind === "text") return <span key={i}>{seg.text}</span>;
            const value = sample[seg.name];
            if (value === undefined || value === null || value === "") {
              if (!missing.includes(seg.name)) missing.push(seg.name);
              return (
                <span key={i} className="template-missing" title={`No ${seg.name} in the sample: sends as empty text`}>
                  {" "}
                </span>
              );
            }
            return <span key={i}>{String(value)}</span>;
          })}
        </Text>
      </Paper>
      <Group gap="xs" justify="space-between">
        <Text size="xs" c="dimmed">
          {sampleLabel ? `For ${sampleLabel}` : "For the sample target"} · {template.length} / 4096 characters
        </Text>
        {missing.length > 0 && (
          <Text size="xs" c="orange" data-testid="template-missing">
            No value for {missing.map((m) => `{${m}}`).join(", ")}: sent as empty text
          </Text>
        )}
      </Group>
    </Stack>
  );
}
