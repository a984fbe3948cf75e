import { Alert, Button, Group, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconPlayerPause, IconPlayerPlay, IconPlayerStop } from "@tabler/icons-react";
import { useState } from "react";
import { type ControlVerb, type Task, useControlTask } from "../../api/hooks";
import { ApiError, cleanMessage, describeError, locPath } from "../../api/problem";
import { useConfirm } from "../../components/Confirm";
import { plural } from "../../lib/format";

/** Which controls a task in each state offers (the service still decides: 409 names the current state). */
export const CONTROLS_BY_STATUS: Record<string, ControlVerb[]> = {
  draft: ["start"],
  scheduled: ["start", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  completed: [],
  cancelled: [],
  failed: [],
};

const META: Record<ControlVerb, { label: string; color: string; icon: typeof IconPlayerPlay; variant: string }> = {
  start: { label: "Start", color: "teal", icon: IconPlayerPlay, variant: "filled" },
  pause: { label: "Pause", color: "yellow", icon: IconPlayerPause, variant: "light" },
  resume: { label: "Resume", color: "teal", icon: IconPlayerPlay, variant: "filled" },
  cancel: { label: "Cancel task", color: "red", icon: IconPlayerStop, variant: "light" },
};

function confirmText(verb: ControlVerb, task: Task): { title: string; message: string; label: string } {
  const pending = task.counters.pending + task.counters.reserved;
  switch (verb) {
    case "start":
      return {
        title: `Start “${task.name}”?`,
        message: `The accounts you picked begin working through ${plural(task.counters.total, "target")}, inside every limit.${
          task.scheduled_at ? " It will wait for its scheduled time." : ""
        }`,
        label: "Start",
      };
    case "pause":
      return {
        title: `Pause “${task.name}”?`,
        message: "No new send starts once it is paused (one already in flight may finish). You can resume at any time.",
        label: "Pause",
      };
    case "resume":
      return { title: `Resume “${task.name}”?`, message: "The task continues where it stopped.", label: "Resume" };
    case "cancel":
      return {
        title: `Cancel “${task.name}”?`,
        message: `${plural(pending, "target")} not reached yet will be skipped. This cannot be undone.`,
        label: "Cancel task",
      };
  }
}

/** Start / pause / resume / cancel, each confirmed. */
export function TaskControls({ task }: { task: Task }) {
  const confirm = useConfirm();
  const control = useControlTask(task.id);
  const [problem, setProblem] = useState<{ verb: ControlVerb; error: unknown } | null>(null);
  const verbs = CONTROLS_BY_STATUS[task.status] ?? [];

  async function run(verb: ControlVerb) {
    const text = confirmText(verb, task);
    const ok = await confirm({ title: text.title, message: text.message, confirmLabel: text.label, color: META[verb].color });
    if (!ok) return;
    setProblem(null);
    try {
      await control.mutateAsync(verb);
      notifications.show({ color: "teal", message: `${META[verb].label}: done`, autoClose: 3000 });
    } catch (error) {
      setProblem({ verb, error });
    }
  }

  return (
    <>
      <Group gap="xs" data-testid="task-controls">
        {verbs.map((verb) => {
          const m = META[verb];
          const Icon = m.icon;
          return (
            <Button
              key={verb}
              color={m.color}
              variant={m.variant}
              leftSection={<Icon size={16} />}
              onClick={() => void run(verb)}
              loading={control.isPending && control.variables === verb}
              disabled={control.isPending && control.variables !== verb}
            >
              {m.label}
            </Button>
          );
        })}
      </Group>
      {problem && <ControlProblem verb={problem.verb} error={problem.error} onClose={() => setProblem(null)} />}
    </>
  );
}

function ControlProblem({ verb, error, onClose }: { verb: ControlVerb; error: unknown; onClose: () => void }) {
  const reasons = error instanceof ApiError ? error.issues : [];
  return (
    <Alert
      color="red"
      icon={<IconAlertTriangle size={18} />}
      title={`Could not ${verb} the task`}
      withCloseButton
      onClose={onClose}
      role="alert"
      data-testid="control-error"
      w="100%"
    >
      {reasons.length > 0 ? (
        <>
          <Text size="sm">{error instanceof ApiError ? error.message : ""}</Text>
          <ul style={{ margin: "4px 0 0", paddingLeft: 18 }}>
            {reasons.map((r, i) => (
              <li key={i}>
                <Text size="sm">
                  {locPath(r.loc) ? <b>{locPath(r.loc)}: </b> : null}
                  {cleanMessage(r.msg)}
                </Text>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <Text size="sm">{describeError(error)}</Text>
      )}
    </Alert>
  );
}
