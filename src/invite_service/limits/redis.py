"""Rate limits in Redis: one Lua script per acquire over a hash-tagged sorted set per key.

Layout: ``<prefix>{acct:<account_id>}:<action>`` is a sorted set of entries scored by their
instant in integer microseconds (exact in a double until the year 2255). The hash tag puts an
account's keys in one cluster slot. ``acquire.lua`` trims entries no window can see, checks
every window and adds the entry atomically, so no lock is needed around it.

The ledger row is still added to the caller's session (the ledger is the source of truth).
It is inserted first, so the script adds the member ``l:<ledger id>`` at once (one EVALSHA per
acquire, no rename), the name ``refund`` and ``rebuild_from_ledger`` address it by. A denied
acquire deletes its row again (the denial path pays the extra statement). Rebuilding only adds
``l:<id>`` members (idempotent): it never removes an entry, so running it while other workers
acquire can over-count for a while but never under-count. A crash between the script and the
commit leaves ``l:<id>`` without a row: an over-count that ages out (and if SQLite hands the id
out again, the new grant takes that member over, which is exactly the ledger's count).

Redis unreachable, erroring or slower than ``timeout`` ⇒ the acquire is denied with
``limiter_unavailable`` (fail closed). Every other Redis failure leaves an extra entry
behind at worst: an over-count that ages out with its window. Give it a client on a
``BlockingConnectionPool``: a plain pool raises when all its connections are busy, which
here means a denial.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.limits.base import (
    DAY_SECONDS,
    REASON_RATE_LIMITED,
    REASON_UNAVAILABLE,
    Decision,
    RateLimiter,
    Window,
)
from invite_service.limits.ledger import live_rows_query
from invite_service.models.activity import RateLimitLedger

log = structlog.get_logger(__name__)

ACQUIRE_LUA = Path(__file__).with_name("acquire.lua").read_text(encoding="utf-8")
REBUILDING, REBUILD_NOW = 2, 3  # the script's answers while an account's entries are being restored
REASON_REBUILDING = "limiter_rebuilding"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Entries are kept this much longer than the longest window: a worker whose clock runs ahead
# must not trim entries that a worker whose clock lags still counts.
CLOCK_SLACK = timedelta(hours=1)
_FAILURES = (RedisError, OSError, TimeoutError)


def to_us(when: datetime) -> int:
    return (when - EPOCH) // MICROSECOND


def from_us(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class RedisRateLimiter(RateLimiter):
    """The production limiter; ``prefix`` namespaces every key it touches (no braces in it)."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "invite:rl:",
        max_window_seconds: int = DAY_SECONDS,
        timeout: float = 2.0,
        unavailable_retry_seconds: float = 30.0,
        rebuild_grace_seconds: float = 3.0,
    ) -> None:
        super().__init__(max_window_seconds=max_window_seconds)
        if "{" in prefix or "}" in prefix:
            raise ValueError("the prefix must not contain braces: the hash tag is {acct:<id>}")
        self._client = client
        self.prefix = prefix
        self._timeout = timeout
        self._unavailable_retry = timedelta(seconds=unavailable_retry_seconds)
        # Longer than any grant takes to commit its ledger row (milliseconds in practice).
        self._rebuild_grace = timedelta(seconds=rebuild_grace_seconds)
        self._retention = timedelta(seconds=max_window_seconds) + CLOCK_SLACK
        self._ttl_ms = int(self._retention / timedelta(milliseconds=1))
        self._acquire_script = client.register_script(ACQUIRE_LUA)

    def key(self, account_id: str, action: str) -> str:
        return f"{self.prefix}{{acct:{account_id}}}:{action}"

    def ready_key(self, account_id: str) -> str:
        return f"{self.prefix}{{acct:{account_id}}}:ready"

    @property
    def generation_key(self) -> str:
        # One key outside the accounts' hash slots: a single Redis node (or Sentinel), not Cluster.
        return f"{self.prefix}generation"

    def _account_guard(self, session: AsyncSession, account_id: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()  # the script is atomic; no lock to hold

    async def _decide(
        self,
        session: AsyncSession,
        account_id: str,
        action: str,
        windows: tuple[Window, ...],
        now: datetime,
        task_id: uuid.UUID | None,
        target_id: int | None,
    ) -> Decision:
        key = self.key(account_id, action)
        # The row first: its id names the script's member, so no second call renames it.
        row = RateLimitLedger(
            account_id=account_id, action=action, at=now, task_id=task_id, target_id=target_id
        )
        session.add(row)
        await session.flush()
        member = f"l:{row.id}"
        now_us = to_us(now)
        grace_until = to_us(now + self._rebuild_grace)
        args: list[str | int] = [now_us, member, to_us(now - self._retention), self._ttl_ms, grace_until]
        for window in windows:
            length = window.seconds * 1_000_000
            args += [length, window.limit, f"({now_us - length}"]
        keys = [key, self.ready_key(account_id), self.generation_key]
        try:
            async with asyncio.timeout(self._timeout):
                granted, value = await self._acquire_script(keys=keys, args=args)
            if granted == REBUILD_NOW:
                await self.rebuild_from_ledger(session, now)
                # The rebuild read this session's own new row too: take it out, the script adds it back
                # only if granted.
                await self._remove(key, member)
                async with asyncio.timeout(self._timeout):
                    granted, value = await self._acquire_script(keys=keys, args=args)
        except _FAILURES as exc:
            log.warning("rate_limiter_unavailable", account_id=account_id, error=type(exc).__name__)
            await self._withdraw(session, row)
            return Decision(granted=False, retry_at=now + self._unavailable_retry, reason=REASON_UNAVAILABLE)
        except BaseException:
            await self._remove(key, member)  # the script may have run: give its slot back
            raise
        if granted in (REBUILDING, REBUILD_NOW):
            await self._withdraw(session, row)
            return Decision(
                granted=False,
                retry_at=from_us(int(value)) if value else now + self._rebuild_grace,
                reason=REASON_REBUILDING,
            )
        if not granted:
            await self._withdraw(session, row)
            retry_at = from_us(int(value)) if int(value) >= 0 else None
            return Decision(granted=False, retry_at=retry_at, reason=REASON_RATE_LIMITED)
        return Decision(granted=True, ledger_id=row.id)

    @staticmethod
    async def _withdraw(session: AsyncSession, row: RateLimitLedger) -> None:
        """A denied acquire leaves no ledger row behind, whatever the caller then commits."""
        await session.execute(delete(RateLimitLedger).where(RateLimitLedger.id == row.id))
        session.expunge(row)

    async def _forget(self, account_id: str, action: str, ledger_id: int) -> None:
        await self._remove(self.key(account_id, action), f"l:{ledger_id}")

    async def _remove(self, key: str, member: str) -> None:
        await self._call(self._client.zrem(key, member), "remove")

    async def _call(self, command: Awaitable[Any], what: str) -> None:
        """Best effort: a failure only leaves an extra entry behind (an over-count)."""
        try:
            async with asyncio.timeout(self._timeout):
                await command
        except _FAILURES as exc:
            log.warning("rate_limiter_redis_failed", operation=what, error=type(exc).__name__)

    async def rebuild_from_ledger(self, session: AsyncSession, now: datetime, *, batch: int = 1000) -> int:
        """Load the ledger rows still inside any window into Redis; returns how many were loaded.

        Run it at start-up (and after Redis lost its data). Redis errors propagate: a limiter
        that could not be rebuilt must not look healthy. Reads only one longest window + slack back
        (by the ``at`` index), streamed ``batch`` rows at a time: neither the ledger's history nor its
        live size is ever held in memory at once (retention keeps a day + 24 h, a superset of this).
        """
        loaded, accounts = 0, set[str]()
        stream = await session.stream(
            live_rows_query(now - self._retention).execution_options(yield_per=batch)
        )
        async for rows in stream.partitions(batch):
            entries: dict[str, dict[str, int]] = defaultdict(dict)
            for ledger_id, account_id, action, at in rows:
                entries[self.key(account_id, action)][f"l:{ledger_id}"] = to_us(at)
                accounts.add(account_id)
            async with self._client.pipeline(transaction=False) as pipe:
                for key, members in entries.items():
                    pipe.zadd(key, members)
                    pipe.pexpire(key, self._ttl_ms)
                await pipe.execute()
            loaded += len(rows)
        # Every account with history is whole again; then the generation says so to every process.
        if accounts:
            await self._client.mset({self.ready_key(a): "ready" for a in accounts})
        await self._client.set(self.generation_key, "ready")
        log.info("rate_limiter_rebuilt", entries=loaded)
        return loaded
