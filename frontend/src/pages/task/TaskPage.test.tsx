import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import type { Target, Task } from "../../api/hooks";
import type { TaskStatusOut } from "../../api/taskStatus";
import type { LaneOut, TaskStatsOut } from "../../api/types";
import { signIn, signOut } from "../../auth/session";
import i18n from "../../i18n";
import { type Call, fakeApi } from "../../test/fakeApi";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { TaskPage } from "./TaskPage";

const SLOW = { timeout: 5000 };
// The resume time as the UI says it: "14:01" today, "Thu 00:17" after midnight (the test may run at any hour).
const inAnHour = () => {
  const d = new Date(Date.now() + 40 * 60_000);
  const today = d.toDateString() === new Date().toDateString();
  const say = (loc: string) => {
    const hhmm = d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" });
    return today ? hhmm : `${new Intl.DateTimeFormat(loc, { weekday: "short" }).format(d)} ${hhmm}`;
  };
  return { iso: d.toISOString(), today, en: say("en-GB"), ru: say("ru-RU") };
};

const counters = { total: 6, pending: 2, reserved: 0, sending: 0, invited: 1, messaged: 0, already_member: 1, failed: 2, skipped: 0, unknown: 0 };
const task: Task = makeTask({ status: "running", started_at: "2026-12-02T10:00:00Z", account_ids: ["acc-1"], counters, progress: 67 });

function target(id: number, key: string, status: Target["status"], error_code: string | null): Target {
  return {
    id, task_id: TASK_ID, kind: "username", key, username: key, user_id: null, phone: null, first_name: null, last_name: null,
    fields: {}, source: "manual", status, attempts: 1, account_id: "acc-1", error_code, error_detail: null, next_attempt_at: null,
    processed_at: null, replied_at: null, created_at: "2026-12-02T10:00:00Z", updated_at: "2026-12-02T10:00:00Z",
  };
}
const TARGETS = [
  target(1, "@privateann", "failed", "USER_PRIVACY_RESTRICTED"),
  target(2, "@floodbob", "failed", "FLOOD_WAIT_X"),
  target(3, "@memberjoe", "already_member", "USER_ALREADY_PARTICIPANT"),
];
const REASONS = [
  { code: "USER_PRIVACY_RESTRICTED", kind: "final", en: "Their privacy settings do not let others add them to groups.", ru: "Настройки приватности не позволяют добавлять их в группы." },
  { code: "FLOOD_WAIT_X", kind: "retryable", en: "The platform asked the account to wait before the next action.", ru: "Платформа попросила аккаунт подождать." },
  { code: "USER_ALREADY_PARTICIPANT", kind: "benign", en: "Already a member of the chat.", ru: "Уже участник чата." },
];

let calls: Call[];
let current: Task;
let statusOf: () => TaskStatusOut;
let until: ReturnType<typeof inAnHour>;

function status(): TaskStatusOut {
  return {
    task_id: TASK_ID, status: "running", progress: 67, counters, pause_reason: null, started_at: task.started_at, finished_at: null,
    eta: new Date(Date.now() + 5 * 3600_000).toISOString(), estimate: null, send_window: null, replied: 0,
    lanes: [{ account_id: "acc-1", label: "Sales phone", status: "active", cooldown_until: null, next_action_at: null, available_at: until.iso, remaining_now: 0, sent: 3, failed: 2, last_error: null, waiting: { reason: "cap", until: until.iso, window_seconds: 3600, accounts: 1 } }],
    waiting: { reason: "cap", until: until.iso, window_seconds: 3600, accounts: 1 },
  };
}
const lane: LaneOut = { account_id: "acc-1", label: "Sales phone", status: "active", cooldown_until: null, restricted_at: null, next_action_at: null, sent: 3, failed: 2, last_error: null, last_used_at: null };
const stats: TaskStatsOut = {
  task_id: TASK_ID, status: "running", targets: counters, replied: 0, range: { start: "2026-12-02T10:00:00Z", end: "2026-12-02T11:00:00Z" },
  by_outcome: {}, by_error_code: { USER_PRIVACY_RESTRICTED: 2, FLOOD_WAIT_X: 1, USER_ALREADY_PARTICIPANT: 1 }, by_action: {}, per_account: [], hourly: [],
};
const LOGS = [
  { id: 9, at: new Date().toISOString(), target_id: 1, account_id: "acc-1", action: "invite", outcome: "target_rejected", error_code: "USER_PRIVACY_RESTRICTED", detail: null, duration_ms: 20, target: "@pri***ann", account_label: "Sales phone" },
];

