#!/usr/bin/env node
// Figure for the notes: the task page's time to first render with a large task, in headless Chromium.
//   node frontend/e2e/measure-task-page.mjs --base URL [--targets 100000] [--runs 5]
// Makes a user and a task with N targets through the API (10,000 a request), then opens the task page
// in a fresh tab N times and reports how long until the header, the counters and the first target row show.
import { parseArgs } from "node:util";
import { launch } from "./lib.mjs";

const { values } = parseArgs({ options: { targets: { type: "string", default: "100000" }, runs: { type: "string", default: "5" } }, strict: false });
const N = Number(values.targets);
const RUNS = Number(values.runs);
const t = await launch("measure-task-page");
const { page, base } = t;

async function api(path, init = {}, token) {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...init.headers },
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

await t.run(async () => {
  const user = `measure-${Date.now().toString(36)}`;
  const { access_token: token } = await api("/api/v1/auth/dev-login", { method: "POST", body: JSON.stringify({ user }) });
  const task = await api("/api/v1/tasks", { method: "POST", body: JSON.stringify({ name: `${N} targets`, action: "invite", destination: "@measure_chat" }) }, token);
  const t0 = Date.now();
  for (let start = 0; start < N; start += 10_000) {
    const targets = Array.from({ length: Math.min(10_000, N - start) }, (_, i) => ({ username: `m${String(start + i).padStart(7, "0")}_user` }));
    await api(`/api/v1/tasks/${task.id}/targets/bulk`, { method: "POST", body: JSON.stringify({ targets }) }, token);
  }
  console.log(`  loaded ${N} targets in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  void page;
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const tab = await t.context.newPage();
    await tab.addInitScript(([token, user]) => {
      sessionStorage.setItem("invite-service.session", JSON.stringify({ mode: "token", token, user, expiresAt: null }));
    }, [token, user]);
    const started = Date.now();
    await tab.goto(`${base}/#/tasks/${task.id}`);
    await tab.locator('[data-counter="total"]').filter({ hasText: new Intl.NumberFormat("en-US").format(N) }).first().waitFor({ timeout: 60_000 });
    await tab.locator("[data-target-key]").first().waitFor({ timeout: 60_000 });
    times.push(Date.now() - started);
    await tab.close();
  }
  times.sort((a, b) => a - b);
  console.log(`  task page, ${N} targets: first render (header, counters, first rows) median ${times[Math.floor(times.length / 2)]} ms, min ${times[0]} ms, max ${times[times.length - 1]} ms over ${RUNS} loads`);
});
