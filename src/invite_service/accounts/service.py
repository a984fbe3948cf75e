"""The user's messenger accounts with their usage per window, and the check task forms rely on."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.accounts.schemas import (
    AccountOut,
    AccountTaskOut,
    AccountWaitingOut,
    LaneOut,
    WindowOut,
)
from invite_service.adapters.base import AccountStatus, PlatformAccount
from invite_service.context.runtime import Runtime
from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.pagination import Page
from invite_service.limits.caps import windows_for
from invite_service.models import InviteTask
from invite_service.models.enums import Platform, Step
from invite_service.models.task_settings import TaskSettings
from invite_service.stores import tasks
from invite_service.stores import tasks as task_store

ACTIONS = tuple(Step)


async def platform_accounts(rt: Runtime, user_id: str, platform: str) -> list[PlatformAccount]:
    return await rt.adapters.get(platform).initialize_accounts(user_id)


async def find_account(rt: Runtime, user_id: str, account_id: str) -> PlatformAccount | None:
    """One of the user's accounts as its platform reports it now; None when it is not the user's."""
    for plat in Platform:
        for account in await platform_accounts(rt, user_id, plat.value):
            if account.id == account_id:
                return account
    return None


def _encode_cursor(plat: Platform, account: PlatformAccount) -> str:
    raw = json.dumps({"p": plat.value, "a": account.id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _start_after(cursor: str | None, accounts: Sequence[tuple[Platform, PlatformAccount]]) -> int:
    """Where the page after ``cursor`` starts: the account after the one it names (a 422 when the
    cursor is not one of this list's, e.g. that account is gone)."""
    if cursor is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        key = (data["p"], data["a"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _bad_cursor() from exc
    for i, (plat, account) in enumerate(accounts):
        if (plat.value, account.id) == key:
            return i + 1
    raise _bad_cursor()


def _bad_cursor() -> InvalidInput:
    return InvalidInput(errors=[FieldError(("query", "cursor"), "is not a cursor from this list")])


def account_waiting(
    status: AccountStatus, until: datetime | None, usage: Sequence[WindowOut], now: datetime
) -> AccountWaitingOut | None:
    """The account's strongest hold: a restriction or an unusable session (restricted), a platform wait
    (flood_wait), a full usage window (cap); None when it can act now.

    For cap: an action resumes when every full window of it has a free slot again (the latest
    ``resets_at`` of them); with several actions capped, the one that resumes first counts.
    """
    if status is AccountStatus.RESTRICTED:
        return AccountWaitingOut(reason="restricted", until=until, window_seconds=None, accounts=1)
    if status is AccountStatus.UNAVAILABLE:  # waits for the user (reactivate), not for a time
        return AccountWaitingOut(reason="restricted", until=None, window_seconds=None, accounts=1)
    if status is AccountStatus.COOLING_DOWN and (until is None or until > now):
        return AccountWaitingOut(reason="flood_wait", until=until, window_seconds=None, accounts=1)
    best: tuple[datetime, int] | None = None
    for action in {u.action for u in usage}:
        full = [u for u in usage if u.action == action and 0 < u.limit <= u.used and u.resets_at is not None]
        if not full:
            continue
        last = max(full, key=lambda u: (u.resets_at, u.window_seconds))
        assert last.resets_at is not None
        if best is None or last.resets_at < best[0]:
            best = (last.resets_at, last.window_seconds)
    if best is None:
        return None
    return AccountWaitingOut(reason="cap", until=best[0], window_seconds=best[1], accounts=1)


async def _usage(
    session: AsyncSession, rt: Runtime, plat: Platform, account: PlatformAccount, now: datetime
) -> list[WindowOut]:
    caps = rt.settings.caps_for(plat.value)
    usage: list[WindowOut] = []
    for action in ACTIONS:
        windows = windows_for(caps, TaskSettings(), action)
        for u in await rt.limiter.usage(session, account.id, action, windows, now):
            usage.append(
                WindowOut(
                    action=action,
                    window_seconds=u.seconds,
                    used=u.used,
                    limit=u.limit,
                    remaining=u.remaining,
                    resets_at=u.resets_at,
                )
            )
    return usage


async def list_accounts(
    session: AsyncSession,
    rt: Runtime,
    user_id: str,
    platform: Platform | None = None,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[AccountOut]:
    """The user's accounts, platform by platform in the platform's order, as a page: each with its
    usage per window, its strongest hold (``waiting``) and the tasks using it."""
    now = rt.clock.now()
    found: list[tuple[Platform, PlatformAccount]] = []
    for plat in [platform] if platform else list(Platform):
        found += [(plat, a) for a in await platform_accounts(rt, user_id, plat.value)]
    start = _start_after(cursor, found)
    page = found[start : start + limit]
    next_cursor = _encode_cursor(*page[-1]) if page and start + limit < len(found) else None
    ids = [a.id for _, a in page]
    held = await tasks.held_states(session, user_id, ids, now)
    using = await tasks.open_tasks_using(session, user_id, ids)
    simulated = set(rt.settings.simulated)
    items: list[AccountOut] = []
    for plat, account in page:
        usage = await _usage(session, rt, plat, account, now)
        status, until = account.status, account.cooldown_until
        if account.id in held and account.usable:
            status, until = AccountStatus(held[account.id][0]), held[account.id][1] or until
        items.append(
            AccountOut(
                id=account.id,
                platform=plat.value,
                label=account.label,
                username=account.username,
                simulated=plat.value in simulated,
                status=status,
                status_detail=account.status_detail,
                cooldown_until=until,
                usage=usage,
                waiting=account_waiting(status, until, usage, now),
                tasks=[
                    AccountTaskOut(id=task_id, name=name, status=task_status)
                    for task_id, name, task_status in using.get(account.id, [])
                ],
            )
        )
    return Page[AccountOut](items=items, next_cursor=next_cursor, total=len(found))


async def check_account_ids(
    rt: Runtime, user_id: str, platform: str, account_ids: Sequence[str]
) -> list[FieldError]:
    """An error for every id that is not one of the user's accounts on the platform (another user's
    account is unknown here too: it is never confirmed to exist)."""
    if not account_ids:
        return []
    known = {a.id for a in await platform_accounts(rt, user_id, platform)}
    return [
        FieldError(
            ("body", "account_ids", i), f"account {account_id!r} is not one of your {platform} accounts"
        )
        for i, account_id in enumerate(account_ids)
        if account_id not in known
    ]


async def task_lanes(session: AsyncSession, task: InviteTask) -> list[LaneOut]:
    return [
        LaneOut.model_validate(lane, from_attributes=True)
        for lane in await task_store.lanes(session, task.id)
    ]
