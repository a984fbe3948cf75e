import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { TaskStatsOut } from "../api/types";
import { resources } from "../i18n";
import { LaneStatusBadge, OutcomeBadge, TargetStatusBadge, TaskStatusBadge } from "../components/Badges";
import Charts, { hourlySeries, outcomeSlices } from "../pages/task/Charts";
import { makeTask, TASK_ID } from "../test/fixtures";
import { renderUI } from "../test/render";
import { hex, KIND_LOOK, LANE_LOOK, LOG_LOOK, LOG_OUTCOMES, TARGET_LOOK, TASK_LOOK } from "./outcomes";
import { TARGET_STATUSES, TASK_STATUSES } from "./status";

// Every value the API can send (schema.d.ts's enums, spelt out so a new one fails here until it is mapped).
const LANE_STATUSES = ["active", "cooling_down", "restricted", "unavailable", "excluded"] as const;
const KINDS = ["success", "benign", "retryable", "final"] as const;

describe("the outcome colour map", () => {
  it("covers every task status, target status, lane status, log outcome and reason kind, with a label in both languages", () => {
    const maps = [
      [TASK_LOOK, TASK_STATUSES],
      [TARGET_LOOK, TARGET_STATUSES],
      [LANE_LOOK, LANE_STATUSES],
      [LOG_LOOK, LOG_OUTCOMES],
      [KIND_LOOK, KINDS],
    ] as const;
    for (const [map, values] of maps) {
      expect(Object.keys(map).sort()).toEqual([...values].sort());
      for (const v of values) {
        const look = (map as Record<string, { color: string; label: string }>)[v]!;
        expect(look.color, v).toMatch(/^[a-z]+$/);
        expect(resources.en.outcomes?.[look.label], `en ${look.label}`).toBeTruthy();
        expect(resources.ru.outcomes?.[look.label], `ru ${look.label}`).toBeTruthy();
      }
    }
  });

  it("never paints a benign reason red", () => {
    expect(KIND_LOOK.benign.color).not.toBe("red");
    expect(KIND_LOOK.final.color).toBe("red");
    expect(LOG_LOOK.already_member.color).not.toBe("red");
    expect(LOG_LOOK.suppressed.color).not.toBe("red");
  });

  it("is where every badge takes its colour and label from", () => {
    for (const s of TARGET_STATUSES) {
      const { unmount } = renderUI(<TargetStatusBadge status={s} />);
      const badge = document.querySelector(`[data-status="${s}"]`) as HTMLElement;
      expect(badge.getAttribute("style"), s).toContain(`--mantine-color-${TARGET_LOOK[s].color}-`);
      expect(badge).toHaveTextContent(resources.en.outcomes![TARGET_LOOK[s].label]!);
      unmount();
    }
    for (const s of TASK_STATUSES) {
      const { unmount } = renderUI(<TaskStatusBadge status={s} />);
      expect((document.querySelector(`[data-status="${s}"]`) as HTMLElement).getAttribute("style"), s).toContain(`--mantine-color-${TASK_LOOK[s].color}-`);
      unmount();
    }
    for (const s of LANE_STATUSES) {
      const { unmount } = renderUI(<LaneStatusBadge status={s} />);
      expect((document.querySelector(`[data-status="${s}"]`) as HTMLElement).getAttribute("style"), s).toContain(`--mantine-color-${LANE_LOOK[s].color}-`);
      unmount();
    }
    for (const o of LOG_OUTCOMES) {
      const { unmount } = renderUI(<OutcomeBadge outcome={o} />);
      const badge = document.querySelector(`[data-outcome="${o}"]`) as HTMLElement;
      expect(badge.getAttribute("style"), o).toContain(`--mantine-color-${LOG_LOOK[o].color}-`);
      expect(badge).toHaveTextContent(resources.en.outcomes![LOG_LOOK[o].label]!);
      unmount();
    }
  });

  it("is where both charts take their fills and legend labels from", async () => {
    const counters = { ...makeTask().counters, pending: 3, invited: 4, failed: 2, already_member: 1, skipped: 1 };
    const stats: TaskStatsOut = {
      task_id: TASK_ID,
      status: "running",
      targets: counters,
      replied: 0,
      range: { start: "2026-12-02T10:00:00Z", end: "2026-12-02T11:00:00Z" },
      by_outcome: {},
      by_error_code: {},
      by_action: {},
      per_account: [],
      hourly: [{ hour: "2026-12-02T10:00:00Z", counts: { success: 4, target_rejected: 2, already_member: 1 } }],
    };
    // The data the charts draw.
    for (const s of outcomeSlices(counters)) expect(s.fill, s.key).toBe(hex(TARGET_LOOK[s.key as keyof typeof TARGET_LOOK].color));
    for (const s of hourlySeries(stats)) expect(s.fill, s.key).toBe(hex(LOG_LOOK[s.key as keyof typeof LOG_LOOK].color));
    // What is rendered: the pie's sectors and the legends' swatches and labels.
    renderUI(<Charts counters={counters} stats={stats} size={{ width: 500, height: 260 }} />);
    const pie = screen.getByTestId("outcome-chart");
    await waitFor(() => expect(pie.querySelectorAll("path.recharts-sector").length).toBe(5));
    const sectors = [...pie.querySelectorAll("path.recharts-sector")];
    for (const p of sectors) {
      const key = p.getAttribute("data-key") as keyof typeof TARGET_LOOK;
      expect(p.getAttribute("fill"), key).toBe(hex(TARGET_LOOK[key].color));
    }
    // Legends: a human label with the swatch of that label's colour in the map.
    const byLabel = (looks: Record<string, { color: string; label: string }>) =>
      Object.fromEntries(Object.values(looks).map((l) => [resources.en.outcomes![l.label]!, hex(l.color)]));
    const swatches = (root: HTMLElement) =>
      [...root.querySelectorAll(".recharts-legend-item")].map((li) => [li.textContent, li.querySelector("path")?.getAttribute("fill")]);
    const pieLegend = swatches(pie);
    expect(pieLegend.map(([label]) => label).sort()).toEqual(["Already member", "Failed", "Invited", "Pending", "Skipped"]);
    for (const [label, fill] of pieLegend) expect(fill, label!).toBe(byLabel(TARGET_LOOK)[label!]);
    const bars = screen.getByTestId("hourly-chart");
    await waitFor(() => expect(bars.querySelectorAll(".recharts-legend-item").length).toBe(3));
    const barLegend = swatches(bars);
    expect(barLegend.map(([label]) => label).sort()).toEqual(["Already a member", "Done", "Refused"]);
    for (const [label, fill] of barLegend) expect(fill, label!).toBe(byLabel(LOG_LOOK)[label!]);
  });
});
