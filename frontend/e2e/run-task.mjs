#!/usr/bin/env node
// End to end, part two: a task from file to finish in the real UI (headless Chromium, real server).
//   node frontend/e2e/run-task.mjs --base URL [--chromium PATH] [--shots DIR]
// A binary file is refused with its reason; a cp1251 CSV with `;` and Russian headers is previewed (encoding,
// delimiter, counts, the bad row's error) and imported with progress; the task starts, pauses (the counts
// hold still), resumes and completes, with its lanes and outcome chart; the report downloads.
import { launch } from "./lib.mjs";

const t = await launch("run-task");
const { page, step, shot } = t;
const ROWS = 80;

/** targets in a final state, read from the counters on the task page */
async function done() {
  let sum = 0;
  for (const k of ["invited", "messaged", "already_member", "failed", "skipped"]) {
    const text = await page.locator(`[data-counter="${k}"]`).innerText();
    sum += Number(text.replace(/\D/g, "")) || 0;
  }
  return sum;
}

function csvCp1251() {
  const lines = ["Ник;Имя;Город"];
  for (let i = 0; i < ROWS; i++) lines.push(`member_${String(i).padStart(4, "0")};Имя${i};Москва`);
  lines.splice(6, 0, "x;Плохой;Тверь"); // too short a username: its row is reported, the rest imports
  const text = lines.join("\r\n") + "\r\n";
  // cp1251 by hand (Cyrillic А..я = 0xC0..0xFF, Ё/ё), as Excel writes on a Russian system.
  const bytes = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) bytes.push(c);
    else if (c >= 0x410 && c <= 0x44f) bytes.push(c - 0x410 + 0xc0);
    else if (c === 0x401) bytes.push(0xa8);
    else if (c === 0x451) bytes.push(0xb8);
    else bytes.push(0x3f);
  }
  return Buffer.from(bytes);
}

await t.run(async () => {
  step("sign in");
  await t.signIn(`e2e-run-${Date.now().toString(36)}`);

  step("create a task with two accounts");
  await page.getByRole("link", { name: "New task" }).first().click();
  await page.getByRole("textbox", { name: /^Name/ }).fill("E2E run");
  await page.getByLabel("Invite into").fill("@e2e_run_chat");
  const picker = page.getByRole("checkbox", { name: /^Use account / });
  await t.visible(picker, "the account picker");
  await picker.nth(0).check();
  await picker.nth(1).check();
  await page.getByRole("button", { name: "Create task" }).click();
  await t.visible(page.getByTestId("task-name").filter({ hasText: "E2E run" }), "the task page");

  step("a bad file shows why it cannot be used");
  await page.getByRole("button", { name: "Import file" }).click();
  const dialog = page.getByRole("dialog");
  const fileInput = dialog.locator('input[type="file"]');
  await fileInput.setInputFiles({ name: "noise.csv", mimeType: "text/csv", buffer: Buffer.from([0, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0, 7]) });
  await t.visible(dialog.getByText("The file could not be used"), "the refusal");
  await shot("12-import-bad-file", { phone: false });

  step("validate a cp1251 CSV: encoding, delimiter, counts and the bad row");
  await fileInput.setInputFiles({ name: "audience.csv", mimeType: "text/csv", buffer: csvCp1251() });
  await t.visible(dialog.getByTestId("import-preview"), "the preview");
  await t.visible(dialog.getByTestId("import-encoding").filter({ hasText: "cp1251" }), "the encoding");
  await t.visible(dialog.getByTestId("import-delimiter").filter({ hasText: "semicolon" }), "the delimiter");
  await t.visible(dialog.locator('[data-count="valid"]').filter({ hasText: String(ROWS) }), "the valid count");
  await t.visible(dialog.locator('[data-count="invalid"]').filter({ hasText: "1" }), "the invalid count");
  await t.visible(dialog.getByTestId("import-errors").getByText(/username must be/), "the bad row's error");
  await shot("13-import-preview");

  step("import with progress, then the rejected rows");
  await dialog.getByRole("button", { name: `Import ${ROWS} rows` }).click();
  await t.visible(dialog.getByText("Import finished"), "the finished import", 60_000);
  await t.visible(dialog.getByText(`${ROWS} added`), "the added count");
  const rejectedButton = dialog.getByRole("button", { name: /rejected rows? \(CSV\)/ });
  await t.visible(rejectedButton, "the rejected rows download");
  await t.visible(dialog.getByTestId("import-rejected-note").filter({ hasText: "skipped duplicates" }), "the rejected rows note");
  const [download] = await Promise.all([page.waitForEvent("download"), rejectedButton.click()]);
  const rejected = await (await download.createReadStream()).toArray();
  const rejectedText = Buffer.concat(rejected).toString("utf8");
  if (!/Плохой|x/.test(rejectedText)) throw new Error(`rejected.csv does not hold the bad row: ${rejectedText.slice(0, 200)}`);
  await dialog.getByRole("button", { name: "Done" }).click();
  await t.visible(page.getByTestId("pager-summary").filter({ hasText: `of ${ROWS} targets` }), "the imported targets");

  step("start, after confirming");
  await page.getByRole("button", { name: "Start" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Start" }).click();
  await t.visible(page.locator('[data-status="running"]'), "the running badge");

  step("pause in the middle: the counts hold still");
  await page.waitForFunction(() => {
    const n = (k) => Number(document.querySelector(`[data-counter="${k}"]`)?.textContent?.replace(/\D/g, "") || 0);
    return n("invited") + n("already_member") + n("failed") > 0;
  }, null, { timeout: 60_000 });
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Pause" }).click();
  await t.visible(page.locator('[data-status="paused"]'), "the paused badge");
  const atPause = await done();
  if (atPause >= ROWS) throw new Error("the task finished before it could be paused");
  await page.waitForTimeout(7000); // two polls
  const later = await done();
  if (later - atPause > 2) throw new Error(`sends went on after pause: ${atPause} → ${later}`);
  console.log(`  paused at ${atPause}/${ROWS}, ${later} after 7 s`);
  await shot("14-task-paused");

  step("resume and run to completion");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Resume" }).click();
  await t.visible(page.locator('[data-status="completed"]'), "the completed badge", 120_000);
  await t.visible(page.getByText("Task «E2E run» completed"), "the completion notification");
  if ((await done()) !== ROWS) throw new Error(`completed with ${await done()} of ${ROWS} targets final`);
  await shot("15-task-completed");

  step("lanes and the outcome chart");
  await page.getByRole("tab", { name: "Accounts" }).click();
  await t.visible(page.getByTestId("lanes"), "the lanes");
  await shot("16-task-lanes", { phone: false });
  await page.getByRole("tab", { name: "Activity" }).click();
  await t.visible(page.getByTestId("outcome-chart"), "the outcome chart");
  await shot("17-task-chart", { phone: false });

  step("the report download");
  await page.getByRole("button", { name: "More actions" }).click();
  const [report] = await Promise.all([page.waitForEvent("download"), page.getByRole("menuitem", { name: "Download CSV" }).click()]);
  console.log(`  report: ${report.suggestedFilename()}`);
});
