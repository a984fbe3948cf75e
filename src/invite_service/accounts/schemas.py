"""Accounts as the API shows them: the platform's view plus our own usage and lane states."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from invite_service.adapters.base import AccountStatus
from invite_service.models.enums import LaneStatus, TaskStatus

WaitingReason = Literal["scheduled", "send_window", "cap", "flood_wait", "restricted", "no_accounts"]


class WindowOut(BaseModel):
    action: str
    window_seconds: int
    used: int
    limit: int
    remaining: int
    resets_at: datetime | None


class AccountWaitingOut(BaseModel):
    """Why the account sends nothing now and until when; the same shape as a task's ``WaitingOut``
    (statistics), kept here so the accounts feature depends on no other."""

    reason: WaitingReason = Field(
        description="cap: a usage window is full; flood_wait: a platform wait (FLOOD_WAIT) or a cooldown; "
        "restricted: a restriction, or the account is unusable until the user fixes it"
    )
    until: datetime | None = Field(
        description="when it may act again (UTC); null when unknown or when it needs the user"
    )
    window_seconds: int | None = Field(
        description="for cap: the full window (3600 = hourly, 86400 = daily); else null"
    )
    accounts: int = Field(description="how many accounts wait for this reason: 1 for an account")


class AccountTaskOut(BaseModel):
    """A task of the user's, not over yet, that has a lane for the account."""

    id: uuid.UUID
    name: str
    status: TaskStatus


class AccountOut(BaseModel):
    id: str
    platform: str
    label: str
    username: str | None
    simulated: bool = Field(
        description="served by a simulator (the sandbox, or Telegram without the "
        "Integration Service): nothing reaches a real messenger"
    )
    # The platform's state, or the strongest hold our lanes record (a restriction, a cooldown, …).
    status: AccountStatus
    status_detail: str | None
    # When the account may act again: a platform wait, or a restriction we recorded.
    cooldown_until: datetime | None
    usage: list[WindowOut] = Field(
        description="per action and window: used of limit (the platform caps: INVITE_PLATFORM_CAPS or "
        "the defaults), and when the oldest counted action leaves the window"
    )
    waiting: AccountWaitingOut | None = Field(
        description="null when the account can act now; else its strongest hold: restricted > "
        "flood_wait > cap"
    )
    tasks: list[AccountTaskOut] = Field(description="the user's tasks not over yet that use the account")


class LaneOut(BaseModel):
    account_id: str
    label: str | None
    status: LaneStatus
    cooldown_until: datetime | None
    restricted_at: datetime | None
    next_action_at: datetime | None
    sent: int
    failed: int
    last_error: str | None
    last_used_at: datetime | None


class ReactivationOut(BaseModel):
    """What ``POST /accounts/{id}/reactivate`` did: the lanes put back to work, by task."""

    account_id: str
    status: AccountStatus  # the platform's view of the account now
    lanes_reactivated: int
    task_ids: list[uuid.UUID]
    # Tasks that stay paused: resuming them is the user's call.
    paused_task_ids: list[uuid.UUID]
