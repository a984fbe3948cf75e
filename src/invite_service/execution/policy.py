"""Every state transition of tasks, targets and lanes, in one place.

The engine asks this module what an adapter outcome means; it never decides on its own.
Pure functions of their inputs (no I/O), so the rules are unit-tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from invite_service.adapters.base import InviteResult, Outcome
from invite_service.adapters.telegram.errors import (
    MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
    MISSING_INVITEE_PRIVACY,
    TELEGRAM_ERRORS,
    lookup,
)
from invite_service.config import Settings
from invite_service.errors import Conflict
from invite_service.models.enums import LaneStatus, TargetStatus, TaskAction, TaskStatus

# task status -> the statuses a user action may move it to
TASK_TRANSITIONS: dict[str, dict[TaskStatus, frozenset[TaskStatus]]] = {
    # `start` also runs a completed task again when the user requeued targets into it.
    "start": {
        TaskStatus.RUNNING: frozenset({TaskStatus.DRAFT, TaskStatus.COMPLETED}),
        TaskStatus.SCHEDULED: frozenset({TaskStatus.DRAFT, TaskStatus.COMPLETED}),
    },
    "pause": {TaskStatus.PAUSED: frozenset({TaskStatus.RUNNING, TaskStatus.SCHEDULED})},
    "resume": {TaskStatus.RUNNING: frozenset({TaskStatus.PAUSED})},
    "cancel": {
        TaskStatus.CANCELLED: frozenset(
            {TaskStatus.DRAFT, TaskStatus.SCHEDULED, TaskStatus.RUNNING, TaskStatus.PAUSED}
        )
    },
}


class TransitionNotAllowed(Conflict):
    code, title = "transition_not_allowed", "Transition not allowed"


def check_transition(action: str, current: TaskStatus, target: TaskStatus) -> bool:
    """True when the task must change; False when it is already there (a harmless repeat).

    Raises ``TransitionNotAllowed`` (409, naming the current state) otherwise.
    """
    if current is target:
        return False
    if current in TASK_TRANSITIONS[action][target]:
        return True
    raise TransitionNotAllowed(
        f"Cannot {action} a task that is {current.value}.", extra={"current_status": current.value}
    )


# Target statuses that end a target's life in the task (``unknown`` waits for the user).
DONE_STATUSES = frozenset(
    {
        TargetStatus.INVITED,
        TargetStatus.MESSAGED,
        TargetStatus.ALREADY_MEMBER,
        TargetStatus.FAILED,
        TargetStatus.SKIPPED,
        TargetStatus.UNKNOWN,
    }
)
LANE_USABLE = frozenset({LaneStatus.ACTIVE, LaneStatus.COOLING_DOWN})


@dataclass(frozen=True)
class Tuning:
    """The engine's knobs (from settings)."""

    flood_buffer_ratio: float = 0.10
    flood_buffer_seconds: float = 5.0
    restriction_hours: float = 24.0
    transient_backoff_seconds: float = 30.0
    transient_backoff_max_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Tuning:
        return cls(
            flood_buffer_ratio=settings.flood_buffer_ratio,
            flood_buffer_seconds=settings.flood_buffer_seconds,
            restriction_hours=settings.restriction_hours,
            transient_backoff_seconds=settings.transient_backoff_seconds,
        )


@dataclass(frozen=True)
class Effect:
    """What an outcome does to the target, its lane and the task."""

    target_status: TargetStatus
    charge_attempt: bool = False
    next_attempt_at: datetime | None = None
    lane_status: LaneStatus | None = None
    lane_cooldown_until: datetime | None = None
    # The lane change applies to this account in every task that uses it.
    account_wide: bool = False
    pause_reason: str | None = None
    # invite_or_message: the invite was refused for privacy; send the message now.
    fallback_to_message: bool = False
    stop_batch: bool = False
    count_as_failure: bool = False


def _is_unknown_name(code: str | None) -> bool:
    return bool(code) and lookup(code or "")[0] is None


# invite_or_message: refusals after which the target gets the message instead of the invite.
MESSAGE_FALLBACK_CODES = frozenset(
    {entry.name for entry in TELEGRAM_ERRORS.values() if entry.message_allowed}
    | {MISSING_INVITEE_PRIVACY, MISSING_INVITEE_PREMIUM_WOULD_ALLOW}
)


