"""The ledger reads bounded to the live windows answer exactly what the unbounded reads answered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from invite_service.db import Database
from invite_service.limits.ledger import last_action_at
from invite_service.limits.redis import RedisRateLimiter
from invite_service.models import RateLimitLedger
from tests.conftest import REDIS_URL, require_service

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


async def add_rows(database: Database, account: str, *ats: datetime) -> list[int]:
    rows = [RateLimitLedger(account_id=account, action="invite", at=at) for at in ats]
    async with database.session() as s:
        s.add_all(rows)
        await s.flush()
        return [row.id for row in rows]


def paced(last: datetime | None, delay: int) -> datetime | None:
    """execution/batch.py's rule: the account may act again at ``last + delay`` if that is still ahead."""
    if last is not None and last + timedelta(seconds=delay) > NOW:
        return last + timedelta(seconds=delay)
    return None


async def test_pacing_read_after_now_minus_delay_paces_exactly_as_the_whole_history(
    database: Database,
) -> None:
    steady, skewed, silent = (f"acct-{uuid.uuid4().hex[:8]}" for _ in range(3))
    await add_rows(
        database, steady, NOW - timedelta(days=3), NOW - timedelta(seconds=100), NOW - timedelta(seconds=10)
    )
    # Another worker's clock ran ahead: a row dated after now still paces (never under-count).
    await add_rows(database, skewed, NOW - timedelta(seconds=40), NOW + timedelta(seconds=5))
    async with database.session() as s:
        for account in (steady, skewed, silent):
            whole = await last_action_at(s, account)
            for delay in (1, 5, 9, 10, 11, 30, 99, 100, 101, 3600):
                bounded = await last_action_at(s, account, since=NOW - timedelta(seconds=delay))
                assert paced(bounded, delay) == paced(whole, delay), (account, delay)
        assert await last_action_at(s, steady, since=NOW - timedelta(seconds=30)) == NOW - timedelta(
            seconds=10
        )
        assert await last_action_at(s, steady, since=NOW - timedelta(seconds=5)) is None  # too old to pace
        assert await last_action_at(s, skewed, since=NOW) == NOW + timedelta(seconds=5)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require_service("Redis", "127.0.0.1", 6379)
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_the_rebuild_streams_the_live_window_in_batches_and_nothing_older(
    database: Database, redis_client: Redis
) -> None:
    prefix = f"test:ledger-reads:{uuid.uuid4().hex[:10]}:"
    limiter = RedisRateLimiter(redis_client, prefix=prefix)  # keeps a day + 1 h
    busy, old = f"acct-{uuid.uuid4().hex[:8]}", f"acct-{uuid.uuid4().hex[:8]}"
    live = await add_rows(
        database,
        busy,
        *(NOW - timedelta(hours=h) for h in range(0, 25, 3)),  # 9 rows inside a day + 1 h
        NOW - timedelta(hours=24, minutes=59),
    )
    await add_rows(database, busy, NOW - timedelta(hours=25, minutes=1), NOW - timedelta(days=20))
    await add_rows(database, old, NOW - timedelta(days=2))
    try:
        async with database.session() as s:
            loaded = await limiter.rebuild_from_ledger(s, NOW, batch=2)  # several batches, one statement
        assert loaded >= len(live)
        members = await redis_client.zrange(limiter.key(busy, "invite"), 0, -1)
        assert sorted(m.decode() for m in members if isinstance(m, bytes)) == sorted(f"l:{i}" for i in live)
        assert await redis_client.get(limiter.ready_key(busy)) == b"ready"
        assert await redis_client.exists(limiter.key(old, "invite"), limiter.ready_key(old)) == 0
        assert await redis_client.get(limiter.generation_key) == b"ready"
    finally:
        keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await redis_client.delete(*keys)
