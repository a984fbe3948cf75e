import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import type { Contact } from "../../api/audiences";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { contactFilter, ContactsTable } from "./ContactsTable";

const AUD = "7d0f7a3e-0000-4000-8000-000000000001";
const contact = (id: number, over: Partial<Contact>): Contact => ({
  id,
  platform: "telegram",
  kind: "username",
  key: `user${id}`,
  username: `user${id}`,
  user_id: null,
  phone: null,
  first_name: null,
  last_name: null,
  fields: {},
  tags: [],
  consent: null,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  ...over,
});
const ANNA = contact(1, { username: "anna", first_name: "Anna", last_name: "Ivanova", tags: ["vip", "webinar"], fields: { city: "Moscow" }, consent: { source: "import", at: "2026-11-01T09:00:00Z", note: null } });
const BOB = contact(2, { username: "bob", tags: ["webinar"], fields: { city: "Kazan", plan: "pro" } });

function show() {
  const calls = fakeApi((c) => {
    if (c.method === "GET" && c.path === `/api/v1/audiences/${AUD}/contacts`) {
      const items = [ANNA, BOB].filter((x) => (!c.query.tag || x.tags.includes(c.query.tag)) && (!c.query.q || (x.username ?? "").includes(c.query.q)));
      return jsonResponse({ items, total: items.length, next_cursor: null });
    }
    return undefined;
  });
  const onRemove = vi.fn((_ids: number[], done: () => void) => done());
  renderUI(
    <MemoryRouter>
      <ContactsTable audienceId={AUD} onRemove={onRemove} removing={false} />
    </MemoryRouter>,
  );
  return { calls, onRemove };
}

const lists = (calls: ReturnType<typeof fakeApi>) => calls.filter((c) => c.path.endsWith("/contacts"));

describe("an audience's contacts table", () => {
  it("builds the API's filters: trimmed, tag lower-cased, a field filter only with a value", () => {
    expect(contactFilter("  ann ", "", "", "")).toEqual({ q: "ann" });
    expect(contactFilter("", " VIP ", "city", "")).toEqual({ tag: "vip" });
    expect(contactFilter("", "", "city", "Moscow")).toEqual({ field: "city", value: "Moscow" });
  });

  it("shows tags as chips, custom fields as columns and the consent", async () => {
    show();
    const table = await screen.findByTestId("contacts-table", {}, { timeout: 5000 });
    const anna = within(table).getByText("@anna").closest("tr")!;
    expect(anna).toHaveTextContent("Anna Ivanova");
    expect(within(anna).getAllByTestId("tag-chip").map((x) => x.textContent)).toEqual(["vip", "webinar"]);
    expect(anna).toHaveTextContent("Moscow");
    expect(anna).toHaveTextContent("import");
    expect(within(table).getByRole("columnheader", { name: "city" })).toBeInTheDocument();
    expect(within(table).getByRole("columnheader", { name: "plan" })).toBeInTheDocument();
    expect(within(table).getByText("@bob").closest("tr")).toHaveTextContent("No consent recorded");
  });

  it("searches, filters by tag (typed or a chip clicked) and by a custom field", async () => {
    const user = userEvent.setup();
    const { calls } = show();
    await screen.findByTestId("contacts-table", {}, { timeout: 5000 });
    await user.type(screen.getByLabelText("Search contacts"), "bo");
    await waitFor(() => expect(lists(calls).at(-1)!.query).toMatchObject({ q: "bo" }));
    await waitFor(() => expect(screen.queryByText("@anna")).not.toBeInTheDocument());
    await user.clear(screen.getByLabelText("Search contacts"));
    await waitFor(() => expect(lists(calls).at(-1)!.query.q).toBeUndefined());

    await user.click((await screen.findAllByText("vip"))[0]!);
    await waitFor(() => expect(lists(calls).at(-1)!.query).toMatchObject({ tag: "vip" }));
    expect(screen.getByLabelText("Tag")).toHaveValue("vip");
    await waitFor(() => expect(screen.queryByText("@bob")).not.toBeInTheDocument());

    await user.type(screen.getByLabelText("Field"), "city");
    await user.type(screen.getByLabelText("Equals"), "Moscow");
    await waitFor(() => expect(lists(calls).at(-1)!.query).toMatchObject({ tag: "vip", field: "city", value: "Moscow" }));
  });

  it("removes the selected contacts", async () => {
    const user = userEvent.setup();
    const { onRemove } = show();
    await screen.findByTestId("contacts-table", {}, { timeout: 5000 });
    const remove = screen.getByTestId("remove-selected");
    expect(remove).toBeDisabled();
    await user.click(screen.getByLabelText("Select @bob"));
    await user.click(remove);
    expect(onRemove).toHaveBeenCalledWith([2], expect.any(Function));
    await waitFor(() => expect(screen.getByLabelText("Select @bob")).not.toBeChecked());
  });
});
