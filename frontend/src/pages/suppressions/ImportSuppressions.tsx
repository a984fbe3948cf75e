import { Alert, Button, FileInput, Group, Modal, Select, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { describeError } from "../../api/problem";
import { type SuppressionPlatform, type SuppressionReason, useImportSuppressions } from "../../api/suppressions";
import { num } from "../../lib/format";
import { REASONS } from "./reasons";

/** The import's outcome and error are the mutation's own; closing resets them with the file. */
export function ImportSuppressions({ platform, opened, onClose }: { platform: SuppressionPlatform; opened: boolean; onClose: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [reason, setReason] = useState<SuppressionReason>("opt_out");
  const importFile = useImportSuppressions();
  const result = importFile.data ?? null;
  const close = () => {
    setFile(null);
    importFile.reset();
    onClose();
  };
  function submit() {
    if (!file) return;
    importFile.mutate({ file, platform, reason });
  }
  return (
    <Modal opened={opened} onClose={close} title="Import an opt-out list" size="lg">
      <Stack>
        {result ? (
          <>
            <Text size="sm">
              {num(result.rows)} rows read: <b>{num(result.created)}</b> added, {num(result.existing)} already on the list, {num(result.invalid)} invalid.
            </Text>
            {result.errors.length > 0 && (
              <Table fz="sm" striped>
                <Table.Tbody>
                  {result.errors.map((e, i) => (
                    <Table.Tr key={i}>
                      <Table.Td w={70}>row {String(e.row ?? "?")}</Table.Td>
                      <Table.Td>
                        <Text size="sm" c="red">
                          {String(e.detail ?? e.reason ?? "")}
                        </Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            <Group justify="flex-end">
              <Button onClick={close}>Done</Button>
            </Group>
          </>
        ) : (
          <>
            <FileInput label="CSV, Excel or JSON file" placeholder="Choose a file" accept=".csv,.tsv,.txt,.xlsx,.json,.ndjson" value={file} onChange={setFile} clearable />
            <Select label="Reason for rows without a reason column" data={REASONS} value={reason} onChange={(v) => v && setReason(v as SuppressionReason)} allowDeselect={false} />
            {importFile.isError && (
              <Alert color="red" title="The file could not be imported" role="alert">
                {describeError(importFile.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button onClick={submit} loading={importFile.isPending} disabled={!file}>
                Import
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
