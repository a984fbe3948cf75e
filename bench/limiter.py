"""`python -m bench.limiter`: acquire p50/p99 and acquires/s on Redis and on SQL (PostgreSQL), each as a
ratio to a bare Redis INCR round trip and a bare `SELECT 1` measured in the same run."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import redis.asyncio as aioredis
from sqlalchemy import text

from bench.common import summary, temp_postgres
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.limits.base import RateLimiter, Window
from invite_service.limits.redis import RedisRateLimiter
from invite_service.limits.sql import SqlRateLimiter
from invite_service.migrations import runner

N = 2000
REDIS_URL = "redis://127.0.0.1:6379/14"
# Generous caps: the benchmark measures the decision, not denials.
WINDOWS = [Window(3600, 1_000_000), Window(86_400, 10_000_000)]


async def _timed(fn, n: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    samples = []
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        await fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    return samples, n / (time.perf_counter() - t0)


async def _acquires(db: Database, limiter: RateLimiter) -> tuple[list[float], float]:
    account = f"bench-{uuid.uuid4().hex[:8]}"
    start = utcnow()

    async def one(i: int) -> None:
        async with (
            db.sessionmaker() as s,
            limiter.acquire(s, account, "invite", WINDOWS, start + timedelta(milliseconds=i)) as decision,
        ):
            assert decision.granted
            await s.commit()

    return await _timed(one, N)


async def run(pg_url: str) -> None:
    runner.upgrade(pg_url)
    db = Database(pg_url, pool_size=5)
    client = aioredis.from_url(REDIS_URL)

    async def incr(_: int) -> None:
        await client.incr("bench:incr")

    async def select1(_: int) -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    for fn in (incr, select1):  # warm up pools
        await _timed(fn, 100)
    incr_s, incr_rate = await _timed(incr, N)
    sel_s, sel_rate = await _timed(select1, N)
    redis_limiter = RedisRateLimiter(
        client, prefix=f"bench:rl:{uuid.uuid4().hex[:6]}:", rebuild_grace_seconds=0
    )
    red_s, red_rate = await _acquires(db, redis_limiter)
    sql_s, sql_rate = await _acquires(db, SqlRateLimiter())
    i, s, r, q = summary(incr_s), summary(sel_s), summary(red_s), summary(sql_s)
    print(f"\n[limiter] {N} sequential acquires each (ledger row committed per acquire)")
    print(f"  Redis INCR (baseline)     p50 {i['p50']:6.3f} ms  p99 {i['p99']:6.3f} ms  {incr_rate:8.0f}/s")
    print(f"  SELECT 1 (baseline)       p50 {s['p50']:6.3f} ms  p99 {s['p99']:6.3f} ms  {sel_rate:8.0f}/s")
    print(
        f"  acquire on Redis          p50 {r['p50']:6.3f} ms  p99 {r['p99']:6.3f} ms  {red_rate:8.0f}/s"
        f"  = {r['p50'] / i['p50']:.1f}x INCR p50, {r['p50'] / s['p50']:.1f}x SELECT 1 p50"
    )
    print(
        f"  acquire on SQL (PG)       p50 {q['p50']:6.3f} ms  p99 {q['p99']:6.3f} ms  {sql_rate:8.0f}/s"
        f"  = {q['p50'] / s['p50']:.1f}x SELECT 1 p50"
    )
    await client.aclose()
    await db.dispose()


def main() -> None:
    with temp_postgres() as pg:
        asyncio.run(run(pg))


if __name__ == "__main__":
    main()
