"""RateLimiter acceptance: SQL backend (SQLite, PostgreSQL) and Redis backend.

Time comes from a simulated clock (passed as ``now``); nothing here sleeps to move time.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import select

from invite_service.db import Database
from invite_service.kit.clock import SimulatedClock
from invite_service.limits import (
    REASON_RATE_LIMITED,
    REASON_UNAVAILABLE,
    Decision,
    GrantNotCommitted,
    RateLimiter,
    SqlRateLimiter,
    Window,
)
from invite_service.limits.redis import RedisRateLimiter
from invite_service.models.activity import RateLimitLedger
from tests.conftest import CI, REDIS_URL, free_port, port_open, require_service

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
TELEGRAM_INVITES = (Window(3600, 5), Window(86400, 50))
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


def new_account() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}"


async def take(
    db: Database,
    limiter: RateLimiter,
    account: str,
    now: datetime,
    windows: Sequence[Window] = TELEGRAM_INVITES,
) -> Decision:
    """One acquire the way the engine does it: its own session, committed inside the block."""
    async with (
        db.sessionmaker() as session,
        limiter.acquire(session, account, "invite", windows, now) as decision,
    ):
        await session.commit()
    return decision


# Acquires in flight at once: each holds a pooled database connection for its whole transaction, so
# more than the smallest pool here (PostgreSQL's test pool: 5 + 5 overflow) would queue on the pool's
# own 30 s timeout, which a busy machine reaches. Still concurrent transactions, contending for real.
IN_FLIGHT = 10


async def take_all(
    db: Database, limiter: RateLimiter, account: str, moments: Sequence[datetime]
) -> list[Decision]:
    """``take`` at every moment, concurrently, never more at once than the pool holds."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(now: datetime) -> Decision:
        async with gate:
            return await take(db, limiter, account, now)

    return list(await asyncio.gather(*(one(now) for now in moments)))


async def ledger_times(db: Database, account: str) -> list[datetime]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(RateLimitLedger.at)
            .where(RateLimitLedger.account_id == account)
            .order_by(RateLimitLedger.at)
        )
        return list(rows)


