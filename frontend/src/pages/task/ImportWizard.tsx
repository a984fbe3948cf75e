import { Alert, Button, Checkbox, Divider, FileInput, Group, Loader, Modal, Progress, Select, Stack, Stepper, Text, TextInput } from "@mantine/core";
import { IconAlertTriangle, IconFileDownload, IconUpload } from "@tabler/icons-react";
import { type FormEvent, useReducer } from "react";
import { downloadRejectedRows, useImportFile, useImportFromParsing, useImportJob, useValidateImport } from "../../api/imports";
import { describeError, fieldErrors } from "../../api/problem";
import { num, pct } from "../../lib/format";
import { hasIdentityColumn, ImportPreview, type Mapping } from "./ImportPreview";
import { initialWizardState, mappingEdited, wizardReducer, wizardStep } from "./importWizardState";

const ACCEPT = ".csv,.tsv,.txt,.xlsx,.json,.ndjson,.jsonl";

/** Upload → validate preview (mapping changeable) → import job with progress → rejected rows. */
export function ImportWizard({ taskId, opened, onClose }: { taskId: string; opened: boolean; onClose: () => void }) {
  const [state, dispatch] = useReducer(wizardReducer, initialWizardState);
  const { file, preview, mapping, dedupe, skipSuppressed, jobId, error, sheet, parsingId, parsingError } = state;
  const step = wizardStep(state);
  const check = useValidateImport(taskId);
  const importFile = useImportFile(taskId);
  const importParsing = useImportFromParsing(taskId);
  const busy = check.isPending || importFile.isPending || importParsing.isPending;

  const job = useImportJob(taskId, jobId);
  const finished = job.data && job.data.status !== "running";

  const reset = () => dispatch({ type: "reset" });
  const close = () => {
    reset();
    onClose();
  };

  async function validate(f: File | null, opts: { mapping?: Mapping; sheet?: string | null; newFile?: boolean } = {}) {
    dispatch({ type: "checking", file: f, newFile: opts.newFile ?? false });
    if (!f) return;
    try {
      const out = await check.mutateAsync({ file: f, mapping: opts.mapping ?? null, sheet: opts.sheet ?? null, dedupe, skipSuppressed });
      dispatch({ type: "checked", preview: out });
    } catch (err) {
      dispatch({ type: "failed", error: err });
    }
  }

  async function fromParsing(e: FormEvent) {
    e.preventDefault();
    const id = parsingId.trim();
    if (!id) {
      dispatch({ type: "parsingRefused", message: "Enter the id of a finished parsing job" });
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

  return (
    <Modal opened={opened} onClose={close} title="Import an audience file" size="xl">
      <Stack>
        <Stepper active={step} size="xs">
          <Stepper.Step label="File" />
          <Stepper.Step label="Check" />
          <Stepper.Step label="Import" />
        </Stepper>
        {step < 2 && (
          <FileInput
            label="CSV, Excel or JSON file"
            description="Headers in English or Russian map by themselves; other columns become template fields."
            placeholder="Choose a file"
            accept={ACCEPT}
            value={file}
            onChange={(f) => void validate(f, { newFile: true })}
            leftSection={<IconUpload size={16} />}
            clearable
            disabled={busy}
          />
        )}
        {step === 0 && (
          <form onSubmit={fromParsing} noValidate>
            <Divider label="or take the audience of a parsing job" labelPosition="center" mb="sm" />
            <Group align="flex-start" gap="sm" wrap="wrap">
              <TextInput
                label="Parsing job id"
                placeholder="e.g. job-1234"
                value={parsingId}
                onChange={(e) => dispatch({ type: "parsingId", value: e.currentTarget.value })}
                error={parsingError}
                style={{ flex: "1 1 220px" }}
                disabled={busy}
              />
              <Button type="submit" mt={25} variant="light" loading={busy && !file}>
                Import from parsing
              </Button>
            </Group>
            <Text size="xs" c="dimmed" mt={4}>
              Bots and deleted accounts are left out; people on your opt-out list too.
            </Text>
          </form>
        )}
        {busy && step === 0 && (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm">Reading the file…</Text>
          </Group>
        )}
        {error !== null && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The file could not be used" role="alert">
            {describeError(error)}
          </Alert>
        )}
        {step === 1 && preview && (
          <>
            {preview.sheets.length > 1 && (
              <Select
                label="Sheet"
                data={preview.sheets}
                value={sheet}
                onChange={(v) => v && void validate(file, { sheet: v })}
                allowDeselect={false}
                maw={300}
              />
            )}
            <ImportPreview preview={preview} mapping={mapping} onMappingChange={(m) => dispatch({ type: "mapping", mapping: m })} />
            <Group gap="lg">
              <Checkbox label="Skip rows already in this task" checked={dedupe} onChange={(e) => dispatch({ type: "dedupe", value: e.currentTarget.checked })} />
              <Checkbox label="Leave out people on the opt-out list" checked={skipSuppressed} onChange={(e) => dispatch({ type: "skipSuppressed", value: e.currentTarget.checked })} />
            </Group>
            <Group justify="flex-end">
              <Button variant="default" onClick={reset}>
                Choose another file
              </Button>
              {mappingChanged ? (
                <Button onClick={() => void validate(file, { mapping, sheet })} loading={busy} disabled={!hasIdentityColumn(mapping)}>
                  Check again with this mapping
                </Button>
              ) : (
                <Button onClick={() => void start()} loading={busy} disabled={!hasIdentityColumn(mapping) || preview.valid === 0}>
                  Import {num(preview.valid)} rows
                </Button>
              )}
            </Group>
          </>
        )}
        {step === 2 && (
          <Stack data-testid="import-job">
            {job.isError ? (
              <Alert color="red" title="Cannot read the import's progress">
                {describeError(job.error)}
              </Alert>
            ) : !j ? (
              <Loader size="sm" />
            ) : (
              <>
                <Group justify="space-between">
                  <Text size="sm" fw={500}>
                    {j.status === "running" ? `Importing… ${pct(progress)}` : j.status === "completed" ? "Import finished" : `Import ${j.status}`}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {num(j.rows_seen)} of {num(total)} rows read
                  </Text>
                </Group>
                <Progress value={j.status === "completed" ? 100 : progress} animated={j.status === "running"} color={j.status === "failed" ? "red" : "blue"} />
                <Text size="sm">
                  {num(j.rows_accepted)} added · {num(j.rows_duplicate)} duplicates · {num(j.rows_suppressed)} opted out · {num(j.rows_invalid)} invalid
                </Text>
                {j.status === "failed" && (
                  <Alert color="red" title="The import failed; nothing was added">
                    {j.error ?? "See the rejected rows."}
                    {j.error_sample.length > 0 && (
                      <ul style={{ margin: "4px 0 0", paddingLeft: 18 }}>
                        {j.error_sample.slice(0, 5).map((e, i) => (
                          <li key={i}>
                            row {e.row}: {e.detail}
                          </li>
                        ))}
                      </ul>
                    )}
                  </Alert>
                )}
                {finished && (
                  <Group justify="flex-end">
                    {j.rows_invalid > 0 && (
                      <Button
                        variant="default"
                        leftSection={<IconFileDownload size={16} />}
                        onClick={() =>
                          void downloadRejectedRows(j.id).catch((err: unknown) => dispatch({ type: "failed", error: err }))
                        }
                      >
                        Rejected rows (CSV)
                      </Button>
                    )}
                    <Button onClick={close}>Done</Button>
                  </Group>
                )}
              </>
            )}
          </Stack>
        )}
      </Stack>
    </Modal>
  );
}
