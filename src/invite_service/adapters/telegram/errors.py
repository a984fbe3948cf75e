"""Every Telegram RPC error the invite and message paths can return, mapped to what the engine does.

Names follow Telegram's own spelling, with ``X`` for the number (``FLOOD_WAIT_X``); a concrete
``FLOOD_WAIT_30`` — or ``FLOOD_WAIT`` plus a separate seconds value — maps to that entry with the
number parsed. Sources: core.telegram.org/api/errors and the "Possible errors" of
channels.inviteToChannel, messages.addChatUser, messages.sendMessage, contacts.resolveUsername.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from invite_service.adapters.base import InviteResult, MissingInviteeReason, Outcome, PlatformRules
from invite_service.models.enums import SuppressionReason

# Used only when the platform says "wait" without saying how long: long enough to be safe.
DEFAULT_WAIT_SECONDS = 60.0
# error_code is stored in a String(64) column.
MAX_ERROR_CODE_LENGTH = 64

MISSING_INVITEE_PRIVACY = "MISSING_INVITEE_PRIVACY"
MISSING_INVITEE_PREMIUM_WOULD_ALLOW = "MISSING_INVITEE_PREMIUM_WOULD_ALLOW"
MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM = "MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM"


@dataclass(frozen=True)
class TelegramError:
    """One table row: an error name, its class and the flags the engine acts on."""

    name: str
    outcome: Outcome
    description: str
    pause_task: bool = False
    suggest_suppression: SuppressionReason | None = None
    retry_by_username: bool = False
    message_allowed: bool = False
    delivery_uncertain: bool = False

    def result(self, seconds: float | None = None, *, raw: str | None = None) -> InviteResult:
        detail = self.description if raw in (None, self.name) else f"{self.description} [{raw}]"
        retry_after = None
        if self.outcome is Outcome.RETRY_AFTER:
            retry_after = DEFAULT_WAIT_SECONDS if seconds is None else seconds
        return InviteResult(
            self.outcome,
            error_code=self.name,
            retry_after=retry_after,
            detail=detail,
            delivery_uncertain=self.delivery_uncertain,
            pause_task=self.pause_task,
            suggest_suppression=self.suggest_suppression,
            retry_by_username=self.retry_by_username,
            message_allowed=self.message_allowed,
        )


def _group(outcome: Outcome, rows: Mapping[str, str], **flags: Any) -> list[TelegramError]:
    return [TelegramError(name, outcome, description, **flags) for name, description in rows.items()]


_RETRY_AFTER = _group(
    Outcome.RETRY_AFTER,
    {
        "FLOOD_WAIT_X": "the platform asks this account to wait",
        "FLOOD_PREMIUM_WAIT_X": "the platform asks this account to wait (premium flood wait)",
        "SLOWMODE_WAIT_X": "slow mode is on in this chat: wait before sending again",
        "FLOOD_TEST_PHONE_WAIT_X": "the platform asks this test account to wait",
    },
)

# Telegram's 5xx (and its internal negative codes): the server may or may not have executed
# the call, so it is retried — but flagged uncertain, never re-sent blindly.
_TRANSIENT = _group(
    Outcome.TRANSIENT,
    {
        "TIMEOUT": "the platform timed out; the call may have taken effect",
        "-500": "platform internal error",
        "-503": "platform timeout; the call may have taken effect",
        "INTERNAL": "platform internal error",
        "RPC_CALL_FAIL": "platform internal call failed",
        "RPC_MCGET_FAIL": "platform internal storage read failed",
        "WORKER_BUSY_TOO_LONG_RETRY": "platform workers are busy",
        "INTERDC_X_CALL_ERROR": "platform inter-datacenter call failed",
        "INTERDC_X_CALL_RICH_ERROR": "platform inter-datacenter call failed",
        "MEMBER_OCCUPY_PRIMARY_LOC_FAILED": "platform internal error",
        "MSG_WAIT_FAILED": "platform failed to wait for a previous call",
        "HISTORY_GET_FAILED": "platform failed to read chat history",
        "NEED_MEMBER_INVALID": "platform internal error",
        "NEED_CHAT_INVALID": "platform internal error",
    },
    delivery_uncertain=True,
)

# The split between the two account classes:
# - ACCOUNT_RESTRICTED: the platform judged the account's *behaviour* (spam reports, bans).
#   Re-logging in does not help; only time or a platform appeal lifts it. These are what the
#   circuit breaker counts to pause a task when restrictions spread.
# - ACCOUNT_UNAVAILABLE: the *session* is gone or broken (logged out, key revoked, two-factor
#   password needed, account deleted by its owner). Nothing is held against the account; its
#   owner must re-connect it in the Integration Service.
# Both stop the account for every task; neither ever brings in another account to replace it.
_ACCOUNT_RESTRICTED = _group(
    Outcome.ACCOUNT_RESTRICTED,
    {
        "PEER_FLOOD": "the platform limits this account for spam or too many actions",
        "USER_RESTRICTED": "the account is restricted for spam reports",
        "USER_BANNED_IN_CHANNEL": "the account is banned from sending in groups and channels",
        "PHONE_NUMBER_BANNED": "the account's phone number is banned",
        "USER_DEACTIVATED_BAN": "the account was banned by the platform",
        "FROZEN_METHOD_INVALID": "the account is frozen by the platform",
    },
)

_ACCOUNT_UNAVAILABLE = _group(
    Outcome.ACCOUNT_UNAVAILABLE,
    {
        "AUTH_KEY_UNREGISTERED": "the session is not logged in",
        "AUTH_KEY_INVALID": "the session key is invalid",
        "AUTH_KEY_DUPLICATED": "the session is used from two places at once",
        "AUTH_KEY_PERM_EMPTY": "the session has no permanent key",
        "SESSION_REVOKED": "the session was terminated by the account owner",
        "SESSION_EXPIRED": "the session expired",
        "SESSION_PASSWORD_NEEDED": "the account needs its two-step verification password",
        "USER_DEACTIVATED": "the account was deleted by its owner",
    },
)

_ALREADY_MEMBER = _group(
    Outcome.ALREADY_MEMBER,
    {"USER_ALREADY_PARTICIPANT": "the user is already a member of the chat"},
)

# Privacy refusals: Telegram's own client offers to send an invite link instead
# (updateGroupInvitePrivacyForbidden), so an invite_or_message task may message a link.
_TARGET_PRIVACY = _group(
    Outcome.TARGET_REJECTED,
    {
        "USER_PRIVACY_RESTRICTED": "the user's privacy settings do not allow invites",
        "USER_NOT_MUTUAL_CONTACT": "the user only allows invites from mutual contacts",
    },
    message_allowed=True,
)

_TARGET_REJECTED = _group(
    Outcome.TARGET_REJECTED,
    {
        "USER_CHANNELS_TOO_MUCH": "the user is in too many channels and groups",
        "USER_KICKED": "the user was banned from this chat by its admins",
        "USER_BLOCKED": "the user is blocked",
        "USER_BOT": "bots can only be added to channels as admins",
        "BOT_GROUPS_BLOCKED": "this bot cannot be added to groups",
        "INPUT_USER_DEACTIVATED": "the user's account was deleted",
        "USERNAME_NOT_OCCUPIED": "no user has this username",
        "USERNAME_INVALID": "the username is invalid",
        "PHONE_NOT_OCCUPIED": "no user has this phone number",
        "PHONE_NUMBER_INVALID": "the phone number is invalid",
        "USER_IS_BOT": "the target is a bot, which cannot be messaged this way",
        "YOU_BLOCKED_USER": "this account has blocked the user",
        "PRIVACY_PREMIUM_REQUIRED": "the user accepts messages only from premium accounts",
        # The rendered message itself is unusable for this target; retrying cannot help.
        "MESSAGE_EMPTY": "the rendered message is empty",
        "MESSAGE_TOO_LONG": "the rendered message is too long",
        "ENTITIES_TOO_LONG": "the rendered message has too much formatting",
    },
)

_TARGET_BLOCKED_US = _group(
    Outcome.TARGET_REJECTED,
    {"USER_IS_BLOCKED": "the user has blocked this account"},
    suggest_suppression=SuppressionReason.BLOCKED_US,
)

# A stale or foreign id: the engine re-resolves once by username, then fails the target.
_TARGET_STALE_ID = _group(
    Outcome.TARGET_REJECTED,
    {
        "USER_ID_INVALID": "the user id is not valid for this account",
        "PEER_ID_INVALID": "the peer id is not valid for this account",
    },
    retry_by_username=True,
)

_TASK_MISCONFIGURED = _group(
    Outcome.TASK_MISCONFIGURED,
    {
        "CHAT_ADMIN_REQUIRED": "this account lacks the admin right to invite into the chat",
        "CHAT_ADMIN_INVITE_REQUIRED": "this account lacks the right to invite into the chat",
        "CHAT_WRITE_FORBIDDEN": "this account cannot write in the chat",
        "CHANNEL_PRIVATE": "the chat is private or this account was removed from it",
        "CHANNEL_INVALID": "the destination channel is invalid",
        "CHAT_INVALID": "the destination chat is invalid",
        "CHAT_ID_INVALID": "the destination chat id is invalid",
        "BOTS_TOO_MUCH": "the chat has too many bots",
        "CHAT_RESTRICTED": "the chat is restricted and cannot be used",
        "CHAT_MEMBER_ADD_FAILED": "the platform refused to add members to this chat",
    },
)

_TASK_CHAT_FULL = _group(
    Outcome.TASK_MISCONFIGURED,
    {"USERS_TOO_MUCH": "the chat is full"},
    pause_task=True,
)


def _build() -> Mapping[str, TelegramError]:
    table: dict[str, TelegramError] = {}
    for group in (
        _RETRY_AFTER,
        _TRANSIENT,
        _ACCOUNT_RESTRICTED,
        _ACCOUNT_UNAVAILABLE,
        _ALREADY_MEMBER,
        _TARGET_PRIVACY,
        _TARGET_REJECTED,
        _TARGET_BLOCKED_US,
        _TARGET_STALE_ID,
        _TASK_MISCONFIGURED,
        _TASK_CHAT_FULL,
    ):
        for entry in group:
            if entry.name in table:
                raise RuntimeError(f"duplicate Telegram error {entry.name}")
            table[entry.name] = entry
    return MappingProxyType(table)


# Read-only: every known name (``X`` form) → its class. Tests enumerate it.
TELEGRAM_ERRORS: Mapping[str, TelegramError] = _build()


def _is_int(text: str) -> bool:
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit()


def normalize_error_name(name: str) -> tuple[str, float | None]:
    """``"flood_wait_30"`` → ``("FLOOD_WAIT_X", 30.0)``; numbers inside a name become ``X``.

    A bare status such as ``"-500"`` is kept as it is.
    """
    cleaned = name.strip().upper().replace(" ", "_")
    if _is_int(cleaned):
        return cleaned, None
    number: float | None = None
    parts = cleaned.split("_")
    for index, part in enumerate(parts):
        if part and _is_int(part):
            number = float(part)
            parts[index] = "X"
    return "_".join(parts), number


def lookup(name: str) -> tuple[TelegramError | None, float | None]:
    """The table row for ``name`` (any spelling) and the number parsed from it."""
    key, number = normalize_error_name(name)
    entry = TELEGRAM_ERRORS.get(key)
    if entry is None and not key.endswith("_X"):
        # "FLOOD_WAIT" with the seconds given separately.
        entry = TELEGRAM_ERRORS.get(f"{key}_X")
    return entry, number


def _wait_seconds(parsed: float | None, given: float | None) -> float | None:
    # Both present and different: obey the longer wait.
    values = [v for v in (parsed, given) if v is not None and math.isfinite(v)]
    return max(0.0, *values) if values else None


def classify(name: str, *, seconds: float | None = None, seen_before: bool = False) -> InviteResult:
    """Map a Telegram RPC error name (and optional separate wait seconds) to an ``InviteResult``.

    An unknown name is TRANSIENT the first time and fails the target when ``seen_before``,
    keeping the raw name as the error code so new platform errors show up in statistics.
    """
    raw = name.strip().upper()
    entry, parsed = lookup(name)
    if entry is not None:
        return entry.result(_wait_seconds(parsed, seconds), raw=raw)
    if _is_int(raw):
        by_status = classify_http_status(int(raw), seconds=seconds)
        if by_status is not None:
            return by_status
    code = raw[:MAX_ERROR_CODE_LENGTH] or "UNKNOWN_ERROR"
    if seen_before:
        return InviteResult(
            Outcome.TARGET_REJECTED, error_code=code, detail="unknown platform error, seen again"
        )
    return InviteResult(Outcome.TRANSIENT, error_code=code, detail="unknown platform error, retried once")


def classify_http_status(status: int, *, seconds: float | None = None) -> InviteResult | None:
    """Classify by status code alone (no error name, or a bridge's HTTP status).

    None means the status alone does not decide: classify by the error name instead.
    """
    code = f"HTTP_{status}"
    if status >= 500 or status < 0:
        # 5xx and Telegram's internal negative codes (-500, -503): retry, outcome uncertain.
        return InviteResult(
            Outcome.TRANSIENT,
            error_code=code,
            detail="platform server error; the call may have taken effect",
            delivery_uncertain=True,
        )
    if status == 401:
        # Telegram's 401 class is the session's (AUTH_KEY_*, SESSION_*): the owner must act.
        return InviteResult(Outcome.ACCOUNT_UNAVAILABLE, error_code=code, detail="unauthorized session")
    if status == 420:
        wait = _wait_seconds(None, seconds)
        return InviteResult(
            Outcome.RETRY_AFTER,
            error_code=code,
            retry_after=DEFAULT_WAIT_SECONDS if wait is None else wait,
            detail="the platform asks this account to wait",
        )
    return None


def classify_missing_invitee(premium_would_allow_invite: bool, premium_required_for_pm: bool) -> InviteResult:
    """One ``missingInvitee`` of ``messages.InvitedUsers``: the add "succeeded" without this user.

    Three reasons, three codes, so statistics count them apart. A link may be sent by message
    unless the user accepts messages only from premium accounts (that flag wins when both are set).
    """
    if premium_required_for_pm:
        return InviteResult(
            Outcome.TARGET_REJECTED,
            error_code=MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM,
            detail="the user's privacy forbids invites, and messages need a premium account",
            missing_invitee=MissingInviteeReason.PREMIUM_REQUIRED_FOR_PM,
            message_allowed=False,
        )
    if premium_would_allow_invite:
        return InviteResult(
            Outcome.TARGET_REJECTED,
            error_code=MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
            detail="the user's privacy forbids invites except from premium accounts",
            missing_invitee=MissingInviteeReason.PREMIUM_WOULD_ALLOW_INVITE,
            message_allowed=True,
        )
    return InviteResult(
        Outcome.TARGET_REJECTED,
        error_code=MISSING_INVITEE_PRIVACY,
        detail="the user's privacy settings do not allow invites",
        missing_invitee=MissingInviteeReason.PRIVACY,
        message_allowed=True,
    )


def names_for(outcome: Outcome) -> frozenset[str]:
    """Every table name of one class (for tests, docs and dashboards)."""
    return frozenset(name for name, entry in TELEGRAM_ERRORS.items() if entry.outcome is outcome)


def is_known_error(code: str) -> bool:
    """A name (any spelling) in the table."""
    return lookup(code)[0] is not None


# What the engine's rules need of Telegram: which invite refusals let an invite_or_message task send
# the message instead (the privacy refusals and the missing invitees a message may reach), and which
# error names are Telegram's own.
TELEGRAM_RULES = PlatformRules(
    message_fallback_codes=frozenset(
        {entry.name for entry in TELEGRAM_ERRORS.values() if entry.message_allowed}
        | {MISSING_INVITEE_PRIVACY, MISSING_INVITEE_PREMIUM_WOULD_ALLOW}
    ),
    is_known_error=is_known_error,
)