beforeEach(() => {
  signIn({ mode: "dev", token: "tok", user: "alice", expiresAt: null });
  until = inAnHour();
  current = task;
  statusOf = status;
  calls = fakeApi((c) => {
    const base = `/api/v1/tasks/${TASK_ID}`;
    if (c.path === base) return jsonResponse(current);
    if (c.path === `${base}/status`) return jsonResponse(statusOf());
    if (c.path === `${base}/lanes`) return jsonResponse([lane]);
    if (c.path === `${base}/stats`) return jsonResponse(stats);
    if (c.path === `${base}/logs`) return jsonResponse({ items: c.query.outcome && c.query.outcome !== "target_rejected" ? [] : LOGS, next_cursor: null });
    if (c.path === `${base}/targets/stats`) return jsonResponse({ total: 6, by_status: { pending: 2, failed: 2, already_member: 1, invited: 1 }, by_kind: {} });
    if (c.path === `${base}/targets`) {
      const items = TARGETS.filter((t) => !c.query.error_code || t.error_code === c.query.error_code);
      return jsonResponse({ items, total: items.length, next_cursor: null });
    }
    if (c.path === "/api/v1/accounts") return jsonResponse([]);
    if (c.path === "/api/v1/meta/reasons") return jsonResponse({ reasons: REASONS });
    return undefined;
  });
});
afterEach(async () => {
  signOut();
  setFetch(globalThis.fetch);
  await i18n.changeLanguage("en");
});

async function pick(user: ReturnType<typeof userEvent.setup>, label: string, option: string) {
  const input = document.querySelector(`input[aria-label="${label}"]`) as HTMLElement;
  await user.click(input);
  const listbox = await waitFor(() => {
    const el = document.getElementById(input.getAttribute("aria-controls") ?? "");
    expect(el).not.toBeNull();
    return el as HTMLElement;
  });
  fireEvent.click(within(listbox).getByRole("option", { name: option, hidden: true }));
}

