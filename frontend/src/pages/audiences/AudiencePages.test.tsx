import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { AudiencesPage } from "./AudiencesPage";
import { ContactPage } from "./ContactPage";

const AUD = { id: "7d0f7a3e-0000-4000-8000-00000000000a", platform: "telegram", name: "Webinar leads", description: "November", contacts: 1240, created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z" };
const problem = (status: number, code: string, detail: string) => jsonResponse({ title: "Conflict", status, code, detail }, status, "application/problem+json");

describe("the audiences list", () => {
  it("lists name, platform, count and explains why an audience in use is not deleted (409 audience_in_use)", async () => {
    const user = userEvent.setup();
    const calls = fakeApi((c) => {
      if (c.method === "GET" && c.path === "/api/v1/audiences") return jsonResponse({ items: [AUD], total: 1, next_cursor: null });
      if (c.method === "DELETE") return problem(409, "audience_in_use", "in use");
      return undefined;
    });
    renderUI(
      <MemoryRouter>
        <AudiencesPage />
      </MemoryRouter>,
    );
    const row = (await screen.findByText("Webinar leads", {}, { timeout: 5000 })).closest("tr")!;
    expect(row).toHaveTextContent("Telegram");
    expect(row).toHaveTextContent("1,240");
    await user.click(within(row).getByLabelText("Delete audience Webinar leads"));
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    expect(await screen.findByText(/A task that has not finished yet/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE")).toHaveLength(1);
  });
});

const CONTACT = {
  id: 42,
  platform: "telegram",
  kind: "username",
  key: "anna",
  username: "anna",
  user_id: "123456789",
  phone: null,
  first_name: "Anna",
  last_name: null,
  fields: { city: "Moscow" },
  tags: ["vip"],
  consent: null,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  audiences: [{ id: AUD.id, name: AUD.name }],
  suppression: { reason: "opt_out", source: "ui", created_at: "2026-12-02T10:00:00Z" },
};
const HISTORY = {
  items: [
    { at: "2026-12-02T09:00:00Z", task_id: "t-2", task_name: "December webinar", action: "message", outcome: "target_rejected", error_code: "NO_CONSENT", account_id: "acc-1" },
    { at: "2026-11-20T09:00:00Z", task_id: "t-1", task_name: "November webinar", action: "invite", outcome: "success", error_code: null, account_id: "acc-1" },
  ],
  total: 2,
  next_cursor: null,
};
const REASONS = { reasons: [{ code: "NO_CONSENT", kind: "benign_skip", retryable: false, en: "No consent is recorded for this person.", ru: "Согласие этого человека не записано." }] };

describe("a contact's page", () => {
  it("shows identities, fields, suppression, audiences and the history across tasks with the reason in words; saves tags and consent", async () => {
    const user = userEvent.setup();
    const calls = fakeApi((c) => {
      if (c.method === "GET" && c.path === "/api/v1/contacts/42") return jsonResponse(CONTACT);
      if (c.method === "GET" && c.path === "/api/v1/contacts/42/history") return jsonResponse(HISTORY);
      if (c.method === "GET" && c.path === "/api/v1/meta/reasons") return jsonResponse(REASONS);
      if (c.method === "PATCH" && c.path === "/api/v1/contacts/42") return jsonResponse({ ...CONTACT, ...(c.body as object) });
      return undefined;
    });
    renderUI(
      <MemoryRouter initialEntries={["/contacts/42"]}>
        <Routes>
          <Route path="/contacts/:contactId" element={<ContactPage />} />
        </Routes>
      </MemoryRouter>,
    );
    expect(await screen.findByTestId("contact-title", {}, { timeout: 5000 })).toHaveTextContent("@anna");
    expect(screen.getByText("123456789")).toBeInTheDocument();
    expect(screen.getByText("Moscow")).toBeInTheDocument();
    expect(screen.getByTestId("suppression-state")).toHaveTextContent("On the opt-out list");
    expect(screen.getByRole("link", { name: "Webinar leads" })).toHaveAttribute("href", `/audiences/${AUD.id}`);
    const history = await screen.findByTestId("history-table");
    const december = within(history).getByRole("link", { name: "December webinar" }).closest("tr")!;
    await waitFor(() => expect(december).toHaveTextContent("No consent is recorded for this person."));
    expect(within(history).getByRole("link", { name: "November webinar" })).toHaveAttribute("href", "/tasks/t-1");

    await user.type(screen.getByLabelText("Consent source"), "signup form");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1));
    expect(calls.find((c) => c.method === "PATCH")!.body).toMatchObject({ tags: ["vip"], consent_source: "signup form", consent_at: null });
  });
});
