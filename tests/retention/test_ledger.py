"""The ledger after retention: rows no window can see are gone, rows inside a window still count.

Sends go through the real limiter at simulated instants; the sweep runs at ``NOW``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from invite_service.context.runtime import Runtime
from invite_service.limits import REASON_RATE_LIMITED, Decision, RateLimiter, Window
from invite_service.limits.caps import windows_for
from invite_service.limits.ledger import last_action_at
from invite_service.limits.redis import RedisRateLimiter
from invite_service.models.activity import RateLimitLedger
from invite_service.models.enums import Step
from invite_service.models.task_settings import TaskSettings
from invite_service.retention.policy import sweep
from tests.conftest import REDIS_URL, require_service
from tests.retention.conftest import NOW, clock

SPACING = timedelta(minutes=13)  # under the hourly cap (5 an hour), so only the daily cap (50) binds


def invite_windows(rt: Runtime) -> list[Window]:
    return windows_for(rt.settings.caps_for("telegram"), TaskSettings(), Step.INVITE)


async def take(rt: Runtime, limiter: RateLimiter, account: str, at: datetime) -> Decision:
    """One acquire the way the engine does it: its own session, committed inside the block."""
    async with (
        rt.db.sessionmaker() as session,
        limiter.acquire(session, account, "invite", invite_windows(rt), at) as decision,
    ):
        await session.commit()
    return decision


async def ledger(rt: Runtime, account: str) -> list[datetime]:
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(RateLimitLedger.at)
            .where(RateLimitLedger.account_id == account)
            .order_by(RateLimitLedger.at)
        )
        return list(rows)


async def fill(rt: Runtime, account: str, start: datetime, count: int) -> list[datetime]:
    stamps = [start + i * SPACING for i in range(count)]
    for at in stamps:
        assert (await take(rt, rt.limiter, account, at)).granted
    return stamps


async def at_cap_with_history(rt: Runtime) -> tuple[str, str, list[datetime]]:
    """``busy``: a day's sends three days ago, then 50 sends (the daily cap) in the last 11 hours.
    ``idle``: one send 49 h ago (past a day + 24 h slack) and one 47 h ago (inside the slack)."""
    busy, idle = f"acct-{uuid.uuid4().hex[:8]}", f"acct-{uuid.uuid4().hex[:8]}"
    await fill(rt, busy, NOW - timedelta(days=3), 10)
    await fill(rt, idle, NOW - timedelta(hours=49), 1)
    await fill(rt, idle, NOW - timedelta(hours=47), 1)
    recent = await fill(rt, busy, NOW - 50 * SPACING, 50)
    clock(rt).set(NOW)
    return busy, idle, recent


async def test_the_sweep_keeps_the_window_and_an_account_at_its_cap_stays_at_cap(rt: Runtime) -> None:
    busy, idle, recent = await at_cap_with_history(rt)
    before = await take(rt, rt.limiter, busy, NOW)
    assert not before.granted

    counts = await sweep(rt)

    assert counts["rate_limit_ledger"] == 11  # 10 of three days ago, 1 of 49 h ago
    assert await ledger(rt, busy) == recent
    assert await ledger(rt, idle) == [NOW - timedelta(hours=47)]
    after = await take(rt, rt.limiter, busy, NOW)
    assert not after.granted and after.reason == REASON_RATE_LIMITED
    assert after.retry_at == before.retry_at == recent[0] + timedelta(days=1)
    async with rt.db.session() as session:
        usage = await rt.limiter.usage(session, busy, "invite", invite_windows(rt), NOW)
    assert [(u.seconds, u.used) for u in usage] == [(3600, 4), (86_400, 50)]
    # A second sweep finds nothing more: the rows left are all inside a day + slack.
    assert (await sweep(rt))["rate_limit_ledger"] == 0


async def test_pacing_still_reads_the_latest_send_after_the_sweep(rt: Runtime) -> None:
    busy, idle, recent = await at_cap_with_history(rt)
    await sweep(rt)
    # execution/batch.py paces an account by its latest ledger row (min_delay is seconds, a row is kept
    # for a day + slack), so the sweep never moves it.
    async with rt.db.session() as session:
        assert await last_action_at(session, busy) == recent[-1]
        assert await last_action_at(session, idle) == NOW - timedelta(hours=47)


async def test_slack_is_configurable_and_a_row_just_inside_it_stays(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"retention_ledger_slack_hours": 2.0})
    account = f"acct-{uuid.uuid4().hex[:8]}"
    await fill(rt, account, NOW - timedelta(hours=25, minutes=59), 1)  # inside a day + 2 h
    await fill(rt, account, NOW - timedelta(hours=26, minutes=1), 1)  # past it
    counts = await sweep(rt)
    assert counts["rate_limit_ledger"] == 1
    assert await ledger(rt, account) == [NOW - timedelta(hours=25, minutes=59)]


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require_service("Redis", "127.0.0.1", 6379)
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def _delete_prefix(client: Redis, prefix: str) -> None:
    keys: Sequence[bytes] = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


async def test_redis_rebuilt_from_the_swept_ledger_still_denies_at_cap(
    rt: Runtime, redis_client: Redis
) -> None:
    busy, _idle, recent = await at_cap_with_history(rt)
    await sweep(rt)
    # A restart with an empty Redis: the limiter's state comes back from what the sweep left.
    prefix = f"test:retention:{uuid.uuid4().hex[:10]}:"
    limiter = RedisRateLimiter(redis_client, prefix=prefix, rebuild_grace_seconds=0)
    try:
        async with rt.db.session() as session:
            loaded = await limiter.rebuild_from_ledger(session, NOW)
        assert loaded == 50  # the idle account's row of 47 h ago is older than Redis keeps (a day + 1 h)
        denied = await take(rt, limiter, busy, NOW)
        assert not denied.granted and denied.reason == REASON_RATE_LIMITED
        assert denied.retry_at == recent[0] + timedelta(days=1)
        async with rt.db.session() as session:
            total = await session.scalar(select(func.count()).select_from(RateLimitLedger))
        assert total == 51
    finally:
        await _delete_prefix(redis_client, prefix)