function open(path = `/tasks/${TASK_ID}`) {
  return renderUI(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/tasks/:taskId" element={<TaskPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("the task page", () => {
  it("says in the header why the task is not sending and when it resumes, with the ETA", async () => {
    open();
    const waiting = await screen.findByTestId("task-waiting", {}, { timeout: 5000 });
    expect(waiting).toHaveTextContent(`Waiting for the hourly limit — resumes ${until.today ? "at " : ""}${until.en}`);
    expect(await screen.findByTestId("task-eta", {}, SLOW)).toHaveTextContent(/Expected to finish .* \(about 5 hours\)/);
  });

  it("shows an account at its cap as at the limit until a time, not as plain Active", async () => {
    const user = userEvent.setup();
    open();
    await user.click(await screen.findByRole("tab", { name: "Accounts" }));
    const held = await screen.findByTestId("lane-waiting", {}, SLOW);
    expect(held).toHaveTextContent(`At the hourly limit until ${until.en}`);
  });

  it("breaks the failures down by reason in words; a click narrows the audience to that reason", async () => {
    const user = userEvent.setup();
    open();
    const breakdown = await screen.findByTestId("reason-breakdown", {}, SLOW);
    const privacy = await within(breakdown).findByText("Their privacy settings do not let others add them to groups.");
    // Benign reasons are neutral, final ones red: the colour comes from the reason's kind.
    const benign = breakdown.querySelector('[data-code="USER_ALREADY_PARTICIPANT"]') as HTMLElement;
    expect(benign.dataset.kind).toBe("benign");
    expect(benign.innerHTML).not.toContain("--mantine-color-red");
    expect((breakdown.querySelector('[data-code="USER_PRIVACY_RESTRICTED"]') as HTMLElement).innerHTML).toContain("--mantine-color-red");

    await user.click(privacy);
    const filter = await screen.findByTestId("reason-filter", {}, SLOW);
    expect(filter).toHaveTextContent("Only targets with this reason: Their privacy settings do not let others add them to groups.");
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/targets") && c.query.error_code === "USER_PRIVACY_RESTRICTED")).toBe(true));
    const table = await screen.findByTestId("targets-table", {}, SLOW);
    await waitFor(() => expect(table.querySelectorAll("tbody tr")).toHaveLength(1));
    // The reason is text in the row, not only a hover.
    expect(within(table).getByTestId("target-reason")).toHaveTextContent("Their privacy settings do not let others add them to groups.");

    await user.click(within(filter).getByRole("button", { name: "Show targets with any reason" }));
    await waitFor(() => expect(screen.getByTestId("targets-table").querySelectorAll("tbody tr")).toHaveLength(3));
  });

  it("offers Back to pending only for targets a retry can help", async () => {
    const user = userEvent.setup();
    open(`/tasks/${TASK_ID}?tab=audience`);
    const table = await screen.findByTestId("targets-table", {}, SLOW);
    await within(table).findByText("@floodbob");
    await user.click(within(table).getByRole("checkbox", { name: "Select @privateann" }));
    const bar = await screen.findByTestId("target-bulk-bar", {}, SLOW);
    expect(within(bar).queryByRole("button", { name: "Back to pending" })).toBeNull();
    expect(within(bar).getByTestId("no-retry-hint")).toBeInTheDocument();
    await user.click(within(table).getByRole("checkbox", { name: "Select @privateann" }));
    await user.click(within(table).getByRole("checkbox", { name: "Select @floodbob" }));
    expect(within(await screen.findByTestId("target-bulk-bar", {}, SLOW)).getByRole("button", { name: "Back to pending" })).toBeInTheDocument();
  });

  it("shows in the live log who was tried, by which account, to the second, and why it failed; filters by outcome and account", async () => {
    const user = userEvent.setup();
    open();
    const log = await screen.findByTestId("log-table", {}, SLOW);
    const row = log.querySelector('[data-log="9"]') as HTMLElement;
    expect(row).toHaveTextContent("@pri***ann");
    expect(row).toHaveTextContent("Sales phone");
    expect(row).toHaveTextContent(/\d\d:\d\d:\d\d/);
    expect(within(row).getByTestId("log-reason")).toHaveTextContent("Their privacy settings do not let others add them to groups.");
    expect(row).toHaveTextContent("Refused");

    await pick(user, "Filter the log by account", "Sales phone");
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/logs") && c.query.account_id === "acc-1")).toBe(true));
    await pick(user, "Filter the log by outcome", "Done");
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/logs") && c.query.outcome === "success" && c.query.account_id === "acc-1")).toBe(true));
    expect(await screen.findByText("No log entries match")).toBeInTheDocument();
  });

  it("tells a draft how long it would take if started now", async () => {
    current = makeTask({ status: "draft", account_ids: ["acc-1", "acc-2"] });
    statusOf = () => ({
      ...status(),
      status: "draft",
      waiting: null,
      eta: new Date(Date.now() + 3 * 86400_000).toISOString(),
      estimate: { remaining: 287, lanes: 2, rate_per_hour: 4, basis: "if_started_now", reason: null, step: "invite", caps: [{ window_seconds: 86400, limit: 50 }] },
    });
    open();
    expect(await screen.findByTestId("task-estimate", {}, SLOW)).toHaveTextContent(
      "If started now: 287 targets, 2 accounts: about 3 days at 50 invites a day each.",
    );
    expect(screen.queryByTestId("task-waiting")).toBeNull();
  });

  it("speaks Russian, reasons included", async () => {
    await i18n.changeLanguage("ru");
    open();
    expect(await screen.findByTestId("task-waiting", {}, SLOW)).toHaveTextContent(`Ждём часового лимита — продолжим в ${until.ru}`);
    expect(await screen.findByText("Настройки приватности не позволяют добавлять их в группы.", { selector: "[data-testid=reason-breakdown] *" })).toBeInTheDocument();
  });
});
