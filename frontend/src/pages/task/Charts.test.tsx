import i18n from "../../i18n";
import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskStatsOut } from "../../api/types";
import { makeTask, TASK_ID } from "../../test/fixtures";
import { renderUI } from "../../test/render";
import Charts from "./Charts";

function stats(replied: number): TaskStatsOut {
  return {
    task_id: TASK_ID,
    status: "completed",
    targets: makeTask().counters,
    replied,
    range: { start: "2026-12-02T10:00:00Z", end: "2026-12-02T11:00:00Z" },
    by_outcome: {},
    by_error_code: {},
    by_action: {},
    per_account: [],
    hourly: [],
  };
}

describe("Charts", () => {
  afterEach(() => localStorage.removeItem("invite.lang"));

  it("shows how many people replied beside the outcome chart", () => {
    renderUI(<Charts counters={makeTask().counters} stats={stats(3)} />);
    expect(screen.getByTestId("replies-count")).toHaveTextContent("Replies: 3");
  });

  it("says it in Russian when the language is Russian", async () => {
    await i18n.changeLanguage("ru");
    renderUI(<Charts counters={makeTask().counters} stats={stats(2)} />);
    expect(screen.getByTestId("replies-count")).toHaveTextContent("Ответы: 2");
  });

  it("shows zero before the statistics arrive", () => {
    renderUI(<Charts counters={makeTask().counters} stats={null} />);
    expect(screen.getByTestId("replies-count")).toHaveTextContent("Replies: 0");
  });
});
