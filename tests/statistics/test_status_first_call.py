"""The status's ETA on a task's first call: the ledger blocks are per account, so a page of tasks sharing
their accounts reads the ledger once (statistics/service.py ``_ledger``), and the answer is the one a fresh
read gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from invite_service.kit.memo import TtlMemo
from invite_service.models import RateLimitLedger
from tests.execution.harness import Harness, statements


async def status(api: httpx.AsyncClient, task_id: Any) -> dict[str, Any]:
    resp = await api.get(f"/api/v1/tasks/{task_id}/status")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_tasks_sharing_accounts_read_the_ledger_once(h: Harness, api: httpx.AsyncClient) -> None:
    accounts = await h.accounts(2)
    first, second = [await h.task(5, accounts, name=f"shares {i}") for i in range(2)]
    now = h.clock.now()
    async with h.rt.db.session() as s:  # calls of the last hours, so the caps hold the lanes back
        await s.execute(
            insert(RateLimitLedger),
            [
                {"account_id": a, "action": "invite", "at": now - timedelta(minutes=7 * i + 1)}
                for a in accounts
                for i in range(30)
            ],
        )
    with statements(h, containing="rate_limit_ledger") as reads:
        await status(api, first)
    assert reads, "the first task's status reads the ledger"
    with statements(h, containing="rate_limit_ledger") as reads:
        shared = await status(api, second)
    assert reads == [], "the second task's first status read the ledger again"

    h.rt.estimates = TtlMemo(ttl_seconds=10.0, max_entries=1024)  # nothing kept: a fresh read
    with statements(h, containing="rate_limit_ledger") as reads:
        fresh = await status(api, second)
    assert reads and fresh == shared
    assert any(lane["remaining_now"] is not None for lane in fresh["lanes"])

    h.clock.advance(3)  # past LEDGER_REUSE: read again
    with statements(h, containing="rate_limit_ledger") as reads:
        await status(api, first)
    assert reads, "blocks older than LEDGER_REUSE are read again"
