import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../../api/client";
import { jsonResponse, renderUI } from "../../test/render";
import { ImportSuppressions } from "./ImportSuppressions";

let calls: { method: string; url: string; form: Record<string, string> }[] = [];
let reply: () => Response;

beforeEach(() => {
  calls = [];
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const form: Record<string, string> = {};
      if (req.method === "POST") for (const [k, v] of await req.formData()) form[k] = typeof v === "string" ? v : "(file)";
      calls.push({ method: req.method, url: new URL(req.url).pathname, form });
      return reply();
    }) as unknown as typeof fetch,
  );
});
afterEach(() => setFetch(globalThis.fetch));

async function chooseAndImport() {
  const user = userEvent.setup();
  const onClose = vi.fn();
  renderUI(<ImportSuppressions platform="sandbox" opened onClose={onClose} />);
  const input = (await screen.findByRole("dialog")).querySelector('input[type="file"]') as HTMLInputElement;
  await user.upload(input, new File(["username\n@anna\n"], "list.csv", { type: "text/csv" }));
  await user.click(screen.getByRole("button", { name: "Import" }));
  return { user, onClose };
}

describe("ImportSuppressions", () => {
  it("sends the file with the platform and default reason, then shows what was added", async () => {
    reply = () => jsonResponse({ rows: 3, created: 2, existing: 1, invalid: 1, errors: [{ row: 3, detail: "not a username" }] });
    const { user, onClose } = await chooseAndImport();
    expect(await screen.findByText(/rows read/)).toHaveTextContent("3 rows read: 2 added, 1 already on the list, 1 invalid.");
    expect(screen.getByText("not a username")).toBeInTheDocument();
    expect(calls).toEqual([
      { method: "POST", url: "/api/v1/suppressions/import", form: { file: "(file)", platform: "sandbox", reason: "opt_out" } },
    ]);
    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("shows the service's refusal in the dialog and keeps the form", async () => {
    reply = () => jsonResponse({ title: "Unprocessable", status: 422, detail: "the file has no username column" }, 422, "application/problem+json");
    await chooseAndImport();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The file could not be imported");
    expect(alert).toHaveTextContent("the file has no username column");
    await waitFor(() => expect(screen.getByRole("button", { name: "Import" })).toBeEnabled());
  });
});
