import { screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { setFetch } from "../../api/client";
import i18n, { resources } from "../../i18n";
import { fakeApi } from "../../test/fakeApi";
import { jsonResponse, renderUI } from "../../test/render";
import { TaskFormPage } from "./TaskFormPage";

afterEach(() => setFetch(globalThis.fetch));

/** English sentences of a namespace (a few words or more, different in Russian) found in `text`. */
function englishIn(text: string, ns: string): string[] {
  const en = resources.en[ns] ?? {};
  const ru = resources.ru[ns] ?? {};
  return Object.entries(en)
    .filter(([key, value]) => !value.includes("{{") && value.split(" ").length >= 3 && ru[key] !== value)
    .map(([, value]) => value)
    .filter((value) => text.includes(value));
}

describe("the task form in Russian", () => {
  it("shows no English sentence of its catalogue", async () => {
    await i18n.changeLanguage("ru");
    fakeApi((c) => (c.path === "/api/v1/accounts" ? jsonResponse({ items: [], next_cursor: null }) : undefined));
    renderUI(
      <MemoryRouter>
        <TaskFormPage />
      </MemoryRouter>,
    );
    expect(await screen.findByRole("heading", { name: "Новая задача" })).toBeInTheDocument();
    await screen.findByText(/ни одного аккаунта/);
    const text = document.body.textContent ?? "";
    expect(englishIn(text, "form")).toEqual([]);
    expect(text).toContain("По умолчанию новая задача создаётся в песочнице");
    expect(text).toContain("Telegram не публикует"); // common:caps.help in Russian
  });
});
