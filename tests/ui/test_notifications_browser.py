"""Notifications in a real Chromium (frontend/e2e/notifications.mjs): a task completing while the user is on
the tasks list shows the toast naming it, the Settings page lists a webhook created through the API with
its delivery, and Redeliver queues that delivery again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.ui.conftest import run_script, serving

NAMES = [f"notified_{i}" for i in range(3)]
# A private address: the operator setting below allows it. Nothing listens there, so the delivery is logged
# as failing (the log is what the page shows); the toast does not depend on it.
WEBHOOK_URL = "http://127.0.0.1:9/invite-hook"


@pytest.fixture(scope="module")
def notify_server(browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-notifications")
    env = {
        "INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}",
        "INVITE_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true",
    }
    with serving(env, tmp / "server.log") as base:
        yield base


def _draft_task_and_webhook(base: str, user: str, name: str) -> str:
    """A sandbox invite task with a few targets, left a draft (the browser script starts it); a webhook."""
    with httpx.Client(base_url=base, timeout=10) as c:
        token = c.post("/api/v1/auth/dev-login", json={"user": user}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        accounts = [
            a["id"] for a in c.get("/api/v1/accounts", params={"platform": "sandbox"}).json()["items"]
        ]
        created = c.post(
            "/api/v1/tasks",
            json={
                "name": name,
                "platform": "sandbox",
                "action": "invite",
                "destination": "@notify_chat",
                "account_ids": accounts,
            },
        )
        assert created.status_code == 201, created.text
        tid = str(created.json()["id"])
        added = c.post(
            f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": [{"username": n} for n in NAMES]}
        )
        assert added.is_success, added.text
        hook = c.post(
            "/api/v1/notifications/webhooks",
            json={"url": WEBHOOK_URL, "description": "Browser test", "event_types": ["task.completed"]},
        )
        assert hook.status_code == 201 and hook.json()["secret"].startswith("whsec_"), hook.text
    return tid


def test_notifications_in_chromium(notify_server: str, browser_tools: dict[str, str]) -> None:
    user = f"ui-notify-{uuid.uuid4().hex[:8]}"
    name = f"Notify {uuid.uuid4().hex[:6]}"
    tid = _draft_task_and_webhook(notify_server, user, name)
    output = run_script(
        "notifications.mjs", notify_server, browser_tools, user=user, task=tid, name=name, webhook=WEBHOOK_URL
    )
    assert "notifications: passed" in output, output[-4000:]
