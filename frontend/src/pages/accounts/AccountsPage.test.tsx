import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import i18n from "../../i18n";
import { resumeAt } from "../../lib/format";
import { fakeApi } from "../../test/fakeApi";
import { TASK_ID } from "../../test/fixtures";
import { jsonResponse, renderUI } from "../../test/render";
import { AccountsPage } from "./AccountsPage";

const soon = new Date(Date.now() + 20 * 60_000).toISOString();
const ACCOUNTS = {
  items: [
    {
      id: "sandbox:alpha",
      platform: "sandbox",
      label: "Alpha (sandbox)",
      username: "alpha_bot",
      simulated: true,
      status: "active",
      status_detail: null,
      cooldown_until: null,
      usage: [
        { action: "invite", window_seconds: 3600, used: 5, limit: 5, remaining: 0, resets_at: soon },
        { action: "invite", window_seconds: 86400, used: 12, limit: 50, remaining: 38, resets_at: soon },
      ],
      waiting: { reason: "cap", until: soon, window_seconds: 3600, accounts: 1 },
      tasks: [{ id: TASK_ID, name: "Webinar invites", status: "running" }],
    },
    {
      id: "tg:beta",
      platform: "telegram",
      label: "Beta",
      username: null,
      simulated: false,
      status: "unavailable",
      status_detail: "session revoked",
      cooldown_until: null,
      usage: [],
      waiting: { reason: "restricted", until: null, window_seconds: null, accounts: 1 },
      tasks: [],
    },
  ],
  next_cursor: null,
};

function show() {
  const calls = fakeApi((c) => {
    if (c.method === "GET" && c.path === "/api/v1/accounts") return jsonResponse(ACCOUNTS);
    if (c.method === "POST" && decodeURIComponent(c.path) === "/api/v1/accounts/tg:beta/reactivate") return jsonResponse({ account_id: "tg:beta", reactivated: 1 });
    return undefined;
  });
  renderUI(
    <MemoryRouter>
      <AccountsPage />
    </MemoryRouter>,
  );
  return calls;
}

describe("AccountsPage", () => {
  it("lists accounts per platform with state and why, usage per window, tasks, and marks simulated ones", async () => {
    show();
    const cards = await screen.findAllByTestId("account-card");
    expect(cards).toHaveLength(2);
    // Telegram first, then the sandbox.
    expect(within(cards[0]!).getByTestId("account-label")).toHaveTextContent("Beta");
    const alpha = cards[1]!;
    expect(within(alpha).getByTestId("simulated-badge")).toHaveTextContent("simulated");
    expect(within(cards[0]!).queryByTestId("simulated-badge")).toBeNull();
    expect(within(alpha).getByTestId("account-state")).toHaveTextContent("At limit");
    expect(within(alpha).getByTestId("account-why")).toHaveTextContent(`At limit until ${resumeAt(soon)} (the limit per hour is used up)`);
    expect(within(alpha).getByText("Invites per hour")).toBeInTheDocument();
    expect(within(alpha).getByText("5 of 5")).toBeInTheDocument();
    expect(within(alpha).getByText("12 of 50")).toBeInTheDocument();
    expect(within(alpha).getByRole("link", { name: /Webinar invites/ })).toHaveAttribute("href", `/tasks/${TASK_ID}`);
    expect(within(cards[0]!).getByTestId("account-why")).toHaveTextContent("Unavailable because: session revoked");
    expect(screen.getByTestId("caps-help")).toHaveTextContent(/publishes no per-account/);
  });

  it("reactivates an unavailable account", async () => {
    const calls = show();
    const [beta] = await screen.findAllByTestId("account-card");
    await userEvent.click(within(beta!).getByRole("button", { name: "Reactivate" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && decodeURIComponent(c.path) === "/api/v1/accounts/tg:beta/reactivate")).toBe(true));
  });

  it("speaks Russian", async () => {
    await i18n.changeLanguage("ru");
    show();
    const cards = await screen.findAllByTestId("account-card");
    expect(within(cards[1]!).getByTestId("simulated-badge")).toHaveTextContent("симулятор");
    expect(within(cards[1]!).getByTestId("account-why")).toHaveTextContent(`Лимит исчерпан до ${resumeAt(soon)} (лимит на час израсходован)`);
    expect(within(cards[1]!).getByText("5 из 5")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Аккаунты" })).toBeInTheDocument();
  });
});
