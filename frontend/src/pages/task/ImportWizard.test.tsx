import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../../api/client";
import type { ImportJobOut, ImportValidateOut } from "../../api/types";
import { TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { ImportWizard } from "./ImportWizard";

const JOB_ID = "22222222-2222-2222-2222-222222222222";

const checked: ImportValidateOut = {
  format: "csv",
  encoding: "utf-8",
  delimiter: ",",
  sheet: null,
  sheets: [],
  has_header: true,
  columns: ["username"],
  mapping: { username: "username" },
  rows: 2,
  valid: 2,
  invalid: 0,
  duplicates: 0,
  suppressed: 0,
  errors: [],
  preview: [],
  remembered: false,
};

const job = {
  id: JOB_ID,
  task_id: TASK_ID,
  source: "file",
  status: "completed",
  phase: null,
  filename: "people.csv",
  format: "csv",
  options: {},
  rows_seen: 2,
  rows_accepted: 2,
  rows_duplicate: 0,
  rows_invalid: 0,
  rows_suppressed: 0,
  progress: 100,
  error: null,
  error_sample: [],
  created_at: "2026-01-01T00:00:00Z",
  finished_at: "2026-01-01T00:00:01Z",
} as unknown as ImportJobOut;

type Call = { method: string; url: string; form?: Record<string, string>; json?: unknown };
let calls: Call[] = [];
let routes: Record<string, () => Response>;

beforeEach(() => {
  calls = [];
  routes = {
    "POST /api/v1/import/validate": () => jsonResponse(checked),
    "POST /api/v1/import/file": () => jsonResponse({ job_id: JOB_ID }, 202),
    [`GET /api/v1/import/jobs/${JOB_ID}`]: () => jsonResponse(job),
  };
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const call: Call = { method: req.method, url: new URL(req.url).pathname };
      const type = req.headers.get("Content-Type") ?? "";
      if (type.startsWith("multipart/form-data")) {
        call.form = {};
        for (const [k, v] of await req.formData()) call.form[k] = typeof v === "string" ? v : "(file)";
      } else if (type.startsWith("application/json")) call.json = await req.json();
      calls.push(call);
      const route = routes[`${call.method} ${call.url}`];
      return route ? route() : jsonResponse({ title: "Not Found", status: 404 }, 404, "application/problem+json");
    }) as unknown as typeof fetch,
  );
});
afterEach(() => setFetch(globalThis.fetch));

function open() {
  const user = userEvent.setup();
  renderUI(<ImportWizard taskId={TASK_ID} opened onClose={() => {}} />);
  return user;
}

