import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../../api/client";
import type { ChannelOut, DeliveryOut, WebhookOut } from "../../api/notifications";
import { type Call, fakeApi, notFound } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { SettingsPage } from "./SettingsPage";

const NOW = "2026-12-02T12:00:00Z";
const W1 = "aaaaaaaa-0000-0000-0000-000000000001";
const W2 = "aaaaaaaa-0000-0000-0000-000000000002";
const C1 = "cccccccc-0000-0000-0000-000000000001";

function webhook(o: Partial<WebhookOut>): WebhookOut {
  return { id: W1, url: "https://hooks.example.com/invite", description: "", event_types: [], enabled: true, disabled_reason: null, consecutive_failures: 0, created_at: NOW, updated_at: NOW, ...o };
}
const channel: ChannelOut = {
  id: C1,
  label: "Team mail",
  scheme: "mailto",
  url_masked: "mailto://user:***@example.com",
  event_types: ["task.completed"],
  enabled: true,
  disabled_reason: null,
  consecutive_failures: 0,
  created_at: NOW,
  updated_at: NOW,
};
function delivery(o: Partial<DeliveryOut>): DeliveryOut {
  return { id: "d1", event_id: 1, event_type: "task.completed", endpoint_id: W2, channel_id: null, status: "failed", attempts: 12, last_status_code: 500, last_error: "HTTP 500", next_attempt_at: null, created_at: NOW, delivered_at: null, ...o };
}

let webhooks: WebhookOut[];
let calls: Call[];
let createReply: (c: Call) => Response;

beforeEach(() => {
  webhooks = [webhook({}), webhook({ id: W2, url: "https://down.example.com/h", description: "Ops", enabled: false, disabled_reason: "HTTP 500 on 12 attempts over 24 h", consecutive_failures: 12 })];
  createReply = (c) => jsonResponse({ ...webhook({ id: "new", url: (c.body as { url: string }).url }), secret: "whsec_c2VjcmV0LW9uY2U=" }, 201);
  calls = fakeApi((c) => {
    const p = c.path;
    if (p === "/api/v1/notifications/webhooks" && c.method === "GET") return jsonResponse(webhooks);
    if (p === "/api/v1/notifications/webhooks" && c.method === "POST") return createReply(c);
    if (p.startsWith("/api/v1/notifications/webhooks/") && c.method === "DELETE") return new Response(null, { status: 204 });
    if (p.startsWith("/api/v1/notifications/webhooks/") && c.method === "PATCH") return jsonResponse(webhook({ enabled: true }));
    if (p === "/api/v1/notifications/channels" && c.method === "GET") return jsonResponse([channel]);
    if (p === "/api/v1/notifications/channels" && c.method === "POST") return jsonResponse(channel, 201);
    if (p === "/api/v1/notifications/deliveries")
      return jsonResponse({ items: [delivery({}), delivery({ id: "d2", status: "retrying", attempts: 2, last_status_code: 503, next_attempt_at: NOW })], next_cursor: null, total: 2 });
    if (p === "/api/v1/notifications/deliveries/d1/redeliver") return jsonResponse(delivery({ status: "pending" }), 202);
    return undefined;
  });
});
afterEach(() => {
  setFetch(globalThis.fetch);
  vi.unstubAllGlobals();
});

/** The service's OpenAPI document (read with the page's own fetch, next to the UI), listing `paths`. */
function serveOpenApi(paths: string[]) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL) => {
      const url = input instanceof Request ? input.url : String(input);
      return url.endsWith("/openapi.json") ? jsonResponse({ paths: Object.fromEntries(paths.map((p) => [p, {}])) }) : new Response(null, { status: 404 });
    }),
  );
}

const webhookRow = async (url: string) => (await screen.findAllByTestId("webhook-row")).find((r) => r.textContent?.includes(url))!;

