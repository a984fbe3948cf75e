import { Alert, Button, Checkbox, Divider, FileInput, Group, Loader, Modal, Progress, Select, Stack, Stepper, Text, TextInput } from "@mantine/core";
import { IconAlertTriangle, IconFileDownload, IconUpload } from "@tabler/icons-react";
import { type FormEvent, useEffect, useMemo, useReducer, useRef } from "react";
import { useTranslation } from "react-i18next";
import { downloadRejectedRows, type ImportInto, useImportFile, useImportFromParsing, useImportJob, useValidateImport } from "../../api/imports";
import { describeError, fieldErrors } from "../../api/problem";
import { num, pct } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";
import { hasIdentityColumn, ImportPreview, type Mapping, rowReason } from "./ImportPreview";
import { initialWizardState, mappingEdited, wizardReducer, wizardStep } from "./importWizardState";

/** What an audience import maps besides a target's fields: a comma-separated tags column and the consent date (imports/contact_rows.py). */
const AUDIENCE_FIELDS = ["tags", "consent_date"] as const;
const ACCEPT = ".csv,.tsv,.txt,.xlsx,.json,.ndjson,.jsonl";
/** A mapping edit is checked this long after the last change (a few quick edits: one check). */
export const RECHECK_DEBOUNCE_MS = 400;

