// /docs (Swagger UI) and /redoc render with every request to a host other than the service blocked, and
// neither page even tries another host (no CDN script, stylesheet, font, logo or validator badge).
import { launch } from "./lib.mjs";

const t = await launch("docs-offline");
const { page, context, step, base } = t;
const own = new URL(base).origin;
const elsewhere = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (new URL(url).origin === own) return route.continue();
  elsewhere.push(url);
  return route.abort("internetdisconnected");
});

await t.run(async () => {
  step("Swagger UI: the operations list");
  await page.goto(`${base}/docs`);
  await t.visible(page.locator(".swagger-ui .info .title", { hasText: "Invite Service" }), "the Swagger UI title");
  await t.visible(page.locator(".opblock-summary-path", { hasText: "/api/v1/accounts" }), "the GET /accounts operation");
  const operations = await page.locator(".opblock").count();
  if (operations < 20) throw new Error(`Swagger UI lists only ${operations} operations`);
  step("Swagger UI: an operation opens with its parameters");
  await page.locator(".opblock-summary-path", { hasText: /^\/api\/v1\/accounts$/ }).first().click();
  await t.visible(page.locator(".parameters-container", { hasText: "cursor" }), "the parameters of GET /accounts");
  await t.shot("docs-swagger", { phone: false });

  step("ReDoc: the document renders");
  await page.goto(`${base}/redoc`);
  await t.visible(page.locator("h1", { hasText: "Invite Service" }), "the ReDoc title");
  await t.visible(page.locator("h2", { hasText: "List Accounts" }), "the GET /accounts operation in ReDoc");
  await t.visible(page.getByRole("navigation").or(page.locator(".menu-content")), "the ReDoc menu");
  await t.shot("docs-redoc", { phone: false });

  step("nothing was asked of another host");
  if (elsewhere.length) throw new Error(`requests to other hosts:\n${elsewhere.join("\n")}`);
  console.log(`docs-offline: ${operations} operations in Swagger UI`);
});
