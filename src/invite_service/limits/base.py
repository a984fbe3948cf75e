"""The ``RateLimiter`` interface: exact sliding windows per (account, action), all-or-nothing.

A key is ``(account_id, action)``; a call passes every window that applies (e.g. Telegram
invites: 5 per 3600 s and 50 per 86400 s). An entry at instant ``s`` counts in a window of
``w`` seconds at ``now`` while ``s > now - w``, so it frees its slot at exactly ``s + w``.
Entries dated after ``now`` (another process's clock running ahead) still count: the
limiter would rather over-count than under-count.

How the engine calls it (the same on every backend)::

    async with limiter.acquire(session, account, "invite", windows, clock.now(),
                               task_id=task.id, target_id=target.id) as decision:
        if decision.granted:
            target.status = "sending"          # the ledger row is already in `session`
        else:
            target.status = "pending"
            target.next_attempt_at = decision.retry_at
        await session.commit()                 # ledger row + "sending" in one commit
    result = await adapter.send_invite(...)    # outside the block: the lock is not held
    if the platform provably never got the call:
        await limiter.refund(session, decision)
        await session.commit()

The block must end the transaction (commit or roll back) before it exits. The SQL backend
holds the account's lock for the whole block, so the decision and the commit that makes the
ledger row visible to the next caller are both under the lock. A granted block that exits
with the ledger row still uncommitted is rolled back (and ``GrantNotCommitted`` raised), so
a grant can never be committed after the lock is gone; a block that raises before
committing is rolled back the same way and gives its slot back.
"""

from __future__ import annotations

import bisect
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from invite_service.models.activity import RateLimitLedger

log = structlog.get_logger(__name__)

Action = Literal["invite", "message"]
ACTIONS: tuple[str, ...] = get_args(Action)
DAY_SECONDS = 86_400
REASON_RATE_LIMITED = "rate_limited"
REASON_UNAVAILABLE = "limiter_unavailable"


@dataclass(frozen=True)
class Window:
    """At most ``limit`` entries in any ``seconds``-long sliding window."""

    seconds: int
    limit: int

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError("a window must be at least one second long")
        if self.limit < 0:
            raise ValueError("a window's limit cannot be negative")

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Decision:
    """The answer to ``acquire``.

    granted: the slot is taken and ``ledger_id`` names the ledger row added to the session.
    denied: ``retry_at`` is the earliest instant at which every window would allow the
    acquire if nothing else arrives (``None`` when a window's limit is 0: never). For
    ``reason == "limiter_unavailable"`` it is only a back-off suggestion.
    """

    granted: bool
    retry_at: datetime | None = None
    reason: str | None = None
    ledger_id: int | None = None


@dataclass(frozen=True)
class WindowUsage:
    """One window's state for the accounts API.

    ``resets_at`` is when the oldest counted entry leaves the window, i.e. when ``used``
    next drops (``None`` when nothing is counted).
    """

    seconds: int
    used: int
    limit: int
    remaining: int
    resets_at: datetime | None


class GrantNotCommitted(RuntimeError):
    """A granted ``acquire`` block ended without committing; the grant was rolled back."""


def evaluate(
    stamps: Sequence[datetime], windows: Sequence[Window], now: datetime
) -> tuple[bool, datetime | None]:
    """Would one more entry at ``now`` fit every window? If not, the earliest instant it would.

    ``stamps`` must be sorted ascending and cover at least the longest window. Per full
    window the ``(count - limit + 1)``-th oldest counted entry must leave it; the answer is
    the latest of those instants over all windows (counts only fall as time passes, so at
    that instant every window allows it at once).
    """
    allowed = True
    retry_at: datetime | None = None
    for window in windows:
        first = bisect.bisect_right(stamps, now - window.duration)
        count = len(stamps) - first
        if count < window.limit:
            continue
        if window.limit == 0:
            return False, None
        allowed = False
        free_at = stamps[first + count - window.limit] + window.duration
        retry_at = free_at if retry_at is None else max(retry_at, free_at)
    return allowed, retry_at


def window_usage(stamps: Sequence[datetime], windows: Sequence[Window], now: datetime) -> list[WindowUsage]:
    result = []
    for window in windows:
        first = bisect.bisect_right(stamps, now - window.duration)
        used = len(stamps) - first
        resets_at = stamps[first] + window.duration if used else None
        result.append(WindowUsage(window.seconds, used, window.limit, max(0, window.limit - used), resets_at))
    return result


