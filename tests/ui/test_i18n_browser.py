"""The UI in Russian, in a real Chromium (frontend/e2e/i18n.mjs): switched with the header's language switch,
the main pages (tasks list, a task page with targets and stats, the task form, accounts, the opt-out list,
settings, and the sign-in page after signing out) show no English string of the catalogue. The script reads
the catalogues itself (frontend/src/i18n/locales/{en,ru}/*.json): every English value whose Russian differs,
longer than 3 characters once its placeholders are taken out, must not appear in the page's visible text.

INVITE_I18N_PAGES (comma-separated page names) limits the walk, e.g. while another branch still translates
a page; unset, every page is walked.

The accounts page (frontend/e2e/accounts.mjs) lists the user's sandbox accounts marked as simulated, with
their usage per window counting the sends of a task that ran on them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.ui.conftest import run_script, serving

NAMES = [f"i18n_walk_{i}" for i in range(4)]


@pytest.fixture(scope="module")
def i18n_server(browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-i18n")
    with serving({"INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}"}, tmp / "server.log") as base:
        yield base


def _ran_task(base: str, user: str) -> tuple[str, list[str]]:
    """A sandbox invite task run to completion (so it has targets, outcomes and stats), and an opt-out entry
    for every platform; returns the task id and the user's sandbox account ids."""
    with httpx.Client(base_url=base, timeout=10) as c:
        token = c.post("/api/v1/auth/dev-login", json={"user": user}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        accounts = [
            a["id"] for a in c.get("/api/v1/accounts", params={"platform": "sandbox"}).json()["items"]
        ]
        assert accounts, "the sandbox gives every user accounts"
        created = c.post(
            "/api/v1/tasks",
            json={
                "name": "i18n-walk",
                "platform": "sandbox",
                "action": "invite",
                "destination": "@i18n_walk_chat",
                "account_ids": accounts,
            },
        )
        assert created.status_code == 201, created.text
        tid = str(created.json()["id"])
        added = c.post(
            f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": [{"username": n} for n in NAMES]}
        )
        assert added.is_success, added.text
        assert c.post(f"/api/v1/tasks/{tid}/start").is_success
        deadline = time.monotonic() + 90  # a guard against a hung run, not a timing assertion
        while c.get(f"/api/v1/tasks/{tid}").json()["status"] != "completed":
            assert time.monotonic() < deadline, "the task did not complete"
            time.sleep(0.2)
        entry = c.post(
            "/api/v1/suppressions", json={"username": "i18n_optout", "reason": "opt_out", "source": "ui"}
        )
        assert entry.status_code == 201, entry.text
        assert entry.json()["platform"] is None
    return tid, accounts


def test_russian_ui_shows_no_english(i18n_server: str, browser_tools: dict[str, str]) -> None:
    user = f"ui-i18n-{uuid.uuid4().hex[:8]}"
    tid, _ = _ran_task(i18n_server, user)
    pages = os.environ.get("INVITE_I18N_PAGES", "")
    output = run_script("i18n.mjs", i18n_server, browser_tools, user=user, task=tid, pages=pages)
    assert "i18n: passed" in output, output[-4000:]


def test_accounts_page_lists_sandbox_accounts_as_simulated(
    i18n_server: str, browser_tools: dict[str, str]
) -> None:
    user = f"ui-accounts-{uuid.uuid4().hex[:8]}"
    tid, accounts = _ran_task(i18n_server, user)
    output = run_script(
        "accounts.mjs", i18n_server, browser_tools, user=user, task=tid, accounts=",".join(accounts)
    )
    assert "accounts: passed" in output, output[-4000:]
