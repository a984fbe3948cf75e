import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { SuppressionsPage } from "./SuppressionsPage";

const ENTRIES = {
  items: [
    { id: 1, platform: null, kind: "username", key: "anna", reason: "opt_out", source: "ui", note: null, created_at: "2026-12-01T10:00:00Z" },
    { id: 2, platform: "telegram", kind: "phone", key: "+79001234567", reason: "blocked_us", source: "platform", note: null, created_at: "2026-12-01T11:00:00Z" },
  ],
  total: 2,
  next_cursor: null,
};

function show() {
  const calls = fakeApi((c) => {
    if (c.method === "GET" && c.path === "/api/v1/suppressions") return jsonResponse(ENTRIES);
    if (c.method === "POST" && c.path === "/api/v1/suppressions") return jsonResponse({ ...ENTRIES.items[0], id: 3 }, 201);
    return undefined;
  });
  renderUI(<SuppressionsPage />);
  return calls;
}

const matchMedia = window.matchMedia;
afterEach(() => {
  window.matchMedia = matchMedia;
});

describe("SuppressionsPage", () => {
  it("shows every platform's entries by default and says which platform each applies to", async () => {
    const calls = show();
    const table = await screen.findByTestId("suppressions-table", {}, { timeout: 5000 });
    const first = calls.find((c) => c.path === "/api/v1/suppressions")!;
    expect(first.query.platform).toBeUndefined();
    expect(within(table).getByText("anna").closest("tr")).toHaveTextContent("All platforms");
    expect(within(table).getByText("+79001234567").closest("tr")).toHaveTextContent("Telegram");
  });

  it("adds an entry for all platforms by default, with source ui; a chosen platform limits it", async () => {
    const user = userEvent.setup();
    const calls = show();
    await screen.findByTestId("suppressions-table", {}, { timeout: 5000 });
    await user.type(screen.getByLabelText("Add someone"), "@bob");
    await user.click(screen.getByRole("button", { name: "Add to list" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(1));
    expect(calls.find((c) => c.method === "POST")!.body).toMatchObject({ username: "@bob", platform: null, source: "ui", reason: "opt_out" });

    const select = document.querySelector("input[data-testid=add-platform]") as HTMLElement;
    await user.click(select);
    const listbox = await waitFor(() => {
      const el = document.getElementById(select.getAttribute("aria-controls") ?? "");
      expect(el).not.toBeNull();
      return el as HTMLElement;
    });
    fireEvent.click(within(listbox).getByRole("option", { name: "Telegram", hidden: true }));
    await user.type(screen.getByLabelText("Add someone"), "@carol");
    await user.click(screen.getByRole("button", { name: "Add to list" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(2));
    expect(calls.filter((c) => c.method === "POST")[1]!.body).toMatchObject({ username: "@carol", platform: "telegram", source: "ui" });
  });

  it("stacks the entries as cards on a phone", async () => {
    window.matchMedia = vi.fn().mockImplementation((query: string) => ({
      matches: query.includes("max-width"),
      media: query,
      addListener: vi.fn(),
      removeListener: vi.fn(),
      addEventListener: vi.fn(),
      removeEventListener: vi.fn(),
      dispatchEvent: vi.fn(),
    })) as unknown as typeof window.matchMedia;
    show();
    expect(await screen.findAllByTestId("suppression-card")).toHaveLength(2);
    expect(screen.queryByTestId("suppressions-table")).toBeNull();
  });
});
