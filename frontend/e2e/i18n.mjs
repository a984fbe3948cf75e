// The UI in Russian shows no English: sign in, switch the language with the header's switch, walk the main
// pages and, on each, look for the English strings of the catalogue in the rendered visible text (and in
// the visible inputs' values and placeholders, where a Select shows its choice). The catalogue is read
// here from src/i18n/locales/{en,ru}/*.json: every English value whose Russian differs, split at its
// {{placeholders}}, each piece longer than 3 characters, matched case-sensitively as whole words.
// Options: --user (a dev-login name with data), --task (a task of theirs with targets and stats),
// --pages (comma-separated subset of the page names below; empty = all).
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values: opt } = parseArgs({
  options: { user: { type: "string" }, task: { type: "string" }, pages: { type: "string", default: "" } },
  strict: false,
});

const LOCALES = resolve(import.meta.dirname, "../src/i18n/locales");
const PLURAL = /_(zero|one|two|few|many|other)$/;
const PUNCT = /^[\s:;,.…—–\-()«»"“”'’/+#№]+|[\s:;,.…—–\-()«»"“”'’/+#№]+$/g;

/** The English pieces to look for: [{ns, key, piece, re}]. */
export function englishPieces() {
  const pieces = [];
  for (const file of readdirSync(join(LOCALES, "en")).filter((f) => f.endsWith(".json"))) {
    const ns = file.slice(0, -5);
    const en = JSON.parse(readFileSync(join(LOCALES, "en", file), "utf8"));
    let ru = {};
    try {
      ru = JSON.parse(readFileSync(join(LOCALES, "ru", file), "utf8"));
    } catch {
      /* a namespace without Russian: all of it counts */
    }
    for (const [key, text] of Object.entries(en)) {
      const base = key.replace(PLURAL, "");
      const ruText = ru[key] ?? ru[`${base}_other`] ?? ru[base];
      if (ruText === text) continue; // the same in both (names, codes): not English to look for
      for (const raw of text.split(/\{\{[^}]*\}\}/)) {
        const piece = raw.replace(PUNCT, "").trim();
        if (piece.length <= 3) continue;
        // Skip a piece that is itself part of the Russian text (a product or protocol name kept as is).
        if (ruText && ruText.includes(piece)) continue;
        const escaped = piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        pieces.push({ ns, key, piece, re: new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "u") });
      }
    }
  }
  return pieces;
}

/**
 * Latin phrases the Russian catalogue itself uses (names kept as they are: "Standard Webhooks", "Integration
 * Service", "Apprise", "JWT"): taken out of the page's text before the search, longest first.
 */
