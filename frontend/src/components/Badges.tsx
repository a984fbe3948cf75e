import { Badge, Group, Progress, Text, Tooltip } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { pct } from "../lib/format";
import { laneLook, logLook, type Look, lookLabel, targetLook, taskLook, TASK_LOOK } from "../lib/outcomes";
import { PRIORITY_META, type Priority, type TargetStatus, type TaskStatus } from "../lib/status";

// Badges never truncate: a long label (Russian) wraps inside the badge instead of being cut.
export const WRAP = { root: { maxWidth: "100%", height: "auto", minHeight: "var(--badge-height)" }, label: { whiteSpace: "normal", overflow: "visible", textOverflow: "clip" } } as const;

function LookBadge({ look, size = "sm", variant = "light", ...rest }: { look: Look; size?: "xs" | "sm" | "md" | "lg"; variant?: string; [k: `data-${string}`]: string }) {
  useTranslation("outcomes"); // re-render on a language switch
  return (
    <Badge color={look.color} size={size} variant={variant} styles={WRAP} {...rest}>
      {lookLabel(look)}
    </Badge>
  );
}

export function TaskStatusBadge({ status, size = "sm" }: { status: TaskStatus; size?: "xs" | "sm" | "md" | "lg" }) {
  return <LookBadge look={taskLook(status)} size={size} variant={status === "running" ? "filled" : "light"} data-status={status} />;
}

export function TargetStatusBadge({ status }: { status: TargetStatus }) {
  return <LookBadge look={targetLook(status)} data-status={status} />;
}

export function LaneStatusBadge({ status }: { status: string }) {
  return <LookBadge look={laneLook(status)} data-status={status} />;
}

/** What one log row's call did. */
export function OutcomeBadge({ outcome }: { outcome: string }) {
  return <LookBadge look={logLook(outcome)} data-outcome={outcome} />;
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  useTranslation("outcomes");
  const meta = PRIORITY_META[priority];
  return (
    <Badge color={meta.color} size="sm" variant="outline" styles={WRAP}>
      {meta.label}
    </Badge>
  );
}

export function ProgressCell({ value, status, total }: { value: number; status: TaskStatus; total: number }) {
  const { t } = useTranslation("outcomes");
  const color = (status === "failed" || status === "completed" || status === "paused" ? TASK_LOOK[status] : TASK_LOOK.running).color;
  return (
    <Tooltip label={total ? t("progress.of", { pct: pct(value), count: total }) : t("progress.none")} withArrow>
      <Group gap="xs" wrap="nowrap" miw={120}>
        <Progress
          value={value}
          color={color}
          striped={status === "running"}
          animated={status === "running"}
          style={{ flex: 1 }}
          aria-label={t("progress.aria", { pct: pct(value) })}
        />
        <Text size="xs" c="dimmed" w={38} ta="right">
          {pct(value)}
        </Text>
      </Group>
    </Tooltip>
  );
}
