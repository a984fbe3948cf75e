import { Alert, Badge, Button, Group, Modal, ScrollArea, SegmentedControl, Stack, Table, Text, Textarea } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { type Schemas } from "../../api/client";
import { useAddTargets } from "../../api/hooks";
import { cleanMessage, describeError, locPath } from "../../api/problem";
import { num, plural } from "../../lib/format";
import { type PasteMode, parsePasted, type PastedRow } from "../../lib/pasteTargets";

type BulkOut = Schemas["BulkTargetsOut"];
const MAX_ROWS = 10_000;
const RESULT_COLOR = { created: "teal", duplicate: "gray", invalid: "red" } as const;

function rowErrors(errors: Record<string, unknown>[]): string {
  return errors
    .map((e) => {
      const loc = Array.isArray(e.loc) ? locPath((e.loc as (string | number)[]).filter((p) => typeof p === "string" && p !== "targets")) : "";
      const msg = cleanMessage(String(e.msg ?? "is invalid"));
      return loc && !msg.startsWith(loc) ? `${loc}: ${msg}` : msg;
    })
    .join("; ");
}

/** Paste a list → POST targets/bulk → every row's result, the bad ones with their reason. */
export function AddTargetsModal({ taskId, opened, onClose }: { taskId: string; opened: boolean; onClose: () => void }) {
  const [text, setText] = useState("");
  const [mode, setMode] = useState<PasteMode>("auto");
  const [result, setResult] = useState<{ rows: PastedRow[]; out: BulkOut } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const add = useAddTargets(taskId);
  const rows = useMemo(() => parsePasted(text, mode), [text, mode]);
  const kinds = useMemo(() => {
    const c = { username: 0, user_id: 0, phone: 0 };
    for (const r of rows) c[r.kind] += 1;
    return c;
  }, [rows]);

  const close = () => {
    setResult(null);
    setError(null);
    onClose();
  };

  async function submit() {
    setError(null);
    try {
      const out = await add.mutateAsync(rows.map((r) => r.body));
      setResult({ rows, out });
    } catch (err) {
      setError(err);
    }
  }

  function keepFailed() {
    if (!result) return;
    const failed = result.out.results.filter((r) => r.result === "invalid").map((r) => result.rows[r.index]?.raw ?? "");
    setText(failed.join("\n"));
    setResult(null);
  }

  return (
    <Modal opened={opened} onClose={close} title="Add targets" size="xl" fullScreen={typeof window !== "undefined" && window.innerWidth < 600}>
      {result ? (
        <Stack data-testid="bulk-results">
          <Group gap="xs">
            <Badge color="teal" size="lg" variant="light">
              {num(result.out.created)} added
            </Badge>
            <Badge color="gray" size="lg" variant="light">
              {num(result.out.duplicates)} already there
            </Badge>
            <Badge color="red" size="lg" variant="light">
              {num(result.out.invalid)} invalid
            </Badge>
          </Group>
          <ScrollArea.Autosize mah={380}>
            <Table striped verticalSpacing={6} fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={60}>Line</Table.Th>
                  <Table.Th>You pasted</Table.Th>
                  <Table.Th>Result</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.out.results.map((r) => {
                  const row = result.rows[r.index];
                  return (
                    <Table.Tr key={r.index} data-result={r.result}>
                      <Table.Td>{row?.line ?? r.index + 1}</Table.Td>
                      <Table.Td className="mono">{row?.raw}</Table.Td>
                      <Table.Td>
                        <Group gap={6} wrap="nowrap" align="flex-start">
                          <Badge size="sm" color={RESULT_COLOR[r.result]} variant="light" style={{ flexShrink: 0 }}>
                            {r.result}
                          </Badge>
                          <Text size="xs" c={r.result === "invalid" ? "red" : "dimmed"} data-testid={r.result === "invalid" ? "row-error" : undefined}>
                            {r.result === "invalid" ? rowErrors(r.errors ?? []) : r.key}
                          </Text>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
          <Group justify="flex-end">
            {result.out.invalid > 0 && (
              <Button variant="default" onClick={keepFailed}>
                Fix the {plural(result.out.invalid, "invalid row")}
              </Button>
            )}
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <Stack>
          <Textarea
            label="One target a line"
            description="@username, a t.me link, a numeric user id or a phone number (+country code), optionally followed by first and last name: “@anna_p, Anna, Petrova”."
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
              <Text size="sm">Read the first value as</Text>
              <SegmentedControl
                size="xs"
                value={mode}
                onChange={(v) => setMode(v as PasteMode)}
                data={[
                  { value: "auto", label: "Detect" },
                  { value: "username", label: "Username" },
                  { value: "user_id", label: "User id" },
                  { value: "phone", label: "Phone" },
                ]}
              />
            </Group>
            <Text size="sm" c="dimmed" data-testid="paste-summary">
              {rows.length === 0
                ? "Nothing pasted yet"
                : `${plural(rows.length, "row")}: ${kinds.username} usernames, ${kinds.user_id} user ids, ${kinds.phone} phones`}
            </Text>
          </Group>
          {rows.length > MAX_ROWS && (
            <Alert color="yellow">At most {num(MAX_ROWS)} rows at a time; use a file import for larger audiences.</Alert>
          )}
          {error !== null && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Nothing was added" role="alert">
              {describeError(error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button onClick={() => void submit()} loading={add.isPending} disabled={rows.length === 0 || rows.length > MAX_ROWS}>
              Add {rows.length ? plural(rows.length, "target") : "targets"}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
