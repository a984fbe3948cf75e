"""The same engine as production runs it: Celery worker processes on RabbitMQ, Redis limits and locks,
PostgreSQL, and the Integration Service over real HTTP. Crashes are real SIGKILLs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from invite_service.config import PlatformCaps
from invite_service.main import create_app
from invite_service.sandbox.model import AccountLimits, LedgerEntry, find_window_breaches
from tests.conftest import free_port, fresh_postgres, require_service
from tests.production.stack import Stack, children, running_stack, user_headers

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
FINAL = {"invited", "messaged", "already_member", "failed", "skipped"}


@pytest.fixture(autouse=True)
def _services() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    require_service("RabbitMQ", "127.0.0.1", 5672)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of this module's own: the workers and beat here work every due task they can see."""
    with fresh_postgres("invite_prod") as url:
        yield url


class Api:
    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack, self.client = stack, client
        self.user = f"prod-{uuid.uuid4().hex[:8]}"
        self.h = user_headers(stack.settings(), self.user)

    async def task(self, n: int, prefix: str = "member", **over: Any) -> str:
        accounts = (
            await self.client.get("/api/v1/accounts", params={"platform": "telegram"}, headers=self.h)
        ).json()
        body = {
            "name": f"{prefix} task",
            "platform": "telegram",
            "action": "invite",
            "destination": "@prod_chat",
            "account_ids": [a["id"] for a in accounts],
            **over,
        }
        resp = await self.client.post("/api/v1/tasks", json=body, headers=self.h)
        assert resp.status_code == 201, resp.text
        tid = str(resp.json()["id"])
        rows = [{"username": f"{prefix}_{i:05d}"} for i in range(n)]
        out = (
            await self.client.post(
                f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=self.h
            )
        ).json()
        assert out["created"] == n
        return tid

    async def start(self, tid: str) -> None:
        resp = await self.client.post(f"/api/v1/tasks/{tid}/start", headers=self.h)
        assert resp.status_code == 200, resp.text

    async def get(self, tid: str) -> dict[str, Any]:
        return dict((await self.client.get(f"/api/v1/tasks/{tid}", headers=self.h)).json())

    async def wait(self, tid: str, status: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        task = await self.get(tid)
        while time.monotonic() < deadline and task["status"] != status:
            await asyncio.sleep(0.5)
            task = await self.get(tid)
        assert task["status"] == status, f"{task['status']} {task['counters']}\n{self.stack.log_tail()}"
        return task

    async def states(self, tid: str) -> dict[str, int]:
        stats = (await self.client.get(f"/api/v1/tasks/{tid}/targets/stats", headers=self.h)).json()
        return {k: v for k, v in stats["by_status"].items() if v}


@pytest.fixture
async def api_for(postgres_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    apps: list[Any] = []

    async def make(stack: Stack) -> Api:
        app = create_app(stack.settings())
        apps.append(app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://prod")
        return Api(stack, client)

    yield make
    for app in apps:
        await app.state.runtime.aclose()
        await app.state.db.dispose()


def entries(stack: Stack) -> list[LedgerEntry]:
    return [LedgerEntry(**{**e, "at": datetime.fromisoformat(e["at"])}) for e in stack.ledger()]


def limits(caps: PlatformCaps) -> AccountLimits:
    return AccountLimits(
        invites_per_hour=caps.invites_per_hour,
        invites_per_day=caps.invites_per_day,
        messages_per_hour=caps.messages_per_hour,
        messages_per_day=caps.messages_per_day,
    )


async def test_celery_workers_run_a_task_to_completion(
    postgres_url: str, tmp_path: Path, api_for: Any
) -> None:
    with running_stack(postgres_url, tmp_path) as stack:
        stack.start_worker(concurrency=2)
        stack.start_beat()
        api = await api_for(stack)
        tid = await api.task(200)
        await api.start(tid)
        task = await api.wait(tid, "completed", timeout=180)
        states = await api.states(tid)
        assert set(states) <= FINAL
        assert sum(states.values()) == 200
        assert {k: v for k, v in task["counters"].items() if v and k != "total"} == states
        ledger = entries(stack)
        assert stack.admin("GET", "/ledger")["double_sends"] == 0
        assert len({e.target for e in ledger}) == len(ledger)
        assert find_window_breaches(ledger, limits(stack.caps)) == []
        assert states.get("invited", 0) == sum(1 for e in ledger if e.result == "added")


async def test_sigkilled_workers_never_cause_a_double_send(
    postgres_url: str, tmp_path: Path, api_for: Any
) -> None:
    with running_stack(postgres_url, tmp_path) as stack:
        worker = stack.start_worker(concurrency=2)
        stack.start_beat()
        stack.admin("POST", "/faults/latency", params={"seconds": 0.05})  # the platform acts, then answers
        api = await api_for(stack)
        tid = await api.task(300)
        await api.start(tid)
        kills = 0
        seen: dict[int, float] = {}
        deadline = time.monotonic() + 90
        while not stack.ledger() and time.monotonic() < deadline:  # the pool is up and sending
            await asyncio.sleep(0.2)
        while kills < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for pid in children(worker.pid):
                seen.setdefault(pid, now)
            # Only a child that has been up a while: killing one mid-start stops Celery's pool itself.
            ready = [pid for pid in children(worker.pid) if now - seen[pid] > 1.5]
            if ready:
                os.kill(ready[0], signal.SIGKILL)
                kills += 1
        assert kills >= 10, "the worker had no child processes to kill"
        during = len(stack.ledger())
        task = await api.wait(tid, "completed", timeout=240)
        states = await api.states(tid)
        print(
            f"\n{kills} SIGKILLs while {during} of 300 were sent; final {states}; "
            f"unknown: {states.get('unknown', 0)}"
        )
        assert during < 300, "the kills all came after the run"
        assert set(states) <= FINAL | {"unknown"}
        assert sum(states.values()) == 300
        assert {k: v for k, v in task["counters"].items() if v and k != "total"} == states
        assert stack.admin("GET", "/ledger")["double_sends"] == 0, "a target was acted on twice"


async def test_redis_restart_mid_run_breaches_no_window(
    postgres_url: str, tmp_path: Path, api_for: Any
) -> None:
    port = free_port()
    redis_cmd = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    caps = PlatformCaps(invites_per_hour=15, invites_per_day=1000, messages_per_day=1000, min_delay_seconds=0)
    try:
        time.sleep(0.5)
        with running_stack(
            postgres_url, tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", caps=caps
        ) as stack:
            stack.start_worker(concurrency=2)
            stack.start_beat()
            api = await api_for(stack)
            tid = await api.task(100)
            await api.start(tid)
            deadline = time.monotonic() + 60
            while len(stack.ledger()) < 20 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            at_restart = len(stack.ledger())
            redis.kill()
            redis.wait()
            redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # A lane denied while Redis was down retries after the limiter's unavailable delay
            # (30 s): wait for the run to move again, then until the hourly caps are used up.
            deadline = time.monotonic() + 90
            while len(stack.ledger()) <= at_restart and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            last, quiet_since = -1, time.monotonic()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and time.monotonic() - quiet_since < 10:
                await asyncio.sleep(1)
                now = len(stack.ledger())
                if now != last:
                    last, quiet_since = now, time.monotonic()
            ledger = entries(stack)
            per_account = Counter(e.account_id for e in ledger)
            print(
                f"\nRedis restarted after {at_restart} actions; per account afterwards: {dict(per_account)}"
            )
            assert find_window_breaches(ledger, limits(caps)) == []
            state = stack.admin("GET", "/state")
            assert not [a for a in state.get("accounts", []) if a.get("state") == "restricted"]
            assert len(ledger) > at_restart, "the run went on after Redis came back"
            assert (await api.get(tid))["status"] == "running"  # waiting for the hour to pass
    finally:
        redis.kill()
        redis.wait()


async def test_high_priority_batches_run_first_on_a_shared_worker(
    postgres_url: str, tmp_path: Path, api_for: Any
) -> None:
    with running_stack(postgres_url, tmp_path) as stack:
        api = await api_for(stack)
        low = await api.task(40, prefix="lo", priority="low")
        high = await api.task(40, prefix="hi", priority="high")
        await api.start(low)  # both queued before any worker consumes
        await api.start(high)
        stack.start_worker(concurrency=1)
        await api.wait(high, "completed", timeout=120)
        await api.wait(low, "completed", timeout=120)
        order = [e.target.split("_")[0] for e in sorted(entries(stack), key=lambda e: e.seq)]
        assert order[: order.count("hi")] == ["hi"] * order.count("hi"), order
