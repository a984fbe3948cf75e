import { notifications } from "@mantine/notifications";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../../api/client";
import type { Task } from "../../api/hooks";
import type { LaneOut } from "../../api/types";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { LanesPanel } from "./LanesPanel";

const task: Task = makeTask({ status: "paused", account_ids: ["acc-1", "acc-2", "acc-3"] });

function lane(account_id: string, status: LaneOut["status"]): LaneOut {
  return {
    account_id,
    label: account_id,
    status,
    cooldown_until: null,
    restricted_at: status === "restricted" ? "2026-01-01T00:00:00Z" : null,
    next_action_at: null,
    sent: 0,
    failed: 0,
    last_error: null,
    last_used_at: null,
  };
}

const LANES = [lane("acc-1", "active"), lane("acc-2", "unavailable"), lane("acc-3", "restricted")];
let calls: { method: string; url: string }[] = [];
let reactivate: () => Response;

beforeEach(() => {
  calls = [];
  reactivate = () =>
    jsonResponse({ account_id: "acc-2", status: "active", lanes_reactivated: 2, task_ids: [TASK_ID, "t-2"], paused_task_ids: [TASK_ID] });
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(req.url, "http://x").pathname;
      calls.push({ method: req.method, url });
      if (url === `/api/v1/tasks/${TASK_ID}/lanes`) return jsonResponse(LANES);
      if (url === "/api/v1/accounts") return jsonResponse({ items: [], next_cursor: null, total: 0 });
      if (url === "/api/v1/accounts/acc-2/reactivate") return reactivate();
      return jsonResponse({ title: "Not found", status: 404 }, 404, "application/problem+json");
    }) as unknown as typeof fetch,
  );
});
afterEach(() => {
  setFetch(globalThis.fetch);
  vi.restoreAllMocks();
});

const laneCard = (id: string) => document.querySelector(`[data-lane="${id}"]`) as HTMLElement;

async function reactivateAcc2() {
  const user = userEvent.setup();
  renderUI(<LanesPanel task={task} />);
  await screen.findByTestId("lanes");
  await user.click(within(laneCard("acc-2")).getByRole("button", { name: "Reactivate" }));
  const dialog = await screen.findByRole("dialog");
  expect(dialog).toHaveTextContent("Reactivate acc-2?");
  await user.click(within(dialog).getByRole("button", { name: "Reactivate" }));
}

describe("LanesPanel", () => {
  it("offers Reactivate only on an unavailable lane, with what to fix first", async () => {
    renderUI(<LanesPanel task={task} />);
    await screen.findByTestId("lanes");
    expect(within(laneCard("acc-1")).queryByRole("button", { name: "Reactivate" })).toBeNull();
    expect(within(laneCard("acc-3")).queryByRole("button", { name: "Reactivate" })).toBeNull();
    const unavailable = laneCard("acc-2");
    expect(within(unavailable).getByRole("button", { name: "Reactivate" })).toBeInTheDocument();
    expect(unavailable).toHaveTextContent("log it in again in the Integration Service, then reactivate it here");
  });

  it("reactivates after the user confirms and says the paused task is theirs to resume", async () => {
    const show = vi.spyOn(notifications, "show");
    await reactivateAcc2();
    await waitFor(() => expect(show).toHaveBeenCalled());
    expect(calls).toContainEqual({ method: "POST", url: "/api/v1/accounts/acc-2/reactivate" });
    const shown = show.mock.calls[0]![0];
    expect(shown.message).toBe("2 lanes went back to work. This task is paused: resuming it is up to you.");
    // The lanes are read again (the account's status changed).
    await waitFor(() => expect(calls.filter((c) => c.url === `/api/v1/tasks/${TASK_ID}/lanes`).length).toBeGreaterThan(1));
  });

  it("shows the service's reason next to the button while the account is still unusable (409)", async () => {
    const show = vi.spyOn(notifications, "show");
    reactivate = () =>
      jsonResponse(
        {
          type: "about:blank",
          title: "The account is still unavailable",
          status: 409,
          code: "account_unavailable",
          detail: "The Integration Service still reports account 'acc-2' as unavailable (session revoked); fix it there (log the account in again), then reactivate it here.",
        },
        409,
        "application/problem+json",
      );
    await reactivateAcc2();
    const error = await within(laneCard("acc-2")).findByTestId("reactivate-error");
    expect(error).toHaveTextContent("still reports account 'acc-2' as unavailable (session revoked)");
    expect(show).not.toHaveBeenCalled();
  });

  it("does nothing when the user keeps it as is", async () => {
    const user = userEvent.setup();
    renderUI(<LanesPanel task={task} />);
    await screen.findByTestId("lanes");
    await user.click(within(laneCard("acc-2")).getByRole("button", { name: "Reactivate" }));
    await user.click(await screen.findByRole("button", { name: "Keep as is" }));
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });
});
