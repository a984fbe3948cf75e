import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import { type Call, fakeApi } from "../../test/fakeApi";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { TaskFormPage } from "./TaskFormPage";
import { TemplateEditor } from "./TemplateEditor";
import { TestMessageDialog } from "./TestMessageDialog";

afterEach(() => setFetch(globalThis.fetch));

const problem = (body: Record<string, unknown>, status: number) => jsonResponse({ type: "about:blank", instance: "/x", ...body, status }, status, "application/problem+json");

const FIELDS = {
  fields: [
    { name: "first_name", targets: 8, standard: true },
    { name: "last_name", targets: 5, standard: true },
    { name: "username", targets: 10, standard: true },
    { name: "city", targets: 7, standard: false },
    { name: "email", targets: 3, standard: false },
  ],
};

function Harness({ taskId, hasTargets }: { taskId?: string; hasTargets?: boolean }) {
  const [value, setValue] = useState("");
  return <TemplateEditor value={value} onChange={setValue} taskId={taskId} hasTargets={hasTargets} />;
}

function serveTask(calls?: (c: Call) => Response | undefined) {
  return fakeApi((c) => {
    const answer = calls?.(c);
    if (answer) return answer;
    if (c.path === `/api/v1/tasks/${TASK_ID}/fields`) return jsonResponse(FIELDS);
    if (c.path === `/api/v1/tasks/${TASK_ID}/targets`)
      return jsonResponse({ items: [{ id: 7, key: "anna_p", username: "anna_p", first_name: "Anna", last_name: null, fields: { city: "Oslo" } }], next_cursor: null });
    return undefined;
  });
}

describe("the template editor's fields", () => {
  it("offers the task's imported fields as chips, with how many targets have each", async () => {
    serveTask();
    const user = userEvent.setup();
    renderUI(<Harness taskId={TASK_ID} hasTargets />);
    const chips = screen.getByTestId("template-chips");
    const city = await within(chips).findByRole("button", { name: /^\{city\}/ });
    expect(city).toHaveTextContent("7");
    await user.click(city);
    expect(screen.getByLabelText(/^Message/)).toHaveValue("{city}");
  });

  it("offers only the standard fields on the create form", () => {
    fakeApi(() => undefined);
    renderUI(<Harness />);
    const chips = screen.getByTestId("template-chips");
    expect(within(chips).getAllByRole("button").map((b) => b.textContent)).toEqual(["{first_name}", "", "{last_name}", "", "{username}", ""]);
  });

  it("inserts a placeholder with a fallback in one click, and the preview shows the fallback", async () => {
    fakeApi(() => undefined);
    const user = userEvent.setup();
    renderUI(<Harness />);
    await user.type(screen.getByLabelText(/^Message/), "Hi ");
    await user.click(screen.getByRole("button", { name: "Insert {first_name} with a fallback for when it is empty" }));
    expect(screen.getByLabelText(/^Message/)).toHaveValue("Hi {first_name|friend}");
    await user.clear(screen.getByLabelText("first_name"));
    expect(screen.getByTestId("template-preview-text")).toHaveTextContent("Hi friend");
    expect(screen.queryByTestId("template-missing")).toBeNull();
  });

  it("flags a placeholder no target has, with the closest field", async () => {
    serveTask();
    const user = userEvent.setup();
    renderUI(<Harness taskId={TASK_ID} hasTargets />);
    await screen.findByRole("button", { name: /^\{city\}/ });
    await user.type(screen.getByLabelText(/^Message/), "Hi {{frist_name}, from {{cty}");
    expect(screen.getByText("{frist_name} is not a field any target has; did you mean {first_name}?; {cty} is not a field any target has; did you mean {city}?")).toBeInTheDocument();
  });

  it("on a task without targets, flags only near misses of standard fields", async () => {
    fakeApi(() => undefined);
    const user = userEvent.setup();
    renderUI(<Harness />);
    await user.type(screen.getByLabelText(/^Message/), "{{usrname} in {{city}");
    expect(screen.getByText("{usrname} is not a field any target has; did you mean {username}?")).toBeInTheDocument();
    expect(screen.queryByText(/\{city\} is not/)).toBeNull();
  });
});

