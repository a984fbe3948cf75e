// Operator clarity (issue 15) in the UI: a task waiting on its hourly cap says so in words with the resume
// time (header, the account's card); the breakdown of failures by reason narrows the audience to a reason;
// the live log names the target; the Russian page. The data is made by the caller
// (tests/ui/test_clarity_browser.py): --user, --capped (a task at its cap), --refused (a finished task with
// privacy refusals), --privacy (comma-separated usernames the sandbox refuses for privacy).
// With env SHOTS_DIR set, the screenshots are also copied there.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({
  options: { user: { type: "string" }, capped: { type: "string" }, refused: { type: "string" }, privacy: { type: "string" } },
  strict: false,
});
const t = await launch("clarity");
const { page, step, base } = t;
const privacy = (opt.privacy ?? "").split(",").filter(Boolean);
const extra = process.env.SHOTS_DIR;

async function shot(name) {
  await t.shot(name);
  if (!extra) return;
  mkdirSync(extra, { recursive: true });
  for (const w of ["1280", "390"]) copyFileSync(join(t.shotsDir, `${name}-${w}.png`), join(extra, `${name}-${w}.png`));
}

/** No badge is cut: its label fits inside it (scrollWidth ≤ clientWidth) at the current width. */
async function noTruncatedBadges(where) {
  const cut = await page.evaluate(() =>
    [...document.querySelectorAll(".mantine-Badge-label")]
      .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
      .map((el) => el.textContent),
  );
  if (cut.length) throw new Error(`${where}: truncated badges: ${cut.join(", ")}`);
}

await t.run(async () => {
  step("sign in");
  await t.signIn(opt.user);

  step("the waiting task says why and until when, in its header");
  await page.goto(`${base}/#/tasks/${opt.capped}`);
  const waiting = page.getByTestId("task-waiting");
  await t.visible(waiting.filter({ hasText: /Waiting for the hourly limit — resumes (at )?(\S+ )?\d\d:\d\d/ }), "the waiting reason with its resume time", 30_000);
  await noTruncatedBadges("the waiting task at 1280 px");
  await shot("clarity-waiting-header");

  step("its account's card: at the limit until a time");
  await page.getByRole("tab", { name: "Accounts" }).click();
  await t.visible(page.getByTestId("lane-waiting").filter({ hasText: /At the hourly limit until (\S+ )?\d\d:\d\d/ }), "the lane's hold");

  // The tasks list row says the same (TasksPage renders it as data-testid="task-waiting").
  await page.goto(`${base}/#/tasks`);
  await t.visible(page.getByTestId("task-waiting").filter({ hasText: /Waiting for the hourly limit — resumes/ }), "the list row's reason");

  step("the breakdown by reason, in words");
  await page.goto(`${base}/#/tasks/${opt.refused}?tab=activity`);
  const breakdown = page.getByTestId("reason-breakdown");
  await t.visible(breakdown, "the reason breakdown", 30_000);
  const privacyRow = breakdown.locator('[data-code="USER_PRIVACY_RESTRICTED"]');
  await t.visible(privacyRow, "the privacy refusals' row");
  const sentence = (await privacyRow.innerText()).split("\n")[0];
  if (!sentence || sentence === "USER_PRIVACY_RESTRICTED") throw new Error(`the reason is shown as its code, not a sentence: ${sentence}`);
  await shot("clarity-reason-breakdown");

  step("the log names the target and the account");
  const log = page.getByTestId("log-table");
  await t.visible(log, "the live log");
  const logText = (await log.innerText()).toLowerCase();
  if (!privacy.some((name) => logText.includes(name.toLowerCase()))) throw new Error(`the log names none of ${privacy.join(", ")}`);
  await t.visible(log.getByTestId("log-reason").filter({ hasText: sentence }), "the reason sentence in the log");

  step("a click on the reason narrows the audience to it");
  await privacyRow.click();
  await t.visible(page.getByTestId("reason-filter").filter({ hasText: sentence }), "the reason filter");
  const table = page.getByTestId("targets-table");
  await t.visible(table, "the audience");
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="targets-table"] tbody tr').length === n,
    privacy.length,
    { timeout: 15_000 },
  );
  const keys = await table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-target-key")?.replace(/^@/, "").toLowerCase()));
  for (const name of privacy) if (!keys.includes(name.toLowerCase())) throw new Error(`${name} is not among the filtered targets: ${keys}`);
  await t.visible(table.getByTestId("target-reason").filter({ hasText: sentence }).first(), "the reason as text in the row");
  await noTruncatedBadges("the filtered audience at 1280 px");
  await shot("clarity-reason-filtered");

  step("the Russian task page");
  await page.goto(`${base}/#/tasks/${opt.capped}`);
  await page.getByText("RU", { exact: true }).click(); // the header's language switch
  await t.visible(page.getByRole("tab", { name: "Аудитория" }), "the Russian tabs");
  await t.visible(page.getByTestId("task-waiting").filter({ hasText: /Ждём часового лимита — продолжим/ }), "the Russian waiting reason", 30_000);
  await noTruncatedBadges("the Russian page at 1280 px");
  await shot("clarity-task-ru");
  await page.setViewportSize({ width: 390, height: 844 });
  await noTruncatedBadges("the Russian page at 390 px");
  await page.goto(`${base}/#/tasks/${opt.refused}?tab=activity`);
  await t.visible(page.getByTestId("log-cards"), "the log as cards at 390 px");
  await noTruncatedBadges("the Russian activity at 390 px");
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot("clarity-activity-ru");
});
