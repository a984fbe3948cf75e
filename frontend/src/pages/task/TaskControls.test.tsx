import { act, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../../api/client";
import type { Task } from "../../api/hooks";
import type { TaskStatusOut } from "../../api/taskStatus";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { renderUI, jsonResponse } from "../../test/render";
import { TaskControls } from "./TaskControls";

function task(status: Task["status"]): Task {
  return makeTask({ status });
}

let calls: { method: string; url: string }[] = [];
let reply: () => Response;

beforeEach(() => {
  calls = [];
  reply = () => jsonResponse(task("running"));
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      calls.push({ method: req.method, url: new URL(req.url, "http://x").pathname });
      return reply();
    }) as unknown as typeof fetch,
  );
});
afterEach(() => setFetch(globalThis.fetch));

describe("TaskControls", () => {
  it("offers the controls each state allows", () => {
    const { unmount } = renderUI(<TaskControls task={task("draft")} />);
    expect(screen.getByRole("button", { name: "Start" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pause" })).toBeNull();
    unmount();
    const r2 = renderUI(<TaskControls task={task("running")} />);
    expect(screen.getByRole("button", { name: "Pause" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Cancel task" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Start" })).toBeNull();
    r2.unmount();
    renderUI(<TaskControls task={task("paused")} />);
    expect(screen.getByRole("button", { name: "Resume" })).toBeInTheDocument();
  });

  it("starts only after the user confirms", async () => {
    const user = userEvent.setup();
    renderUI(<TaskControls task={task("draft")} />);
    await user.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByText(/Start “Webinar”\?/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Keep as is" }));
    expect(calls).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "Start" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(dialog.querySelector("button[data-autofocus]") as HTMLElement);
    await waitFor(() => expect(calls).toEqual([{ method: "POST", url: "/api/v1/tasks/11111111-1111-1111-1111-111111111111/start" }]));
  });

  it("cancels with a warning about the targets left", async () => {
    const user = userEvent.setup();
    renderUI(<TaskControls task={task("running")} />);
    await user.click(screen.getByRole("button", { name: "Cancel task" }));
    expect(await screen.findByText(/10 targets not reached yet will be skipped/)).toBeInTheDocument();
    const dialog = await screen.findByRole("dialog");
    await user.click(dialog.querySelector("button[data-autofocus]") as HTMLElement);
    await waitFor(() => expect(calls.map((c) => c.url)).toEqual(["/api/v1/tasks/11111111-1111-1111-1111-111111111111/cancel"]));
  });

  it("lists each reason the service gives for refusing to start", async () => {
    reply = () =>
      jsonResponse(
        {
          title: "Invalid input",
          status: 422,
          detail: "The task cannot start.",
          errors: [
            { loc: ["body", "account_ids"], msg: "pick at least one usable account", type: "missing" },
            { loc: [], msg: "add at least one pending target", type: "missing" },
          ],
        },
        422,
        "application/problem+json",
      );
    const user = userEvent.setup();
    renderUI(<TaskControls task={task("draft")} />);
    await user.click(screen.getByRole("button", { name: "Start" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(dialog.querySelector("button[data-autofocus]") as HTMLElement);
    const alert = await screen.findByTestId("control-error");
    expect(alert).toHaveTextContent("The task cannot start yet:");
    expect(alert).toHaveTextContent("It needs at least one usable account");
    expect(alert).toHaveTextContent("add at least one pending target");
  });

  it("drops a refusal's reason once the task no longer has that problem (derived from the task, not stored)", async () => {
    reply = () =>
      jsonResponse(
        {
          title: "Invalid input",
          status: 422,
          detail: "The task cannot start yet; see errors.",
          errors: [{ loc: ["task", "targets"], msg: "at least one pending target is needed", type: "value_error" }],
        },
        422,
        "application/problem+json",
      );
    const user = userEvent.setup();
    const empty = makeTask({ status: "draft", counters: { ...makeTask().counters, total: 0, pending: 0 } });
    let setTask: (t: Task) => void = () => {};
    function Harness() {
      const [current, set] = useState(empty);
      setTask = set;
      return <TaskControls task={current} />;
    }
    renderUI(<Harness />);
    await user.click(screen.getByRole("button", { name: "Start" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(dialog.querySelector("button[data-autofocus]") as HTMLElement);
    expect(await screen.findByTestId("control-error")).toHaveTextContent("It needs at least one pending target");
    // An import later: the same task, now with pending targets. Nothing was clicked, the banner is gone.
    act(() => setTask(makeTask({ status: "draft" })));
    await waitFor(() => expect(screen.queryByTestId("control-error")).toBeNull());
  });

  it("says in the start dialog how long it will take, from the service's estimate", async () => {
    const user = userEvent.setup();
    const status = {
      task_id: TASK_ID,
      status: "draft",
      progress: 0,
      counters: makeTask().counters,
      pause_reason: null,
      started_at: null,
      finished_at: null,
      eta: new Date(Date.now() + 3 * 86400_000).toISOString(),
      estimate: {
        remaining: 287,
        lanes: 2,
        rate_per_hour: 4,
        basis: "if_started_now",
        reason: null,
        step: "invite",
        caps: [
          { window_seconds: 3600, limit: 5 },
          { window_seconds: 86400, limit: 50 },
        ],
      },
      send_window: null,
      lanes: [],
      replied: 0,
      waiting: null,
    } satisfies TaskStatusOut;
    renderUI(<TaskControls task={makeTask({ status: "draft" })} status={status} />);
    await user.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByTestId("confirm-start")).toHaveTextContent("287 targets, 2 accounts: about 3 days at 50 invites a day each.");
  });

  it("shows a 409 from a task that changed state meanwhile", async () => {
    reply = () => jsonResponse({ title: "Conflict", status: 409, detail: "Task is completed; it cannot pause." }, 409, "application/problem+json");
    const user = userEvent.setup();
    renderUI(<TaskControls task={task("running")} />);
    await user.click(screen.getByRole("button", { name: "Pause" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(dialog.querySelector("button[data-autofocus]") as HTMLElement);
    expect(await screen.findByTestId("control-error")).toHaveTextContent("Task is completed; it cannot pause.");
  });
});
