// Shared set-up of the browser walkthroughs: Debian's Chromium through playwright-core (no bundled browser),
// a fresh profile, screenshots at 1280 px and 390 px, one log line a step, a failure screenshot.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launch(name) {
  const { values: opt } = parseArgs({
    options: {
      base: { type: "string" },
      chromium: { type: "string", default: process.env.CHROMIUM || "/usr/bin/chromium" },
      shots: { type: "string", default: resolve(import.meta.dirname ?? ".", "../../test-artifacts/screenshots") },
    },
    strict: false, // a script may take options of its own
  });
  if (!opt.base) {
    console.error(`${name}: --base URL is required`);
    process.exit(2);
  }
  const base = opt.base.replace(/\/$/, "");
  const shots = resolve(opt.shots);
  mkdirSync(shots, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "invite-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: opt.chromium,
    headless: true,
    viewport: DESKTOP,
    acceptDownloads: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // 4xx answers the UI shows to the user are expected; anything else logged as an error is not.
    if (m.type() === "error" && !/status of (401|404|409|415|422)/.test(m.text())) errors.push(`console: ${m.text()}`);
  });

  let current = "start";
  const t = {
    base,
    page,
    context,
    shotsDir: shots,
    step(label) {
      current = label;
      console.log(`step: ${label}`);
    },
    async visible(locator, what, timeout) {
      try {
        await locator.first().waitFor({ state: "visible", ...(timeout ? { timeout } : {}) });
      } catch (err) {
        throw new Error(`${what} is not visible: ${err.message.split("\n")[0]}`);
      }
    },
    /** Full-page screenshots at 1280 px and 390 px. */
    async shot(file, { phone = true } = {}) {
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, `${file}-1280.png`), fullPage: true });
      if (!phone) return;
      await page.setViewportSize(PHONE);
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(shots, `${file}-390.png`), fullPage: true });
      await page.setViewportSize(DESKTOP);
      await page.waitForTimeout(200);
    },
    async signIn(user) {
      await page.goto(`${base}/#/sign-in`);
      await page.getByLabel("Your name").fill(user);
      await page.getByRole("button", { name: "Sign in" }).click();
      await t.visible(page.getByRole("heading", { name: "Tasks" }), "the tasks page");
    },
    async run(body) {
      try {
        await body();
        if (errors.length) throw new Error(`the page logged errors:\n${errors.join("\n")}`);
        console.log(`${name}: passed; screenshots in ${shots}`);
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      } catch (err) {
        console.error(`${name}: FAILED at "${current}": ${err.stack ?? err}`);
        try {
          await page.screenshot({ path: join(shots, `failure-${name}-${current.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
        } catch {
          /* the browser may be gone */
        }
        await context.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
        process.exit(1);
      }
    },
  };
  return t;
}
