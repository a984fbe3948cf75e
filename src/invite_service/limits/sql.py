"""Rate limits counted in ``rate_limit_ledger`` under the account's lock (SQLite and PostgreSQL).

Why ``acquire`` is an async context manager and not a call that commits its own row: the
engine must write the ledger row and mark the target ``sending`` in one commit (so a crash
leaves the caps over-counted, never under-counted), yet the next acquire for the account must
not count before that commit is visible. So the lock is held for the caller's whole block
and the caller commits inside it:

* PostgreSQL: ``pg_advisory_xact_lock(namespace, hashtext(account_id))`` in the caller's
  transaction. Concurrent sessions and processes serialize on it, and PostgreSQL itself
  releases it at the caller's commit or rollback, which is exactly the instant the row
  becomes visible. Under READ COMMITTED (the default) the count that follows the lock sees
  the previous holder's commit. Requires READ COMMITTED: a REPEATABLE READ snapshot taken
  before the lock would miss it.
* SQLite: an in-process ``asyncio.Lock`` per account, released when the block ends (after the
  caller's commit), plus an empty ``UPDATE`` before the count. The UPDATE is our ``BEGIN
  IMMEDIATE``: it takes SQLite's single write lock first, so the count reads the newest data
  and no other connection, even in another process, can commit between the count and our
  commit. Consequence: call ``acquire`` before making other writes in the transaction, or a
  second acquirer waiting on SQLite's write lock while holding this account's asyncio lock
  can stall until ``busy_timeout``.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.limits.base import (
    DAY_SECONDS,
    REASON_RATE_LIMITED,
    Decision,
    RateLimiter,
    Window,
    evaluate,
    ledger_stamps,
)
from invite_service.models.activity import RateLimitLedger

# First key of the two-key advisory lock, so these locks never collide with other advisory locks.
ADVISORY_NAMESPACE = 0x524C  # "RL"
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:account_id))")
# Matches no row but still opens a write transaction (see the module docstring).
_SQLITE_WRITE_LOCK = text("UPDATE rate_limit_ledger SET id = id WHERE 0")


class SqlRateLimiter(RateLimiter):
    """The embedded default, and a fallback wherever Redis is not configured."""

    def __init__(self, *, max_window_seconds: int = DAY_SECONDS) -> None:
        super().__init__(max_window_seconds=max_window_seconds)
        # Weak values: an account's lock lives only while some acquire holds or awaits it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _local_lock(self, account_id: str) -> asyncio.Lock:
        lock = self._locks.get(account_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[account_id] = lock
        return lock

    def _account_guard(self, session: AsyncSession, account_id: str) -> AbstractAsyncContextManager[None]:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            return self._postgres_guard(session, account_id)
        if dialect == "sqlite":
            return self._sqlite_guard(session, account_id)
        raise ValueError(f"SqlRateLimiter supports SQLite and PostgreSQL, not {dialect}")

    @asynccontextmanager
    async def _postgres_guard(self, session: AsyncSession, account_id: str) -> AsyncIterator[None]:
        await session.execute(_PG_LOCK, {"namespace": ADVISORY_NAMESPACE, "account_id": account_id})
        yield  # released by PostgreSQL when the caller's transaction ends

    @asynccontextmanager
    async def _sqlite_guard(self, session: AsyncSession, account_id: str) -> AsyncIterator[None]:
        async with self._local_lock(account_id):
            await session.execute(_SQLITE_WRITE_LOCK)
            yield

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
        stamps: list[datetime] = []
        if windows:
            since = now - max(w.duration for w in windows)
            stamps = await ledger_stamps(session, account_id, action, since)
        allowed, retry_at = evaluate(stamps, windows, now)
        if not allowed:
            return Decision(granted=False, retry_at=retry_at, reason=REASON_RATE_LIMITED)
        row = RateLimitLedger(
            account_id=account_id, action=action, at=now, task_id=task_id, target_id=target_id
        )
        session.add(row)
        await session.flush()  # the id, and the row inside the locked transaction
        return Decision(granted=True, ledger_id=row.id)

    async def _forget(self, account_id: str, action: str, ledger_id: int) -> None:
        """Nothing besides the ledger to update."""
