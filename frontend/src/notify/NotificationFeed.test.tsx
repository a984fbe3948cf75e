import { cleanNotifications, cleanNotificationsQueue, Notifications } from "@mantine/notifications";
import { useQuery } from "@tanstack/react-query";
import { act, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../api/client";
import type { EventOut } from "../api/notifications";
import { signIn, signOut } from "../auth/session";
import { type Call, fakeApi, notFound } from "../test/fakeApi";
import { jsonResponse, renderUI } from "../test/render";
import { DESKTOP_KEY } from "./desktop";
import { describeEvent } from "./events";
import { NotificationFeed } from "./NotificationFeed";

const TASK = "22222222-2222-2222-2222-222222222222";
let nextId = 100; // toasts are shown once per event id, across tests too
let pending: EventOut[] = [];
let lastId = 7;
let calls: Call[] = [];

function event(type: string, data: Record<string, unknown>): EventOut {
  const e = { id: ++nextId, type, created_at: "2026-12-02T12:00:00Z", data };
  pending.push(e);
  return e;
}

function serveFeed() {
  calls = fakeApi((c) => {
    if (c.method !== "GET" || c.path !== "/api/v1/notifications/events") return undefined;
    const after = c.query.after === undefined ? null : Number(c.query.after);
    if (after === null) return jsonResponse({ items: [], last_id: lastId });
    const items = pending.filter((e) => e.id > after);
    return jsonResponse({ items, last_id: items.length ? items[items.length - 1]!.id : after });
  });
}

const feedCalls = () => calls.filter((c) => c.path === "/api/v1/notifications/events");

function mount() {
  // An hour between ticks: the test drives each poll with a focus event.
  return renderUI(
    <>
      <Notifications limit={10} />
      <NotificationFeed intervalMs={3_600_000} absentMs={3_600_000} />
    </>,
  );
}

async function focus(expectedCalls: number) {
  act(() => void window.dispatchEvent(new Event("focus")));
  await waitFor(() => expect(feedCalls()).toHaveLength(expectedCalls));
}

beforeEach(() => {
  pending = [];
  lastId = 7;
  localStorage.removeItem("invite.lang");
  signIn({ mode: "dev", token: "tok", user: "alice", expiresAt: null });
  serveFeed();
});
afterEach(() => {
  act(() => {
    cleanNotifications();
    cleanNotificationsQueue();
  });
  signOut();
  setFetch(globalThis.fetch);
  vi.unstubAllGlobals();
  localStorage.removeItem(DESKTOP_KEY);
});

describe("NotificationFeed", () => {
  it("starts from now, then asks after the last id and toasts a completed task with a link to it", async () => {
    event("task.completed", { task_id: TASK, task_name: "Old news", status: "completed" }); // before the page opened
    lastId = nextId;
    mount();
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    expect(feedCalls()[0]!.query.after).toBeUndefined();

    event("task.completed", { task_id: TASK, task_name: "Webinar", status: "completed" });
    await focus(2);
    expect(feedCalls()[1]!.query.after).toBe(String(lastId));
    const title = await screen.findByText("Task «Webinar» completed");
    expect(title).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open the task" })).toHaveAttribute("href", `#/tasks/${TASK}`);
    expect(screen.queryByText("Task «Old news» completed")).toBeNull();

    // The next poll continues after the event it has shown: nothing is toasted twice.
    await focus(3);
    expect(feedCalls()[2]!.query.after).toBe(String(nextId));
    expect(screen.getAllByText("Task «Webinar» completed")).toHaveLength(1);
  });

  it("says why a task paused, and names a disabled destination with a way to Settings", async () => {
    mount();
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    event("task.paused", { task_id: TASK, task_name: "Spring", status: "paused", reason: "breaker" });
    event("endpoint.disabled", { endpoint_id: "e1", reason: "HTTP 500 ten times in a row" });
    await focus(2);
    expect(await screen.findByText("Task «Spring» paused")).toBeInTheDocument();
    expect(screen.getByText("Reason: the safety breaker tripped: too many accounts were restricted")).toBeInTheDocument();
    expect(screen.getByText("A notification destination was turned off")).toBeInTheDocument();
    expect(screen.getByText("It failed too many times in a row: HTTP 500 ten times in a row")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open Settings" })).toHaveAttribute("href", "#/settings");
  });

  it("tolerates a service without the feed (404): no toast, no error, and it keeps asking", async () => {
    calls = fakeApi(() => notFound());
    mount();
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    await focus(2);
    expect(feedCalls()[1]!.query.after).toBeUndefined(); // it never learnt a last id
    expect(screen.queryByTestId("event-toast")).toBeNull();
  });

  it("asks nothing while signed out, and stops when the user signs out", async () => {
    signOut();
    mount();
    act(() => void window.dispatchEvent(new Event("focus")));
    expect(feedCalls()).toHaveLength(0);

    act(() => signIn({ mode: "dev", token: "tok", user: "bob", expiresAt: null }));
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    act(() => signOut());
    act(() => void window.dispatchEvent(new Event("focus")));
    expect(feedCalls()).toHaveLength(1);
  });

  it("raises a desktop notification too when the user opted in and the page is hidden", async () => {
    const created: string[] = [];
    const Fake = vi.fn(function (this: object, title: string) {
      created.push(title);
    });
    vi.stubGlobal("Notification", Object.assign(Fake, { permission: "granted", requestPermission: vi.fn() }));
    localStorage.setItem(DESKTOP_KEY, "on");
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    try {
      mount();
      await waitFor(() => expect(feedCalls()).toHaveLength(1));
      event("task.failed", { task_id: TASK, task_name: "Autumn", status: "failed" });
      await focus(2);
      await waitFor(() => expect(created).toEqual(["Task «Autumn» failed"]));
    } finally {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
    }
  });

  it("sums up a burst instead of covering the screen", async () => {
    mount();
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    for (let i = 0; i < 8; i++) event("import.completed", { import_id: `i${i}`, task_id: TASK, accepted: i, rejected: 0 });
    await focus(2);
    expect(await screen.findByText("3 more notifications")).toBeInTheDocument();
  });
});

describe("NotificationFeed refreshes", () => {
  it("the task lists when a task event arrives (an idle list polls only every 30 s)", async () => {
    let reads = 0;
    function TaskList() {
      useQuery({ queryKey: ["tasks", "list", {}], queryFn: () => ++reads, staleTime: Infinity });
      return null;
    }
    renderUI(
      <>
        <NotificationFeed intervalMs={3_600_000} absentMs={3_600_000} />
        <TaskList />
      </>,
    );
    await waitFor(() => expect(feedCalls()).toHaveLength(1));
    await waitFor(() => expect(reads).toBe(1));
    await focus(2); // nothing new: no refresh
    expect(reads).toBe(1);
    event("task.completed", { task_id: TASK, task_name: "Refresh", status: "completed" });
    await focus(3);
    await waitFor(() => expect(reads).toBe(2));
  });
});

describe("describeEvent", () => {
  it("speaks Russian", () => {
    const paused = describeEvent({ type: "task.paused", data: { task_id: TASK, task_name: "Вебинар", reason: "chat_full" } }, "ru");
    expect(paused.title).toBe("Задача «Вебинар» приостановлена");
    expect(paused.body).toBe("Причина: чат заполнен");
    expect(describeEvent({ type: "task.completed", data: { task_id: TASK, task_name: "Вебинар" } }, "ru").title).toBe("Задача «Вебинар» завершена");
    expect(describeEvent({ type: "import.completed", data: { accepted: 5, rejected: 1 } }, "ru").body).toBe("Принято: 5, отклонено: 1.");
  });

  it("keeps an engine's sentence as it is and covers every event type", () => {
    const reason = "Paused: 3 of 4 accounts were restricted within 60 minutes.";
    expect(describeEvent({ type: "task.paused", data: { task_name: "A", reason } }, "en").body).toBe(`Reason: ${reason}`);
    const restricted = describeEvent({ type: "account.restricted", data: { account_id: "acc-7", platform: "telegram" } }, "en");
    expect(restricted.title).toBe("A Telegram account is restricted");
    expect(restricted.body).toMatch(/^Account acc-7\. Its lanes wait/);
    for (const type of ["account.restricted", "account.unavailable", "import.failed", "task.failed"]) {
      expect(describeEvent({ type, data: { platform: "telegram", error: "bad file" } }, "en").title).not.toMatch(/^Notification:/);
    }
  });
});
