"""The rules of execution, unit by unit: transitions, outcome effects, breaker, send window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from invite_service.adapters.base import InviteResult, MissingInviteeReason, Outcome
from invite_service.adapters.telegram.errors import classify, classify_missing_invitee
from invite_service.execution.policy import (
    TransitionNotAllowed,
    Tuning,
    breaker_tripped,
    check_transition,
    effect_of,
    step_for,
)
from invite_service.limits.window import SendWindow
from invite_service.models.enums import LaneStatus, TargetStatus, TaskAction, TaskStatus

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def effect(
    result: InviteResult,
    action: TaskAction = TaskAction.INVITE,
    step: str = "invite",
    attempts: int = 0,
    previous: str | None = None,
):  # type: ignore[no-untyped-def]
    return effect_of(
        result,
        action=action,
        step=step,
        attempts=attempts,
        max_attempts=3,
        previous_error=previous,
        now=NOW,
        tuning=Tuning(),
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
    assert effect(InviteResult(Outcome.SUCCESS), step="message").target_status is TargetStatus.MESSAGED


def test_misconfigured_excludes_the_lane_and_a_full_chat_pauses() -> None:
    e = effect(classify("CHAT_ADMIN_REQUIRED"))
    assert (e.lane_status, e.account_wide, e.pause_reason) == (LaneStatus.EXCLUDED, False, None)
    full = effect(classify("USERS_TOO_MUCH"))
    assert full.pause_reason and "full" in full.pause_reason


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


def test_invite_or_message_falls_back_on_privacy_only() -> None:
    privacy = classify("USER_PRIVACY_RESTRICTED")
    assert effect(privacy, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    assert not effect(privacy, action=TaskAction.INVITE).fallback_to_message
    missing = classify_missing_invitee(False, False)
    assert missing.missing_invitee is MissingInviteeReason.PRIVACY
    assert effect(missing, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    pm = classify_missing_invitee(False, True)
    assert not effect(pm, action=TaskAction.INVITE_OR_MESSAGE).fallback_to_message
    assert step_for(TaskAction.INVITE_OR_MESSAGE, privacy.error_code) == "message"
    assert step_for(TaskAction.INVITE_OR_MESSAGE, pm.error_code) == "invite"
    assert step_for(TaskAction.MESSAGE, None) == "message"


def test_breaker() -> None:
    assert not breaker_tripped(1, 4, lanes=2, share=1 / 3)
    assert breaker_tripped(2, 10, lanes=2, share=1 / 3)
    assert breaker_tripped(1, 3, lanes=2, share=1 / 3)
    assert not breaker_tripped(0, 3, lanes=2, share=1 / 3)


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
