"""Replies in a real Chromium (frontend/e2e/replies.mjs): the task page shows the replies count beside its
chart, the audience marks who replied, and the suppressions page labels a "СТОП" reply's entry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from invite_service.sandbox.events import mint_integration_token
from tests.ui.conftest import run_script, serving

SECRET = "ui-replies-shared-secret-0123456789abcdef"
# The sandbox decides each person's fate from their key: with these names some are messaged.
NAMES = [f"replier_{i}" for i in range(6)]


@pytest.fixture(scope="module")
def events_server(browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-replies")
    env = {
        "INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}",
        "INVITE_INTEGRATION_TOKEN_SECRET": SECRET,
    }
    with serving(env, tmp / "server.log") as base:
        yield base


def _replied_task(base: str, user: str) -> str:
    """A sandbox message task run to completion; one messaged person replies "СТОП"."""
    with httpx.Client(base_url=base, timeout=10) as c:
        token = c.post("/api/v1/auth/dev-login", json={"user": user}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        accounts = [
            a["id"] for a in c.get("/api/v1/accounts", params={"platform": "sandbox"}).json()["items"]
        ]
        task = c.post(
            "/api/v1/tasks",
            json={
                "name": "Replies",
                "platform": "sandbox",
                "action": "message",
                "destination": "@replies_chat",
                "message_template": "Hello",
                "account_ids": accounts,
            },
        ).json()
        tid = task["id"]
        assert c.post(
            f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": [{"username": n} for n in NAMES]}
        ).is_success
        assert c.post(f"/api/v1/tasks/{tid}/start").is_success
        deadline = time.monotonic() + 60  # a guard against a hung run, not a timing assertion
        while c.get(f"/api/v1/tasks/{tid}").json()["status"] != "completed":
            assert time.monotonic() < deadline, "the task did not complete"
            time.sleep(0.1)
        target = next(
            t
            for t in c.get(f"/api/v1/tasks/{tid}/targets", params={"limit": 50}).json()["items"]
            if t["status"] == "messaged"
        )
        event = {
            "id": f"{target['account_id']}:{uuid.uuid4().hex}",
            "type": "message_received",
            "platform": "sandbox",
            "account_id": target["account_id"],
            "user_id": user,
            "peer": {"user_id": "777000111", "username": target["username"], "phone": None},
            "text": "СТОП",
            "message_id": 1,
            "date": "2026-12-02T12:00:00+00:00",
        }
        posted = c.post(
            "/api/v1/integration/events",
            json=event,
            headers={"Authorization": f"Bearer {mint_integration_token(SECRET)}"},
        )
        assert posted.status_code == 202 and posted.json()["replied_targets"] == 1, posted.text
    return str(tid)


def test_replies_in_chromium(events_server: str, browser_tools: dict[str, str]) -> None:
    user = f"ui-replies-{uuid.uuid4().hex[:8]}"
    tid = _replied_task(events_server, user)
    output = run_script("replies.mjs", events_server, browser_tools, user=user, task=tid)
    assert "replies: passed" in output, output[-4000:]
