import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setFetch } from "../api/client";
import i18n from "../i18n";
import { jsonResponse, renderUI } from "../test/render";
import { getSession, signOut } from "./session";
import { SignInPage } from "./SignInPage";

type Call = { method: string; url: string; auth: string | null; json?: unknown };
let calls: Call[] = [];
let reply: (call: Call) => Response;
let devLoginOffered: boolean;

beforeEach(() => {
  calls = [];
  devLoginOffered = true;
  // The server's own document says whether it offers the sign-in by name (a plain fetch, not the client).
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => jsonResponse({ paths: devLoginOffered ? { "/api/v1/auth/dev-login": {} } : {} })),
  );
  setFetch(
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(String(input), init);
      const call: Call = { method: req.method, url: new URL(req.url).pathname, auth: req.headers.get("Authorization") };
      if (req.method === "POST") call.json = await req.json();
      calls.push(call);
      return reply(call);
    }) as unknown as typeof fetch,
  );
});
afterEach(() => {
  signOut();
  vi.unstubAllGlobals();
  setFetch(globalThis.fetch);
});

function renderAt(path: string) {
  const router = createMemoryRouter(
    [
      { path: "/sign-in", element: <SignInPage /> },
      { path: "*", element: <p>landed</p> },
    ],
    { initialEntries: [path] },
  );
  renderUI(<RouterProvider router={router} />);
  return router;
}

// A JWT whose payload is {"sub":"alice","exp":4102444800} (2100-01-01).
const TOKEN = `x.${btoa(JSON.stringify({ sub: "alice", exp: 4102444800 }))}.y`;

describe("SignInPage", () => {
  it("speaks Russian and has the language switch", async () => {
    await i18n.changeLanguage("ru");
    reply = () => jsonResponse({});
    renderAt("/sign-in");
    expect(await screen.findByLabelText("Ваше имя")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Войти" })).toBeInTheDocument();
    expect(screen.getByText("У меня есть токен")).toBeInTheDocument();
    await userEvent.setup().click(screen.getByText("EN"));
    expect(await screen.findByLabelText("Your name")).toBeInTheDocument();
  });

  it("signs in by name and goes where the user was heading", async () => {
    reply = () => jsonResponse({ access_token: TOKEN, token_type: "bearer", user: "alice" });
    const router = renderAt("/sign-in?next=%2Ftasks%2F42");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Your name"), "alice");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    await waitFor(() => expect(router.state.location.pathname).toBe("/tasks/42"));
    expect(calls).toEqual([{ method: "POST", url: "/api/v1/auth/dev-login", auth: null, json: { user: "alice" } }]);
    expect(getSession()).toMatchObject({ mode: "dev", user: "alice", token: TOKEN, expiresAt: 4102444800 });
  });

  it("shows the service's field error under the name", async () => {
    reply = () =>
      jsonResponse(
        { title: "Invalid input", status: 422, errors: [{ loc: ["body", "user"], msg: "this name is reserved", type: "value_error" }] },
        422,
        "application/problem+json",
      );
    renderAt("/sign-in");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Your name"), "root");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/this name is reserved/)).toBeInTheDocument();
    expect(getSession()).toBeNull();
  });

  it("checks a pasted token against the service before keeping it", async () => {
    devLoginOffered = false;
    reply = (call) => (call.auth === `Bearer ${TOKEN}` ? jsonResponse({ items: [], next_cursor: null }) : jsonResponse({ title: "Unauthorized", status: 401 }, 401, "application/problem+json"));
    renderAt("/sign-in");
    const user = userEvent.setup();

    await user.type(await screen.findByLabelText(/Access token/), "Bearer wrong");
    await user.click(screen.getByRole("button", { name: "Sign in with token" }));
    expect(await screen.findByText("The service refused this token (expired, or not for this service).")).toBeInTheDocument();
    expect(getSession()).toBeNull();

    await user.clear(screen.getByLabelText(/Access token/));
    await user.type(screen.getByLabelText(/Access token/), TOKEN);
    await user.click(screen.getByRole("button", { name: "Sign in with token" }));
    await waitFor(() => expect(getSession()).toMatchObject({ mode: "token", user: "alice", token: TOKEN }));
    expect(calls.map((c) => `${c.method} ${c.url} ${c.auth}`)).toEqual([
      "GET /api/v1/tasks Bearer wrong",
      `GET /api/v1/tasks Bearer ${TOKEN}`,
    ]);
  });

  it("takes the gateway's session when the service accepts a call without a token", async () => {
    devLoginOffered = false;
    reply = () => jsonResponse({ title: "Unauthorized", status: 401 }, 401, "application/problem+json");
    renderAt("/sign-in");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Continue with my platform session" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No session from the gateway");

    reply = () => jsonResponse({ items: [], next_cursor: null });
    await user.click(screen.getByRole("button", { name: "Continue with my platform session" }));
    await waitFor(() => expect(getSession()).toMatchObject({ mode: "gateway", token: null }));
    expect(calls.every((c) => c.auth === null)).toBe(true);
  });
});