describe("Send a test to myself", () => {
  it("sends to the address given, for the chosen target, and shows the rendered text and the outcome", async () => {
    const calls = serveTask((c) =>
      c.path === `/api/v1/tasks/${TASK_ID}/test-message`
        ? jsonResponse({ rendered: "Hi Anna from Oslo", account_id: "acc-1", outcome: "success", error_code: null, detail: null })
        : undefined,
    );
    const user = userEvent.setup();
    renderUI(<TestMessageDialog taskId={TASK_ID} opened onClose={() => {}} unsaved={false} />);
    await user.click(screen.getByRole("button", { name: "Send the test" }));
    expect(screen.getByText("Enter your own address")).toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Send to/), "@me_myself");
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/targets"))).toBe(true));
    await user.click(screen.getByPlaceholderText("A sample with empty fields (the fallbacks show)"));
    fireEvent.click(await screen.findByRole("option", { name: "anna_p", hidden: true }));
    await user.click(screen.getByRole("button", { name: "Send the test" }));
    expect(await screen.findByTestId("test-message-rendered")).toHaveTextContent("Hi Anna from Oslo");
    expect(screen.getByTestId("test-message-result")).toHaveTextContent("Sent");
    expect(screen.getByTestId("test-message-result")).toHaveTextContent("From account acc-1");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ to: "@me_myself", target_id: 7, account_id: null });
  });

  it("says when the account's cap is full and until when", async () => {
    serveTask((c) =>
      c.method === "POST"
        ? problem({ title: "The account's message cap is reached", code: "CAP_REACHED", detail: "Account 'acc-1' has sent...", until: "2026-12-03T14:01:00Z", window_seconds: 3600 }, 429)
        : undefined,
    );
    const user = userEvent.setup();
    renderUI(<TestMessageDialog taskId={TASK_ID} opened onClose={() => {}} unsaved />);
    expect(screen.getByText(/You have unsaved changes/)).toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Send to/), "+79161234567");
    await user.click(screen.getByRole("button", { name: "Send the test" }));
    const refused = await screen.findByTestId("test-message-refused");
    expect(refused).toHaveTextContent(/has used its message cap for the hour; it can send again at .*2026/);
  });

  it("puts a refused address under its field", async () => {
    serveTask((c) =>
      c.method === "POST"
        ? problem({ title: "Invalid input", code: "validation_error", detail: "The address is not valid; see errors.", errors: [{ loc: ["body", "to"], msg: "username must be 5-32 letters", type: "value_error" }] }, 422)
        : undefined,
    );
    const user = userEvent.setup();
    renderUI(<TestMessageDialog taskId={TASK_ID} opened onClose={() => {}} unsaved={false} />);
    await user.type(screen.getByLabelText(/^Send to/), "ab");
    await user.click(screen.getByRole("button", { name: "Send the test" }));
    expect(await screen.findByText("username must be 5-32 letters")).toBeInTheDocument();
    expect(screen.queryByTestId("test-message-refused")).toBeNull();
  });
});

describe("the task form's problems", () => {
  function renderEdit(answer: () => Response) {
    const task = makeTask({ action: "message", destination: null, message_template: "Hi {first_name}" });
    serveTask((c) => {
      if (c.path === `/api/v1/tasks/${TASK_ID}` && c.method === "GET") return jsonResponse(task);
      if (c.path === `/api/v1/tasks/${TASK_ID}` && c.method !== "GET") return answer();
      if (c.path === "/api/v1/accounts") return jsonResponse({ items: [], next_cursor: null });
      return undefined;
    });
    renderUI(
      <MemoryRouter initialEntries={[`/tasks/${TASK_ID}/edit`]}>
        <Routes>
          <Route path="/tasks/:taskId/edit" element={<TaskFormPage />} />
        </Routes>
      </MemoryRouter>,
    );
  }

  it("shows UNKNOWN_PLACEHOLDER on the message field", async () => {
    renderEdit(() =>
      problem(
        {
          title: "Unknown placeholder",
          code: "UNKNOWN_PLACEHOLDER",
          detail: "{frist_name} is not a field any target has; did you mean {first_name}?",
          errors: [{ loc: ["body", "message_template"], msg: "{frist_name} is not a field any target has; did you mean {first_name}?", type: "unknown_placeholder" }],
          placeholders: [{ name: "frist_name", suggestion: "first_name", closest: "first_name" }],
        },
        422,
      ),
    );
    const user = userEvent.setup();
    await screen.findByTestId("task-form");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    const field = document.querySelector('textarea[name="message_template"]') as HTMLTextAreaElement;
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(screen.getByText("{frist_name} is not a field any target has; did you mean {first_name}?")).toBeInTheDocument();
    expect(screen.queryByTestId("form-errors")).toBeNull();
  });

  it("names a field in words when its error cannot sit next to it", async () => {
    renderEdit(() =>
      problem(
        {
          title: "Invalid input",
          code: "validation_error",
          detail: "The task is not valid.",
          errors: [
            { loc: ["body", "task", "targets"], msg: "needs a pending target", type: "value_error" },
            { loc: ["body", "settings", "send_window"], msg: "the window is empty", type: "value_error" },
          ],
        },
        422,
      ),
    );
    const user = userEvent.setup();
    await screen.findByTestId("task-form");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    const errors = await screen.findByTestId("form-errors");
    expect(errors).toHaveTextContent("Targets: needs a pending target");
    expect(errors).not.toHaveTextContent("task.targets");
  });
});
