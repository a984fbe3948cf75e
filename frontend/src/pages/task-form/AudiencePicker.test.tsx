import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import type { AudienceSelection } from "../../api/audiences";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { AudiencePicker, emptySelection } from "./AudiencePicker";

const A = "7d0f7a3e-0000-4000-8000-00000000000a";
const B = "7d0f7a3e-0000-4000-8000-00000000000b";
const AUDIENCES = {
  items: [
    { id: A, platform: "telegram", name: "Webinar leads", description: null, contacts: 1240, created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z" },
    { id: B, platform: "telegram", name: "Customers", description: null, contacts: 300, created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z" },
  ],
  total: 2,
  next_cursor: null,
};
const POLICY = { message_cooldown_days: 7, invite_cooldown_days: null, require_consent: false };

function Harness({ initial }: { initial: AudienceSelection }) {
  const [value, setValue] = useState(initial);
  return (
    <MemoryRouter>
      <AudiencePicker platform="telegram" action="message" destination="" value={value} onChange={setValue} />
    </MemoryRouter>
  );
}

function show(initial: AudienceSelection) {
  const calls = fakeApi((c) => {
    if (c.method === "GET" && c.path === "/api/v1/audiences") return jsonResponse(AUDIENCES);
    if (c.method === "GET" && c.path === "/api/v1/contacts/policy") return jsonResponse(POLICY);
    if (c.method === "POST" && c.path === "/api/v1/audiences/preview") {
      const tags = (c.body as { audiences: AudienceSelection }).audiences.exclude_tags;
      const excluded = tags.length ? 60 : 0;
      return jsonResponse({
        contacts: 1240,
        excluded_by_audience: 0,
        excluded_by_tag: excluded,
        suppressed: 20,
        contacted_recently: 40,
        no_consent: 0,
        targets: 1180 - excluded,
        ...POLICY,
      });
    }
    return undefined;
  });
  renderUI(<Harness initial={initial} />);
  return calls;
}

const previews = (calls: ReturnType<typeof fakeApi>) => calls.filter((c) => c.path === "/api/v1/audiences/preview");

describe("the task form's audience picker", () => {
  it("asks for no count while nothing is included, and shows the policy in force with a link to Settings", async () => {
    const calls = show(emptySelection());
    expect(await screen.findByTestId("policy-in-force", {}, { timeout: 5000 })).toHaveTextContent(
      "Contact policy: a message at most once per 7 days; never re-invite a person to the same chat; consent not required.",
    );
    expect(screen.getByRole("link", { name: "Change in Settings" })).toHaveAttribute("href", "/settings");
    expect(screen.queryByTestId("audience-count")).not.toBeInTheDocument();
    expect(previews(calls)).toHaveLength(0);
  });

  it("shows the live count of the chosen audiences, and counts again (once) after the tags typed", async () => {
    const user = userEvent.setup();
    const calls = show({ ...emptySelection(), include: [A] });
    const count = await screen.findByTestId("audience-count", {}, { timeout: 5000 });
    await waitFor(() => expect(count).toHaveTextContent("1,240 contacts → 1,180 targets: 40 contacted in the last 7 days, 20 suppressed"), { timeout: 5000 });
    expect(previews(calls)[0]!.body).toEqual({
      platform: "telegram",
      action: "message",
      destination: null,
      audiences: { include: [A], exclude: [], exclude_tags: [], include_new_contacts: false },
    });

    await user.type(screen.getByTestId("audience-exclude-tags"), "VIP{enter}");
    await waitFor(() => expect(count).toHaveTextContent("1,240 contacts → 1,120 targets: 60 with an excluded tag, 40 contacted"), { timeout: 5000 });
    expect(previews(calls)).toHaveLength(2);
    expect(previews(calls)[1]!.body).toMatchObject({ audiences: { exclude_tags: ["vip"] } });
  });
});