/** Upload → validate preview (mapping changeable, re-checked as it changes) → import job with progress → rejected rows. */
/** `taskId` imports targets into a task; `audienceId` imports contacts into an audience (the same job and mapping). */
export function ImportWizard({ taskId, audienceId, opened, onClose }: { taskId?: string; audienceId?: string; opened: boolean; onClose: () => void }) {
  const { t } = useTranslation("import");
  const [state, dispatch] = useReducer(wizardReducer, initialWizardState);
  const { file, preview, mapping, dedupe, skipSuppressed, jobId, error, sheet, parsingId, parsingError } = state;
  const step = wizardStep(state);
  const into = useMemo<ImportInto>(() => (audienceId ? { audienceId } : (taskId ?? "")), [audienceId, taskId]);
  const check = useValidateImport(into);
  const importFile = useImportFile(into);
  const importParsing = useImportFromParsing(into);
  const busy = check.isPending || importFile.isPending || importParsing.isPending;
  // Only the newest check's answer counts (an edit made while one is in flight starts another).
  const checkSeq = useRef(0);

  const job = useImportJob(into, jobId);
  const finished = job.data && job.data.status !== "running";

  const reset = () => {
    checkSeq.current += 1;
    dispatch({ type: "reset" });
  };
  const close = () => {
    reset();
    onClose();
  };

  async function validate(f: File | null, opts: { mapping?: Mapping; sheet?: string | null; newFile?: boolean } = {}) {
    const seq = ++checkSeq.current;
    dispatch({ type: "checking", file: f, newFile: opts.newFile ?? false });
    if (!f) return;
    const sent = opts.mapping ?? null;
    try {
      const out = await check.mutateAsync({ file: f, mapping: sent, sheet: opts.sheet ?? null, dedupe, skipSuppressed });
      if (seq === checkSeq.current) dispatch({ type: "checked", preview: out, sent: sent && JSON.stringify(sent) });
    } catch (err) {
      if (seq === checkSeq.current) dispatch({ type: "failed", error: err });
    }
  }

  // A changed mapping is checked again by itself, once the user stops changing it.
  const mappingKey = JSON.stringify(mapping);
  const settled = useDebounced(mappingKey, RECHECK_DEBOUNCE_MS);
  const recheck = useRef<() => void>(() => {});
  recheck.current = () => {
    if (!file || !preview || jobId || !mappingEdited(state) || !hasIdentityColumn(mapping)) return;
    void validate(file, { mapping, sheet });
  };
  useEffect(() => {
    if (settled === mappingKey) recheck.current();
  }, [settled, mappingKey]);

  async function fromParsing(e: FormEvent) {
    e.preventDefault();
    const id = parsingId.trim();
    if (!id) {
      dispatch({ type: "parsingRefused", message: t("parsing.required") });
      return;
    }
    dispatch({ type: "starting", fromParsing: true });
    try {
      const out = await importParsing.mutateAsync(id);
      dispatch({ type: "started", jobId: out.job_id });
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => p === "parsing_task_id");
      if (fields.parsing_task_id) dispatch({ type: "parsingRefused", message: fields.parsing_task_id });
      else dispatch({ type: "failed", error: unplaced.length ? new Error(unplaced.join("; ")) : err });
    }
  }

  async function start() {
    if (!file) return;
    dispatch({ type: "starting", fromParsing: false });
    try {
      const out = await importFile.mutateAsync({ file, mapping, dedupe, skipSuppressed, sheet });
      dispatch({ type: "started", jobId: out.job_id });
    } catch (err) {
      dispatch({ type: "failed", error: err });
    }
  }

  const j = job.data;
  const total = preview?.rows ?? j?.rows_seen ?? 0;
  const progress = j ? (j.progress ?? (total ? Math.min(100, (100 * j.rows_seen) / total) : 0)) : 0;
  const mappingChanged = mappingEdited(state);
  const identity = hasIdentityColumn(mapping);
  const rejected = j ? j.rows_invalid + j.rows_duplicate : 0;

  return (
    <Modal opened={opened} onClose={close} title={audienceId ? t("title_audience") : t("title")} size="xl">
      <Stack>
        <Stepper active={step} size="xs">
          <Stepper.Step label={t("step.file")} />
          <Stepper.Step label={t("step.check")} />
          <Stepper.Step label={t("step.import")} />
        </Stepper>
        {step < 2 && (
          <FileInput
            label={t("file.label")}
            description={t("file.help")}
            placeholder={t("file.placeholder")}
            accept={ACCEPT}
            value={file}
            onChange={(f) => void validate(f, { newFile: true })}
            leftSection={<IconUpload size={16} />}
            clearable
            disabled={busy && !preview}
          />
        )}
        {step === 0 && (
          <form onSubmit={fromParsing} noValidate>
            <Divider label={t("parsing.divider")} labelPosition="center" mb="sm" />
            <Group align="flex-start" gap="sm" wrap="wrap">
              <TextInput
                label={t("parsing.label")}
                placeholder={t("parsing.placeholder")}
                value={parsingId}
                onChange={(e) => dispatch({ type: "parsingId", value: e.currentTarget.value })}
                error={parsingError}
                style={{ flex: "1 1 220px" }}
                disabled={busy}
              />
              <Button type="submit" mt={25} variant="light" loading={busy && !file}>
                {t("parsing.submit")}
              </Button>
            </Group>
            <Text size="xs" c="dimmed" mt={4}>
              {t("parsing.help")}
            </Text>
          </form>
        )}
        {busy && step === 0 && (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm">{t("file.reading")}</Text>
          </Group>
        )}
        {error !== null && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t("file.refused")} role="alert">
            {describeError(error)}
          </Alert>
        )}
        {step === 1 && preview && (
          <>
            {preview.sheets.length > 1 && (
              <Select
                label={t("file.sheet")}
                data={preview.sheets}
                value={sheet}
                onChange={(v) => v && void validate(file, { sheet: v })}
                allowDeselect={false}
                maw={300}
              />
            )}
            <ImportPreview
              preview={preview}
              mapping={mapping}
              onMappingChange={(m) => dispatch({ type: "mapping", mapping: m })}
              extraFields={audienceId ? AUDIENCE_FIELDS : undefined}
            />
            <Group gap="lg">
              <Checkbox label={t("option.dedupe")} checked={dedupe} onChange={(e) => dispatch({ type: "dedupe", value: e.currentTarget.checked })} />
              <Checkbox label={t("option.suppressed")} checked={skipSuppressed} onChange={(e) => dispatch({ type: "skipSuppressed", value: e.currentTarget.checked })} />
            </Group>
            <Group justify="flex-end" align="center">
              {mappingChanged && identity && (
                <Group gap={6} data-testid="import-rechecking" mr="auto">
                  <Loader size="xs" />
                  <Text size="sm" c="dimmed">
                    {t("check.rechecking")}
                  </Text>
                </Group>
              )}
              <Button variant="default" onClick={reset}>
                {t("file.another")}
              </Button>
              <Button onClick={() => void start()} loading={importFile.isPending} disabled={!identity || mappingChanged || check.isPending || preview.valid === 0}>
                {t("check.import", { count: preview.valid, n: num(preview.valid) })}
              </Button>
            </Group>
          </>
        )}
        {step === 2 && (
          <Stack data-testid="import-job">
            {job.isError ? (
              <Alert color="red" title={t("job.unreadable")}>
                {describeError(job.error)}
              </Alert>
            ) : !j ? (
              <Loader size="sm" />
            ) : (
              <>
                <Group justify="space-between">
                  <Text size="sm" fw={500}>
                    {j.status === "running"
                      ? t("job.running", { pct: pct(progress) })
                      : t(`job.status.${j.status}`, { defaultValue: j.status })}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {t("job.rows_read", { seen: num(j.rows_seen), total: num(total) })}
                  </Text>
                </Group>
                <Progress value={j.status === "completed" ? 100 : progress} animated={j.status === "running"} color={j.status === "failed" ? "red" : "blue"} />
                <Text size="sm">
                  {t("job.counts", {
                    added: num(j.rows_accepted),
                    duplicates: num(j.rows_duplicate),
                    suppressed: num(j.rows_suppressed),
                    invalid: num(j.rows_invalid),
                  })}
                </Text>
                {j.status === "failed" && (
                  <Alert color="red" title={t("job.failed")}>
                    {j.error ?? t("job.see_rejected")}
                    {j.error_sample.length > 0 && (
                      <ul style={{ margin: "4px 0 0", paddingLeft: 18 }}>
                        {j.error_sample.slice(0, 5).map((e, i) => (
                          <li key={i}>{t("job.row_error", { row: e.row, reason: rowReason(t, e.reason, e.duplicate_of_row), detail: e.detail })}</li>
                        ))}
                      </ul>
                    )}
                  </Alert>
                )}
                {finished && (
                  <Stack gap="xs">
                    {rejected > 0 && (
                      <Text size="xs" c="dimmed" data-testid="import-rejected-note">
                        {t("job.rejected_note")}
                      </Text>
                    )}
                    <Group justify="flex-end">
                      {rejected > 0 && (
                        <Button
                          variant="default"
                          leftSection={<IconFileDownload size={16} />}
                          onClick={() => void downloadRejectedRows(j.id).catch((err: unknown) => dispatch({ type: "failed", error: err }))}
                        >
                          {t("job.rejected", { count: rejected, n: num(rejected) })}
                        </Button>
                      )}
                      <Button onClick={close}>{t("job.done")}</Button>
                    </Group>
                  </Stack>
                )}
              </>
            )}
          </Stack>
        )}
      </Stack>
    </Modal>
  );
}
