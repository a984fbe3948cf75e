"""Every state transition of tasks, targets and lanes, in one place.

The engine asks this module what an adapter outcome means, when a task pauses and when the breaker
trips; it never decides on its own. Pure functions of their inputs (no I/O), so the rules are
unit-tested directly. What a rule must know of a platform (its error names) comes from the adapter
(``PlatformRules``); the task's own settings are read once into ``TaskSettings``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from invite_service.adapters.base import InviteResult, Outcome, PlatformRules
from invite_service.config import Settings
from invite_service.errors import Conflict
from invite_service.limits.window import SendWindow
from invite_service.models import InviteTask
from invite_service.models.enums import LaneStatus, Step, TargetStatus, TaskAction, TaskStatus, first_step
from invite_service.models.task_settings import Breaker, TaskSettings

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
        f"Cannot {action} a task that is {current}.", extra={"current_status": str(current)}
    )


def task_settings(task: InviteTask) -> TaskSettings:
    """The task's settings, validated once, with the API's defaults (``invite_tasks/schemas.py``)."""
    return TaskSettings.model_validate(task.settings)


def send_window(settings: TaskSettings) -> SendWindow | None:
    """The days and local hours in which the task may start a send (None: any time)."""
    if settings.send_window is None:
        return None
    return SendWindow.from_settings(settings.send_window.model_dump(mode="json"))


# Lanes that may act now or after a wait; a restricted lane comes back by time alone.
LANE_USABLE = frozenset({LaneStatus.ACTIVE, LaneStatus.COOLING_DOWN})
LANE_MAY_RETURN = LANE_USABLE | {LaneStatus.RESTRICTED}
# Target statuses a lane counts as sent.
SENT_STATUSES = frozenset({TargetStatus.INVITED, TargetStatus.MESSAGED, TargetStatus.ALREADY_MEMBER})


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
    # A per-target refusal that pauses the task when the task's last REPEAT_PAUSE_AFTER calls all got it.
    pause_if_repeated: bool = False
    # Refused only for want of Premium: the target waits for one retry by a Premium lane of the task.
    hand_to_premium: bool = False

    @property
    def stored_status(self) -> TargetStatus:
        """Where the target goes: the fallback message is sent by the same batch, from ``reserved``."""
        return TargetStatus.RESERVED if self.fallback_to_message else self.target_status

    @property
    def counts_as_sent(self) -> bool:
        return self.target_status in SENT_STATUSES

    @property
    def trips_breaker(self) -> bool:
        """A restriction is what the circuit breaker counts (across every task the account serves)."""
        return self.account_wide and self.lane_status is LaneStatus.RESTRICTED


# The error code of a target handed to a Premium lane for its one retry (the engine's own, not a platform's).
HANDED_TO_PREMIUM = "HANDED_TO_PREMIUM"
# The premium retry is a step of its own: its operation key differs from the first invite's.
PREMIUM_KEY_STEP = "invite-premium"


def step_for(action: TaskAction, previous_error: str | None, rules: PlatformRules) -> Step:
    """Which call a target needs next."""
    if previous_error == HANDED_TO_PREMIUM:
        return Step.INVITE
    if action is TaskAction.INVITE_OR_MESSAGE and previous_error in rules.message_fallback_codes:
        return Step.MESSAGE
    return first_step(action)


def key_step(step: Step, previous_error: str | None) -> str:
    """The step's name in its operation key (``keys.py``): the premium retry has its own."""
    return PREMIUM_KEY_STEP if previous_error == HANDED_TO_PREMIUM else str(step)


def premium_lane_waiting(lanes: Iterable[tuple[bool, LaneStatus]]) -> bool:
    """A Premium lane of the task (``(is_premium, status)`` pairs) can act now or later."""
    return any(premium and status in LANE_MAY_RETURN for premium, status in lanes)


def kept_error(
    effect: Effect, error_code: str | None, previous_error: str | None, rules: PlatformRules
) -> str | None:
    """The error code a target keeps after this step: the call's own, or none — except that a message
    sent in place of a refused invite keeps the refusal as its reason (and only that: a message that
    got through on a retry is not marked with the retry's cause)."""
    if effect.hand_to_premium or (
        previous_error == HANDED_TO_PREMIUM and effect.target_status is TargetStatus.PENDING
    ):
        # Handed, or its premium retry must be tried again (a wait, an account fault, a call that never
        # left): it stays for a Premium lane, under the premium step's key.
        return HANDED_TO_PREMIUM
    if error_code:
        return error_code
    if effect.target_status is TargetStatus.MESSAGED and previous_error in rules.message_fallback_codes:
        return previous_error
    return None


