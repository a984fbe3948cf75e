import { afterEach, describe, expect, it } from "vitest";
import i18n from "../i18n";
import { laneWaitingText, type Waiting, waitingText } from "./waiting";

// 2026-12-02 is a Wednesday; local times (the formatter's), so build them locally.
const now = new Date(2026, 11, 2, 13, 20);
const at = (d: number, h: number, m: number) => new Date(2026, 11, d, h, m).toISOString();
const w = (reason: Waiting["reason"], until: string | null, window_seconds: number | null = null): Waiting => ({ reason, until, window_seconds, accounts: 1 });

describe("waitingText", () => {
  afterEach(async () => {
    await i18n.changeLanguage("en");
  });

  it("says why the task waits and when it resumes", () => {
    expect(waitingText(w("cap", at(2, 14, 1), 3600), undefined, now)).toBe("Waiting for the hourly limit — resumes at 14:01");
    expect(waitingText(w("cap", at(3, 9, 0), 86400), undefined, now)).toBe("Waiting for the daily limit — resumes Thu 09:00");
    expect(waitingText(w("send_window", at(7, 9, 0)), undefined, now)).toBe("Outside the send window — resumes Mon 09:00");
    expect(waitingText(w("flood_wait", at(2, 13, 45)), undefined, now)).toBe("Waiting for the FLOOD_WAIT the platform asked for — resumes at 13:45");
    expect(waitingText(w("scheduled", at(2, 18, 0)), undefined, now)).toBe("Scheduled — starts at 18:00");
    expect(waitingText(w("restricted", null), undefined, now)).toBe("Every account is restricted — reactivate one on the Accounts page");
    expect(waitingText(w("no_accounts", null), undefined, now)).toMatch(/^No account can work on this task/);
    expect(waitingText(null)).toBeNull();
  });

  it("names an unusual cap window and copes without a resume time", () => {
    expect(waitingText(w("cap", at(2, 15, 0), 7200), undefined, now)).toBe("Waiting for the limit per 2 hours — resumes at 15:00");
    expect(waitingText(w("cap", null, 3600), undefined, now)).toBe("Waiting for the hourly limit");
  });

  it("says it in Russian", async () => {
    await i18n.changeLanguage("ru");
    expect(waitingText(w("cap", at(2, 14, 1), 3600), undefined, now)).toBe("Ждём часового лимита — продолжим в 14:01");
    expect(waitingText(w("send_window", at(7, 9, 0)), undefined, now)).toBe("Сейчас не время отправки — продолжим в пн 09:00");
  });

  it("gives each account its own short hold", () => {
    expect(laneWaitingText(w("cap", at(2, 14, 1), 3600), undefined, now)).toBe("At the hourly limit until 14:01");
    expect(laneWaitingText(w("flood_wait", at(2, 13, 30)), undefined, now)).toBe("Waiting out a FLOOD_WAIT until 13:30");
    expect(laneWaitingText(null)).toBeNull();
  });
});