describe("SettingsPage", () => {
  it("lists webhooks, channels and deliveries; a disabled endpoint shows why", async () => {
    renderUI(<SettingsPage />);
    const down = await webhookRow("https://down.example.com/h");
    expect(within(down).getByTestId("disabled-reason")).toHaveTextContent("Turned off: HTTP 500 on 12 attempts over 24 h");
    expect(within(await webhookRow("hooks.example.com")).queryByTestId("disabled-reason")).toBeNull();
    const ch = (await screen.findAllByTestId("channel-row"))[0]!;
    expect(ch).toHaveTextContent("mailto://user:***@example.com");
    expect(ch).toHaveTextContent("Team mail");
    const rows = await screen.findAllByTestId("delivery-row");
    expect(rows[0]).toHaveTextContent("500");
    expect(rows[0]).toHaveTextContent("Failed");
    expect(rows[0]).toHaveTextContent("Ops"); // the endpoint by its description
    expect(rows[1]).toHaveTextContent("Retrying");
  });

  it("creates a webhook and shows its secret once, with a copy button", async () => {
    const user = userEvent.setup();
    renderUI(<SettingsPage />);
    await user.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText(/URL/), "https://new.example.com/h");
    await user.click(within(dialog).getByLabelText("task.completed"));
    await user.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ url: "https://new.example.com/h", description: "", event_types: ["task.completed"] });
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent("whsec_c2VjcmV0LW9uY2U=");
    expect(screen.getByText(/you won't see it again/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "I saved it" }));
    await waitFor(() => expect(screen.queryByTestId("webhook-secret")).toBeNull());
  });

  it("shows the service's reason next to the URL field (422)", async () => {
    createReply = () =>
      jsonResponse(
        { title: "Invalid input", status: 422, errors: [{ loc: ["body", "url"], msg: "Value error, private addresses are not allowed", type: "value_error" }] },
        422,
        "application/problem+json",
      );
    const user = userEvent.setup();
    renderUI(<SettingsPage />);
    await user.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText(/URL/), "http://127.0.0.1/h");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));
    expect(await within(dialog).findByText("private addresses are not allowed")).toBeInTheDocument();
    expect(screen.queryByTestId("webhook-secret")).toBeNull();
  });

  it("deletes only after the user confirms, and re-enables a disabled endpoint", async () => {
    const user = userEvent.setup();
    renderUI(<SettingsPage />);
    const row = await webhookRow("https://down.example.com/h");
    await user.click(within(row).getByRole("button", { name: "Delete: https://down.example.com/h" }));
    await user.click(await screen.findByRole("button", { name: "Keep as is" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(within(row).getByRole("button", { name: "Delete: https://down.example.com/h" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(calls).toContainEqual(expect.objectContaining({ method: "DELETE", path: `/api/v1/notifications/webhooks/${W2}` })));

    await user.click(within(row).getByRole("switch"));
    await waitFor(() => expect(calls).toContainEqual(expect.objectContaining({ method: "PATCH", path: `/api/v1/notifications/webhooks/${W2}`, body: { enabled: true } })));
  });

  it("redelivers from the log and filters it by status", async () => {
    const user = userEvent.setup();
    renderUI(<SettingsPage />);
    const rows = await screen.findAllByTestId("delivery-row");
    await user.click(within(rows[0]!).getByRole("button", { name: "Redeliver" }));
    await waitFor(() => expect(calls).toContainEqual(expect.objectContaining({ method: "POST", path: "/api/v1/notifications/deliveries/d1/redeliver" })));

    const select = document.querySelector('input[aria-label="Status"]') as HTMLElement;
    await user.click(select);
    const listbox = await waitFor(() => {
      const el = document.getElementById(select.getAttribute("aria-controls") ?? "");
      expect(el).not.toBeNull();
      return el as HTMLElement;
    });
    fireEvent.click(within(listbox).getByRole("option", { name: "Failed", hidden: true }));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/notifications/deliveries" && c.query.status === "failed")).toBe(true));
  });

  it("adds a channel with an Apprise URL and shows the examples", async () => {
    const user = userEvent.setup();
    renderUI(<SettingsPage />);
    expect(await screen.findByText(/tgram:\/\/bottoken\/chatid/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Add channel" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText(/Apprise URL/), "json://receiver.example.com/hook");
    await user.type(within(dialog).getByLabelText("Label"), "Receiver");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() =>
      expect(calls).toContainEqual(
        expect.objectContaining({ method: "POST", path: "/api/v1/notifications/channels", body: { url: "json://receiver.example.com/hook", label: "Receiver", event_types: [] } }),
      ),
    );
  });

  it("says so when the service has no notifications yet (404)", async () => {
    fakeApi(() => notFound());
    renderUI(<SettingsPage />);
    expect(await screen.findByTestId("notifications-absent")).toBeInTheDocument();
    expect(screen.getByText("Show desktop notifications")).toBeInTheDocument();
  });

  it("offers a test ping only where the service documents one", async () => {
    serveOpenApi(["/api/v1/notifications/webhooks"]);
    const first = renderUI(<SettingsPage />);
    await webhookRow("hooks.example.com");
    await waitFor(() => expect(globalThis.fetch).toHaveBeenCalled());
    expect(screen.queryByRole("button", { name: /^Send a test/ })).toBeNull();
    first.unmount();

    serveOpenApi(["/api/v1/notifications/webhooks", "/api/v1/notifications/webhooks/{endpoint_id}/test"]);
    renderUI(<SettingsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Send a test: https://hooks.example.com/invite" }));
    await waitFor(() => expect(calls).toContainEqual(expect.objectContaining({ method: "POST", path: `/api/v1/notifications/webhooks/${W1}/test` })));
  });
});
