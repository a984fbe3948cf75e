import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
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

  it("asks for the total on the first page only and keeps it on the next", async () => {
    const first = makeTask({ name: "On page one" });
    const second = makeTask({ id: "00000000-0000-4000-8000-0000000000b2", name: "On page two" });
    const calls = fakeApi((c) => {
      if (c.path !== "/api/v1/tasks") return undefined;
      if (!c.query.cursor) return jsonResponse({ items: [first], total: 120, next_cursor: "page-2" });
      return jsonResponse({ items: [second], total: null, next_cursor: null });
    });
    renderUI(
      <MemoryRouter>
        <TasksPage />
      </MemoryRouter>,
    );
    expect(await screen.findByText("120 tasks")).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("On page two")).toBeInTheDocument();
    expect(screen.getByText("120 tasks")).toBeInTheDocument();
    expect(screen.getByTestId("pager-summary")).toHaveTextContent("of 120");
    const lists = calls.filter((c) => c.path === "/api/v1/tasks");
    expect(lists.filter((c) => !c.query.cursor).every((c) => c.query.with_total === "true")).toBe(true);
    expect(lists.filter((c) => c.query.cursor).some((c) => "with_total" in c.query)).toBe(false);
  });
});
