"""The Telegram error table: every name the brief lists maps to its class and flags.

The lists below are copied by hand on purpose: a missing or wrongly classed table entry fails
here instead of being checked against itself.
"""

from __future__ import annotations

import pytest

from invite_service.adapters.base import InviteResult, MissingInviteeReason, Outcome, not_sent
from invite_service.adapters.telegram.errors import (
    DEFAULT_WAIT_SECONDS,
    MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM,
    MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
    MISSING_INVITEE_PRIVACY,
    TELEGRAM_ERRORS,
    classify,
    classify_http_status,
    classify_missing_invitee,
    names_for,
    normalize_error_name,
)
from invite_service.models.enums import SuppressionReason

WAITS = ["FLOOD_WAIT_X", "FLOOD_PREMIUM_WAIT_X", "SLOWMODE_WAIT_X"]
TRANSIENT = ["TIMEOUT", "RPC_CALL_FAIL", "-500", "INTERNAL", "RPC_MCGET_FAIL", "WORKER_BUSY_TOO_LONG_RETRY"]
ACCOUNT_RESTRICTED = [
    "PEER_FLOOD",
    "USER_RESTRICTED",
    "USER_BANNED_IN_CHANNEL",
    "PHONE_NUMBER_BANNED",
]
ACCOUNT_UNAVAILABLE = [
    "AUTH_KEY_UNREGISTERED",
    "AUTH_KEY_INVALID",
    "AUTH_KEY_DUPLICATED",
    "SESSION_REVOKED",
    "SESSION_EXPIRED",
    "USER_DEACTIVATED",
    # Banned by the platform: gone, not resting (Telethon errors.csv: 401, the session class).
    "USER_DEACTIVATED_BAN",
]
TARGET_REJECTED = [
    "USER_PRIVACY_RESTRICTED",
    "USER_NOT_MUTUAL_CONTACT",
    "USER_CHANNELS_TOO_MUCH",
    "USER_KICKED",
    "USER_BLOCKED",
    "USER_BOT",
    "INPUT_USER_DEACTIVATED",
    "USERNAME_NOT_OCCUPIED",
    "USERNAME_INVALID",
    "USER_IS_BLOCKED",
    "USER_IS_BOT",
    "YOU_BLOCKED_USER",
    "PRIVACY_PREMIUM_REQUIRED",
    "USER_ID_INVALID",
    "PEER_ID_INVALID",
    # Raised only when the invitee is a bot (core.telegram.org channels.inviteToChannel).
    "BOTS_TOO_MUCH",
    "CHAT_MEMBER_ADD_FAILED",
    "ALLOW_PAYMENT_REQUIRED",
    "ALLOW_PAYMENT_REQUIRED_X",
    "PREMIUM_ACCOUNT_REQUIRED",
]
TASK_MISCONFIGURED = [
    "CHAT_ADMIN_REQUIRED",
    "CHAT_WRITE_FORBIDDEN",
    "CHANNEL_PRIVATE",
    "CHANNEL_INVALID",
    "CHAT_INVALID",
    "CHAT_ID_INVALID",
    "USERS_TOO_MUCH",
    "CHANNEL_MONOFORUM_UNSUPPORTED",
    "CHAT_RESTRICTED",
]

EXPECTED: list[tuple[str, Outcome]] = [
    *[(name, Outcome.RETRY_AFTER) for name in WAITS],
    *[(name, Outcome.TRANSIENT) for name in TRANSIENT],
    *[(name, Outcome.ACCOUNT_RESTRICTED) for name in ACCOUNT_RESTRICTED],
    *[(name, Outcome.ACCOUNT_UNAVAILABLE) for name in ACCOUNT_UNAVAILABLE],
    *[(name, Outcome.TARGET_REJECTED) for name in TARGET_REJECTED],
    ("USER_ALREADY_PARTICIPANT", Outcome.ALREADY_MEMBER),
    ("RANDOM_ID_DUPLICATE", Outcome.SUCCESS),
    *[(name, Outcome.TASK_MISCONFIGURED) for name in TASK_MISCONFIGURED],
]


@pytest.mark.parametrize(("name", "outcome"), EXPECTED)
def test_every_listed_name_is_in_the_table_with_its_class(name: str, outcome: Outcome) -> None:
    assert name in TELEGRAM_ERRORS
    assert TELEGRAM_ERRORS[name].outcome is outcome
    result = classify(name, seconds=5)
    assert result.outcome is outcome
    assert result.error_code == name
    assert result.charged


@pytest.mark.parametrize(("name", "outcome"), EXPECTED)
def test_names_for_lists_each_name_under_its_class(name: str, outcome: Outcome) -> None:
    assert name in names_for(outcome)


