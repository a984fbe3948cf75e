// The Accounts page: reached from the nav, it lists the user's sandbox accounts, each marked "simulated",
// with its usage per window counting the invites of the task that ran on them (--task, --accounts: the
// sandbox account ids, comma-separated), the task among the ones using it only while it is not over.
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({
  options: { user: { type: "string" }, task: { type: "string" }, accounts: { type: "string" } },
  strict: false,
});
const ids = (opt.accounts ?? "").split(",").filter(Boolean);
const t = await launch("accounts");
const { page, step } = t;

await t.run(async () => {
  if (!ids.length) throw new Error("--accounts is required");
  step("sign in, open Accounts from the nav");
  await t.signIn(opt.user);
  await page.getByRole("link", { name: "Accounts" }).click();
  await t.visible(page.getByRole("heading", { name: "Accounts", level: 1 }), "the Accounts page");
  await t.visible(page.getByTestId("caps-help"), "where the caps come from");

  step("every sandbox account: simulated, with usage");
  const sandbox = page.locator('section[data-platform="sandbox"]');
  let used = 0;
  for (const id of ids) {
    const card = sandbox.locator(`[data-testid="account-card"][data-account-id="${id}"]`);
    await t.visible(card, `the card of ${id}`);
    const badge = (await card.getByTestId("simulated-badge").innerText()).trim().toLowerCase();
    if (badge !== "simulated") throw new Error(`${id} is not marked simulated: ${badge}`);
    const rows = card.getByTestId("usage-row");
    if ((await rows.count()) < 2) throw new Error(`${id} shows no usage per window`);
    const text = await card.getByTestId("account-usage").innerText();
    if (!/Invites per hour/.test(text) || !/Invites per day/.test(text)) throw new Error(`${id}: usage names no windows: ${text}`);
    // "N of M" per window: the invites the task sent on this account count in them.
    for (const m of text.matchAll(/(\d+) of (\d+)/g)) used += Number(m[1]);
    if (!(await card.getByTestId("account-state").innerText()).trim()) throw new Error(`${id} shows no state`);
  }
  if (used === 0) throw new Error("no account shows the task's invites in its usage");

  step("the state and the tasks using each read well on a phone too");
  await t.shot("accounts", { phone: true });
});