async def ledger_stamps(
    session: AsyncSession, account_id: str, action: str, since: datetime
) -> list[datetime]:
    """Ledger instants after ``since`` for one key, oldest first (served by ix_rate_limit_ledger_window)."""
    rows = await session.scalars(
        select(RateLimitLedger.at)
        .where(
            RateLimitLedger.account_id == account_id,
            RateLimitLedger.action == action,
            RateLimitLedger.at > since,
        )
        .order_by(RateLimitLedger.at)
    )
    return list(rows)


def _open_transaction(session: AsyncSession) -> SessionTransaction | None:
    transaction = session.sync_session.get_transaction()
    return transaction if transaction is not None and transaction.is_active else None


class RateLimiter(ABC):
    """Per-account caps; the ledger (``rate_limit_ledger``) is the source of truth on every backend."""

    def __init__(self, *, max_window_seconds: int = DAY_SECONDS) -> None:
        # Every backend keeps (Redis) or reads (SQL) this much history; longer windows are refused
        # so that a window that works on one backend cannot silently under-count on another.
        self.max_window_seconds = max_window_seconds

    def acquire(
        self,
        session: AsyncSession,
        account_id: str,
        action: str,
        windows: Sequence[Window],
        now: datetime,
        *,
        task_id: uuid.UUID | None = None,
        target_id: int | None = None,
    ) -> AbstractAsyncContextManager[Decision]:
        """Take one slot in every window at once, or none; see the module docstring for the protocol."""
        self._validate(action, windows, now)
        return self._acquire(session, account_id, action, tuple(windows), now, task_id, target_id)

    @asynccontextmanager
    async def _acquire(
        self,
        session: AsyncSession,
        account_id: str,
        action: str,
        windows: tuple[Window, ...],
        now: datetime,
        task_id: uuid.UUID | None,
        target_id: int | None,
    ) -> AsyncIterator[Decision]:
        async with self._account_guard(session, account_id):
            decision = await self._decide(session, account_id, action, windows, now, task_id, target_id)
            # The transaction that holds the new ledger row; if it is still open when the block
            # ends, the caller did not commit the grant while the lock was held.
            pending = _open_transaction(session) if decision.granted else None
            try:
                yield decision
            except BaseException:
                if pending is not None and _open_transaction(session) is pending:
                    await self._undo(session, account_id, action, decision)
                raise
            if pending is not None and _open_transaction(session) is pending:
                await self._undo(session, account_id, action, decision)
                raise GrantNotCommitted(
                    "commit the session inside the `async with limiter.acquire(...)` block"
                )

    async def refund(self, session: AsyncSession, grant: Decision | int) -> bool:
        """Give back a slot whose send provably never reached the platform.

        Deletes the ledger row in ``session`` (the caller commits) and drops the backend's
        entry. Returns False when there was nothing to refund.
        """
        ledger_id = grant.ledger_id if isinstance(grant, Decision) else grant
        if ledger_id is None:
            return False
        row = await session.get(RateLimitLedger, ledger_id)
        if row is None:
            return False
        await session.delete(row)
        await session.flush()
        await self._forget(row.account_id, row.action, ledger_id)
        return True

    async def usage(
        self, session: AsyncSession, account_id: str, action: str, windows: Sequence[Window], now: datetime
    ) -> list[WindowUsage]:
        """Each window's state, read from the ledger so the accounts API works even while Redis is down."""
        self._validate(action, windows, now)
        if not windows:
            return []
        since = now - max(w.duration for w in windows)
        return window_usage(await ledger_stamps(session, account_id, action, since), windows, now)

    def _validate(self, action: str, windows: Sequence[Window], now: datetime) -> None:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        for window in windows:
            if window.seconds > self.max_window_seconds:
                raise ValueError(f"windows longer than {self.max_window_seconds} s are not kept")

    async def _undo(self, session: AsyncSession, account_id: str, action: str, decision: Decision) -> None:
        """Roll back an uncommitted grant: the row never became visible, so its slot is given back."""
        log.warning("rate_limit_grant_rolled_back", account_id=account_id, action=action)
        await session.rollback()
        if decision.ledger_id is not None:
            await self._forget(account_id, action, decision.ledger_id)

    @abstractmethod
    def _account_guard(self, session: AsyncSession, account_id: str) -> AbstractAsyncContextManager[None]:
        """Held from before the count until the ``acquire`` block ends."""

    @abstractmethod
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
        """Check every window and, when granted, add and flush the ledger row."""

    @abstractmethod
    async def _forget(self, account_id: str, action: str, ledger_id: int) -> None:
        """Drop the backend's own record of a ledger entry (nothing for the SQL backend)."""
