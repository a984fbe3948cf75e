"""Redis, RabbitMQ and PostgreSQL restarted under a running task (DESIGN §5, issue 10 item 7).

Each test runs its own private instance of the service it restarts (never the shared one), real Celery
workers and beat, and the sandbox Integration Service. The service goes down once enough has been sent
that the run is under way, stays down for ``DOWN_SECONDS`` (long enough for sends and commits in flight
to hit it), and comes back on the same data. Then the run must finish by itself: nothing sent twice,
nothing lost, no cap breached. Logs of every process are in the test's ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from invite_service.config import PlatformCaps
from invite_service.context.jobs import Job
from invite_service.models.enums import Priority
from invite_service.workers.celery_app import CeleryJobQueue, make_celery_app
from tests.conftest import REDIS_URL
from tests.production.api import FINAL, IN_FLIGHT, Api, assert_accounted, entries
from tests.production.conftest import ApiFactory
from tests.production.services import (
    PrivatePostgres,
    PrivateRabbit,
    PrivateRedis,
    private_postgres,
    private_rabbit,
    private_redis,
)
from tests.production.stack import Stack, running_stack

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
DOWN_SECONDS = 3.0
TOTAL = 120
LATENCY = 0.2  # seconds the platform takes to answer: the run lasts long enough to be interrupted


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.fixture
def rabbit() -> Iterator[PrivateRabbit]:
    with private_rabbit() as node:
        yield node


@pytest.fixture
def pg() -> Iterator[PrivatePostgres]:
    with private_postgres() as cluster:  # a sync fixture: the migration runner runs its own loop
        yield cluster


async def _run_through_restart(
    stack: Stack, api: Api, stop: Callable[[], None], start: Callable[[], None]
) -> tuple[str, int]:
    """Start a task, restart the service once it is under way; returns the task id and sends before."""
    stack.start_worker(concurrency=2)
    stack.start_beat()
    stack.admin("POST", "/faults/latency", params={"seconds": LATENCY})
    tid = await api.task(TOTAL)
    await api.start(tid)
    at_restart = await api.ledger_at_least(TOTAL // 4)
    stop()
    await asyncio.sleep(DOWN_SECONDS)  # the outage itself: a fixed length of fault, not a wait for calm
    start()
    return tid, at_restart


async def _completes(api: Api, tid: str, at_restart: int, what: str) -> None:
    await api.wait(tid, "completed", timeout=600)
    states = await assert_accounted(api, tid, TOTAL, allowed=FINAL | {"unknown"})
    print(f"\n{what} restarted after {at_restart} of {TOTAL} actions; final {states}")
    assert at_restart < TOTAL, "the restart came after the run"


async def test_postgres_restart_mid_run(pg: PrivatePostgres, tmp_path: Path, api_for: ApiFactory) -> None:
    with running_stack(pg.url, tmp_path) as stack:
        api = await api_for(stack)
        tid, at_restart = await _run_through_restart(stack, api, pg.stop, pg.start)
        await _completes(api, tid, at_restart, "PostgreSQL")


async def test_rabbitmq_restart_mid_run(
    rabbit: PrivateRabbit, postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    with running_stack(postgres_url, tmp_path, broker_url=rabbit.url) as stack:
        api = await api_for(stack)
        tid, at_restart = await _run_through_restart(stack, api, rabbit.stop, rabbit.start)
        await _completes(api, tid, at_restart, "RabbitMQ")


async def test_queued_jobs_survive_a_broker_restart(
    rabbit: PrivateRabbit, postgres_url: str, tmp_path: Path
) -> None:
    """Durable queues and persistent messages: a job published before a restart still runs after it."""
    with running_stack(postgres_url, tmp_path, broker_url=rabbit.url) as stack:
        key = f"test:ping:{stack.queue_prefix}"
        queue = CeleryJobQueue(make_celery_app(stack.settings()))
        for priority in Priority:  # no worker yet: the jobs wait in the broker
            queue.send(Job("system.ping", {"key": key}, priority=priority))
        rabbit.stop()
        rabbit.start()
        stack.start_worker(concurrency=1)
        client = aioredis.from_url(REDIS_URL)
        try:
            deadline = time.monotonic() + 300
            while int(await client.get(key) or 0) < len(Priority) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            assert int(await client.get(key) or 0) == len(Priority), stack.log_tail()
        finally:
            await client.delete(key)
            await client.aclose()


async def test_redis_restart_mid_run_breaches_no_window(
    redis_server: PrivateRedis, postgres_url: str, tmp_path: Path, api_for: ApiFactory
) -> None:
    """Redis restarts empty: the limits must be rebuilt from the ledger, never granted from nothing.

    The caps bind (4 accounts x 15 an hour for 100 targets), so the run cannot complete within the
    hour: it has finished what it can once every account's hourly window is used up, as the API
    reports it, and nothing is reserved or being sent.
    """
    hourly, total = 15, 100
    capacity = 4 * hourly  # the sandbox gives each user four accounts
    caps = PlatformCaps(
        invites_per_hour=hourly, invites_per_day=1000, messages_per_day=1000, min_delay_seconds=0
    )
    with running_stack(postgres_url, tmp_path, redis_url=redis_server.url, caps=caps) as stack:
        stack.start_worker(concurrency=2)
        stack.start_beat()
        stack.admin("POST", "/faults/latency", params={"seconds": LATENCY})
        api = await api_for(stack)
        tid = await api.task(total)
        await api.start(tid)
        at_restart = await api.ledger_at_least(15)
        redis_server.stop()
        await asyncio.sleep(DOWN_SECONDS)
        redis_server.start()

        async def caps_used_up() -> bool:
            hourly = [
                w
                for account in await api.accounts()
                for w in account["usage"]
                if w["action"] == "invite" and w["window_seconds"] == 3600
            ]
            in_flight = set(await api.states(tid)) & IN_FLIGHT
            return len(hourly) == 4 and all(w["remaining"] == 0 for w in hourly) and not in_flight

        # A lane denied while Redis was down retries after the limiter's unavailable delay (30 s).
        await api.until(caps_used_up, 600, "every account's hourly window used up, nothing in flight")
        states = await assert_accounted(api, tid, total, allowed=FINAL | {"unknown", "pending"})
        ledger = entries(stack)
        print(
            f"\nRedis restarted after {at_restart} actions; per account: "
            f"{dict(Counter(e.account_id for e in ledger))}; final {states}"
        )
        assert at_restart < capacity, "the restart came after the caps were used up"
        assert len(ledger) > at_restart, "the run went on after Redis came back"
        assert states.get("pending", 0) >= total - capacity
        state = stack.admin("GET", "/state")
        assert not [a for a in state.get("accounts", []) if a.get("state") == "restricted"]
        assert (await api.get(tid))["status"] == "running"  # waiting for the hour to pass
