import { Group, SimpleGrid, Stack, Text, Tooltip as HintTooltip } from "@mantine/core";
import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Task } from "../../api/hooks";
import type { TaskStatsOut } from "../../api/types";
import { num } from "../../lib/format";
import { t } from "../../lib/i18n";

const COLORS: Record<string, string> = {
  pending: "#adb5bd",
  reserved: "#748ffc",
  sending: "#4dabf7",
  invited: "#12b886",
  messaged: "#40c057",
  already_member: "#15aabf",
  failed: "#fa5252",
  skipped: "#fd7e14",
  unknown: "#9775fa",
};
const palette = ["#12b886", "#40c057", "#15aabf", "#fa5252", "#fd7e14", "#9775fa", "#4dabf7", "#fab005"];

/** The outcome chart (from the task's counters) and the hourly chart of sends (from /stats). */
export default function Charts({ counters, stats }: { counters: Task["counters"]; stats: TaskStatsOut | null }) {
  const outcomes = Object.entries(counters)
    .filter(([k, v]) => k !== "total" && v > 0)
    .map(([name, value]) => ({ name: name.replace("_", " "), key: name, value }));
  const hourly = stats?.hourly ?? [];
  const series = Array.from(new Set(hourly.flatMap((p) => Object.keys(p.counts))));

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <Stack gap={4}>
        <Group justify="space-between" gap="xs">
          <Text size="sm" c="dimmed">
            Targets by state
          </Text>
          <HintTooltip label={t("replies.hint")} multiline w={280} withArrow>
            <Text size="sm" data-testid="replies-count">
              {t("replies.label")}: <b>{num(stats?.replied ?? 0)}</b>
            </Text>
          </HintTooltip>
        </Group>
        {outcomes.length === 0 ? (
          <Text size="sm" c="dimmed" py="xl" ta="center">
            No targets yet.
          </Text>
        ) : (
          <div style={{ width: "100%", height: 240 }} data-testid="outcome-chart">
            <ResponsiveContainer>
              <PieChart>
                <Pie data={outcomes} dataKey="value" nameKey="name" innerRadius={50} outerRadius={90} isAnimationActive={false}>
                  {outcomes.map((o) => (
                    <Cell key={o.key} fill={COLORS[o.key] ?? "#868e96"} />
                  ))}
                </Pie>
                <Tooltip />
                <Legend />
              </PieChart>
            </ResponsiveContainer>
          </div>
        )}
      </Stack>
      <Stack gap={4}>
        <Text size="sm" c="dimmed">
          Sends per hour
        </Text>
        {hourly.length === 0 ? (
          <Text size="sm" c="dimmed" py="xl" ta="center">
            Nothing sent yet.
          </Text>
        ) : (
          <div style={{ width: "100%", height: 240 }} data-testid="hourly-chart">
            <ResponsiveContainer>
              <BarChart data={hourly.map((p) => ({ ...p.counts, hour: new Date(p.hour).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) }))}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="hour" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} width={36} />
                <Tooltip />
                <Legend />
                {series.map((s, i) => (
                  <Bar key={s} dataKey={s} stackId="a" fill={COLORS[s] ?? palette[i % palette.length]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
      </Stack>
    </SimpleGrid>
  );
}
