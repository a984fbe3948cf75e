"""Accounts as the API shows them: the platform's view plus our own usage and lane states."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from invite_service.adapters.base import AccountStatus
from invite_service.models.enums import LaneStatus, TaskStatus
from invite_service.stores.waiting import WaitingOut


class WindowOut(BaseModel):
    action: str
    window_seconds: int
    used: int
    limit: int
    remaining: int
    resets_at: datetime | None


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
    waiting: WaitingOut | None = Field(
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
