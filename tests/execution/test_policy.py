"""The rules of execution, unit by unit: transitions, outcome effects, breaker, send window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from invite_service.adapters.base import InviteResult, MissingInviteeReason, Outcome, PlatformRules
from invite_service.adapters.telegram.errors import TELEGRAM_RULES, classify, classify_missing_invitee
from invite_service.execution.policy import (
    HANDED_TO_PREMIUM,
    REPEAT_PAUSE_AFTER,
    Effect,
    TransitionNotAllowed,
    Tuning,
    breaker_reason,
    breaker_tripped,
    breaker_window,
    check_transition,
    checks_breaker,
    effect_of,
    kept_error,
    key_step,
    premium_lane_waiting,
    repeated_refusal,
    step_for,
    stranded,
)
from invite_service.limits.window import SendWindow
from invite_service.models.enums import LaneStatus, Step, TargetStatus, TaskAction, TaskStatus, first_step
from invite_service.models.task_settings import Breaker

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def effect(
    result: InviteResult,
    action: TaskAction = TaskAction.INVITE,
    step: Step = Step.INVITE,
    attempts: int = 0,
    previous: str | None = None,
    rules: PlatformRules = TELEGRAM_RULES,
) -> Effect:
    return effect_of(
        result,
        action=action,
        step=step,
        attempts=attempts,
        max_attempts=3,
        previous_error=previous,
        now=NOW,
        tuning=Tuning(),
        rules=rules,
    )


def test_transitions() -> None:
    assert check_transition("start", TaskStatus.DRAFT, TaskStatus.RUNNING)
    assert check_transition("pause", TaskStatus.RUNNING, TaskStatus.PAUSED)
    assert not check_transition("pause", TaskStatus.PAUSED, TaskStatus.PAUSED)  # a repeat is harmless
    assert check_transition("resume", TaskStatus.PAUSED, TaskStatus.RUNNING)
    assert check_transition("cancel", TaskStatus.PAUSED, TaskStatus.CANCELLED)
    for action, current, target in [
        ("resume", TaskStatus.DRAFT, TaskStatus.RUNNING),
        ("pause", TaskStatus.COMPLETED, TaskStatus.PAUSED),
        ("cancel", TaskStatus.COMPLETED, TaskStatus.CANCELLED),
        ("start", TaskStatus.CANCELLED, TaskStatus.RUNNING),
    ]:
        with pytest.raises(TransitionNotAllowed) as exc:
            check_transition(action, current, target)
        assert exc.value.extra["current_status"] == current.value


def test_flood_wait_cools_the_account_with_the_buffer() -> None:
    e = effect(classify("FLOOD_WAIT_100"))
    assert e.target_status is TargetStatus.PENDING
    assert not e.charge_attempt
    assert e.lane_status is LaneStatus.COOLING_DOWN
    assert e.account_wide
    assert e.lane_cooldown_until == NOW + timedelta(seconds=100 * 1.1 + 5)
    assert e.next_attempt_at == e.lane_cooldown_until


def test_peer_flood_restricts_the_account_everywhere_for_a_day() -> None:
    e = effect(classify("PEER_FLOOD"))
    assert (e.lane_status, e.account_wide, e.stop_batch) == (LaneStatus.RESTRICTED, True, True)
    assert e.lane_cooldown_until == NOW + timedelta(hours=24)
    assert e.target_status is TargetStatus.PENDING and not e.charge_attempt
    e = effect(classify("AUTH_KEY_UNREGISTERED"))
    assert (e.lane_status, e.account_wide) == (LaneStatus.UNAVAILABLE, True)


def test_target_outcomes() -> None:
    assert effect(classify("USER_PRIVACY_RESTRICTED")).target_status is TargetStatus.FAILED
    assert effect(classify("USER_ALREADY_PARTICIPANT")).target_status is TargetStatus.ALREADY_MEMBER
    assert effect(InviteResult(Outcome.SUCCESS)).target_status is TargetStatus.INVITED
    assert effect(InviteResult(Outcome.SUCCESS), step=Step.MESSAGE).target_status is TargetStatus.MESSAGED


def test_misconfigured_excludes_the_lane_and_a_full_chat_pauses() -> None:
    e = effect(classify("CHAT_ADMIN_REQUIRED"))
    assert (e.lane_status, e.account_wide, e.pause_reason) == (LaneStatus.EXCLUDED, False, None)
    full = effect(classify("USERS_TOO_MUCH"))
    assert full.pause_reason and "full" in full.pause_reason and "200" in full.pause_reason
    # The chat refuses whoever asks: the task pauses, the account is not blamed (no lane change).
    assert full.lane_status is None and full.stop_batch
    monoforum = effect(classify("CHANNEL_MONOFORUM_UNSUPPORTED"))
    assert monoforum.pause_reason and "CHANNEL_MONOFORUM_UNSUPPORTED" in monoforum.pause_reason


def test_a_refusal_repeated_five_times_in_a_row_pauses() -> None:
    e = effect(classify("CHAT_MEMBER_ADD_FAILED"))
    assert e.target_status is TargetStatus.FAILED and e.pause_if_repeated and e.lane_status is None
    code = "CHAT_MEMBER_ADD_FAILED"
    assert repeated_refusal([code] * REPEAT_PAUSE_AFTER, code)
    assert repeated_refusal([code] * (REPEAT_PAUSE_AFTER + 3), code)
    assert not repeated_refusal([code] * (REPEAT_PAUSE_AFTER - 1), code)
    assert not repeated_refusal([code, code, None, code, code, code], code), "a success breaks the run"
    assert not effect(classify("BOTS_TOO_MUCH")).pause_if_repeated


def test_transient_backs_off_then_fails_at_max_attempts() -> None:
    first = effect(classify("RPC_CALL_FAIL"), attempts=0)
    assert first.target_status is TargetStatus.PENDING and first.charge_attempt
    assert first.next_attempt_at == NOW + timedelta(seconds=30)
    second = effect(classify("RPC_CALL_FAIL"), attempts=1)
    assert second.next_attempt_at == NOW + timedelta(seconds=60)
    assert effect(classify("RPC_CALL_FAIL"), attempts=2).target_status is TargetStatus.FAILED


def test_unknown_error_is_transient_once_then_fails_with_its_name() -> None:
    once = classify("WEIRD_NEW_ERROR")
    assert effect(once).target_status is TargetStatus.PENDING
    assert effect(once, previous="WEIRD_NEW_ERROR").target_status is TargetStatus.FAILED
    # A platform whose adapter knows every name it sends retries it up to the task's max attempts.
    assert (
        effect(once, previous="WEIRD_NEW_ERROR", rules=PlatformRules()).target_status is TargetStatus.PENDING
    )


def test_invite_or_message_falls_back_on_privacy_only() -> None:
    privacy = classify("USER_PRIVACY_RESTRICTED")
    assert effect(privacy, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    assert not effect(privacy, action=TaskAction.INVITE).fallback_to_message
    missing = classify_missing_invitee(False, False)
    assert missing.missing_invitee is MissingInviteeReason.PRIVACY
    assert effect(missing, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    pm = classify_missing_invitee(False, True)
    assert not effect(pm, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    assert step_for(TaskAction.INVITE_OR_MESSAGE, privacy.error_code, TELEGRAM_RULES) is Step.MESSAGE
    assert step_for(TaskAction.INVITE_OR_MESSAGE, pm.error_code, TELEGRAM_RULES) is Step.INVITE
    assert step_for(TaskAction.INVITE, privacy.error_code, TELEGRAM_RULES) is Step.INVITE
    assert step_for(TaskAction.MESSAGE, None, TELEGRAM_RULES) is Step.MESSAGE
    # The platform's adapter says which refusals allow the message; without its rules, none does.
    assert step_for(TaskAction.INVITE_OR_MESSAGE, privacy.error_code, PlatformRules()) is Step.INVITE
    assert first_step(TaskAction.INVITE_OR_MESSAGE) is Step.INVITE
    assert first_step(TaskAction.MESSAGE) is Step.MESSAGE


def test_a_message_in_place_of_an_invite_keeps_the_refusal() -> None:
    messaged = Effect(TargetStatus.MESSAGED)
    privacy = "USER_PRIVACY_RESTRICTED"
    assert kept_error(messaged, None, privacy, TELEGRAM_RULES) == privacy
    assert kept_error(messaged, None, "RPC_CALL_FAIL", TELEGRAM_RULES) is None  # a retry's cause is not kept
    assert kept_error(Effect(TargetStatus.INVITED), None, privacy, TELEGRAM_RULES) is None
    assert kept_error(Effect(TargetStatus.FAILED), "USER_KICKED", None, TELEGRAM_RULES) == "USER_KICKED"


def test_effect_where_the_target_goes_and_what_the_lane_counts() -> None:
    fallback = effect(classify("USER_PRIVACY_RESTRICTED"), action=TaskAction.INVITE_OR_MESSAGE)
    assert fallback.stored_status is TargetStatus.RESERVED  # the same batch sends the message
    assert effect(InviteResult(Outcome.SUCCESS)).counts_as_sent
    assert effect(classify("USER_ALREADY_PARTICIPANT")).counts_as_sent
    assert not effect(classify("USER_KICKED")).counts_as_sent
    assert effect(classify("PEER_FLOOD")).trips_breaker
    assert not effect(classify("AUTH_KEY_UNREGISTERED")).trips_breaker  # a dead session is not a restriction
    assert not effect(classify("FLOOD_WAIT_10")).trips_breaker


def test_breaker() -> None:
    default = Breaker()
    assert (default.restricted_lanes, default.restricted_share, default.window_minutes) == (2, 1 / 3, 60)
    assert not breaker_tripped(1, 4, default)
    assert breaker_tripped(2, 10, default)
    assert breaker_tripped(1, 3, default)
    assert not breaker_tripped(0, 3, default)
    assert not breaker_tripped(0, 0, default)
    strict = Breaker(restricted_lanes=1, restricted_share=1)
    assert breaker_tripped(1, 10, strict)
    assert breaker_window(Breaker(window_minutes=90)) == timedelta(minutes=90)
    assert "2 of 10 accounts" in breaker_reason(2, 10, default, "PEER_FLOOD")
    assert "within 60 min (last: PEER_FLOOD)" in breaker_reason(2, 10, default, "PEER_FLOOD")
    assert checks_breaker(TaskStatus.RUNNING)
    assert not checks_breaker(TaskStatus.PAUSED)


def test_a_task_pauses_when_no_lane_can_come_back() -> None:
    assert stranded([LaneStatus.EXCLUDED, LaneStatus.UNAVAILABLE])
    assert stranded([])
    assert not stranded([LaneStatus.EXCLUDED, LaneStatus.RESTRICTED])  # a restriction ends by time
    assert not stranded([LaneStatus.COOLING_DOWN])
    assert not stranded([LaneStatus.ACTIVE, LaneStatus.EXCLUDED])


def test_send_window_in_a_non_utc_zone() -> None:
    w = SendWindow.from_settings(
        {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00", "timezone": "Asia/Yekaterinburg"}
    )  # UTC+5
    assert w is not None
    monday_0500_utc = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 10:00 local
    assert w.is_open(monday_0500_utc)
    monday_1300_utc = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 18:00 local: closed
    assert not w.is_open(monday_1300_utc)
    assert w.next_open(monday_1300_utc) == datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    assert w.next_open(friday_evening) == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # Monday 09:00 local


def test_send_window_wrapping_midnight() -> None:
    w = SendWindow.from_settings({"days": [5], "start": "22:00", "end": "02:00", "timezone": "UTC"})
    assert w is not None
    assert w.is_open(datetime(2026, 3, 7, 23, 0, tzinfo=UTC))  # Saturday night
    assert w.is_open(datetime(2026, 3, 8, 1, 0, tzinfo=UTC))  # Sunday 01:00 belongs to Saturday's window
    assert not w.is_open(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))  # Sunday night


def test_a_call_that_never_left_costs_no_attempt_and_infra_errors_never_fail_as_unknown() -> None:
    from invite_service.adapters.base import not_sent

    e = effect(not_sent("connection refused"), attempts=2)
    assert e.target_status is TargetStatus.PENDING
    assert not e.charge_attempt
    timeout = InviteResult(Outcome.TRANSIENT, error_code="INTEGRATION_TIMEOUT", delivery_uncertain=True)
    assert effect(timeout, previous="INTEGRATION_TIMEOUT").target_status is TargetStatus.PENDING


def test_a_refusal_premium_would_admit_is_handed_to_a_premium_lane_once() -> None:
    allow = classify_missing_invitee(True, False)
    handed = effect_of(
        allow,
        action=TaskAction.INVITE_OR_MESSAGE,
        step=Step.INVITE,
        attempts=0,
        max_attempts=3,
        previous_error=None,
        now=NOW,
        tuning=Tuning(),
        rules=TELEGRAM_RULES,
        premium_retry=True,
    )
    assert handed.hand_to_premium and handed.target_status is TargetStatus.PENDING
    assert not handed.fallback_to_message and not handed.charge_attempt and handed.lane_status is None
    assert kept_error(handed, allow.error_code, None, TELEGRAM_RULES) == HANDED_TO_PREMIUM
    # The retry is an invite (even where a message could follow), under a key of its own.
    assert step_for(TaskAction.INVITE_OR_MESSAGE, HANDED_TO_PREMIUM, TELEGRAM_RULES) is Step.INVITE
    assert key_step(Step.INVITE, HANDED_TO_PREMIUM) != key_step(Step.INVITE, None) == "invite"
    # A premium retry that must be tried again (a wait) stays handed; one that ended does not.
    wait = effect(classify("FLOOD_WAIT_30"), previous=HANDED_TO_PREMIUM)
    assert kept_error(wait, "FLOOD_WAIT_X", HANDED_TO_PREMIUM, TELEGRAM_RULES) == HANDED_TO_PREMIUM
    done = effect(InviteResult(Outcome.SUCCESS), previous=HANDED_TO_PREMIUM)
    assert kept_error(done, None, HANDED_TO_PREMIUM, TELEGRAM_RULES) is None
    # Once: the retry failing the same way is final (here: the message goes instead).
    again = effect(allow, action=TaskAction.INVITE_OR_MESSAGE, previous=HANDED_TO_PREMIUM)
    assert not again.hand_to_premium and again.fallback_to_message
    # No Premium lane in the task: skipped with the reason (an invite task) — as before.
    assert effect(allow).target_status is TargetStatus.FAILED
    assert premium_lane_waiting([(True, LaneStatus.RESTRICTED)])
    assert not premium_lane_waiting([(True, LaneStatus.UNAVAILABLE), (False, LaneStatus.ACTIVE)])
