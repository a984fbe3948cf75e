import { Badge, Group, Progress, Text, Tooltip } from "@mantine/core";
import {
  LANE_STATUS_META,
  PRIORITY_META,
  TARGET_STATUS_META,
  TASK_STATUS_META,
  type Priority,
  type TargetStatus,
  type TaskStatus,
} from "../lib/status";
import { pct } from "../lib/format";

export function TaskStatusBadge({ status, size = "sm" }: { status: TaskStatus; size?: "xs" | "sm" | "md" | "lg" }) {
  const meta = TASK_STATUS_META[status] ?? { label: status, color: "gray" };
  return (
    <Badge color={meta.color} size={size} variant={status === "running" ? "filled" : "light"} data-status={status}>
      {meta.label}
    </Badge>
  );
}

export function TargetStatusBadge({ status }: { status: TargetStatus }) {
  const meta = TARGET_STATUS_META[status] ?? { label: status, color: "gray" };
  return (
    <Badge color={meta.color} size="sm" variant="light" data-status={status}>
      {meta.label}
    </Badge>
  );
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  const meta = PRIORITY_META[priority];
  return (
    <Badge color={meta.color} size="sm" variant="outline">
      {meta.label}
    </Badge>
  );
}

export function LaneStatusBadge({ status }: { status: string }) {
  const meta = LANE_STATUS_META[status] ?? { label: status, color: "gray" };
  return (
    <Badge color={meta.color} size="sm" variant="light">
      {meta.label}
    </Badge>
  );
}

export function ProgressCell({ value, status, total }: { value: number; status: TaskStatus; total: number }) {
  const color = status === "failed" ? "red" : status === "completed" ? "teal" : status === "paused" ? "yellow" : "blue";
  return (
    <Tooltip label={total ? `${pct(value)} of ${total} targets done` : "No targets yet"} withArrow>
      <Group gap="xs" wrap="nowrap" miw={120}>
        <Progress
          value={value}
          color={color}
          striped={status === "running"}
          animated={status === "running"}
          style={{ flex: 1 }}
          aria-label={`Progress ${pct(value)}`}
        />
        <Text size="xs" c="dimmed" w={38} ta="right">
          {pct(value)}
        </Text>
      </Group>
    </Tooltip>
  );
}