def effect_of(
    result: InviteResult,
    *,
    action: TaskAction,
    step: Step,
    attempts: int,
    max_attempts: int,
    previous_error: str | None,
    now: datetime,
    tuning: Tuning,
    rules: PlatformRules,
    premium_retry: bool = False,
) -> Effect:
    """The effect of ``result`` for a target on its ``attempts``-th try (before this one).

    ``step`` is the call that produced ``result``. ``premium_retry``: the sender has no Premium and another
    lane of the task has it (``premium_lane_waiting``), so a refusal Premium would admit is retried there.
    """
    outcome = result.outcome
    if outcome is Outcome.SUCCESS:
        return Effect(TargetStatus.INVITED if step is Step.INVITE else TargetStatus.MESSAGED)
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
        if result.pause_task:
            # The chat refuses, whichever account asks: the task pauses and its lanes stay as they are,
            # so a resume after the chat is fixed goes on with every account.
            reason = chat_refused_reason(result.error_code, result.detail)
            return Effect(TargetStatus.PENDING, pause_reason=reason, stop_batch=True, count_as_failure=True)
        return Effect(
            TargetStatus.PENDING,
            lane_status=LaneStatus.EXCLUDED,
            stop_batch=True,
            count_as_failure=True,
        )
    if outcome is Outcome.TARGET_REJECTED:
        if (
            premium_retry
            and step is Step.INVITE
            and result.error_code is not None
            and result.error_code == rules.premium_retry_code
            and previous_error != HANDED_TO_PREMIUM  # once: a retry that fails the same way is final
        ):
            # Not the account's fault nor the target's: Telegram documents that Premium would be let in.
            return Effect(TargetStatus.PENDING, hand_to_premium=True)
        if step is Step.INVITE and action is TaskAction.INVITE_OR_MESSAGE and result.message_allowed:
            return Effect(TargetStatus.SENDING, fallback_to_message=True)
        return Effect(
            TargetStatus.FAILED,
            charge_attempt=True,
            count_as_failure=True,
            pause_if_repeated=result.pause_if_repeated,
        )
    # TRANSIENT. A call that never reached the platform costs the target nothing.
    if not result.charged:
        backoff = min(tuning.transient_backoff_seconds, tuning.transient_backoff_max_seconds)
        return Effect(TargetStatus.PENDING, next_attempt_at=now + timedelta(seconds=backoff), stop_batch=True)
    # An unknown platform error name gets one more chance, then fails with its raw name. Our own
    # infrastructure failures (timeouts, 5xx: delivery uncertain) are not platform verdicts.
    platform_said = not result.delivery_uncertain
    code = result.error_code
    unknown_name = bool(code) and not rules.is_known_error(code or "")
    if platform_said and unknown_name and previous_error == code:
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


def breaker_window(breaker: Breaker) -> timedelta:
    """How far back the breaker counts restricted lanes."""
    return timedelta(minutes=breaker.window_minutes)


def breaker_tripped(restricted_recently: int, lanes_total: int, breaker: Breaker) -> bool:
    """The circuit breaker: enough of the task's lanes restricted within the window."""
    if lanes_total == 0 or restricted_recently == 0:
        return False
    return (
        restricted_recently >= breaker.restricted_lanes
        or restricted_recently / lanes_total >= breaker.restricted_share
    )


def breaker_reason(restricted_recently: int, lanes_total: int, breaker: Breaker, code: str | None) -> str:
    return (
        f"Circuit breaker: {restricted_recently} of {lanes_total} accounts were restricted by the platform "
        f"within {breaker.window_minutes} min (last: {code}). Review before resuming."
    )


def checks_breaker(status: TaskStatus) -> bool:
    """Only a running task is paused by the breaker (a paused one stays as it is)."""
    return status is TaskStatus.RUNNING


def stranded(lanes: Iterable[LaneStatus]) -> bool:
    """No lane of the task can act again by itself (only a restriction ends with time): the task pauses."""
    return not any(status in LANE_MAY_RETURN for status in lanes)


def stranded_reason(lanes_summary: str) -> str:
    """Why dispatch paused a task that has no lane left (``lanes_summary`` names each lane's status)."""
    return f"No usable account is left in this task: {lanes_summary}"


def last_lane_excluded_reason(error_code: str | None) -> str:
    """Why an outcome that excluded the task's last lane paused the task."""
    return f"No account can work on this task any more (last: {error_code})."


def chat_refused_reason(error_code: str | None, detail: str | None) -> str:
    """Why a chat-level refusal (the chat is full, or takes no invites) paused the task."""
    return f"The destination chat refused the invite ({error_code}): {detail or 'see the error code'}."


# How many calls of a task in a row must get the same repeat-pausing refusal (CHAT_MEMBER_ADD_FAILED)
# before the chat, not the targets, is taken to be the cause.
REPEAT_PAUSE_AFTER = 5


def repeated_refusal(recent_codes: Iterable[str | None], code: str | None) -> bool:
    """The task's most recent calls (newest first, this one included) all ended with ``code``."""
    codes = list(recent_codes)[:REPEAT_PAUSE_AFTER]
    return code is not None and len(codes) == REPEAT_PAUSE_AFTER and all(c == code for c in codes)


def repeated_refusal_reason(error_code: str | None, detail: str | None) -> str:
    return (
        f"The last {REPEAT_PAUSE_AFTER} invites of this task were all refused with {error_code} "
        f"({detail or 'no detail'}): the chat itself is the likely cause (its settings, or the platform "
        "refusing adds to it). Check the chat before resuming."
    )
