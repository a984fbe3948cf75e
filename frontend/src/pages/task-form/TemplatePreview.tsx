import { Alert, Group, Paper, Stack, Text } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { num } from "../../lib/format";
import { fieldValue, parseTemplate, type SampleValues } from "../../lib/template";

/**
 * The message as the sample target would receive it, rendered by the service's rules. A placeholder
 * the sample has no value for renders its fallback, or empty (as on send) and is flagged so the user notices.
 */
export function TemplatePreview({ template, sample, sampleLabel }: { template: string; sample: SampleValues; sampleLabel?: string }) {
  const { t } = useTranslation("form");
  const parsed = parseTemplate(template);
  if (!template.trim()) {
    return (
      <Paper withBorder radius="md" p="md" data-testid="template-preview">
        <Text size="sm" c="dimmed">
          {t("preview.empty")}
        </Text>
      </Paper>
    );
  }
  if (!parsed.ok) {
    return (
      <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("preview.invalid")} data-testid="template-preview-error">
        <Text size="sm">{parsed.error.message}</Text>
        <Text size="xs" c="dimmed" mt={4}>
          {t("preview.near", { position: parsed.error.at + 1 })} <code>{template.slice(parsed.error.at, parsed.error.at + 24)}</code>
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
            const value = fieldValue(sample, seg.name);
            if (value !== "") return <span key={i}>{value}</span>;
            if (seg.fallback !== null) {
              return (
                <span key={i} style={{ fontStyle: "italic", textDecoration: "underline dotted" }} data-fallback title={t("preview.fallback_title", { name: seg.name })}>
                  {seg.fallback}
                </span>
              );
            }
            if (!missing.includes(seg.name)) missing.push(seg.name);
            return (
              <span key={i} className="template-missing" title={t("preview.missing_title", { name: seg.name })}>
                {" "}
              </span>
            );
          })}
        </Text>
      </Paper>
      <Group gap="xs" justify="space-between">
        <Text size="xs" c="dimmed">
          {sampleLabel ? t("preview.for", { who: sampleLabel }) : t("preview.for_sample")} ·{" "}
          {t("preview.length", { n: num(template.length), max: num(4096) })}
        </Text>
        {missing.length > 0 && (
          <Text size="xs" c="orange" data-testid="template-missing">
            {t("preview.missing", { names: missing.map((m) => `{${m}}`).join(", ") })}
          </Text>
        )}
      </Group>
    </Stack>
  );
}