def step_for(action: TaskAction, previous_error: str | None) -> str:
    """Which call a target needs next: ``invite`` or ``message``."""
    if action is TaskAction.MESSAGE:
        return "message"
    if action is TaskAction.INVITE_OR_MESSAGE and previous_error in MESSAGE_FALLBACK_CODES:
        return "message"
    return "invite"


def effect_of(
    result: InviteResult,
    *,
    action: TaskAction,
    step: str,
    attempts: int,
    max_attempts: int,
    previous_error: str | None,
    now: datetime,
    tuning: Tuning,
) -> Effect:
    """The effect of ``result`` for a target on its ``attempts``-th try (before this one).

    ``step`` is ``"invite"`` or ``"message"``: which call produced ``result``.
    """
    outcome = result.outcome
    if outcome is Outcome.SUCCESS:
        return Effect(TargetStatus.INVITED if step == "invite" else TargetStatus.MESSAGED)
    if outcome is Outcome.ALREADY_MEMBER:
        return Effect(TargetStatus.ALREADY_MEMBER)
    if outcome is Outcome.RETRY_AFTER:
        wait = float(result.retry_after or 0)
        until = now + timedelta(seconds=wait * (1 + tuning.flood_buffer_ratio) + tuning.flood_buffer_seconds)
        # A platform wait binds the account, so it cools down in every task that uses it.
        return Effect(
            TargetStatus.PENDING,
            next_attempt_at=until,
            lane_status=LaneStatus.COOLING_DOWN,
            lane_cooldown_until=until,
            account_wide=True,
            stop_batch=True,
        )
    if outcome is Outcome.ACCOUNT_RESTRICTED:
        return Effect(
            TargetStatus.PENDING,
            lane_status=LaneStatus.RESTRICTED,
            lane_cooldown_until=now + timedelta(hours=tuning.restriction_hours),
            account_wide=True,
            stop_batch=True,
            count_as_failure=True,
        )
    if outcome is Outcome.ACCOUNT_UNAVAILABLE:
        return Effect(
            TargetStatus.PENDING,
            lane_status=LaneStatus.UNAVAILABLE,
            account_wide=True,
            stop_batch=True,
            count_as_failure=True,
        )
    if outcome is Outcome.TASK_MISCONFIGURED:
        reason = None
        if result.pause_task:
            reason = f"The destination chat refused new members ({result.error_code}): the chat is full."
        return Effect(
            TargetStatus.PENDING,
            lane_status=LaneStatus.EXCLUDED,
            pause_reason=reason,
            stop_batch=True,
            count_as_failure=True,
        )
    if outcome is Outcome.TARGET_REJECTED:
        if step == "invite" and action is TaskAction.INVITE_OR_MESSAGE and result.message_allowed:
            return Effect(TargetStatus.SENDING, fallback_to_message=True)
        return Effect(TargetStatus.FAILED, charge_attempt=True, count_as_failure=True)
    # TRANSIENT. A call that never reached the platform costs the target nothing.
    if not result.charged:
        backoff = min(tuning.transient_backoff_seconds, tuning.transient_backoff_max_seconds)
        return Effect(TargetStatus.PENDING, next_attempt_at=now + timedelta(seconds=backoff), stop_batch=True)
    # An unknown platform error name gets one more chance, then fails with its raw name. Our own
    # infrastructure failures (timeouts, 5xx: delivery uncertain) are not platform verdicts.
    platform_said = not result.delivery_uncertain
    if platform_said and _is_unknown_name(result.error_code) and previous_error == result.error_code:
        return Effect(TargetStatus.FAILED, charge_attempt=True, count_as_failure=True)
    if attempts + 1 >= max_attempts:
        return Effect(TargetStatus.FAILED, charge_attempt=True, count_as_failure=True)
    backoff = min(tuning.transient_backoff_seconds * 2**attempts, tuning.transient_backoff_max_seconds)
    return Effect(
        TargetStatus.PENDING,
        charge_attempt=True,
        next_attempt_at=now + timedelta(seconds=backoff),
        count_as_failure=True,
    )


def breaker_tripped(restricted_recently: int, lanes_total: int, *, lanes: int, share: float) -> bool:
    """The circuit breaker: enough of the task's lanes restricted within the window."""
    if lanes_total == 0 or restricted_recently == 0:
        return False
    return restricted_recently >= lanes or restricted_recently / lanes_total >= share
