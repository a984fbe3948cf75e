"""`python -m bench.limiter`: one acquire (the decision plus its durable ledger row) on Redis and on SQL
(PostgreSQL), beside its floors and a peer, all measured in the same run:

- floors of one round trip: a Redis ``INCR``; ``SELECT 1`` on a raw asyncpg connection (no pool, no
  pre-ping, no BEGIN/COMMIT);
- the floor of the work itself: the ledger transaction (BEGIN, INSERT the ledger row, COMMIT, through the
  same session factory the limiters use) for SQL, and one ``EVALSHA`` (a script that returns at once) plus
  that transaction for Redis;
- the peer: the ``limits`` library's moving window on the same Redis (redis-py), one ``hit`` per window,
  plus the same ledger transaction.

The ledger is seeded first and ANALYZEd, so the SQL limiter is measured at a stated size: LEDGER_ACCOUNTS
accounts with LEDGER_PER_ACCOUNT rows each over the last day (a day's traffic at 50 invites per account).
The measured accounts start empty and gain one row per acquire. Redis: a database claimed for the run
(bench/common.py), flushed afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from bench.common import analyze, asyncpg_dsn, interleaved, redis_db, summary, temp_postgres
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.limits.base import RateLimiter, Window
from invite_service.limits.redis import RedisRateLimiter
from invite_service.limits.sql import SqlRateLimiter
from invite_service.migrations import runner
from invite_service.models import RateLimitLedger

N = 2000
LEDGER_ACCOUNTS = 10_000
LEDGER_PER_ACCOUNT = 50
# Generous caps: the benchmark measures the decision, not denials.
WINDOWS = [Window(3600, 1_000_000), Window(86_400, 10_000_000)]
PEER_ITEMS: list[RateLimitItem] = [parse("1000000/hour"), parse("10000000/day")]


async def seed_ledger(url: str) -> int:
    """LEDGER_ACCOUNTS x LEDGER_PER_ACCOUNT rows spread over the last day (COPY), then ANALYZE."""
    now = utcnow()
    step = timedelta(seconds=86_000 / LEDGER_PER_ACCOUNT)
    rows = [
        (f"seed-{a:05d}", "invite", now - step * (i + 1), None, None)
        for a in range(LEDGER_ACCOUNTS)
        for i in range(LEDGER_PER_ACCOUNT)
    ]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_records_to_table(
            "rate_limit_ledger", records=rows, columns=["account_id", "action", "at", "task_id", "target_id"]
        )
    finally:
        await conn.close()
    await analyze(url)
    return len(rows)


def _acquire(db: Database, limiter: RateLimiter) -> Callable[[int], Awaitable[None]]:
    """One acquire on a fresh account, committed: the decision and its ledger row."""
    account = f"bench-{uuid.uuid4().hex[:8]}"
    start = utcnow()

    async def one(i: int) -> None:
        async with (
            db.sessionmaker() as s,
            limiter.acquire(s, account, "invite", WINDOWS, start + timedelta(milliseconds=i)) as decision,
        ):
            assert decision.granted
            await s.commit()

    return one


def _ledger_txn(db: Database, account: str) -> Callable[[int], Awaitable[None]]:
    """The ledger transaction every variant pays: BEGIN, INSERT the row, COMMIT."""
    start = utcnow()

    async def write(i: int) -> None:
        async with db.sessionmaker() as s:
            s.add(RateLimitLedger(account_id=account, action="invite", at=start + timedelta(milliseconds=i)))
            await s.commit()

    return write


async def run(pg_url: str, redis_url: str) -> None:
    runner.upgrade(pg_url)
    ledger_rows = await seed_ledger(pg_url)
    db = Database(pg_url, pool_size=5)
    client = aioredis.from_url(redis_url)
    noop_sha = await client.script_load("return 1")
    prefix = f"bench:{uuid.uuid4().hex[:6]}:"

    async def incr(_: int) -> None:
        await client.incr(f"{prefix}incr")

    ledger_only = _ledger_txn(db, f"floor-{uuid.uuid4().hex[:6]}")
    floor_txn = _ledger_txn(db, f"floor-{uuid.uuid4().hex[:6]}")

    async def evalsha_and_ledger(i: int) -> None:
        await client.evalsha(noop_sha, 0)
        await floor_txn(i)

    peer = MovingWindowRateLimiter(
        RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=f"{prefix}limits".replace(":", "-")
        )
    )
    peer_account = f"peer-{uuid.uuid4().hex[:8]}"
    peer_txn = _ledger_txn(db, peer_account)

    async def peer_acquire(i: int) -> None:
        for item in PEER_ITEMS:  # every window, as ours checks
            assert await peer.hit(item, peer_account, "invite")
        await peer_txn(i)

    raw = await asyncpg.connect(asyncpg_dsn(pg_url))

    async def select1(_: int) -> None:
        await raw.fetchval("SELECT 1")

    redis_limiter = RedisRateLimiter(client, prefix=f"{prefix}rl:", rebuild_grace_seconds=0)
    variants = {
        "incr": incr,
        "select1": select1,
        "ledger": ledger_only,
        "floor": evalsha_and_ledger,
        "redis": _acquire(db, redis_limiter),
        "sql": _acquire(db, SqlRateLimiter()),
        "peer": peer_acquire,
    }
    # Warm up pools and scripts; the Redis limiter's first acquire rebuilds its windows from the whole
    # ledger (once per process), which is not what an acquire costs.
    for fn in variants.values():
        for k in range(50):
            await fn(-1 - k)
    out = await interleaved(variants, N)
    await raw.close()
    i, s, g, f = (summary(out[k][0]) for k in ("incr", "select1", "ledger", "floor"))
    r, q, p = (summary(out[k][0]) for k in ("redis", "sql", "peer"))

    def line(name: str, st: dict[str, float], rate: float, tail: str = "") -> None:
        per_s = f"{rate:8.0f}/s"
        print(f"  {name:<44} p50 {st['p50']:6.3f} ms  p99 {st['p99']:6.3f} ms  {per_s}{tail}")

    print(
        f"\n[limiter] {N} sequential calls each (10 interleaved rounds); windows 1 h + 1 day; ledger "
        f"{ledger_rows:,} rows ({LEDGER_ACCOUNTS:,} accounts x {LEDGER_PER_ACCOUNT}, the last day, ANALYZEd)"
    )
    line("floor: Redis INCR (1 round trip)", i, out["incr"][1])
    line("floor: SELECT 1, raw asyncpg (1 round trip)", s, out["select1"][1])
    line("floor: ledger BEGIN/INSERT/COMMIT (session)", g, out["ledger"][1])
    line("floor: EVALSHA + the ledger transaction", f, out["floor"][1])
    line(
        "ours: acquire on Redis",
        r,
        out["redis"][1],
        f"  = {r['p50'] / f['p50']:.2f}x the work floor, {r['p50'] / p['p50']:.2f}x the peer",
    )
    line(
        "ours: acquire on SQL (PostgreSQL)",
        q,
        out["sql"][1],
        f"  = {q['p50'] / g['p50']:.2f}x the ledger transaction, {q['p50'] / s['p50']:.0f}x SELECT 1",
    )
    line(
        f"peer: limits, {len(PEER_ITEMS)} hits + the ledger txn",
        p,
        out["peer"][1],
        f"  = {p['p50'] / f['p50']:.2f}x the work floor",
    )
    await client.aclose()
    await db.dispose()


def main() -> None:
    with temp_postgres() as pg, redis_db() as redis_url:
        asyncio.run(run(pg, redis_url))


if __name__ == "__main__":
    main()
