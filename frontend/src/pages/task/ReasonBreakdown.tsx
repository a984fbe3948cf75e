import { Badge, Group, Progress, Stack, Text, UnstyledButton } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useExplain } from "../../api/reasons";
import { WRAP } from "../../components/Badges";
import type { TaskStatsOut } from "../../api/types";
import { num } from "../../lib/format";
import { kindLook, lookLabel } from "../../lib/outcomes";

/**
 * Calls by reason (GET /stats `by_error_code`), each as a sentence with its kind's colour (benign is neutral,
 * not red). A click narrows the audience to the targets left with that reason.
 */
export function ReasonBreakdown({ stats, onPick }: { stats: TaskStatsOut | null | undefined; onPick: (code: string) => void }) {
  const { t } = useTranslation("task");
  const explain = useExplain();
  const rows = Object.entries(stats?.by_error_code ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="reason-breakdown-empty">
        {t("breakdown.empty")}
      </Text>
    );
  }
  const top = rows[0]![1];
  return (
    <Stack gap={6} data-testid="reason-breakdown">
      {rows.map(([code, n]) => {
        const why = explain(code);
        const look = kindLook(why.kind);
        return (
          <UnstyledButton
            key={code}
            onClick={() => onPick(code)}
            data-code={code}
            data-kind={why.kind ?? "unknown"}
            aria-label={t("breakdown.show", { reason: why.text, count: n })}
            style={{ borderRadius: 6, padding: "4px 6px" }}
            className="hover-row"
          >
            <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
              <Stack gap={2} style={{ minWidth: 0, flex: 1 }}>
                <Text size="sm" style={{ wordBreak: "break-word" }}>
                  {why.text}
                </Text>
                <Group gap={6} wrap="wrap">
                  {why.text !== code && (
                    <Text size="xs" c="dimmed" className="mono">
                      {code}
                    </Text>
                  )}
                  <Badge size="xs" variant="light" color={look.color} styles={WRAP}>
                    {lookLabel(look)}
                  </Badge>
                </Group>
              </Stack>
              <Text size="sm" fw={700} c={look.color === "gray" ? undefined : look.color}>
                {num(n)}
              </Text>
            </Group>
            <Progress value={(100 * n) / top} size="xs" color={look.color} mt={4} aria-hidden />
          </UnstyledButton>
        );
      })}
      <Text size="xs" c="dimmed">
        {t("breakdown.hint")}
      </Text>
    </Stack>
  );
}
