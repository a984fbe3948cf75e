import { Alert, Button, FileInput, Group, Modal, Select, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { describeError } from "../../api/problem";
import { type SuppressionPlatform, type SuppressionReason, useImportSuppressions } from "../../api/suppressions";
import { num } from "../../lib/format";
import { ALL, platformOptions, reasonOptions } from "./reasons";

/**
 * The import's outcome and error are the mutation's own; closing resets them with the file. `platform` is the
 * list's filter when the dialog opens (null: the entries apply to every platform); the dialog can change it.
 */
export function ImportSuppressions({ platform, opened, onClose }: { platform: SuppressionPlatform; opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("suppressions");
  const [file, setFile] = useState<File | null>(null);
  const [reason, setReason] = useState<SuppressionReason>("opt_out");
  const [chosen, setChosen] = useState<string | null>(null);
  const target = chosen ?? platform ?? ALL;
  const importFile = useImportSuppressions();
  const result = importFile.data ?? null;
  const close = () => {
    setFile(null);
    setChosen(null);
    importFile.reset();
    onClose();
  };
  function submit() {
    if (!file) return;
    importFile.mutate({ file, platform: (target === ALL ? null : target) as SuppressionPlatform, reason });
  }
  return (
    <Modal opened={opened} onClose={close} title={t("import.title")} size="lg">
      <Stack>
        {result ? (
          <>
            <Text size="sm">
              {t("import.result", { rows: num(result.rows), created: num(result.created), existing: num(result.existing), invalid: num(result.invalid) })}
            </Text>
            {result.errors.length > 0 && (
              <Table fz="sm" striped>
                <Table.Tbody>
                  {result.errors.map((e, i) => (
                    <Table.Tr key={i}>
                      <Table.Td w={90}>{t("import.row", { row: String(e.row ?? "?") })}</Table.Td>
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
              <Button onClick={close}>{t("import.done")}</Button>
            </Group>
          </>
        ) : (
          <>
            <FileInput
              label={t("import.file")}
              placeholder={t("import.choose")}
              accept=".csv,.tsv,.txt,.xlsx,.json,.ndjson"
              value={file}
              onChange={(f) => {
                setFile(f);
                importFile.reset(); // a new file: the old refusal no longer applies
              }}
              clearable
            />
            <Select label={t("import.platform")} data={platformOptions(t)} value={target} onChange={(v) => setChosen(v ?? ALL)} allowDeselect={false} />
            <Select label={t("import.reason")} data={reasonOptions(t)} value={reason} onChange={(v) => v && setReason(v as SuppressionReason)} allowDeselect={false} />
            {importFile.isError && (
              <Alert color="red" title={t("import.failed")} role="alert">
                {describeError(importFile.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                {t("import.cancel")}
              </Button>
              <Button onClick={submit} loading={importFile.isPending} disabled={!file}>
                {t("import.submit")}
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