async def delete_prefix(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require_service("Redis", "127.0.0.1", 6379)
    # A blocking pool: 1,000 concurrent calls wait for a connection instead of failing (closed).
    client = Redis.from_pool(BlockingConnectionPool.from_url(REDIS_URL, max_connections=50))
    yield client
    await client.aclose()


@pytest.fixture
async def redis_limiter(redis_client: Redis) -> AsyncIterator[RedisRateLimiter]:
    prefix = f"test:rl:{uuid.uuid4().hex[:10]}:"  # our own namespace: never FLUSHDB a shared db
    yield RedisRateLimiter(redis_client, prefix=prefix, rebuild_grace_seconds=0)
    await delete_prefix(redis_client, prefix)


@pytest.fixture(params=["sql", "redis"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "sql":
        return SqlRateLimiter()
    limiter: RateLimiter = request.getfixturevalue("redis_limiter")
    return limiter


@pytest.fixture(scope="session")
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    yield db
    await db.dispose()


async def test_concurrent_acquires_grant_exactly_the_limit(database: Database, limiter: RateLimiter) -> None:
    account = new_account()
    # Separate sessions, concurrent: on PostgreSQL these are concurrent transactions.
    decisions = await take_all(database, limiter, account, [T0] * 1000)
    granted = [d for d in decisions if d.granted]
    denied = [d for d in decisions if not d.granted]
    assert len(granted) == 5
    assert len({d.ledger_id for d in granted}) == 5
    assert {(d.reason, d.retry_at) for d in denied} == {(REASON_RATE_LIMITED, T0 + HOUR)}
    assert len(await ledger_times(database, account)) == 5


async def test_two_processes_on_one_database_grant_exactly_the_limit(db_url: str) -> None:
    # Two engines and two limiters share nothing in memory, as two worker processes would:
    # only the database lock (advisory lock / SQLite's write lock) keeps them apart.
    first, second = Database(db_url), Database(db_url)
    try:
        account = new_account()
        pairs = [(first, SqlRateLimiter()), (second, SqlRateLimiter())]
        decisions = [
            d
            for many in await asyncio.gather(*(take_all(db, lim, account, [T0] * 300) for db, lim in pairs))
            for d in many
        ]
        assert sum(d.granted for d in decisions) == 5
        assert len(await ledger_times(first, account)) == 5
    finally:
        await first.dispose()
        await second.dispose()


async def test_windows_are_sliding_and_all_or_nothing(database: Database, limiter: RateLimiter) -> None:
    account = new_account()
    windows = (Window(60, 2), Window(600, 3))
    for offset in (0, 30):
        assert (await take(database, limiter, account, T0 + timedelta(seconds=offset), windows)).granted
    # Minute window full until the first entry is 60 s old: exactly T0+60 s.
    blocked = await take(database, limiter, account, T0 + timedelta(seconds=59), windows)
    assert (blocked.granted, blocked.retry_at) == (False, T0 + timedelta(seconds=60))
    assert (await take(database, limiter, account, T0 + timedelta(seconds=60), windows)).granted
    # At 100 s the minute window has room (one entry) but the 10-minute one is full (three):
    # denied until the longer window frees a slot, and the denial took no slot in the shorter one.
    now = T0 + timedelta(seconds=100)
    blocked = await take(database, limiter, account, now, windows)
    assert (blocked.granted, blocked.retry_at) == (False, T0 + timedelta(seconds=600))
    assert len(await ledger_times(database, account)) == 3
    async with database.sessionmaker() as session:
        usage = await limiter.usage(session, account, "invite", windows, now)
    assert [(u.used, u.remaining, u.resets_at) for u in usage] == [
        (1, 1, T0 + timedelta(seconds=120)),
        (3, 0, T0 + timedelta(seconds=600)),
    ]


async def test_refund_frees_the_slot(database: Database, limiter: RateLimiter) -> None:
    account = new_account()
    grants = [await take(database, limiter, account, T0) for _ in range(5)]
    assert all(d.granted for d in grants)
    assert not (await take(database, limiter, account, T0)).granted
    async with database.sessionmaker() as session:
        assert await limiter.refund(session, grants[2])
        await session.commit()
    assert len(await ledger_times(database, account)) == 4
    again = await take(database, limiter, account, T0)
    assert again.granted
    assert not (await take(database, limiter, account, T0)).granted
    async with database.sessionmaker() as session:
        assert not await limiter.refund(session, grants[2])  # already gone
        assert await limiter.refund(session, again.ledger_id or 0)
        await session.commit()
    assert (await take(database, limiter, account, T0)).granted


async def test_a_grant_not_committed_in_the_block_is_given_back(
    database: Database, limiter: RateLimiter
) -> None:
    account = new_account()
    windows = (Window(3600, 1),)

    async def forget_to_commit() -> None:
        async with database.sessionmaker() as session:
            try:
                async with limiter.acquire(session, account, "invite", windows, T0) as decision:
                    assert decision.granted
            finally:
                await session.commit()  # too late: the grant was rolled back with the lock

    async def fail_before_commit() -> None:
        async with (
            database.sessionmaker() as session,
            limiter.acquire(session, account, "invite", windows, T0) as decision,
        ):
            assert decision.granted
            raise LookupError("the block failed before its commit")

    with pytest.raises(GrantNotCommitted):
        await forget_to_commit()
    with pytest.raises(LookupError):
        await fail_before_commit()
    assert await ledger_times(database, account) == []
    assert (await take(database, limiter, account, T0, windows)).granted


# --- 48 simulated hours of random arrivals -------------------------------------------------

Arrival = tuple[int, int]  # (microseconds after the previous arrival, how many times it retries)
SECOND = 1_000_000
arrivals_strategy = st.lists(
    st.tuples(
        st.one_of(
            st.integers(0, 120 * SECOND), st.integers(0, 1800 * SECOND), st.integers(0, 6 * 3600 * SECOND)
        ),
        st.integers(0, 2),
    ),
    max_size=80,
)
GREEDY = -1


async def simulate(
    db: Database, limiter: RateLimiter, arrivals: Sequence[Arrival], greedy_from: int | None
) -> list[datetime]:
    """Run arrivals for 48 h; returns the granted instants. Denied arrivals retry at retry_at.

    ``greedy_from`` (seconds): one client that starts then, retries every denial and comes
    straight back after every grant (as a busy lane does), so the hour and day caps are
    actually reached. Whenever nothing was granted between a denial and its retry, the retry
    must succeed and an acquire 1 µs earlier must not.
    """
    account, clock, end = new_account(), SimulatedClock(T0), T0 + 2 * DAY
    # (at, seq, retries left, grants seen at the denial this retries; None for a fresh arrival)
    queue: list[tuple[datetime, int, int, int | None]] = []
    at = T0
    for seq, (gap, retries) in enumerate(arrivals):
        at += timedelta(microseconds=gap)
        heapq.heappush(queue, (at, seq, retries, None))
    if greedy_from is not None:
        heapq.heappush(queue, (T0 + timedelta(seconds=greedy_from), GREEDY, 0, None))
    granted: list[datetime] = []
    seq = len(arrivals)
    while queue:
        at, client, retries, grants_seen = heapq.heappop(queue)
        if at >= end:
            continue
        clock.set(at)
        untouched = grants_seen is not None and grants_seen == len(granted)
        if untouched:
            early = await take(db, limiter, account, clock.now() - US)
            assert not early.granted, "retry_at is not the earliest instant"
        decision = await take(db, limiter, account, clock.now())
        seq += 1
        if decision.granted:
            granted.append(at)
            if client == GREEDY:
                heapq.heappush(queue, (at, GREEDY, 0, None))
            continue
        assert not untouched, "acquiring at retry_at failed although nothing else was granted"
        assert decision.reason == REASON_RATE_LIMITED
        assert decision.retry_at is not None
        assert decision.retry_at > at
        if client == GREEDY or retries:
            heapq.heappush(
                queue, (decision.retry_at, client if client == GREEDY else seq, retries - 1, len(granted))
            )
    assert await ledger_times(db, account) == granted
    return granted


def assert_within_caps(granted: Sequence[datetime]) -> None:
    """Every sliding window ending at a grant (the only places a count can peak) stays within caps."""
    for i, at in enumerate(granted):
        assert i + 1 - bisect.bisect_right(granted, at - HOUR) <= 5, f"hour cap breached at {at}"
        assert i + 1 - bisect.bisect_right(granted, at - DAY) <= 50, f"day cap breached at {at}"


simulation_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
greedy_strategy = st.one_of(st.none(), st.integers(0, 24 * 3600))


@simulation_settings
@given(arrivals=arrivals_strategy, greedy_from=greedy_strategy)
async def test_random_arrivals_never_breach_the_caps_sql(
    sqlite_db: Database, arrivals: list[Arrival], greedy_from: int | None
) -> None:
    assert_within_caps(await simulate(sqlite_db, SqlRateLimiter(), arrivals, greedy_from))


@simulation_settings
@given(arrivals=arrivals_strategy, greedy_from=greedy_strategy)
async def test_random_arrivals_never_breach_the_caps_redis(
    sqlite_db: Database, redis_limiter: RedisRateLimiter, arrivals: list[Arrival], greedy_from: int | None
) -> None:
    # Every example uses a fresh account, so the shared namespace needs no reset between them.
    assert_within_caps(await simulate(sqlite_db, redis_limiter, arrivals, greedy_from))


async def test_a_greedy_client_gets_exactly_the_caps(sqlite_db: Database, limiter: RateLimiter) -> None:
    # 5 an hour for 10 hours, then nothing until the first ones are a day old: 50 a day, twice.
    granted = await simulate(sqlite_db, limiter, [], greedy_from=0)
    assert len(granted) == 100
    assert_within_caps(granted)
    assert granted[50] == T0 + DAY


# --- Redis specifics -------------------------------------------------------------------------


async def test_redis_down_denies_every_acquire(sqlite_db: Database) -> None:
    if shutil.which("redis-server") is None:
        if CI:
            pytest.fail("redis-server is not installed; CI=true requires it")
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--daemonize", "no", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    client = Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)
    try:
        for _ in range(200):
            if port_open("127.0.0.1", port):
                break
            await asyncio.sleep(0.05)
        limiter = RedisRateLimiter(client, timeout=1.0, rebuild_grace_seconds=0)
        account = new_account()
        assert (await take(sqlite_db, limiter, account, T0)).granted
        server.kill()
        await server.wait()
        # Times at which the limiter would grant: only Redis being gone can deny them.
        moments = [T0 + HOUR * i + timedelta(seconds=s) for i in range(1, 6) for s in range(10)]
        decisions = await asyncio.gather(*(take(sqlite_db, limiter, account, m) for m in moments))
        assert [d.granted for d in decisions] == [False] * len(moments)
        assert {d.reason for d in decisions} == {REASON_UNAVAILABLE}
        assert all(d.retry_at is not None and d.retry_at > T0 for d in decisions)
        assert len(await ledger_times(sqlite_db, account)) == 1
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        await client.aclose()


async def test_rebuild_from_ledger_gives_the_same_decisions(database: Database, redis_client: Redis) -> None:
    prefix = f"test:rebuild:{uuid.uuid4().hex[:10]}:"
    limiter = RedisRateLimiter(redis_client, prefix=prefix, rebuild_grace_seconds=0)
    account, rng = new_account(), random.Random(20260105)
    try:
        # 30 h of history ending in a burst that fills the hour, then 20 h of later arrivals.
        history = sorted(T0 + timedelta(seconds=rng.randrange(30 * 3600)) for _ in range(150))
        history += [T0 + timedelta(hours=30, seconds=i) for i in range(6)]
        for at in history:
            await take(database, limiter, account, at)
        cutover = T0 + timedelta(hours=30, minutes=1)
        later = [cutover, *sorted(cutover + timedelta(seconds=rng.randrange(20 * 3600)) for _ in range(120))]

        before = [await take(database, limiter, account, at) for at in later]
        assert not before[0].granted  # the history matters to what comes next
        assert any(d.granted for d in before)
        async with database.sessionmaker() as session:  # put the history back as it was
            for decision in before:
                if decision.granted:
                    assert await limiter.refund(session, decision)
            await session.commit()

        await delete_prefix(redis_client, prefix)  # Redis lost everything under our namespace
        async with database.sessionmaker() as session:
            assert await limiter.rebuild_from_ledger(session, cutover) > 0
        key = limiter.key(account, "invite")
        recent = [at for at in await ledger_times(database, account) if at > cutover - DAY - HOUR]
        assert await redis_client.zcard(key) == len(recent)

        after = [await take(database, limiter, account, at) for at in later]
        assert [(d.granted, d.retry_at, d.reason) for d in after] == [
            (d.granted, d.retry_at, d.reason) for d in before
        ]
    finally:
        await delete_prefix(redis_client, prefix)


async def test_redis_losing_its_data_denies_for_a_grace_then_rebuilds_from_the_ledger(
    sqlite_db: Database, redis_client: Redis
) -> None:
    """A restart or flush empties Redis: nothing may be granted from the empty state."""
    prefix = f"invite:rl:t{uuid.uuid4().hex[:8]}:"
    limiter = RedisRateLimiter(redis_client, prefix=prefix, rebuild_grace_seconds=3)
    async with sqlite_db.session() as s:
        await limiter.rebuild_from_ledger(s, T0)
    account = new_account()
    for i in range(5):  # fill the hour
        assert (await take(sqlite_db, limiter, account, T0 + timedelta(seconds=i))).granted
    async for key in redis_client.scan_iter(match=f"{prefix}*"):  # what a restart does
        await redis_client.delete(key)
    later = T0 + timedelta(seconds=10)
    waiting = await take(sqlite_db, limiter, account, later)
    assert not waiting.granted
    assert waiting.reason == "limiter_rebuilding"
    assert waiting.retry_at == later + timedelta(seconds=3)
    after = await take(sqlite_db, limiter, account, later + timedelta(seconds=4))
    assert not after.granted, "the rebuilt state still counts the five grants from the ledger"
    assert after.reason == "rate_limited"
    assert (await take(sqlite_db, limiter, account, T0 + HOUR + timedelta(seconds=1))).granted


async def test_the_acquire_that_rebuilds_does_not_count_its_own_ledger_row(
    sqlite_db: Database, redis_client: Redis
) -> None:
    """The ledger row is inserted before the script runs, so the rebuild it triggers reads that row too; it
    must not count once from the rebuild and again as the new entry (the fifth of five is granted)."""
    prefix = f"invite:rl:t{uuid.uuid4().hex[:8]}:"
    limiter = RedisRateLimiter(redis_client, prefix=prefix, rebuild_grace_seconds=3)
    try:
        async with sqlite_db.session() as s:
            await limiter.rebuild_from_ledger(s, T0)
        account = new_account()
        for i in range(4):
            assert (await take(sqlite_db, limiter, account, T0 + timedelta(seconds=i))).granted
        await delete_prefix(redis_client, prefix)  # Redis lost everything
        later = T0 + timedelta(seconds=10)
        assert (await take(sqlite_db, limiter, account, later)).reason == "limiter_rebuilding"
        fifth = await take(sqlite_db, limiter, account, later + timedelta(seconds=4))
        assert fifth.granted, fifth
        members = await redis_client.zrange(limiter.key(account, "invite"), 0, -1)
        assert len(members) == 5 == len(await ledger_times(sqlite_db, account))
        assert f"l:{fifth.ledger_id}".encode() in members
        assert not (await take(sqlite_db, limiter, account, later + timedelta(seconds=5))).granted
    finally:
        await delete_prefix(redis_client, prefix)