export function latinInRussian() {
  const runs = new Set();
  for (const file of readdirSync(join(LOCALES, "ru")).filter((f) => f.endsWith(".json"))) {
    const ru = JSON.parse(readFileSync(join(LOCALES, "ru", file), "utf8"));
    for (const text of Object.values(ru)) {
      for (const m of text.replace(/\{\{[^}]*\}\}/g, " ").matchAll(/[A-Za-z][A-Za-z0-9 .:/_@'-]*[A-Za-z0-9]/g)) runs.add(m[0]);
    }
  }
  return [...runs].sort((a, b) => b.length - a.length);
}

const PIECES = englishPieces();
const KEPT = latinInRussian();
const t = await launch("i18n");
const { page, step, base } = t;

const PAGES = [
  { name: "tasks", hash: "#/tasks", ready: () => page.locator("[data-task-id]").first() },
  // Every tab of the task page: the audience (targets), the accounts (lanes), the activity (stats, log).
  { name: "task", hash: `#/tasks/${opt.task}`, ready: () => page.getByRole("heading", { name: "i18n-walk" }).first(), tabs: true },
  { name: "task-form", hash: "#/tasks/new", ready: () => page.locator("form input").first() },
  { name: "accounts", hash: "#/accounts", ready: () => page.getByTestId("account-card").first() },
  { name: "suppressions", hash: "#/suppressions", ready: () => page.getByText("i18n_optout").first() },
  { name: "audiences", hash: "#/audiences", ready: () => page.getByRole("heading", { name: "Аудитории" }).first() },
  { name: "settings", hash: "#/settings", ready: () => page.getByRole("heading", { level: 1 }).first() },
];
const wanted = (opt.pages ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const walk = wanted.length ? PAGES.filter((p) => wanted.includes(p.name)) : PAGES;
if (wanted.length && walk.length !== wanted.filter((w) => w !== "sign-in").length) throw new Error(`unknown page in --pages ${opt.pages}`);

/** Waits until nothing on the page is still loading: no loader, skeleton or busy region. */
async function settled() {
  await page.waitForFunction(
    () =>
      !document.querySelector(".mantine-Skeleton-root, [aria-busy='true'], .mantine-Loader-root") &&
      document.documentElement.lang === "ru",
    null,
    { timeout: 20_000 },
  );
}

/** What the user sees: the visible text, and what the visible inputs show. */
async function visibleText() {
  return page.evaluate(() => {
    const shown = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
    const inputs = [...document.querySelectorAll("input, textarea")]
      // A radio's or checkbox's value is a wire value the user never reads (its label is in the text).
      .filter((el) => shown(el) && !["hidden", "password", "radio", "checkbox"].includes(el.type))
      .map((el) => [el.value, el.placeholder].filter(Boolean).join(" "));
    return [document.body.innerText, ...inputs].join("\n");
  });
}

function englishIn(raw) {
  let text = raw;
  for (const kept of KEPT) text = text.split(kept).join(" ");
  const found = new Map();
  for (const p of PIECES) if (p.re.test(text) && !found.has(p.piece)) found.set(p.piece, `${p.ns}:${p.key}`);
  return [...found].map(([piece, where]) => `"${piece}" (${where})`);
}

await t.run(async () => {
  if (PIECES.length < 100) throw new Error(`only ${PIECES.length} English strings read from ${LOCALES}`);
  console.log(`catalogue: ${PIECES.length} English strings to look for`);

  step("sign in (English), then switch to Russian with the header's switch");
  await t.signIn(opt.user);
  await page.locator("header").getByText("RU", { exact: true }).click();
  await t.visible(page.getByRole("heading", { name: "Задачи" }), "the tasks page in Russian");

  const report = [];
  for (const p of walk) {
    step(`${p.name}: in Russian`);
    await page.evaluate((h) => (window.location.hash = h), p.hash);
    await t.visible(p.ready(), `the ${p.name} page`, 20_000);
    await settled();
    let text = await visibleText();
    if (p.tabs) {
      const tabs = page.getByRole("tab");
      const n = await tabs.count();
      for (let i = 0; i < n; i++) {
        await tabs.nth(i).click();
        await settled();
        text += `\n${await visibleText()}`;
      }
      if (!text.includes("i18n_walk_0")) throw new Error("the task page's tabs never showed its targets");
    }
    const english = englishIn(text);
    report.push({ page: p.name, english });
    console.log(`page ${p.name}: ${english.length ? `ENGLISH ${english.join(", ")}` : "no English"}`);
    await t.shot(`i18n-${p.name}-ru`, { phone: p.name === "task" || p.name === "accounts" });
  }

  if (!wanted.length || wanted.includes("sign-in")) {
    step("sign-in: sign out from the (Russian) user menu");
    await page.getByTestId("user-menu").click();
    await page.getByRole("menuitem", { name: "Выйти" }).click();
    await t.visible(page.getByLabel("Ваше имя"), "the sign-in page in Russian");
    const english = englishIn(await visibleText());
    report.push({ page: "sign-in", english });
    console.log(`page sign-in: ${english.length ? `ENGLISH ${english.join(", ")}` : "no English"}`);
  }

  const bad = report.filter((r) => r.english.length);
  console.log(`covered: ${report.map((r) => r.page).join(", ")}`);
  if (bad.length) throw new Error(`English on the Russian UI:\n${bad.map((r) => `  ${r.page}: ${r.english.join(", ")}`).join("\n")}`);
});
