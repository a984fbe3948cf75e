"""Response models of the statistics API: status, stats, report and logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from invite_service.models.enums import TaskStatus
from invite_service.stores.counters import Counters
from invite_service.stores.waiting import WaitingOut as WaitingOut

Basis = Literal["running", "scheduled", "if_started_now"]


class CapOut(BaseModel):
    """One per-account cap: at most ``limit`` calls in any ``window_seconds``-long sliding window."""

    window_seconds: int
    limit: int


class EstimateOut(BaseModel):
    """How ``eta`` was reached (see ``statistics/eta.py``)."""

    remaining: int = Field(description="targets pending, reserved or sending when it was made (≤ 10 s ago)")
    lanes: int = Field(description="accounts that add capacity to the estimate")
    rate_per_hour: float = Field(description="steady calls per hour of all those accounts together")
    basis: Basis
    reason: str | None = Field(description="why there is no ETA, when there is none")
    step: Literal["invite", "message"] = Field(
        description="the call the estimate counts (the task's first step)"
    )
    caps: list[CapOut] = Field(
        description="the effective per-account caps of that step "
        "(the task's own lowered caps or the platform's)"
    )


class SendWindowOut(BaseModel):
    open: bool
    next_open_at: datetime


class LaneStateOut(BaseModel):
    account_id: str
    label: str | None
    status: str
    cooldown_until: datetime | None
    next_action_at: datetime | None
    available_at: datetime | None = Field(description="when the account may act next for this task")
    remaining_now: int | None = Field(description="calls free in every cap window right now")
    sent: int
    failed: int
    last_error: str | None
    waiting: WaitingOut | None = Field(
        default=None, description='the lane\'s own hold ("cap" with its window, "flood_wait", "restricted")'
    )


class TaskStatusOut(BaseModel):
    task_id: uuid.UUID
    status: TaskStatus
    progress: float = Field(description="share of targets in a final state, in percent")
    counters: Counters
    pause_reason: str | None
    started_at: datetime | None
    finished_at: datetime | None
    eta: datetime | None = Field(description="when the last target should be handled; null if unknown")
    estimate: EstimateOut | None
    send_window: SendWindowOut | None
    lanes: list[LaneStateOut]
    replied: int = Field(default=0, description="targets that replied to the account that contacted them")
    waiting: WaitingOut | None = Field(
        default=None, description="why nothing is sent right now and when it resumes; null when not waiting"
    )


class HourlyPoint(BaseModel):
    """One hour: its start (UTC) and the calls of each outcome seen in the range (zeros included)."""

    hour: datetime
    counts: dict[str, int]


class AccountStats(BaseModel):
    account_id: str
    label: str | None
    status: str
    sent: int = Field(description="all time: targets this account invited or messaged")
    failed: int = Field(description="all time: calls that counted as failures")
    by_outcome: dict[str, int] = Field(description="calls in the range by outcome")


class StatsRange(BaseModel):
    start: datetime
    end: datetime


class TaskStatsOut(BaseModel):
    task_id: uuid.UUID
    status: TaskStatus
    targets: Counters = Field(description="all time, by target state")
    replied: int = Field(default=0, description="targets that replied to the account that contacted them")
    range: StatsRange = Field(description="the hours the call counts below cover")
    by_outcome: dict[str, int] = Field(description="calls in the range by outcome")
    by_error_code: dict[str, int] = Field(description="calls in the range by platform error code")
    by_action: dict[str, int] = Field(description="calls in the range by action")
    per_account: list[AccountStats]
    hourly: list[HourlyPoint]


class ErrorCount(BaseModel):
    status: str
    error_code: str | None
    count: int


class LaneReport(BaseModel):
    account_id: str
    label: str | None
    status: str
    sent: int
    failed: int
    last_error: str | None


class ReportOut(BaseModel):
    task_id: uuid.UUID
    name: str
    platform: str
    action: str
    status: TaskStatus
    pause_reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    generated_at: datetime
    counters: Counters
    progress: float
    replied: int = Field(default=0, description="targets that replied to the account that contacted them")
    lanes: list[LaneReport]
    errors: list[ErrorCount] = Field(description="targets failed, skipped or unknown, by reason")


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    target_id: int | None
    account_id: str | None
    action: str
    outcome: str
    error_code: str | None
    detail: str | None
    duration_ms: int | None
    target: str | None = Field(
        default=None, description="the target's identity as the targets list shows it (its key)"
    )
    account_label: str | None = Field(default=None, description="the account's label in this task")


class LogPage(BaseModel):
    """A keyset page without a total: counting a long log would read all of it."""

    items: list[LogOut]
    next_cursor: str | None


ReasonKind = Literal["success", "benign", "retryable", "final"]


class ReasonOut(BaseModel):
    """One outcome reason: an error code with what it means to the user, in English and Russian."""

    code: str
    kind: ReasonKind = Field(
        description="benign: nothing went wrong for the user; retryable: back to pending can help; "
        "final: a retry cannot help"
    )
    en: str
    ru: str


class ReasonCatalogue(BaseModel):
    reasons: list[ReasonOut]
