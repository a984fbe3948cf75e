import { screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import i18n from "../../i18n";
import { resumeAt } from "../../lib/format";
import { fakeApi } from "../../test/fakeApi";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { TasksPage } from "./TasksPage";

const resume = new Date(Date.now() + 30 * 60_000);
const eta = new Date(Date.now() + 3 * 3600_000);

function show() {
  const task = makeTask({
    status: "running",
    waiting: { reason: "cap", until: resume.toISOString(), window_seconds: 3600, accounts: 2 },
  } as never);
  fakeApi((c) => {
    if (c.path === "/api/v1/tasks") return jsonResponse({ items: [task], total: 1, next_cursor: null });
    if (c.path === `/api/v1/tasks/${TASK_ID}/status`) return jsonResponse({ eta: eta.toISOString() });
    return undefined;
  });
  renderUI(
    <MemoryRouter>
      <TasksPage />
    </MemoryRouter>,
  );
}

describe("TasksPage", () => {
  it("says why a running task waits, with the resume time, and its ETA", async () => {
    show();
    expect(await screen.findByTestId("task-waiting")).toHaveTextContent(new RegExp(`^Waiting for the hourly limit — resumes (at )?${resumeAt(resume.toISOString())}$`));
    expect(await screen.findByTestId("task-eta")).toHaveTextContent(/^Expected to finish /);
    expect(document.querySelector(".mantine-Badge-root[data-status=running]")).toHaveTextContent("Running");
  });

  it("says it in Russian", async () => {
    await i18n.changeLanguage("ru");
    show();
    expect(await screen.findByTestId("task-waiting")).toHaveTextContent(new RegExp(`^Ждём часового лимита — продолжим (в )?${resumeAt(resume.toISOString())}$`));
    expect(document.querySelector(".mantine-Badge-root[data-status=running]")).toHaveTextContent("Выполняется");
    expect(screen.getByText("1 задача")).toBeInTheDocument();
  });
});
