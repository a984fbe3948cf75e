import { Alert, Button, Group, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconPlayerPause, IconPlayerPlay, IconPlayerStop } from "@tabler/icons-react";
import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useTaskAudiencePreview } from "../../api/audiences";
import { type ControlVerb, type Task, useControlTask } from "../../api/hooks";
import { ApiError, cleanMessage, describeError, locPath } from "../../api/problem";
import type { TaskStatusOut } from "../../api/taskStatus";
import { useConfirm } from "../../components/Confirm";
import { about, windowName } from "../../lib/format";
import { previewText } from "../audiences/previewText";
import { audiencesOf } from "../task-form/formModel";

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

const META: Record<ControlVerb, { color: string; icon: typeof IconPlayerPlay; variant: string }> = {
  start: { color: "teal", icon: IconPlayerPlay, variant: "filled" },
  pause: { color: "yellow", icon: IconPlayerPause, variant: "light" },
  resume: { color: "teal", icon: IconPlayerPlay, variant: "filled" },
  cancel: { color: "red", icon: IconPlayerStop, variant: "light" },
};

type Estimate = NonNullable<TaskStatusOut["estimate"]>;

/**
 * "287 targets, 2 accounts: about 3 days at 50 invites a day each" — from the service's estimate (its
 * remaining targets, working accounts, the binding per-account cap and the ETA). Null without an estimate.
 */
export function estimateText(estimate: Estimate | null | undefined, eta: string | null | undefined, t: TFunction, now = Date.now()): string | null {
  if (!estimate || estimate.remaining <= 0 || estimate.lanes <= 0) return null;
  let seconds: number | null = null;
  if (eta) seconds = (new Date(eta).getTime() - now) / 1000;
  else if (estimate.rate_per_hour > 0) seconds = (3600 * estimate.remaining) / estimate.rate_per_hour;
  const head = t("task:estimate.head", {
    targets: t("task:estimate.targets", { count: estimate.remaining }),
    accounts: t("task:estimate.accounts", { count: estimate.lanes }),
  });
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return head;
  // The cap that binds over a long run: the lowest sends per second.
  const cap = [...estimate.caps].sort((a, b) => a.limit / a.window_seconds - b.limit / b.window_seconds)[0];
  const rate = cap
    ? t(`task:estimate.cap_${estimate.step}`, { count: cap.limit, window: windowName(cap.window_seconds) })
    : null;
  return rate ? t("task:estimate.full", { head, duration: about(seconds), rate }) : t("task:estimate.no_cap", { head, duration: about(seconds) });
}

/** `adding`: targets the task's audiences add on start (counted in the sentence). */
function confirmText(verb: ControlVerb, task: Task, t: TFunction, status: TaskStatusOut | undefined, adding = 0): { title: string; message: string; label: string } {
  const pending = task.counters.pending + task.counters.reserved;
  const name = task.name;
  switch (verb) {
    case "start": {
      const estimate = estimateText(status?.estimate, status?.eta, t);
      return {
        title: t("task:control.start.title", { name }),
        message: [
          t("task:control.start.body", { count: task.counters.total + adding }),
          task.scheduled_at ? t("task:control.start.scheduled") : "",
          estimate ?? "",
        ]
          .filter(Boolean)
          .join(" "),
        label: t("task:control.start"),
      };
    }
    case "pause":
      return { title: t("task:control.pause.title", { name }), message: t("task:control.pause.body"), label: t("task:control.pause") };
    case "resume":
      return { title: t("task:control.resume.title", { name }), message: t("task:control.resume.body"), label: t("task:control.resume") };
    case "cancel":
      return {
        title: t("task:control.cancel.title", { name }),
        message: t("task:control.cancel.body", { count: pending }),
        label: t("task:control.cancel"),
      };
  }
}

