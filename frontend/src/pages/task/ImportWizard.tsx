import { Alert, Button, Checkbox, Divider, FileInput, Group, Loader, Modal, Progress, Select, Stack, Stepper, Text, TextInput } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertTriangle, IconFileDownload, IconUpload } from "@tabler/icons-react";
import { type FormEvent, useEffect, useState } from "react";
import { api, download, formData, unwrap } from "../../api/client";
import { keys } from "../../api/hooks";
import { describeError, fieldErrors } from "../../api/problem";
import type { ImportJobOut, ImportValidateOut } from "../../api/types";
import { num, pct } from "../../lib/format";
import { hasIdentityColumn, ImportPreview, type Mapping } from "./ImportPreview";

const ACCEPT = ".csv,.tsv,.txt,.xlsx,.json,.ndjson,.jsonl";

/** Upload → validate preview (mapping changeable) → import job with progress → rejected rows. */
export function ImportWizard({ taskId, opened, onClose }: { taskId: string; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<ImportValidateOut | null>(null);
  const [mapping, setMapping] = useState<Mapping>({});
  const [dedupe, setDedupe] = useState(true);
  const [skipSuppressed, setSkipSuppressed] = useState(true);
  const [jobId, setJobId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const step = jobId ? 2 : preview ? 1 : 0;
  const [parsingId, setParsingId] = useState("");
  const [parsingError, setParsingError] = useState<string | null>(null);

  const job = useQuery({
    queryKey: ["import-job", jobId],
    enabled: !!jobId,
    queryFn: (): Promise<ImportJobOut> => unwrap(api.GET("/api/v1/import/jobs/{job_id}", { params: { path: { job_id: jobId! } } })),
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "running" ? false : 1000),
  });
  const finished = job.data && job.data.status !== "running";
  const jobStatus = job.data?.status;
  useEffect(() => {
    if (jobStatus !== "completed") return;
    void qc.invalidateQueries({ queryKey: keys.targets(taskId) });
    void qc.invalidateQueries({ queryKey: keys.task(taskId) });
  }, [jobStatus, qc, taskId]);

  const reset = () => {
    setFile(null);
    setPreview(null);
    setMapping({});
    setJobId(null);
    setError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const [checkedMapping, setCheckedMapping] = useState<string>("{}");
  const [sheet, setSheet] = useState<string | null>(null);

  async function validate(f: File | null, opts: { mapping?: Mapping; sheet?: string | null } = {}) {
    setFile(f);
    setError(null);
    if (!f) {
      setPreview(null);
      return;
    }
    setBusy(true);
    try {
      const out = await unwrap(
        api.POST("/api/v1/import/validate", {
          body: formData<"/api/v1/import/validate">({
            file: f,
            task_id: taskId,
            mapping: opts.mapping ? JSON.stringify(opts.mapping) : null,
            sheet: opts.sheet ?? null,
            dedupe,
            skip_suppressed: skipSuppressed,
          }),
        }),
      );
      setPreview(out);
      setSheet(out.sheet);
      setMapping(out.mapping ?? {});
      setCheckedMapping(JSON.stringify(out.mapping ?? {}));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function fromParsing(e: FormEvent) {
    e.preventDefault();
    const id = parsingId.trim();
    if (!id) {
      setParsingError("Enter the id of a finished parsing job");
      return;
    }
    setBusy(true);
    setError(null);
    setParsingError(null);
    try {
      const out = await unwrap(
        api.POST("/api/v1/import/parsing", {
          body: { task_id: taskId, parsing_task_id: id, dedupe: true, skip_suppressed: true },
        }),
      );
      setJobId(out.job_id);
    } catch (err) {
      const { fields, unplaced } = fieldErrors(err, (p) => p === "parsing_task_id");
      if (fields.parsing_task_id) setParsingError(fields.parsing_task_id);
      else setError(unplaced.length ? new Error(unplaced.join("; ")) : err);
    } finally {
      setBusy(false);
    }
  }

  async function start() {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const out = await unwrap(
        api.POST("/api/v1/import/file", {
          body: formData<"/api/v1/import/file">({
            file,
            task_id: taskId,
            mapping: JSON.stringify(mapping),
            dedupe,
            skip_suppressed: skipSuppressed,
            sheet,
          }),
        }),
      );
      setJobId(out.job_id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const j = job.data;
  const total = preview?.rows ?? j?.rows_seen ?? 0;
  const progress = j ? (j.progress ?? (total ? Math.min(100, (100 * j.rows_seen) / total) : 0)) : 0;
  const mappingChanged = JSON.stringify(mapping) !== checkedMapping;

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
            onChange={(f) => {
              setSheet(null);
              void validate(f);
            }}
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
                onChange={(e) => setParsingId(e.currentTarget.value)}
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
            <ImportPreview preview={preview} mapping={mapping} onMappingChange={setMapping} />
            <Group gap="lg">
              <Checkbox label="Skip rows already in this task" checked={dedupe} onChange={(e) => setDedupe(e.currentTarget.checked)} />
              <Checkbox label="Leave out people on the opt-out list" checked={skipSuppressed} onChange={(e) => setSkipSuppressed(e.currentTarget.checked)} />
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
                          void download(
                            api.GET("/api/v1/import/jobs/{job_id}/rejected.csv", { params: { path: { job_id: j.id } }, parseAs: "blob" }),
                            `rejected-${j.id}.csv`,
                          ).catch((err) => setError(err))
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
