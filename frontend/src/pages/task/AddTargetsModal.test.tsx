import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import { fakeApi } from "../../test/fakeApi";
import { TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { AddTargetsModal } from "./AddTargetsModal";

afterEach(() => setFetch(globalThis.fetch));

describe("AddTargetsModal", () => {
  it("refuses a bare number too short to be a user id, with the reason, and sends only the rest", async () => {
    const calls = fakeApi((c) =>
      c.path === `/api/v1/tasks/${TASK_ID}/targets/bulk`
        ? jsonResponse({
            created: 2,
            duplicates: 0,
            invalid: 0,
            results: [
              { index: 0, result: "created", key: "anna_p" },
              { index: 1, result: "created", key: "123456789" },
            ],
          })
        : undefined,
    );
    const user = userEvent.setup();
    renderUI(<AddTargetsModal taskId={TASK_ID} opened onClose={() => {}} />);
    await user.type(await screen.findByLabelText("One target a line"), "@anna_p{enter}1234{enter}123456789");
    expect(screen.getByTestId("paste-too-short")).toHaveTextContent("1 line is a number too short to be a user id (fewer than 5 digits) and will not be sent: line 2.");
    await user.click(screen.getByRole("button", { name: "Add 2 targets" }));

    const results = await screen.findByTestId("bulk-results");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ targets: [{ username: "@anna_p" }, { user_id: "123456789" }], all_or_nothing: false });
    expect(within(results).getByText("1 invalid")).toBeInTheDocument();
    const refused = results.querySelector('tr[data-result="invalid"]') as HTMLElement;
    expect(within(refused).getByText("1234")).toBeInTheDocument();
    expect(within(refused).getByTestId("row-error")).toHaveTextContent("A number this short is neither a user id nor a phone");
    // The refused line can be fixed and sent again.
    await user.click(screen.getByRole("button", { name: "Fix the 1 invalid row" }));
    expect(screen.getByLabelText("One target a line")).toHaveValue("1234");
  });

  it("speaks Russian", async () => {
    const { default: i18n } = await import("../../i18n");
    await i18n.changeLanguage("ru");
    fakeApi(() => undefined);
    const user = userEvent.setup();
    renderUI(<AddTargetsModal taskId={TASK_ID} opened onClose={() => {}} />);
    await user.type(await screen.findByLabelText("Один получатель в строке"), "12{enter}34");
    expect(screen.getByTestId("paste-too-short")).toHaveTextContent("2 строки — слишком короткие числа для id пользователя");
    expect(screen.getByRole("button", { name: "Добавить получателей" })).toBeDisabled();
  });
});
