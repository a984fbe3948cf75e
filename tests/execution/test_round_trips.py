"""Round trips per send, counted (issue 17 item 1): a count, never a timing.

One ``process_batch`` job sends N targets on one account with the caps lifted (windows still checked),
in the production shape of the send path: the Redis limiter and Redis locks over a counting client.
Counted on the database engine: every statement (``before_cursor_execute``), every BEGIN, COMMIT and
ROLLBACK, and every liveness ping (``dialect.do_ping``: ``pool_pre_ping``'s, or ours after an idle
spell). Counted on Redis: every command the limiter and the locks send, and every progress event (one
PUBLISH each in production).

``pytest -s`` prints the per-send figures; the asserts hold them to the committed bounds.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy import event, func, select

from invite_service.config import PlatformCaps, Settings
from invite_service.execution import batch, engine
from invite_service.execution.jobspec import PROCESS_BATCH
from invite_service.kit.locks import EXTEND_LUA, RELEASE_LUA, RedisLockManager
from invite_service.kit.progress import LocalProgressBus
from invite_service.limits.redis import ACQUIRE_LUA, RedisRateLimiter
from invite_service.models import ContactMark, ExecutionLog, Lane, RateLimitLedger
from invite_service.models.enums import TargetStatus
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import TargetFate, target_fate
from invite_service.stores import in_flight, send_path
from invite_service.workers.jobs import run_job
from tests.conftest import REDIS_URL, require_service
from tests.execution.harness import SEED, Harness, make_harness

pytestmark = pytest.mark.asyncio

N = 20  # sends in the measured batch
# The committed bounds, per send, with the per-batch work (task, policy, targets, re-dispatch) shared out.
# PostgreSQL: BEGIN, the gate's SELECT, the ledger INSERT, one statement for "sending" + counters + contact
# mark, COMMIT; BEGIN, the task and lane (locked), one statement for the outcome + counters + log + lane,
# COMMIT = 9, plus the batch's share. SQLite has no data-modifying CTEs: those two statements are 3 and 4.
# The SQL limiter (no Redis) adds its lock and its count of the window.
MAX_DB_ROUND_TRIPS = {
    ("postgresql", "redis"): 10.0,
    ("postgresql", "sql"): 12.0,
    ("sqlite", "redis"): 15.0,
    ("sqlite", "sql"): 17.0,
}
MAX_PUBLISHES = 1.0  # one progress event per send (a PUBLISH in production)
LIFTED = PlatformCaps(
    invites_per_hour=100_000, invites_per_day=1_000_000, messages_per_hour=100_000, messages_per_day=1_000_000
)


class CountingRedis(Redis):
    """A client that counts each command it sends, by name (scripts arrive here as EVALSHA)."""

    commands: Counter[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands[str(args[0]).upper()] += 1
        return await super().execute_command(*args, **options)


class CountingBus(LocalProgressBus):
    published = 0

    async def publish(self, task_id: uuid.UUID, event: dict[str, Any]) -> None:
        self.published += 1
        await super().publish(task_id, event)


class DbCounter:
    """Round trips on one engine: statements, transaction control, pre-pings."""

    def __init__(self, h: Harness) -> None:
        self.counts: Counter[str] = Counter()
        self.on = False
        sync = h.rt.db.engine.sync_engine

        def count(kind: str) -> None:
            if self.on:
                self.counts[kind] += 1

        event.listen(sync, "before_cursor_execute", lambda *a, **k: count("statement"))
        event.listen(sync, "begin", lambda *a: count("begin"))
        event.listen(sync, "commit", lambda *a: count("commit"))
        event.listen(sync, "rollback", lambda *a: count("rollback"))
        # Liveness pings (pool_pre_ping's on every checkout, or ours after an idle spell) go through here.
        ping = sync.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            count("ping")
            return bool(ping(dbapi_connection))

        sync.dialect.do_ping = counted_ping  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def ok_names(n: int) -> list[str]:
    """Usernames the simulator accepts at once: every send takes the plain path."""
    config = demo_config(SEED)
    names = (f"round_trip_{i}" for i in range(100_000))
    accepted = (name for name in names if target_fate(config, name) is TargetFate.OK)
    return [next(accepted) for _ in range(n)]


@pytest.fixture
async def redis() -> AsyncIterator[CountingRedis]:
    require_service("Redis", "127.0.0.1", 6379)
    client = CountingRedis.from_pool(BlockingConnectionPool.from_url(REDIS_URL, max_connections=10))
    client.commands = Counter()
    yield client
    prefix = getattr(client, "test_prefix", None)
    if prefix:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    await client.aclose()


@pytest.mark.parametrize("limiter", ["redis", "sql"])
async def test_round_trips_per_send(db_url: str, redis: CountingRedis, limiter: str) -> None:
    settings = Settings(
        database_url=db_url, log_level="WARNING", platform_caps={"sandbox": LIFTED}, batch_size=N
    )
    h = await make_harness(db_url, settings=settings)
    try:
        prefix = f"test:rt:{uuid.uuid4().hex[:10]}:"
        redis.test_prefix = prefix  # type: ignore[attr-defined]
        if limiter == "redis":
            h.rt.limiter = RedisRateLimiter(redis, prefix=prefix + "rl:", rebuild_grace_seconds=0)
        h.rt.locks = RedisLockManager(redis, prefix=prefix + "lock:", renew=False)
        bus = CountingBus()
        h.rt.progress = bus
        if isinstance(h.rt.limiter, RedisRateLimiter):
            async with h.rt.db.session() as s:  # the limiter is whole (nothing to rebuild): no grace
                await h.rt.limiter.rebuild_from_ledger(s, h.clock.now())

        [account] = await h.accounts(1)
        task_id = await h.task(N, [account], usernames=ok_names(N))
        await h.control(task_id, "start")
        await engine.tick(h.rt)  # enqueues the dispatch
        await engine.dispatch(h.rt, str(task_id))  # reserves all N for the lane, enqueues the batch
        [job] = [j for _due, _seq, j in h.queue._heap if j.name == PROCESS_BATCH]
        assert len(job.kwargs["target_ids"]) == N

        # The server's script cache is warm in a running deployment (a cold one costs a NOSCRIPT and a
        # SCRIPT LOAD once per script and server, not per send): warm it, so the count does not depend on
        # whether an earlier test, or a Redis restart, left these scripts cached.
        for script in (ACQUIRE_LUA, RELEASE_LUA, EXTEND_LUA):
            await redis.script_load(script)
        db = DbCounter(h)
        redis.commands.clear()
        bus.published = 0
        db.on = True
        await run_job(h.rt, job.name, job.kwargs)
        db.on = False
        commands = Counter(redis.commands)  # before the checks below use the client

        # Everything a send writes was written, once per send.
        states = await h.target_states(task_id)
        assert states == {TargetStatus.INVITED.value: N}, states
        assert await h.counters(task_id) == states
        assert len(h.simulator.ledger()) == N
        async with h.rt.db.session() as s:
            lane = await s.get(Lane, (task_id, account))
            assert lane is not None and lane.sent == N and lane.last_used_at is not None
            logged = await s.scalar(
                select(func.count()).where(ExecutionLog.task_id == task_id, ExecutionLog.action == "invite")
            )
            ledger_ids = list(
                await s.scalars(select(RateLimitLedger.id).where(RateLimitLedger.task_id == task_id))
            )
            marks = await s.scalar(select(func.count()).where(ContactMark.task_id == task_id))
        assert logged == N and len(ledger_ids) == N and marks == N
        if isinstance(h.rt.limiter, RedisRateLimiter):  # each ledger row is one member, under its id
            members = await redis.zrange(h.rt.limiter.key(account, "invite"), 0, -1)
            assert sorted(m.decode() for m in members) == sorted(f"l:{i}" for i in ledger_ids)

        per_db = db.total / N
        scripts = commands["EVALSHA"] + commands["EVAL"]
        print(
            f"\n[round trips] {h.rt.db.backend}, {limiter} limiter, {N} sends in one batch: "
            f"{per_db:.2f} database round trips per send {dict(db.counts)}; "
            f"{sum(commands.values()) / N:.2f} Redis commands per send {dict(commands)}; "
            f"{bus.published / N:.2f} progress events per send"
        )
        assert per_db <= MAX_DB_ROUND_TRIPS[(h.rt.db.backend, limiter)], dict(db.counts)
        # Redis: one EVALSHA per send with the Redis limiter; the account lock's SET and release per batch.
        assert scripts <= (N if limiter == "redis" else 0) + 1, commands
        assert sum(commands.values()) - scripts <= 1, commands
        assert bus.published / N <= MAX_PUBLISHES
    finally:
        await h.rt.db.dispose()


async def test_a_pause_committed_after_the_gate_still_stops_the_send(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate's read is not the fence: ``sending`` is set only while the task still runs, in the same
    statement, so a pause that commits between the gate and the mark always wins."""
    [account] = await h.accounts(1)
    task_id = await h.task(1, [account], usernames=ok_names(1))
    await h.control(task_id, "start")
    now = h.clock.now()
    async with h.rt.db.session() as s:
        ids = await in_flight.reserve(s, task_id, account, 1, now, now + timedelta(minutes=5))
    real_gate = send_path.gate

    async def gate_then_pause(*args: Any, **kwargs: Any) -> send_path.Gate | None:
        checks = await real_gate(*args, **kwargs)
        await h.control(task_id, "pause")  # another session's pause commits right after the checks
        return checks

    monkeypatch.setattr(send_path, "gate", gate_then_pause)
    await batch.process_batch(h.rt, task_id, account, ids)

    assert h.simulator.platform_calls() == []
    assert await h.target_states(task_id) == {TargetStatus.PENDING.value: 1}
    async with h.rt.db.session() as s:
        assert await s.scalar(select(func.count()).where(RateLimitLedger.task_id == task_id)) == 0
        assert await s.scalar(select(func.count()).where(ContactMark.task_id == task_id)) == 0
