import { Group, SimpleGrid, Stack, Text, Tooltip as HintTooltip } from "@mantine/core";
import type { ReactElement } from "react";
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Task } from "../../api/hooks";
import type { TaskStatsOut } from "../../api/types";
import { num } from "../../lib/format";
import { locale } from "../../i18n";
import { hex, logLook, lookLabel, targetLook } from "../../lib/outcomes";

export interface Slice {
  key: string;
  name: string;
  value: number;
  fill: string;
}

/** The outcome chart's slices: one per target state with targets, coloured and labelled by lib/outcomes. */
export function outcomeSlices(counters: Task["counters"]): Slice[] {
  return Object.entries(counters)
    .filter(([k, v]) => k !== "total" && v > 0)
    .map(([key, value]) => ({ key, name: lookLabel(targetLook(key)), value, fill: hex(targetLook(key).color) }));
}

/** The hourly chart's series: one per call outcome seen, coloured and labelled by lib/outcomes. */
export function hourlySeries(stats: TaskStatsOut | null): { key: string; name: string; fill: string }[] {
  const keys = Array.from(new Set((stats?.hourly ?? []).flatMap((p) => Object.keys(p.counts))));
  return keys.map((key) => ({ key, name: lookLabel(logLook(key)), fill: hex(logLook(key).color) }));
}

/**
 * The outcome chart (from the task's counters) and the hourly chart of sends (from /stats). `size` renders at a
 * fixed size instead of filling the container (tests: jsdom has no layout).
 */
export default function Charts({
  counters,
  stats,
  size,
}: {
  counters: Task["counters"];
  stats: TaskStatsOut | null;
  size?: { width: number; height: number };
}) {
  const { t } = useTranslation(["task", "common"]);
  const slices = outcomeSlices(counters);
  const hourly = stats?.hourly ?? [];
  const series = hourlySeries(stats);
  const fit = (chart: ReactElement) => (size ? chart : <ResponsiveContainer>{chart}</ResponsiveContainer>);
  const dims = size ?? {};

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <Stack gap={4}>
        <Group justify="space-between" gap="xs" wrap="wrap">
          <Text size="sm" c="dimmed">
            {t("charts.by_state")}
          </Text>
          <HintTooltip label={t("common:replies.hint")} multiline w={280} withArrow>
            <Text size="sm" data-testid="replies-count">
              {t("common:replies.label")}: <b>{num(stats?.replied ?? 0)}</b>
            </Text>
          </HintTooltip>
        </Group>
        {slices.length === 0 ? (
          <Text size="sm" c="dimmed" py="xl" ta="center">
            {t("charts.no_targets")}
          </Text>
        ) : (
          <div style={{ width: "100%", height: 260 }} data-testid="outcome-chart">
            {fit(
              <PieChart {...dims}>
                <Pie data={slices} dataKey="value" nameKey="name" innerRadius={50} outerRadius={90} isAnimationActive={false}>
                  {slices.map((o) => (
                    <Cell key={o.key} fill={o.fill} data-key={o.key} />
                  ))}
                </Pie>
                <Tooltip formatter={(v) => num(Number(v))} />
                <Legend />
              </PieChart>,
            )}
          </div>
        )}
      </Stack>
      <Stack gap={4}>
        <Text size="sm" c="dimmed">
          {t("charts.per_hour")}
        </Text>
        {hourly.length === 0 ? (
          <Text size="sm" c="dimmed" py="xl" ta="center">
            {t("charts.nothing_sent")}
          </Text>
        ) : (
          <div style={{ width: "100%", height: 260 }} data-testid="hourly-chart">
            {fit(
              <BarChart
                {...dims}
                data={hourly.map((p) => ({
                  ...p.counts,
                  hour: new Date(p.hour).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" }),
                }))}
              >
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="hour" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} width={36} />
                <Tooltip />
                <Legend />
                {series.map((s) => (
                  <Bar key={s.key} dataKey={s.key} name={s.name} stackId="a" fill={s.fill} isAnimationActive={false} />
                ))}
              </BarChart>,
            )}
          </div>
        )}
      </Stack>
    </SimpleGrid>
  );
}