def test_table_keys_are_canonical_and_consistent() -> None:
    for key, entry in TELEGRAM_ERRORS.items():
        assert entry.name == key
        assert normalize_error_name(key)[0] == key
        assert entry.description
        # Every row says where it was checked: Telegram's class first, then the list(s) giving it.
        assert entry.source, f"{key} cites no source"


def test_the_rows_issue_13_corrected() -> None:
    # Skipped per target, never the account or the task; no invite link is messaged instead.
    for name in (
        "BOTS_TOO_MUCH",
        "ALLOW_PAYMENT_REQUIRED",
        "PREMIUM_ACCOUNT_REQUIRED",
        "USER_NOT_MUTUAL_CONTACT",
    ):
        result = classify(name)
        assert result.outcome is Outcome.TARGET_REJECTED and not result.message_allowed, name
        assert not result.pause_task and not result.stops_account, name
    assert "left" in (classify("USER_NOT_MUTUAL_CONTACT").detail or "")
    # Chat-level: the whole task pauses, with a reason naming the cause(s).
    monoforum = classify("CHANNEL_MONOFORUM_UNSUPPORTED")
    assert monoforum.pause_task and monoforum.outcome is Outcome.TASK_MISCONFIGURED
    full = classify("USERS_TOO_MUCH").detail or ""
    assert "full" in full and "200" in full
    # Per target, but a run of them pauses the task (the engine counts them).
    add_failed = classify("CHAT_MEMBER_ADD_FAILED")
    assert add_failed.pause_if_repeated and not add_failed.pause_task
    banned = classify("USER_DEACTIVATED_BAN")
    assert banned.outcome is Outcome.ACCOUNT_UNAVAILABLE and "banned" in (banned.detail or "")
    delivered = classify("RANDOM_ID_DUPLICATE")
    assert delivered.ok and delivered.charged and not delivered.delivery_uncertain


@pytest.mark.parametrize(
    ("name", "seconds"),
    [
        ("FLOOD_WAIT_30", 30.0),
        ("FLOOD_PREMIUM_WAIT_7", 7.0),
        ("SLOWMODE_WAIT_120", 120.0),
        ("FLOOD_WAIT_0", 0.0),
    ],
)
def test_wait_seconds_are_parsed_from_the_name(name: str, seconds: float) -> None:
    result = classify(name)
    assert result.outcome is Outcome.RETRY_AFTER
    assert result.retry_after == seconds
    assert result.error_code == name.rsplit("_", 1)[0] + "_X"
    assert not result.counts_attempt


def test_wait_seconds_may_come_separately() -> None:
    result = classify("FLOOD_WAIT", seconds=42)
    assert result.outcome is Outcome.RETRY_AFTER
    assert result.retry_after == 42
    assert result.error_code == "FLOOD_WAIT_X"


def test_the_longer_of_two_waits_is_obeyed() -> None:
    assert classify("FLOOD_WAIT_30", seconds=10).retry_after == 30
    assert classify("FLOOD_WAIT_30", seconds=45).retry_after == 45


def test_a_wait_without_a_number_falls_back_to_a_safe_default() -> None:
    assert classify("FLOOD_WAIT").retry_after == DEFAULT_WAIT_SECONDS


def test_lower_case_input_is_normalised() -> None:
    assert classify("flood_wait_30").retry_after == 30
    assert classify("  peer_flood ").outcome is Outcome.ACCOUNT_RESTRICTED
    assert classify("Timeout").outcome is Outcome.TRANSIENT
    assert classify("user_already_participant").outcome is Outcome.ALREADY_MEMBER
    assert normalize_error_name("interdc_2_call_error") == ("INTERDC_X_CALL_ERROR", 2.0)


def test_transient_server_errors_are_flagged_uncertain() -> None:
    for name in TRANSIENT:
        result = classify(name)
        assert result.delivery_uncertain, name
        assert result.counts_attempt


def test_chat_level_refusals_pause_the_task() -> None:
    chat_level = {"USERS_TOO_MUCH", "CHANNEL_MONOFORUM_UNSUPPORTED"}
    for name in chat_level:
        result = classify(name)
        assert result.pause_task
        assert not result.counts_attempt
    assert not any(classify(name).pause_task for name in TASK_MISCONFIGURED if name not in chat_level)


def test_blocked_by_the_user_suggests_a_blocked_us_suppression() -> None:
    assert classify("USER_IS_BLOCKED").suggest_suppression is SuppressionReason.BLOCKED_US
    assert classify("USER_IS_BLOCKED").suggest_suppression == "blocked_us"
    # We blocked them, not the other way round: no opt-out is implied.
    assert classify("YOU_BLOCKED_USER").suggest_suppression is None


@pytest.mark.parametrize("name", ["USER_ID_INVALID", "PEER_ID_INVALID"])
def test_stale_ids_are_retried_by_username(name: str) -> None:
    result = classify(name)
    assert result.outcome is Outcome.TARGET_REJECTED
    assert result.retry_by_username


