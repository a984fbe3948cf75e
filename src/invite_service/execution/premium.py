"""Which lanes have Telegram Premium: read from the accounts' status when a task starts or resumes.

A missing invitee whose privacy admits Premium inviters is retried once through a Premium lane of the
same task (``policy.HANDED_TO_PREMIUM``); the lanes must know which of them can do that.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.context.runtime import Runtime
from invite_service.models import InviteTask
from invite_service.stores import tasks as task_store

log = structlog.get_logger(__name__)


# A start or resume waits at most this long for the listing (it runs inside the request's transaction):
# an Integration Service that is down must not hold the user's click for a whole retry budget.
REFRESH_TIMEOUT_SECONDS = 3.0


async def refresh_premium(session: AsyncSession, rt: Runtime, task: InviteTask) -> None:
    """Set each lane's ``is_premium`` (and ``label``) from its account's status; when the platform cannot
    answer now, the lanes keep what they knew (a start never fails for this)."""
    listing = rt.adapters.get(task.platform).initialize_accounts(task.user_id)
    try:
        accounts = await asyncio.wait_for(listing, REFRESH_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any adapter failure (or no answer in time) keeps the old values
        log.warning("premium_refresh_failed", task_id=str(task.id), error=type(exc).__name__)
        return
    known = {account.id: account for account in accounts}
    for lane in await task_store.lanes(session, task.id):
        if lane.account_id in known:
            lane.is_premium = known[lane.account_id].is_premium
            # The account's label as the platform names it now: the lanes, the log and the report show it.
            lane.label = known[lane.account_id].label[:200] or lane.label
    await session.flush()
