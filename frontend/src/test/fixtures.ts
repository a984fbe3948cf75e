/** Objects as the API returns them, for component tests; override what a test is about. */
import type { Task } from "../api/hooks";

export const TASK_ID = "11111111-1111-1111-1111-111111111111";

export function makeTask(overrides: Partial<Task> = {}): Task {
  return {
    id: TASK_ID,
    name: "Webinar",
    description: null,
    platform: "sandbox",
    action: "invite",
    destination: "@chat",
    message_template: null,
    status: "draft",
    priority: "normal",
    account_ids: ["acc-1"],
    settings: {},
    scheduled_at: null,
    started_at: null,
    finished_at: null,
    pause_reason: null,
    version: 1,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    counters: { total: 10, pending: 10, reserved: 0, sending: 0, invited: 0, messaged: 0, already_member: 0, failed: 0, skipped: 0, unknown: 0 },
    progress: 0,
    waiting: null,
    ...overrides,
  };
}