/** Start / pause / resume / cancel, each confirmed. */
export function TaskControls({ task, status }: { task: Task; status?: TaskStatusOut }) {
  const { t } = useTranslation("task");
  const confirm = useConfirm();
  const control = useControlTask(task.id);
  const [problem, setProblem] = useState<{ verb: ControlVerb; error: unknown; status: Task["status"] } | null>(null);
  const verbs = CONTROLS_BY_STATUS[task.status] ?? [];
  // A task with audiences says, before start/resume, who materialising would add now (fresh on each click).
  const withAudiences = !!audiencesOf(task) && (verbs.includes("start") || verbs.includes("resume"));
  const audience = useTaskAudiencePreview(task.id, withAudiences);
  const { t: ta } = useTranslation("audiences");

  async function run(verb: ControlVerb) {
    const fresh = withAudiences && (verb === "start" || verb === "resume") ? (await audience.refetch()).data : undefined;
    const text = confirmText(verb, task, t, status, fresh?.targets ?? 0);
    const ok = await confirm({
      title: text.title,
      message: (
        <>
          <span data-testid={`confirm-${verb}`}>{text.message}</span>
          {fresh && (
            <span style={{ display: "block", marginTop: 8 }} data-testid="start-audience-preview">
              {ta("preview.on_start", { text: previewText(ta, fresh, task.action) })}
            </span>
          )}
        </>
      ),
      confirmLabel: text.label,
      color: META[verb].color,
    });
    if (!ok) return;
    setProblem(null);
    try {
      await control.mutateAsync(verb);
      notifications.show({ color: "teal", message: t("control.done", { what: text.label }), autoClose: 3000 });
    } catch (error) {
      setProblem({ verb, error, status: task.status });
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
              {t(`control.${verb}`)}
            </Button>
          );
        })}
      </Group>
      {problem && <ControlProblem problem={problem} task={task} status={status} onClose={() => setProblem(null)} />}
    </>
  );
}

/**
 * Whether a reason the service gave for refusing still holds, judged from the task as it is NOW (so the banner
 * goes away by itself once the user imported targets, picked an account, …). Unknown reasons hold while the
 * task stays in the state it was refused in.
 */
export function stillHolds(path: string, task: Task, status: TaskStatusOut | undefined): boolean | undefined {
  switch (path.replace(/^task\./, "")) {
    case "targets":
      return task.counters.pending === 0;
    case "destination":
      return !task.destination;
    case "message_template":
      return !task.message_template;
    case "account_ids":
      return task.account_ids.length === 0 || (status ? !status.lanes.some((l) => l.status === "active" || l.status === "cooling_down") : true);
    default:
      return undefined;
  }
}

function ControlProblem({
  problem,
  task,
  status,
  onClose,
}: {
  problem: { verb: ControlVerb; error: unknown; status: Task["status"] };
  task: Task;
  status: TaskStatusOut | undefined;
  onClose: () => void;
}) {
  const { t } = useTranslation("task");
  const { error, verb } = problem;
  const all = error instanceof ApiError ? error.issues : [];
  const reasons = all.filter((r) => stillHolds(locPath(r.loc), task, status) !== false);
  // Every named reason is gone, or the task moved on from the state it was refused in: nothing to say.
  if ((all.length > 0 && reasons.length === 0) || (all.length === 0 && task.status !== problem.status)) return null;
  return (
    <Alert
      color="red"
      icon={<IconAlertTriangle size={18} />}
      title={t(`control.failed.${verb}`)}
      withCloseButton
      onClose={onClose}
      role="alert"
      data-testid="control-error"
      w="100%"
    >
      {reasons.length > 0 ? (
        <Stack gap={4}>
          <Text size="sm">{t("control.failed.body")}</Text>
          <ul style={{ margin: "4px 0 0", paddingLeft: 18 }}>
            {reasons.map((r, i) => {
              const path = locPath(r.loc);
              const known = stillHolds(path, task, status) !== undefined;
              return (
                <li key={i}>
                  <Text size="sm" data-reason={path}>
                    {known ? t(`control.needs.${path.replace(/^task\./, "")}`) : (
                      <>
                        {path ? <b>{path}: </b> : null}
                        {cleanMessage(r.msg)}
                      </>
                    )}
                  </Text>
                </li>
              );
            })}
          </ul>
        </Stack>
      ) : (
        <Text size="sm">{describeError(error)}</Text>
      )}
    </Alert>
  );
}
