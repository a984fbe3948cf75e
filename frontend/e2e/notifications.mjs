// Notifications in the UI: a task that completes while the user is on the tasks list raises the toast
// naming it (the feed, GET /notifications/events), and the Settings page lists a webhook made through the
// API. The data is made by the caller (tests/ui/test_notifications_browser.py): --user, --task (a draft
// with targets), --name (its name), --webhook (a webhook URL of this user's).
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({
  options: { user: { type: "string" }, task: { type: "string" }, name: { type: "string" }, webhook: { type: "string" } },
  strict: false,
});
const t = await launch("notifications");
const { page, step, base } = t;

async function api(path, init = {}) {
  const login = await fetch(`${base}/api/v1/auth/dev-login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: opt.user }),
  });
  const { access_token } = await login.json();
  const res = await fetch(`${base}${path}`, { ...init, headers: { Authorization: `Bearer ${access_token}`, ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

await t.run(async () => {
  step("sign in: the tasks list polls the notification feed");
  const firstPoll = page.waitForResponse((r) => r.url().includes("/api/v1/notifications/events") && r.status() === 200, { timeout: 30_000 });
  await t.signIn(opt.user);
  await firstPoll; // the feed now starts from here: only what happens next is toasted

  step("start the task through the API while the tasks list is open");
  await api(`/api/v1/tasks/${opt.task}/start`, { method: "POST" });

  step("the toast names the completed task");
  const toast = page.getByRole("alert").filter({ hasText: `Task «${opt.name}» completed` });
  await t.visible(toast, "the task.completed toast", 120_000);
  if (!/#\/tasks$/.test(page.url())) throw new Error(`the page left the tasks list: ${page.url()}`);
  const link = toast.getByRole("link", { name: "Open the task" });
  if ((await link.getAttribute("href")) !== `#/tasks/${opt.task}`) throw new Error("the toast does not link to the task");
  // The event also refreshes the list (an idle list polls only every 30 s).
  const row = page.getByRole("row").filter({ hasText: opt.name });
  await t.visible(row.locator('[data-status="completed"]'), "the task as completed in the list", 10_000);
  await t.shot("13-notification-toast", { phone: false });

  step("Settings lists the webhook made through the API");
  await page.getByRole("link", { name: "Settings" }).click();
  await t.visible(page.getByRole("heading", { name: "Settings" }), "the Settings page");
  await t.visible(page.getByTestId("webhook-row").filter({ hasText: opt.webhook }), "the webhook row");
  await t.visible(page.getByTestId("delivery-row").filter({ hasText: "task.completed" }), "the task.completed delivery");

  step("redeliver from the log");
  await page.getByTestId("delivery-row").filter({ hasText: "task.completed" }).first().getByRole("button", { name: "Redeliver" }).click();
  await t.visible(page.getByText("Queued for delivery again"), "the redelivery confirmation");
  await t.shot("14-settings", { phone: true });
});
