import { screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import { useMeta } from "../../api/notifications";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { TaskFormPage } from "./TaskFormPage";

function Settled() {
  return useMeta().isSuccess ? <span data-testid="meta-settled" /> : null;
}

function renderForm(platforms: string[] | null) {
  fakeApi((c) => {
    if (c.path === "/api/v1/accounts") return jsonResponse({ items: [], next_cursor: null, total: 0 });
    if (c.path === "/api/v1/meta" && platforms)
      return jsonResponse({ profile: "production", sandbox_allowed: platforms.includes("sandbox"), simulated: [], platforms });
    return undefined;
  });
  renderUI(
    <MemoryRouter>
      <TaskFormPage />
      <Settled />
    </MemoryRouter>,
  );
}

const platformInput = (label: string) => screen.queryByRole("radio", { name: label, hidden: true }) as HTMLInputElement | null;

afterEach(() => setFetch(globalThis.fetch));

describe("the task form's platforms", () => {
  it("offers only what the service offers, and picks it", async () => {
    renderForm(["telegram"]);
    await screen.findByTestId("meta-settled");
    // The form picks the platform in an effect after /meta answers: wait for it, not for a render.
    await waitFor(() => expect(platformInput("Telegram")).toBeChecked());
    expect(platformInput("Sandbox (simulated)")).toBeNull();
  });

  it("offers both on a service without /meta (404), the sandbox first", async () => {
    renderForm(null);
    await screen.findByTestId("meta-settled");
    await waitFor(() => expect(platformInput("Sandbox (simulated)")).toBeChecked());
    expect(platformInput("Telegram")).not.toBeChecked();
  });
});
