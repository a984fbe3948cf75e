#!/usr/bin/env node
// End-to-end walk through the real UI in Debian's headless Chromium (playwright-core, no bundled browser).
// Run by tests/ui/test_browser.py against a real `invite-service serve`; usable by hand too:
//   node frontend/e2e/walkthrough.mjs --base http://127.0.0.1:8002 [--chromium /usr/bin/chromium] [--shots DIR]
// Sign in, create a task (the API's errors at their fields), paste targets (the invalid row shows its error),
// see them in the table, edit, delete; a refused token returns to sign-in. Screenshots of each page.
import { join } from "node:path";
import { launch } from "./lib.mjs";

const t = await launch("walkthrough");
const { page, step, shot, base: BASE } = t;
const expectVisible = (locator, what) => t.visible(locator, what);
const SHOTS = t.shotsDir;
const user = `e2e-${Date.now().toString(36)}`;

await t.run(async () => {
  step("an unauthenticated visit lands on sign-in");
  await page.goto(`${BASE}/#/tasks`);
  await expectVisible(page.getByRole("button", { name: "Sign in" }), "the sign-in button");
  await shot("01-sign-in");

  step("sign in with a name (dev login)");
  await page.getByLabel("Your name").fill(user);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expectVisible(page.getByRole("heading", { name: "Tasks" }), "the tasks page");
  await expectVisible(page.getByText("No tasks yet"), "the empty state");
  await shot("02-tasks-empty");

  step("open the new-task form");
  await page.getByRole("link", { name: "Create your first task" }).click();
  await expectVisible(page.getByRole("heading", { name: "New task" }), "the form");
  await page.getByRole("textbox", { name: /^Name/ }).fill("E2E webinar");
  await page.locator("label", { hasText: "Invite, else message" }).click();
  await page.getByLabel("Invite into").fill("bad destination!!");

  step("the template preview renders live and shows a malformed template's error");
  const message = page.getByLabel("Message", { exact: false }).and(page.locator("textarea"));
  await message.fill("Hi {first_name} {");
  await expectVisible(page.getByTestId("template-preview-error"), "the template error");
  await message.fill("Hi {first_name}! Your seat in {{our chat}} is waiting.");
  await expectVisible(page.getByTestId("template-preview-text").filter({ hasText: "Hi Anna! Your seat in {our chat} is waiting." }), "the rendered preview");

  step("accounts (the picker with quotas), caps, window");
  const picker = page.getByRole("checkbox", { name: /^Use account / });
  await expectVisible(picker, "the account picker");
  await picker.first().check();
  await page.getByLabel("Invites an hour").fill("500");
  await page.locator("label", { hasText: "Send only inside a time window" }).click();
  const tz = page.getByLabel("Time zone", { exact: true }).first();
  await tz.click();
  await tz.fill("Berlin");
  await page.getByRole("option", { name: "Europe/Berlin" }).click();
  await shot("03-task-form");

  step("the service's errors appear next to their fields");
  await page.getByRole("button", { name: "Create task" }).click();
  await expectVisible(page.getByText("destination must be @name, a t.me link, an invite link or a numeric chat id"), "the destination error");
  await page.getByLabel("Invite into").fill("@e2e_members_chat");
  await page.getByRole("button", { name: "Create task" }).click();
  await expectVisible(page.getByText(/may only lower the sandbox cap of 120/), "the caps error");
  await shot("04-task-form-errors");

  step("fix them and create the task");
  await page.getByLabel("Invites an hour").fill("60");
  await page.getByRole("button", { name: "Create task" }).click();
  await expectVisible(page.getByTestId("task-name").filter({ hasText: "E2E webinar" }), "the task page");
  await expectVisible(page.getByText("No audience yet"), "the empty audience");

  step("add targets by paste; the invalid row shows its error");
  await page.getByRole("button", { name: "Add targets" }).first().click();
  await page.getByLabel("One target a line").fill("@anna_petrova, Anna, Petrova\n@bo\n+4915112345678, Jonas\n123456789");
  await expectVisible(page.getByTestId("paste-summary").filter({ hasText: "4 rows" }), "the paste summary");
  await page.getByRole("button", { name: "Add 4 targets" }).click();
  await expectVisible(page.getByTestId("bulk-results"), "the per-row results");
  await expectVisible(page.getByText("3 added"), "the created count");
  await expectVisible(page.getByText("1 invalid"), "the invalid count");
  const rowError = page.getByTestId("row-error");
  await expectVisible(rowError, "the invalid row's error");
  const errorText = await rowError.innerText();
  if (!/username/i.test(errorText)) throw new Error(`the row error does not name the username: ${errorText}`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, "05-add-targets-results-1280.png"), fullPage: true });
  await page.getByRole("button", { name: "Done" }).click();

  step("the targets are in the table");
  for (const key of ["anna_petrova", "+4915112345678", "123456789"]) {
    await expectVisible(page.locator(`[data-target-key="${key}"]`), `target ${key}`);
  }
  await expectVisible(page.getByTestId("pager-summary").filter({ hasText: "1–3 of 3 targets" }), "the pager");
  await expectVisible(page.locator('[data-counter="total"]').filter({ hasText: "3" }), "the total counter");
  await shot("06-task-page");

  step("filter the targets by search");
  await page.getByLabel("Search targets").fill("anna");
  await expectVisible(page.getByTestId("pager-summary").filter({ hasText: "1–1 of 1 targets" }), "the filtered pager");
  await page.getByLabel("Search targets").fill("");

  step("edit the task");
  await page.getByRole("link", { name: "Edit" }).click();
  await expectVisible(page.getByRole("heading", { name: "Edit task" }), "the edit form");
  const name = page.getByRole("textbox", { name: /^Name/ });
  if ((await name.inputValue()) !== "E2E webinar") throw new Error("the edit form did not load the task's name");
  await name.fill("E2E webinar (edited)");
  await page.locator("label", { hasText: /^High$/ }).click();
  await shot("07-task-edit");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expectVisible(page.getByTestId("task-name").filter({ hasText: "E2E webinar (edited)" }), "the renamed task");

  step("the list shows the task with its status and progress");
  await page.getByRole("link", { name: "Tasks" }).first().click();
  await expectVisible(page.getByRole("link", { name: "E2E webinar (edited)" }), "the task in the list");
  await expectVisible(page.locator('[data-status="draft"]'), "the draft badge");
  await shot("08-tasks-list");

  step("other pages render (activity, accounts, opt-out list)");
  await page.getByRole("link", { name: "E2E webinar (edited)" }).click();
  await page.getByRole("tab", { name: "Activity" }).click();
  await expectVisible(page.getByText("Targets by state"), "the activity tab");
  await shot("09-task-activity");
  await page.getByRole("tab", { name: "Accounts" }).click();
  await shot("10-task-accounts");
  await page.goto(`${BASE}/#/suppressions`);
  await expectVisible(page.getByRole("heading", { name: "Opt-out list" }), "the opt-out page");

  step("add someone to the opt-out list, see them, remove them");
  await page.getByLabel("Add someone").fill("@please_no_more");
  await page.getByRole("button", { name: "Add to list" }).click();
  await expectVisible(page.getByTestId("suppressions-table").getByText("please_no_more"), "the new entry");
  await shot("11-opt-out-list");
  await page.getByRole("button", { name: "Remove please_no_more" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
  await expectVisible(page.getByText("The list is empty"), "the emptied list");

  step("delete the task from its page, after confirming");
  await page.goto(`${BASE}/#/tasks`);
  await page.getByRole("link", { name: "E2E webinar (edited)" }).click();
  await page.getByRole("button", { name: "More actions" }).click();
  await page.getByRole("menuitem", { name: "Delete task" }).click();
  await expectVisible(page.getByText(/Delete “E2E webinar \(edited\)”\?/), "the confirmation");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expectVisible(page.getByText("No tasks yet"), "the empty list after delete");

  step("a refused token sends the user back to sign-in");
  await page.evaluate(() => {
    const raw = sessionStorage.getItem("invite-service.session");
    const s = JSON.parse(raw);
    s.token = "not-a-valid-token";
    sessionStorage.setItem("invite-service.session", JSON.stringify(s));
  });
  await page.reload();
  await expectVisible(page.getByText("Your session has ended or the token was refused. Sign in again."), "the session-ended message");
  await expectVisible(page.getByRole("button", { name: "Sign in" }), "the sign-in form");
});
