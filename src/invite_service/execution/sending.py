"""What every send on an account goes through, a batch's or a test message's: the account lock (one sender
per account across tasks), pacing from the ledger, the cap windows, and the guarded platform call."""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.adapters.base import InviteResult, Outcome
from invite_service.context.runtime import Runtime
from invite_service.execution.policy import task_settings
from invite_service.kit.locks import LockHandle
from invite_service.limits import ledger
from invite_service.limits.base import Window
from invite_service.limits.caps import min_delay, windows_for
from invite_service.models import InviteTask
from invite_service.models.enums import Step

log = structlog.get_logger(__name__)


async def guarded(call: Awaitable[InviteResult], task: InviteTask, step: Step) -> InviteResult:
    """An adapter call; an exception is an answer nobody can read (the platform may have acted)."""
    try:
        return await call
    except Exception as exc:
        log.exception("adapter_call_failed", task_id=str(task.id), step=step)
        return InviteResult(
            Outcome.TRANSIENT, error_code="ADAPTER_ERROR", detail=type(exc).__name__, delivery_uncertain=True
        )


def account_lock(rt: Runtime, account_id: str) -> AbstractAsyncContextManager[LockHandle]:
    """One sender per account at a time, across tasks (a test message takes it too)."""
    ttl, wait = rt.settings.account_lock_ttl_seconds, rt.settings.account_lock_wait_seconds
    return rt.locks.lock(f"account:{account_id}", ttl=ttl, wait=wait)


async def paced_until(
    rt: Runtime, session: AsyncSession, task: InviteTask, account_id: str, now: datetime
) -> datetime | None:
    """When the account may act again by the pacing rule (None: now). Derived from the ledger: the
    account's latest counted action in any task."""
    delay = min_delay(rt.settings.caps_for(task.platform), task_settings(task))
    last = await ledger.last_action_at(session, account_id, since=now - timedelta(seconds=delay))
    if last is not None and delay > 0 and last + timedelta(seconds=delay) > now:
        return last + timedelta(seconds=delay)
    return None


def step_windows(rt: Runtime, task: InviteTask, step: Step) -> list[Window]:
    """The account's cap windows for ``step``: the platform's, lowered by the task's own caps."""
    return windows_for(rt.settings.caps_for(task.platform), task_settings(task), step)
