"""Operator clarity in a real Chromium (frontend/e2e/clarity.mjs): a task waiting on its hourly cap says
why and until when in its header and on its account's card; the failures' breakdown by reason is in words
and a click narrows the audience to that reason; the live log names the target; the Russian page.

Screenshots go to test-artifacts/screenshots/ (and to $SHOTS_DIR when set).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from invite_service.sandbox.adapter import EMBEDDED_SEED
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import TargetFate, target_fate
from tests.ui.conftest import run_script, serving

USER = "clarity-operator"


def _names(fate: TargetFate, n: int) -> list[str]:
    """Usernames the embedded sandbox gives ``fate`` (it decides from the key alone)."""
    config = demo_config(EMBEDDED_SEED)
    names = (f"clarity_{i}" for i in range(10_000))
    return [name for name in names if target_fate(config, name) is fate][:n]


def _wait(c: httpx.Client, tid: str, ok: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90  # a guard against a hung run, not a timing assertion
    while True:
        task: dict[str, Any] = c.get(f"/api/v1/tasks/{tid}").json()
        if ok(task):
            return task
        assert time.monotonic() < deadline, f"{what}: {task}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def clarity_server(browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-clarity")
    env = {"INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}"}
    with serving(env, tmp / "server.log") as base:
        yield base


def _tasks(base: str, privacy: list[str]) -> tuple[str, str]:
    """A finished task with privacy refusals, and a task at its hourly cap of 1 (3 targets)."""
    with httpx.Client(base_url=base, timeout=10) as c:
        token = c.post("/api/v1/auth/dev-login", json={"user": USER}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        accounts = c.get("/api/v1/accounts", params={"platform": "sandbox"}).json()
        ids = [a["id"] for a in (accounts["items"] if isinstance(accounts, dict) else accounts)]
        assert len(ids) >= 2, ids

        def task(name: str, account: str, names: list[str], settings: dict[str, object]) -> str:
            created = c.post(
                "/api/v1/tasks",
                json={
                    "name": name,
                    "platform": "sandbox",
                    "action": "invite",
                    "destination": "@clarity_chat",
                    "account_ids": [account],
                    "settings": settings,
                },
            )
            assert created.is_success, created.text
            tid = str(created.json()["id"])
            added = c.post(
                f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": [{"username": n} for n in names]}
            )
            assert added.is_success, added.text
            started = c.post(f"/api/v1/tasks/{tid}/start")
            assert started.is_success, started.text
            return tid

        refused = task("Refusals", ids[0], privacy + _names(TargetFate.OK, 2), {})
        _wait(c, refused, lambda t: t["status"] == "completed", "the refusals task did not complete")
        capped = task("At its cap", ids[1], _names(TargetFate.OK, 5)[2:5], {"caps": {"invites_per_hour": 1}})
        waiting = _wait(
            c,
            capped,
            lambda t: (t.get("waiting") or {}).get("reason") == "cap",
            "the capped task never waited on its cap",
        )
        assert waiting["waiting"]["window_seconds"] == 3600
    return refused, capped


def test_clarity_in_chromium(clarity_server: str, browser_tools: dict[str, str]) -> None:
    privacy = _names(TargetFate.PRIVACY, 2)
    refused, capped = _tasks(clarity_server, privacy)
    output = run_script(
        "clarity.mjs",
        clarity_server,
        browser_tools,
        user=USER,
        capped=capped,
        refused=refused,
        privacy=",".join(privacy),
    )
    assert "clarity: passed" in output
