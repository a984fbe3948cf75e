"""The user's messenger accounts with their usage per window, and the check task forms rely on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.accounts.schemas import AccountOut, LaneOut, WindowOut
from invite_service.adapters.base import PlatformAccount
from invite_service.context.runtime import Runtime
from invite_service.errors import FieldError
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


async def list_accounts(
    session: AsyncSession, rt: Runtime, user_id: str, platform: Platform | None = None
) -> list[AccountOut]:
    now = rt.clock.now()
    out: list[AccountOut] = []
    for plat in [platform] if platform else list(Platform):
        accounts = await platform_accounts(rt, user_id, plat.value)
        held = await tasks.held_states(session, user_id, [a.id for a in accounts], now)
        caps = rt.settings.caps_for(plat.value)
        for account in accounts:
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
            status, until = account.status.value, account.cooldown_until
            if account.id in held and account.usable:
                status, until = held[account.id][0], held[account.id][1] or until
            out.append(
                AccountOut(
                    id=account.id,
                    platform=plat.value,
                    label=account.label,
                    username=account.username,
                    status=status,
                    status_detail=account.status_detail,
                    cooldown_until=until,
                    usage=usage,
                )
            )
    return out


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
