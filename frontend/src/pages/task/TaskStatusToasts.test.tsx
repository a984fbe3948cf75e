import { cleanNotifications, Notifications } from "@mantine/notifications";
import { act, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import type { Task } from "../../api/hooks";
import { signIn, signOut } from "../../auth/session";
import { NotificationFeed, useFeedLive } from "../../notify/NotificationFeed";
import { type Call, fakeApi } from "../../test/fakeApi";
import { makeTask } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { useStatusNotifications } from "./TaskPage";

function Watch({ task }: { task: Task }) {
  useStatusNotifications(task);
  return null;
}

function LiveProbe() {
  return useFeedLive() ? <span data-testid="feed-live" /> : null;
}

let setTask: (t: Task) => void = () => {};

function Harness({ initial }: { initial: Task }) {
  const [task, set] = useState(initial);
  setTask = set;
  return (
    <>
      <Notifications limit={10} />
      <NotificationFeed intervalMs={3_600_000} absentMs={3_600_000} />
      <Watch task={task} />
      <LiveProbe />
    </>
  );
}

let calls: Call[];
const fed = () => calls.filter((c) => c.path === "/api/v1/notifications/events").length;

beforeEach(() => signIn({ mode: "dev", token: "tok", user: "alice", expiresAt: null }));
afterEach(() => {
  act(() => cleanNotifications());
  signOut();
  setFetch(globalThis.fetch);
});

describe("the task page's status toasts", () => {
  it("come from the task itself while the service has no feed (404), through the same toast", async () => {
    calls = fakeApi(() => undefined);
    const running = makeTask({ id: "t-404", name: "Webinar", status: "running", updated_at: "2026-12-02T10:00:00Z" });
    renderUI(<Harness initial={running} />);
    await waitFor(() => expect(fed()).toBe(1));
    await waitFor(() => expect(screen.queryByTestId("feed-live")).toBeNull());
    act(() => setTask({ ...running, status: "completed", updated_at: "2026-12-02T11:00:00Z" }));
    expect(await screen.findByText("Task «Webinar» completed")).toBeInTheDocument();
  });

  it("are left to the feed when it answers, so a completion is toasted once", async () => {
    calls = fakeApi((c) => (c.path === "/api/v1/notifications/events" ? jsonResponse({ items: [], last_id: 1 }) : undefined));
    const running = makeTask({ id: "t-live", name: "Spring", status: "running", updated_at: "2026-12-02T10:00:00Z" });
    renderUI(<Harness initial={running} />);
    await waitFor(() => expect(fed()).toBe(1));
    await screen.findByTestId("feed-live");
    act(() => setTask({ ...running, status: "completed", updated_at: "2026-12-02T11:00:00Z" }));
    await act(async () => {});
    expect(screen.queryByText("Task «Spring» completed")).toBeNull();
  });
});