describe("ImportWizard", () => {
  it("checks the file, imports it with the options and mapping checked, and follows the job", async () => {
    const user = open();
    const input = (await screen.findByRole("dialog")).querySelector('input[type="file"]') as HTMLInputElement;
    await user.upload(input, new File(["username\n@anna\n@bob\n"], "people.csv", { type: "text/csv" }));
    await screen.findByTestId("import-preview");
    await user.click(screen.getByLabelText("Skip rows already in this task"));
    await user.click(screen.getByRole("button", { name: "Import 2 rows" }));

    expect(await screen.findByText("Import finished")).toBeInTheDocument();
    expect(screen.getByText(/2 added/)).toBeInTheDocument();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "POST /api/v1/import/validate",
      "POST /api/v1/import/file",
      `GET /api/v1/import/jobs/${JOB_ID}`,
    ]);
    expect(calls[0]?.form).toEqual({ file: "(file)", task_id: TASK_ID, dedupe: "true", skip_suppressed: "true" });
    expect(calls[1]?.form).toEqual({
      file: "(file)",
      task_id: TASK_ID,
      mapping: JSON.stringify({ username: "username" }),
      dedupe: "false",
      skip_suppressed: "true",
    });
  });

  it("checks a changed mapping again by itself, without a click, and imports with it", async () => {
    const two: ImportValidateOut = { ...checked, columns: ["ФИО", "contact"], mapping: { "ФИО": "first_name", contact: "username" } };
    routes["POST /api/v1/import/validate"] = () => {
      const sent = calls.at(-1)?.form?.mapping;
      return jsonResponse(sent ? { ...two, mapping: JSON.parse(sent) as Record<string, string>, valid: 1 } : two);
    };
    const user = open();
    const input = (await screen.findByRole("dialog")).querySelector('input[type="file"]') as HTMLInputElement;
    await user.upload(input, new File(["ФИО,contact\nИванов Иван Иванович,@ivanov\n"], "crm.csv", { type: "text/csv" }));
    const column = await screen.findByLabelText("Column ФИО");
    await user.click(column);
    const listbox = await waitFor(() => {
      const el = document.getElementById(column.getAttribute("aria-controls") ?? "");
      expect(el).not.toBeNull();
      return el as HTMLElement;
    });
    fireEvent.click(within(listbox).getByRole("option", { name: "Full name (split into first and last)", hidden: true }));
    // No "check again" button: the check runs by itself and the import button follows its counts.
    expect(screen.queryByRole("button", { name: /check again/i })).toBeNull();
    // The check waits for the user to stop changing the mapping (a debounce): wait for its answer, however slow.
    expect(await screen.findByRole("button", { name: "Import 1 row" }, { timeout: 10_000 })).toBeEnabled();
    const validations = calls.filter((c) => c.url === "/api/v1/import/validate");
    expect(validations).toHaveLength(2);
    expect(JSON.parse(validations[1]?.form?.mapping ?? "{}")).toEqual({ "ФИО": "full_name", contact: "username" });

    await user.click(screen.getByRole("button", { name: "Import 1 row" }));
    await screen.findByText("Import finished");
    expect(JSON.parse(calls.find((c) => c.url === "/api/v1/import/file")?.form?.mapping ?? "{}")).toEqual({ "ФИО": "full_name", contact: "username" });
  });

  it("offers the rejected rows with duplicates listed", async () => {
    routes[`GET /api/v1/import/jobs/${JOB_ID}`] = () => jsonResponse({ ...job, rows_accepted: 1, rows_duplicate: 1 });
    const user = open();
    const input = (await screen.findByRole("dialog")).querySelector('input[type="file"]') as HTMLInputElement;
    await user.upload(input, new File(["username\n@anna\n@anna\n"], "people.csv", { type: "text/csv" }));
    await user.click(await screen.findByRole("button", { name: "Import 2 rows" }));
    expect(await screen.findByTestId("import-rejected-note")).toHaveTextContent(/skipped duplicates with the row they repeat/);
    expect(screen.getByRole("button", { name: "1 rejected row (CSV)" })).toBeInTheDocument();
  });

  it("shows a refused file above the form", async () => {
    routes["POST /api/v1/import/validate"] = () =>
      jsonResponse({ title: "Unsupported file", status: 415, detail: "the file is not CSV, Excel or JSON" }, 415, "application/problem+json");
    const user = open();
    const input = (await screen.findByRole("dialog")).querySelector('input[type="file"]') as HTMLInputElement;
    await user.upload(input, new File(["\u0000"], "x.csv"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The file could not be used");
    expect(alert).toHaveTextContent("the file is not CSV, Excel or JSON");
  });

  it("puts a refused parsing job id under its field", async () => {
    routes["POST /api/v1/import/parsing"] = () =>
      jsonResponse(
        { title: "Invalid input", status: 422, errors: [{ loc: ["body", "parsing_task_id"], msg: "no finished parsing job job-9", type: "value_error" }] },
        422,
        "application/problem+json",
      );
    const user = open();
    await user.click(await screen.findByRole("button", { name: "Import from parsing" }));
    expect(await screen.findByText("Enter the id of a finished parsing job")).toBeInTheDocument();
    expect(calls).toHaveLength(0);

    await user.type(screen.getByLabelText("Parsing job id"), "job-9");
    await user.click(screen.getByRole("button", { name: "Import from parsing" }));
    expect(await screen.findByText(/no finished parsing job job-9/)).toBeInTheDocument();
    expect(screen.queryByText("Enter the id of a finished parsing job")).toBeNull();
    await waitFor(() => expect(calls[0]?.json).toEqual({ task_id: TASK_ID, parsing_task_id: "job-9", dedupe: true, skip_suppressed: true }));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
