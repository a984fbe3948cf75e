// Replies in the UI: the task page shows how many people replied, the audience marks them, and the
// suppressions page names the reason of a person who replied "СТОП". The data is made by the caller
// (tests/ui/test_replies_browser.py): --user, --task.
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({ options: { user: { type: "string" }, task: { type: "string" } }, strict: false });
const t = await launch("replies");
const { page, step, base } = t;

await t.run(async () => {
  step("sign in");
  await t.signIn(opt.user);

  step("task page: the replies count beside the chart");
  await page.goto(`${base}/#/tasks/${opt.task}?tab=activity`);
  await t.visible(page.getByTestId("replies-count").filter({ hasText: /Replies: 1\b/ }), "the replies count");
  await t.shot("11-replies-task", { phone: false });

  step("audience: the replied badge");
  await page.goto(`${base}/#/tasks/${opt.task}?tab=audience`);
  await t.visible(page.getByTestId("replied-badge"), "the replied badge");
  if ((await page.getByTestId("replied-badge").count()) < 1) throw new Error("no replied badge");

  step("suppressions: the reason label");
  await page.goto(`${base}/#/suppressions`);
  // The list shows every platform's entries by default (the reply's entry is the sandbox's).
  await t.visible(page.getByRole("cell", { name: "Replied to opt out" }), "the reply_opt_out label");
  await t.shot("12-replies-suppressions", { phone: false });
});
