"""Why a task, a lane or an account sends nothing right now, and until when (issue 15, "waiting").

Everything here is computed from rows the callers already hold — the task, its lanes — plus the clock:
no ledger read. That keeps ``GET /tasks`` cheap (a page of tasks costs the two set-based reads the list
already makes: counters and lanes). The one fact a lane row did not carry — whether its
``next_action_at`` is a full cap or only pacing — the engine writes beside it (``lanes.wait_reason`` and
``lanes.wait_window_seconds``, through ``park``) wherever it parks a lane.

Rules (contract §1):
- a SCHEDULED task waits for its start (``scheduled``, until ``scheduled_at``);
- a RUNNING task with work left waits when its send window is closed (``send_window``, until it opens),
  or when none of its accounts can send now: then the reason is that of the account that resumes
  first, and ``until`` its time; with no account that resumes by itself, ``restricted`` (some account
  is restricted with no known end) or ``no_accounts`` (none is left);
- every other task: ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.limits.window import SendWindow
from invite_service.models import InviteTask, Lane
from invite_service.models.enums import LaneStatus, TaskStatus

WaitReason = Literal["scheduled", "send_window", "cap", "flood_wait", "restricted", "no_accounts"]
# What ``lanes.wait_reason`` holds: the lane's ``next_action_at`` is a full cap window (else pacing or a
# short yield, which are not waits a user needs to hear about).
LANE_WAIT_CAP = "cap"


class WaitingOut(BaseModel):
    """Why nothing is sent right now and when sending resumes."""

    reason: WaitReason
    until: datetime | None = Field(
        description="when sending resumes (UTC); "
        "null when unknown or it needs the user (restricted, no_accounts)"
    )
    window_seconds: int | None = Field(
        description='for reason "cap": the cap window that is full (3600 hourly, 86400 daily); else null'
    )
    accounts: int = Field(
        description="how many of the task's accounts wait for this reason (0 for scheduled and send_window)"
    )


def park(
    lane: Lane, until: datetime | None, reason: str | None = None, window_seconds: int | None = None
) -> None:
    """Set when the lane may act next, and why (``LANE_WAIT_CAP`` with the full window, or nothing)."""
    lane.next_action_at = until
    lane.wait_reason = reason
    lane.wait_window_seconds = window_seconds if reason else None


def _after(when: datetime | None, now: datetime) -> datetime | None:
    return when if when is not None and when > now else None


def lane_waiting(lane: Lane, now: datetime, full: tuple[int, datetime] | None = None) -> WaitingOut | None:
    """The lane's own hold, or None when it may act now (pacing aside).

    ``full``: a cap window the caller found full in the ledger (seconds, when it frees), for a lane the
    engine has not parked yet (the status endpoint reads the ledger anyway).
    """
    status = lane.status
    if status in (LaneStatus.UNAVAILABLE, LaneStatus.EXCLUDED):
        return WaitingOut(reason="restricted", until=None, window_seconds=None, accounts=1)
    if status is LaneStatus.RESTRICTED:
        if lane.cooldown_until is not None and lane.cooldown_until <= now:
            return None  # the restriction ran out: the next tick puts it back to work
        return WaitingOut(reason="restricted", until=lane.cooldown_until, window_seconds=None, accounts=1)
    cooldown = _after(lane.cooldown_until, now)
    if status is LaneStatus.COOLING_DOWN and cooldown is not None:
        return WaitingOut(reason="flood_wait", until=cooldown, window_seconds=None, accounts=1)
    parked = _after(lane.next_action_at, now)
    if status is LaneStatus.ACTIVE and parked is not None and lane.wait_reason == LANE_WAIT_CAP:
        return WaitingOut(reason="cap", until=parked, window_seconds=lane.wait_window_seconds, accounts=1)
    if status is LaneStatus.ACTIVE and full is not None and full[1] > now:
        return WaitingOut(reason="cap", until=full[1], window_seconds=full[0], accounts=1)
    return None


def send_window_of(task: InviteTask) -> SendWindow | None:
    raw: Any = (task.settings or {}).get("send_window")
    return SendWindow.from_settings(raw) if isinstance(raw, dict) else None


def task_waiting(
    task: InviteTask,
    lanes: Sequence[Lane],
    now: datetime,
    remaining: int,
    lane_holds: Sequence[WaitingOut | None] | None = None,
) -> WaitingOut | None:
    """The task's wait (see the module docstring); ``remaining``: targets pending, reserved or sending.

    ``lane_holds``: each lane's ``lane_waiting`` when the caller computed them (with ledger facts);
    otherwise they are computed from the rows alone.
    """
    if task.status is TaskStatus.SCHEDULED:
        return WaitingOut(reason="scheduled", until=task.scheduled_at, window_seconds=None, accounts=0)
    if task.status is not TaskStatus.RUNNING or remaining <= 0:
        return None
    window = send_window_of(task)
    if window is not None and not window.is_open(now):
        return WaitingOut(reason="send_window", until=window.next_open(now), window_seconds=None, accounts=0)
    if not lanes:
        return WaitingOut(reason="no_accounts", until=None, window_seconds=None, accounts=0)
    holds = list(lane_holds) if lane_holds is not None else [lane_waiting(lane, now) for lane in lanes]
    if any(hold is None for hold in holds):
        return None  # some account can send now
    waits = [hold for hold in holds if hold is not None]
    timed = [hold for hold in waits if hold.until is not None]
    if timed:
        first = min(timed, key=lambda hold: (hold.until, hold.reason))
        same = sum(1 for hold in waits if hold.reason == first.reason)
        return first.model_copy(update={"accounts": same})
    gone = sum(1 for lane in lanes if lane.status in (LaneStatus.UNAVAILABLE, LaneStatus.EXCLUDED))
    if gone == len(lanes):
        return WaitingOut(reason="no_accounts", until=None, window_seconds=None, accounts=gone)
    restricted = sum(1 for lane in lanes if lane.status is LaneStatus.RESTRICTED)
    return WaitingOut(reason="restricted", until=None, window_seconds=None, accounts=restricted)


# The strength of a hold on an account, for ``account_waiting``: what needs the user first, then the
# longest platform wait, then a full cap.
_STRENGTH = {"no_accounts": 4, "restricted": 3, "flood_wait": 2, "cap": 1}
_OPEN_TASKS = (TaskStatus.DRAFT, TaskStatus.SCHEDULED, TaskStatus.RUNNING, TaskStatus.PAUSED)


def strongest(holds: Sequence[WaitingOut]) -> WaitingOut | None:
    """The hold that keeps an account idle longest: one that needs the user, else the latest end."""
    if not holds:
        return None
    far = datetime.max.replace(tzinfo=holds[0].until.tzinfo if holds[0].until else None)

    def rank(hold: WaitingOut) -> tuple[int, int, datetime]:
        until = hold.until
        return (_STRENGTH.get(hold.reason, 0), until is None, until or far)

    best = max(holds, key=rank)
    return best.model_copy(update={"accounts": 1})


async def account_waiting(
    session: AsyncSession, user_id: str, account_ids: Sequence[str], now: datetime
) -> dict[str, WaitingOut]:
    """Each account's strongest hold across the user's open tasks (``AccountOut.waiting``); an account
    that can act now is absent. One read of the lanes (``ix_lanes_account``), no ledger."""
    if not account_ids:
        return {}
    stmt = (
        select(Lane)
        .join(InviteTask, InviteTask.id == Lane.task_id)
        .where(
            Lane.account_id.in_(list(account_ids)),
            InviteTask.user_id == user_id,
            InviteTask.status.in_(_OPEN_TASKS),
        )
    )
    holds: dict[str, list[WaitingOut]] = {}
    for lane in (await session.scalars(stmt)).all():
        hold = lane_waiting(lane, now)
        if hold is not None:
            holds.setdefault(lane.account_id, []).append(hold)
    out: dict[str, WaitingOut] = {}
    for account_id, found in holds.items():
        best = strongest(found)
        if best is not None:
            out[account_id] = best
    return out
