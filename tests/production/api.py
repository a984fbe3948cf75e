"""The test's side of a production-shape run: the Invite API (in process) and what it checks at the end."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from invite_service.config import PlatformCaps
from invite_service.sandbox.model import AccountLimits, LedgerEntry, find_window_breaches
from tests.production.stack import Stack, user_headers

FINAL = {"invited", "messaged", "already_member", "failed", "skipped"}
IN_FLIGHT = {"reserved", "sending"}


class Api:
    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack, self.client = stack, client
        self.user = f"prod-{uuid.uuid4().hex[:8]}"
        self.h = user_headers(stack.settings(), self.user)

    async def call(self, method: str, path: str, *, timeout: float = 120, **kwargs: Any) -> Any:
        """One API call, retried while the service answers 5xx (a backend restarting under it)."""
        deadline = time.monotonic() + timeout
        while True:
            resp = await self.client.request(method, f"/api/v1{path}", headers=self.h, **kwargs)
            if resp.status_code < 500 or time.monotonic() > deadline:
                assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
                return resp.json()
            await asyncio.sleep(0.5)

    async def task(self, n: int, prefix: str = "member", **over: Any) -> str:
        accounts = await self.accounts()
        body = {
            "name": f"{prefix} task",
            "platform": "telegram",
            "action": "invite",
            "destination": "@prod_chat",
            "account_ids": [a["id"] for a in accounts],
            **over,
        }
        tid = str((await self.call("POST", "/tasks", json=body))["id"])
        rows = [{"username": f"{prefix}_{i:05d}"} for i in range(n)]
        out = await self.call("POST", f"/tasks/{tid}/targets/bulk", json={"targets": rows})
        assert out["created"] == n
        return tid

    async def accounts(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/accounts", params={"platform": "telegram"}))["items"])

    async def start(self, tid: str) -> None:
        await self.call("POST", f"/tasks/{tid}/start")

    async def get(self, tid: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/tasks/{tid}"))

    async def states(self, tid: str) -> dict[str, int]:
        stats = await self.call("GET", f"/tasks/{tid}/targets/stats")
        return {k: v for k, v in stats["by_status"].items() if v}

    async def wait(self, tid: str, status: str, timeout: float) -> dict[str, Any]:
        async def reached() -> bool:
            return bool((await self.get(tid))["status"] == status)

        await self.until(reached, timeout, f"task {tid} {status}")
        return await self.get(tid)

    async def until(self, check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
        """Poll an observable condition; on the deadline, fail with what the processes logged."""
        deadline = time.monotonic() + timeout
        while not await check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout:g} s: {what}\n{self.stack.log_tail()}")
            await asyncio.sleep(0.5)

    async def ledger_at_least(self, n: int, timeout: float = 180) -> int:
        """Wait until the platform has acted ``n`` times (in a thread: the sandbox is another process)."""
        seen = 0

        async def enough() -> bool:
            nonlocal seen
            seen = len(await asyncio.to_thread(self.stack.ledger))
            return seen >= n

        await self.until(enough, timeout, f"{n} platform actions")
        return seen


def entries(stack: Stack) -> list[LedgerEntry]:
    return [LedgerEntry(**{**e, "at": datetime.fromisoformat(e["at"])}) for e in stack.ledger()]


def limits(caps: PlatformCaps) -> AccountLimits:
    return AccountLimits(
        invites_per_hour=caps.invites_per_hour,
        invites_per_day=caps.invites_per_day,
        messages_per_hour=caps.messages_per_hour,
        messages_per_day=caps.messages_per_day,
    )


async def assert_accounted(api: Api, tid: str, total: int, *, allowed: set[str]) -> dict[str, int]:
    """Nothing lost, nothing sent twice, no cap breached: the promises every run must keep."""
    task, states = await api.get(tid), await api.states(tid)
    assert set(states) <= allowed, states
    assert sum(states.values()) == total, states
    assert {k: v for k, v in task["counters"].items() if v and k != "total"} == states
    ledger = entries(api.stack)
    report = api.stack.admin("GET", "/ledger")
    assert report["double_sends"] == 0, "a target was acted on twice"
    # Stricter: a refused call (privacy, a missing invitee) is an action on the person too.
    assert report["repeated_calls"] == 0, "the platform was asked twice about one target"
    assert len({(e.account_id, e.target) for e in ledger}) == len(ledger)
    assert len({e.target for e in ledger}) == len(ledger), "one person, two accounts"
    assert find_window_breaches(ledger, limits(api.stack.caps)) == []
    # Every confirmed invite is one platform action; an `unknown` may or may not have been one.
    added = sum(1 for e in ledger if e.result == "added")
    assert states.get("invited", 0) <= added <= states.get("invited", 0) + states.get("unknown", 0)
    return states