def test_only_stale_ids_are_retried_by_username() -> None:
    flagged = {name for name, entry in TELEGRAM_ERRORS.items() if entry.retry_by_username}
    assert flagged == {"USER_ID_INVALID", "PEER_ID_INVALID"}


def test_privacy_refusals_allow_a_link_by_message_but_premium_only_pm_does_not() -> None:
    assert classify("USER_PRIVACY_RESTRICTED").message_allowed
    assert not classify("PRIVACY_PREMIUM_REQUIRED").message_allowed
    assert not classify("USER_IS_BLOCKED").message_allowed


@pytest.mark.parametrize("name", ACCOUNT_RESTRICTED + ACCOUNT_UNAVAILABLE)
def test_account_errors_stop_the_account_and_spare_the_target(name: str) -> None:
    result = classify(name)
    assert result.stops_account
    assert not result.counts_attempt


def test_missing_invitees_have_three_distinct_codes() -> None:
    privacy = classify_missing_invitee(premium_would_allow_invite=False, premium_required_for_pm=False)
    would_allow = classify_missing_invitee(premium_would_allow_invite=True, premium_required_for_pm=False)
    pm_needs_premium = classify_missing_invitee(
        premium_would_allow_invite=False, premium_required_for_pm=True
    )

    assert {privacy.error_code, would_allow.error_code, pm_needs_premium.error_code} == {
        MISSING_INVITEE_PRIVACY,
        MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
        MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM,
    }
    assert privacy.missing_invitee is MissingInviteeReason.PRIVACY
    assert would_allow.missing_invitee is MissingInviteeReason.PREMIUM_WOULD_ALLOW_INVITE
    assert pm_needs_premium.missing_invitee is MissingInviteeReason.PREMIUM_REQUIRED_FOR_PM
    for result in (privacy, would_allow, pm_needs_premium):
        assert result.outcome is Outcome.TARGET_REJECTED
        assert result.charged
    assert privacy.message_allowed
    assert would_allow.message_allowed
    assert not pm_needs_premium.message_allowed


def test_missing_invitee_with_both_flags_forbids_the_message() -> None:
    result = classify_missing_invitee(premium_would_allow_invite=True, premium_required_for_pm=True)
    assert result.error_code == MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM
    assert not result.message_allowed


def test_unknown_name_is_transient_once_then_fails_the_target_with_the_raw_name() -> None:
    first = classify("SOME_NEW_ERROR_5")
    assert first.outcome is Outcome.TRANSIENT
    assert first.error_code == "SOME_NEW_ERROR_5"
    again = classify("SOME_NEW_ERROR_5", seen_before=True)
    assert again.outcome is Outcome.TARGET_REJECTED
    assert again.error_code == "SOME_NEW_ERROR_5"


def test_unknown_lower_case_name_is_kept_upper_cased() -> None:
    assert classify("brand_new_thing").error_code == "BRAND_NEW_THING"


def test_known_names_ignore_seen_before() -> None:
    assert classify("PEER_FLOOD", seen_before=True).outcome is Outcome.ACCOUNT_RESTRICTED
    assert classify("TIMEOUT", seen_before=True).outcome is Outcome.TRANSIENT


def test_overlong_unknown_names_fit_the_error_code_column() -> None:
    code = classify("X" * 200).error_code
    assert code is not None
    assert len(code) == 64


@pytest.mark.parametrize("status", [500, 502, 503, 504, -500, -503])
def test_server_statuses_are_transient(status: int) -> None:
    result = classify_http_status(status)
    assert result is not None
    assert result.outcome is Outcome.TRANSIENT
    assert result.delivery_uncertain


@pytest.mark.parametrize("name", ["-501", "503"])
def test_bare_numeric_names_use_the_status(name: str) -> None:
    assert classify(name).outcome is Outcome.TRANSIENT


def test_other_statuses() -> None:
    unauthorized = classify_http_status(401)
    assert unauthorized is not None
    assert unauthorized.outcome is Outcome.ACCOUNT_UNAVAILABLE
    flood = classify_http_status(420, seconds=12)
    assert flood is not None
    assert flood.outcome is Outcome.RETRY_AFTER
    assert flood.retry_after == 12
    # 400/403/406 say nothing without the error name.
    assert classify_http_status(400) is None
    assert classify_http_status(403) is None


def test_not_sent_is_refunded_and_success_cannot_be() -> None:
    assert not not_sent("connection refused").charged
    with pytest.raises(ValueError, match="charged"):
        InviteResult(Outcome.SUCCESS, charged=False)
    with pytest.raises(ValueError, match="retry_after"):
        InviteResult(Outcome.RETRY_AFTER)
