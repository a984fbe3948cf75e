import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { ContactPolicySection } from "./ContactPolicySection";

function show(policy: unknown, put?: (body: unknown) => Response) {
  return fakeApi((c) => {
    if (c.method === "GET" && c.path === "/api/v1/contacts/policy") return jsonResponse(policy);
    if (c.method === "PUT" && c.path === "/api/v1/contacts/policy") return put ? put(c.body) : jsonResponse(c.body);
    return undefined;
  });
}

const DEFAULTS = { message_cooldown_days: 7, invite_cooldown_days: null, require_consent: false };

describe("the contact policy form", () => {
  it("shows the saved policy, with 'require consent' prominent and off by default", async () => {
    show(DEFAULTS);
    renderUI(<ContactPolicySection />);
    const consent = await screen.findByLabelText(/Contact only people with a consent record/, {}, { timeout: 5000 });
    // The saved values reach the form in an effect after the load: wait for them, not for a render.
    await waitFor(() => expect(screen.getByLabelText(/Messages: at most once per N days/)).toHaveValue("7"));
    expect(consent).not.toBeChecked();
    expect(screen.getByTestId("require-consent-box")).toHaveTextContent("Require consent");
    expect(screen.getByText("A person invited to a chat is never invited to that chat again by another task.")).toBeInTheDocument();
  });

  it("saves cooldowns and consent: never / N days / off for invites", async () => {
    const user = userEvent.setup();
    const calls = show(DEFAULTS);
    renderUI(<ContactPolicySection />);
    const consent = await screen.findByLabelText(/Contact only people with a consent record/, {}, { timeout: 5000 });
    await user.click(consent);
    const messages = screen.getByLabelText(/Messages: at most once per N days/);
    await user.clear(messages);
    await user.type(messages, "14");
    await user.click(screen.getByRole("radio", { name: "Once per N days" }));
    const days = screen.getByLabelText("Days before the same person may be invited again");
    await user.clear(days);
    await user.type(days, "90");
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PUT")).toHaveLength(1));
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({ message_cooldown_days: 14, invite_cooldown_days: 90, require_consent: true });

    await user.click(screen.getByRole("radio", { name: "No cap" }));
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PUT")).toHaveLength(2));
    expect(calls.filter((c) => c.method === "PUT")[1]!.body).toMatchObject({ invite_cooldown_days: 0 });
  });

  it("puts the service's field error next to its field", async () => {
    const user = userEvent.setup();
    show({ ...DEFAULTS, invite_cooldown_days: 30 }, () =>
      jsonResponse(
        { title: "Unprocessable", status: 422, errors: [{ loc: ["body", "message_cooldown_days"], msg: "Input should be less than or equal to 3650", type: "less_than_equal" }] },
        422,
        "application/problem+json",
      ),
    );
    renderUI(<ContactPolicySection />);
    expect(await screen.findByLabelText("Days before the same person may be invited again", {}, { timeout: 5000 })).toHaveValue("30");
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    expect(await screen.findByText(/less than or equal to 3650/)).toBeInTheDocument();
  });
});
