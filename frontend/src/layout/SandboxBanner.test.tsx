import i18n from "../i18n";
import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "../api/client";
import { type MetaOut, useMeta } from "../api/notifications";
import { type Call, fakeApi } from "../test/fakeApi";
import { jsonResponse, renderUI } from "../test/render";
import { SandboxBanner } from "./SandboxBanner";

function serveMeta(meta: MetaOut | null): Call[] {
  return fakeApi((c) => (c.path === "/api/v1/meta" && meta ? jsonResponse(meta) : undefined));
}

afterEach(() => {
  setFetch(globalThis.fetch);
  localStorage.removeItem("invite.lang");
});

/** Says when the banner's query has its answer, so "no banner" is checked after it, not before. */
function Settled() {
  return useMeta().isSuccess ? <span data-testid="meta-settled" /> : null;
}

describe("SandboxBanner", () => {
  it("warns on a production service that runs simulators, naming them", async () => {
    serveMeta({ profile: "production", sandbox_allowed: true, simulated: ["telegram", "parsing"], platforms: ["telegram", "sandbox"] });
    renderUI(<SandboxBanner />);
    const banner = await screen.findByTestId("sandbox-banner");
    expect(banner).toHaveTextContent("Simulators in use: telegram, parsing");
    expect(banner).toHaveTextContent("Nothing is really sent");
  });

  it("says it in Russian", async () => {
    await i18n.changeLanguage("ru");
    serveMeta({ profile: "production", sandbox_allowed: true, simulated: ["telegram"], platforms: ["telegram"] });
    renderUI(<SandboxBanner />);
    expect(await screen.findByTestId("sandbox-banner")).toHaveTextContent("Используются симуляторы: telegram");
  });

  it("stays away from a real production, the embedded profile, and a service without /meta", async () => {
    for (const meta of [
      { profile: "production", sandbox_allowed: false, simulated: [], platforms: ["telegram"] },
      { profile: "embedded", sandbox_allowed: true, simulated: ["telegram", "sandbox", "parsing"], platforms: ["telegram", "sandbox"] },
      null,
    ] as (MetaOut | null)[]) {
      const calls = serveMeta(meta);
      const { unmount } = renderUI(
        <>
          <SandboxBanner />
          <Settled />
        </>,
      );
      await screen.findByTestId("meta-settled");
      expect(calls.some((c) => c.path === "/api/v1/meta")).toBe(true);
      expect(screen.queryByTestId("sandbox-banner")).toBeNull();
      unmount();
    }
  });
});
