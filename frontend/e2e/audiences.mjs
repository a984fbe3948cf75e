// Audiences (issue 16) in the UI, end to end against the real server: an audience created and filled from a
// file (the task import wizard pointed at the audience), a task that includes it with the live count in the
// form, the start dialog's audience preview, the task running, and a contact's page with its history.
//   node frontend/e2e/audiences.mjs --base URL --user NAME [--chromium PATH] [--shots DIR]
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({ options: { user: { type: "string" } }, strict: false });
const t = await launch("audiences");
const { page, step, base } = t;
const ROWS = 12;
const AUDIENCE = "E2E webinar leads";

function csv() {
  // A tags column (comma-separated, quoted) and a Russian consent column, both mapped by themselves.
  const lines = ["username,first_name,city,tags,Дата согласия"];
  for (let i = 0; i < ROWS; i++)
    lines.push(`e2e_aud_${String(i).padStart(3, "0")},Name${i},${i % 2 ? "Kazan" : "Moscow"},"webinar,${i % 3 ? "lead" : "vip"}",${i % 4 ? "2026-11-01" : ""}`);
  return Buffer.from(lines.join("\n") + "\n", "utf8");
}

/** Picks `option` in the Mantine Select/MultiSelect whose input is `input`. */
async function choose(input, option) {
  await input.click();
  await page.getByRole("option", { name: option }).first().click();
}

await t.run(async () => {
  step("sign in");
  await t.signIn(opt.user ?? `e2e-aud-${Date.now().toString(36)}`);

  step("create an audience");
  await page.getByRole("link", { name: "Audiences" }).first().click();
  await t.visible(page.getByRole("heading", { name: "Audiences" }), "the audiences page");
  await page.getByTestId("new-audience").click();
  const create = page.getByRole("dialog");
  await create.getByRole("textbox", { name: /^Name/ }).fill(AUDIENCE);
  await choose(create.getByTestId("audience-platform"), "Sandbox");
  await create.getByRole("button", { name: "Create" }).click();
  await t.visible(page.getByTestId("audience-name").filter({ hasText: AUDIENCE }), "the audience page");

  step("import a file into it: the task's import wizard, pointed at the audience");
  await page.getByTestId("audience-import").click();
  const wizard = page.getByRole("dialog");
  await t.visible(wizard.getByText("Import contacts into the audience"), "the audience import wizard");
  await wizard.locator('input[type="file"]').setInputFiles({ name: "leads.csv", mimeType: "text/csv", buffer: csv() });
  await t.visible(wizard.getByTestId("import-preview"), "the preview");
  await t.visible(wizard.locator('[data-count="valid"]').filter({ hasText: String(ROWS) }), "the valid count");
  await wizard.getByRole("button", { name: `Import ${ROWS} rows` }).click();
  await t.visible(wizard.getByText("Import finished"), "the finished import", 60_000);
  await wizard.getByRole("button", { name: "Done" }).click();
  await t.visible(page.getByTestId("audience-count").filter({ hasText: `${ROWS} contacts` }), "the audience's count", 15_000);
  const table = page.getByTestId("contacts-table");
  await t.visible(table.getByText("@e2e_aud_000"), "an imported contact");
  await t.visible(table.getByRole("columnheader", { name: "city" }), "the custom field's column");
  const first = table.getByTestId("contact-row").filter({ hasText: "@e2e_aud_001" });
  await t.visible(first.getByTestId("tag-chip").filter({ hasText: "lead" }), "the imported tags as chips");
  await t.visible(first.getByText(/^import · /), "the imported consent");
  await t.shot("audience-contacts");

  step("filter the contacts by a tag chip, then by a custom field");
  await table.getByTestId("tag-chip").filter({ hasText: "vip" }).first().click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="contact-row"]').length === 4, null, { timeout: 15_000 });
  await page.getByLabel("Tag").fill("");
  await page.getByLabel("Field").fill("city");
  await page.getByLabel("Equals").fill("Kazan");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="contact-row"]').length === 6, null, { timeout: 15_000 });
  await page.getByLabel("Field").fill("");
  await page.getByLabel("Equals").fill("");

  step("a task from the audience, with the live count");
  await page.getByRole("link", { name: "New task" }).first().click();
  await page.getByRole("textbox", { name: /^Name/ }).fill("E2E from an audience");
  await page.getByLabel("Invite into").fill("@e2e_audience_chat");
  const accounts = page.getByRole("checkbox", { name: /^Use account / });
  await t.visible(accounts, "the account picker");
  await accounts.nth(0).check();
  // One invite an hour: the task stays running (waiting on its cap) for the rest of the test.
  await page.getByLabel("Invites an hour").fill("1");
  await choose(page.getByTestId("audience-include"), AUDIENCE);
  const count = page.getByTestId("audience-count");
  await t.visible(count.filter({ hasText: `${ROWS} contacts → ${ROWS} targets` }), "the live count", 15_000);
  await t.visible(page.getByTestId("policy-in-force").filter({ hasText: "never re-invite a person to the same chat" }), "the policy in force");
  await t.shot("task-audience-picker");
  await page.getByRole("button", { name: "Create task" }).click();
  await t.visible(page.getByTestId("task-name").filter({ hasText: "E2E from an audience" }), "the task page");

  step("start: the dialog says who the audience adds, then the task runs");
  await page.getByRole("button", { name: "Start" }).click();
  const dialog = page.getByRole("dialog");
  await t.visible(dialog.getByTestId("start-audience-preview").filter({ hasText: `${ROWS} contacts → ${ROWS} targets` }), "the start dialog's audience preview");
  await t.shot("task-start-audience", { phone: false });
  await dialog.getByRole("button", { name: "Start" }).click();
  await t.visible(page.locator('[data-status="running"]'), "the running badge", 30_000);
  await t.visible(page.getByTestId("pager-summary").filter({ hasText: `of ${ROWS} targets` }), "the materialised targets", 30_000);
  await t.shot("task-running-from-audience");

  step("a contact's page: identities, fields, consent, history");
  await page.getByRole("link", { name: "Audiences" }).first().click();
  await page.getByRole("link", { name: AUDIENCE }).click();
  await page.getByTestId("contacts-table").getByRole("link", { name: "@e2e_aud_000" }).click();
  await t.visible(page.getByTestId("contact-title").filter({ hasText: "@e2e_aud_000" }), "the contact page");
  await t.visible(page.getByText("Moscow"), "the contact's field");
  await t.visible(page.getByTestId("suppression-state"), "the suppression state");
  await t.visible(page.getByText("History across tasks"), "the history");
  await t.shot("contact-page");
});
