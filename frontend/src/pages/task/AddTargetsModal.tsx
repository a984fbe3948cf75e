import { Alert, Badge, Button, Group, Modal, ScrollArea, SegmentedControl, Stack, Table, Text, Textarea } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Schemas } from "../../api/client";
import { useAddTargets } from "../../api/hooks";
import { cleanMessage, describeError, locPath } from "../../api/problem";
import { num } from "../../lib/format";
import { MIN_USER_ID_DIGITS, type PasteMode, parsePasted, type PastedRow } from "../../lib/pasteTargets";

type BulkOut = Schemas["BulkTargetsOut"];
type RowResult = "created" | "duplicate" | "invalid";
const MAX_ROWS = 10_000;
const RESULT_COLOR = { created: "teal", duplicate: "gray", invalid: "red" } as const;

/** One pasted line's outcome: the service's answer, or the refusal made here before sending. */
interface ShownRow {
  line: number;
  raw: string;
  result: RowResult;
  text: string;
}

/** Paste a list → POST targets/bulk → every row's result, the bad ones with their reason. */
export function AddTargetsModal({ taskId, opened, onClose }: { taskId: string; opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("import");
  const [text, setText] = useState("");
  const [mode, setMode] = useState<PasteMode>("auto");
  const [result, setResult] = useState<{ rows: ShownRow[]; out: BulkOut; refused: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const add = useAddTargets(taskId);
  const rows = useMemo(() => parsePasted(text, mode), [text, mode]);
  const sendable = useMemo(() => rows.filter((r) => !r.problem), [rows]);
  const tooShort = rows.length - sendable.length;
  const kinds = useMemo(() => {
    const c = { username: 0, user_id: 0, phone: 0 };
    for (const r of sendable) c[r.kind] += 1;
    return c;
  }, [sendable]);

  const close = () => {
    setResult(null);
    setError(null);
    onClose();
  };

  const problemText = (r: PastedRow) => t(`paste.problem.${r.problem ?? "number_too_short"}`, { digits: MIN_USER_ID_DIGITS });

  function rowErrors(errors: Record<string, unknown>[]): string {
    return errors
      .map((e) => {
        if (e.type === "number_too_short") return t("paste.problem.number_too_short", { digits: MIN_USER_ID_DIGITS });
        const loc = Array.isArray(e.loc) ? locPath((e.loc as (string | number)[]).filter((p) => typeof p === "string" && p !== "targets")) : "";
        const msg = cleanMessage(String(e.msg ?? "is invalid"));
        const label = loc ? t(`paste.field.${loc}`, { defaultValue: loc }) : "";
        return label && !msg.startsWith(loc) ? `${label}: ${msg}` : msg;
      })
      .join("; ");
  }

  async function submit() {
    setError(null);
    try {
      const out = await add.mutateAsync(sendable.map((r) => r.body));
      const shown: ShownRow[] = out.results.map((r) => {
        const row = sendable[r.index];
        return {
          line: row?.line ?? r.index + 1,
          raw: row?.raw ?? "",
          result: r.result,
          text: r.result === "invalid" ? rowErrors(r.errors ?? []) : r.result === "duplicate" ? t("paste.already", { key: r.key }) : (r.key ?? ""),
        };
      });
      for (const r of rows) if (r.problem) shown.push({ line: r.line, raw: r.raw, result: "invalid", text: problemText(r) });
      shown.sort((a, b) => a.line - b.line);
      setResult({ rows: shown, out, refused: tooShort });
    } catch (err) {
      setError(err);
    }
  }

  function keepFailed() {
    if (!result) return;
    setText(
      result.rows
        .filter((r) => r.result === "invalid")
        .map((r) => r.raw)
        .join("\n"),
    );
    setResult(null);
  }

  const invalid = result ? result.out.invalid + result.refused : 0;
  return (
    <Modal opened={opened} onClose={close} title={t("paste.title")} size="xl" fullScreen={typeof window !== "undefined" && window.innerWidth < 600}>
      {result ? (
        <Stack data-testid="bulk-results">
          <Group gap="xs">
            <Badge color="teal" size="lg" variant="light">
              {t("paste.added", { count: result.out.created, n: num(result.out.created) })}
            </Badge>
            <Badge color="gray" size="lg" variant="light">
              {t("paste.duplicates", { count: result.out.duplicates, n: num(result.out.duplicates) })}
            </Badge>
            <Badge color="red" size="lg" variant="light">
              {t("paste.invalid", { count: invalid, n: num(invalid) })}
            </Badge>
          </Group>
          <ScrollArea.Autosize mah={380}>
            <Table striped verticalSpacing={6} fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={60}>{t("paste.col.line")}</Table.Th>
                  <Table.Th>{t("paste.col.pasted")}</Table.Th>
                  <Table.Th>{t("paste.col.result")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.rows.map((r) => (
                  <Table.Tr key={r.line} data-result={r.result}>
                    <Table.Td>{r.line}</Table.Td>
                    <Table.Td className="mono" style={{ wordBreak: "break-all" }}>
                      {r.raw}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap" align="flex-start">
                        <Badge size="sm" color={RESULT_COLOR[r.result]} variant="light" style={{ flexShrink: 0 }}>
                          {t(`paste.result.${r.result}`)}
                        </Badge>
                        <Text size="xs" c={r.result === "invalid" ? "red" : "dimmed"} data-testid={r.result === "invalid" ? "row-error" : undefined}>
                          {r.text}
                        </Text>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
          <Group justify="flex-end">
            {invalid > 0 && (
              <Button variant="default" onClick={keepFailed}>
                {t("paste.fix", { count: invalid, n: num(invalid) })}
              </Button>
            )}
            <Button onClick={close}>{t("paste.done")}</Button>
          </Group>
        </Stack>
      ) : (
        <Stack>
          <Textarea
            label={t("paste.label")}
            description={t("paste.help", { digits: MIN_USER_ID_DIGITS })}
            placeholder={"@anna_p, Anna, Petrova\n+4915112345678, Jonas\n123456789"}
            autosize
            minRows={8}
            maxRows={16}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            name="paste"
            className="mono"
          />
          <Group justify="space-between" wrap="wrap">
            <Group gap="xs">
              <Text size="sm">{t("paste.mode")}</Text>
              <SegmentedControl
                size="xs"
                value={mode}
                onChange={(v) => setMode(v as PasteMode)}
                data={(["auto", "username", "user_id", "phone"] as const).map((m) => ({ value: m, label: t(`paste.mode.${m}`) }))}
              />
            </Group>
            <Text size="sm" c="dimmed" data-testid="paste-summary">
              {rows.length === 0
                ? t("paste.nothing")
                : t("paste.summary", {
                    count: rows.length,
                    n: num(rows.length),
                    usernames: num(kinds.username),
                    ids: num(kinds.user_id),
                    phones: num(kinds.phone),
                  })}
            </Text>
          </Group>
          {tooShort > 0 && (
            <Alert color="yellow" icon={<IconAlertTriangle size={18} />} data-testid="paste-too-short">
              {t("paste.too_short", {
                count: tooShort,
                n: num(tooShort),
                digits: MIN_USER_ID_DIGITS,
                lines: rows
                  .filter((r) => r.problem)
                  .slice(0, 10)
                  .map((r) => r.line)
                  .join(", "),
              })}
            </Alert>
          )}
          {rows.length > MAX_ROWS && <Alert color="yellow">{t("paste.too_many", { max: num(MAX_ROWS) })}</Alert>}
          {error !== null && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("paste.nothing_added")} role="alert">
              {describeError(error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t("paste.cancel")}
            </Button>
            <Button onClick={() => void submit()} loading={add.isPending} disabled={sendable.length === 0 || rows.length > MAX_ROWS}>
              {sendable.length ? t("paste.submit", { count: sendable.length, n: num(sendable.length) }) : t("paste.submit_none")}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
