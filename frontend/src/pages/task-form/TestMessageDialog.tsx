import { Alert, Badge, Button, Group, Modal, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { IconAlertTriangle, IconSend } from "@tabler/icons-react";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useTargetSample } from "../../api/hooks";
import { ApiError, cleanMessage, describeError, locPath } from "../../api/problem";
import { type MessageTestOut, useTestMessage } from "../../api/templates";
import { dateTime, windowName } from "../../lib/format";

const OUTCOME_COLOR: Record<string, string> = { success: "teal", target_rejected: "orange", retry_after: "yellow" };

/** What a refused test says, in the UI's language where its code is known (the API's detail stays English). */
function useRefusal() {
  const { t } = useTranslation("form");
  return (err: unknown): { to: string | null; message: string } => {
    if (!(err instanceof ApiError)) return { to: null, message: describeError(err) };
    const extra = err.problem as Record<string, unknown>;
    const until = typeof extra.until === "string" ? extra.until : null;
    const to = err.issues.find((i) => locPath(i.loc ?? []) === "to");
    if (to) return { to: cleanMessage(to.msg), message: "" };
    switch (err.problem.code) {
      case "CAP_REACHED":
        return {
          to: null,
          message: until
            ? t("test.cap", {
                window: typeof extra.window_seconds === "number" ? windowName(extra.window_seconds) : t("test.cap_window"),
                until: dateTime(until),
              })
            : t("test.cap_zero"),
        };
      case "ACCOUNT_WAITING":
        return { to: null, message: t("test.waiting", { until: dateTime(until) }) };
      case "NOT_A_MESSAGE_TASK":
        return { to: null, message: t("test.not_message") };
      case "NO_USABLE_ACCOUNT":
        return { to: null, message: t("test.no_account") };
      case "ACCOUNT_BUSY":
        return { to: null, message: t("test.busy") };
      default:
        return { to: null, message: describeError(err) };
    }
  };
}

/** "Send a test to myself": the saved message, rendered for a chosen target (or a sample), to the user's own address. */
export function TestMessageDialog({ taskId, opened, onClose, unsaved }: { taskId: string; opened: boolean; onClose: () => void; unsaved: boolean }) {
  const { t } = useTranslation("form");
  const [to, setTo] = useState("");
  const [target, setTarget] = useState<string | null>(null);
  const [result, setResult] = useState<MessageTestOut | null>(null);
  const [refused, setRefused] = useState<{ to: string | null; message: string } | null>(null);
  const targets = useTargetSample(opened ? taskId : undefined);
  const send = useTestMessage(taskId);
  const refusal = useRefusal();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setResult(null);
    setRefused(null);
    if (!to.trim()) {
      setRefused({ to: t("test.to_required"), message: "" });
      return;
    }
    try {
      setResult(await send.mutateAsync({ to: to.trim(), target_id: target ? Number(target) : null, account_id: null }));
    } catch (err) {
      setRefused(refusal(err));
    }
  }

  const outcome = result ? t(`test.outcome.${result.outcome}`, { defaultValue: result.outcome }) : "";
  return (
    <Modal opened={opened} onClose={onClose} title={t("test.title")} size="lg">
      <form onSubmit={submit} noValidate data-testid="test-message-form">
        <Stack>
          <Text size="sm" c="dimmed">
            {t("test.intro")}
          </Text>
          {unsaved && (
            <Alert color="yellow" icon={<IconAlertTriangle size={18} />}>
              {t("test.unsaved")}
            </Alert>
          )}
          <TextInput
            label={t("test.to")}
            description={t("test.to_hint")}
            placeholder="@my_username"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
            error={refused?.to}
            withAsterisk
            name="to"
          />
          <Select
            label={t("test.target")}
            description={t("test.target_hint")}
            placeholder={t("test.target_sample")}
            clearable
            searchable
            value={target}
            onChange={setTarget}
            data={(targets.data?.items ?? []).map((x) => ({ value: String(x.id), label: x.key }))}
          />
          {refused?.message && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("test.refused")} role="alert" data-testid="test-message-refused">
              {refused.message}
            </Alert>
          )}
          {result && (
            <Stack gap={6} data-testid="test-message-result">
              <Group gap="xs">
                <Badge color={OUTCOME_COLOR[result.outcome] ?? "red"} variant="light">
                  {outcome}
                </Badge>
                <Text size="xs" c="dimmed">
                  {t("test.from", { account: result.account_id })}
                </Text>
              </Group>
              <Paper radius="lg" p="sm" bg="var(--mantine-color-blue-light)" style={{ whiteSpace: "pre-wrap" }}>
                <Text size="sm" data-testid="test-message-rendered">
                  {result.rendered}
                </Text>
              </Paper>
              {(result.error_code || result.detail) && (
                <Text size="xs" c="red">
                  {[result.error_code, result.detail].filter(Boolean).join(": ")}
                </Text>
              )}
            </Stack>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose} type="button">
              {t("test.close")}
            </Button>
            <Button type="submit" loading={send.isPending} leftSection={<IconSend size={16} />}>
              {t("test.send")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
