"""Every Telegram RPC error the invite and message paths can return, mapped to what the engine does.

Names follow Telegram's own spelling, with ``X`` for the number (``FLOOD_WAIT_X``); a concrete
``FLOOD_WAIT_30`` — or ``FLOOD_WAIT`` plus a separate seconds value — maps to that entry with the
number parsed. The rows, each with its source, are in ``error_table.py``.
"""

from __future__ import annotations

import math

from invite_service.adapters.base import InviteResult, MissingInviteeReason, Outcome, PlatformRules
from invite_service.adapters.telegram.error_table import DEFAULT_WAIT_SECONDS as DEFAULT_WAIT_SECONDS
from invite_service.adapters.telegram.error_table import TELEGRAM_ERRORS as TELEGRAM_ERRORS
from invite_service.adapters.telegram.error_table import TelegramError

# error_code is stored in a String(64) column.
MAX_ERROR_CODE_LENGTH = 64

MISSING_INVITEE_PRIVACY = "MISSING_INVITEE_PRIVACY"
MISSING_INVITEE_PREMIUM_WOULD_ALLOW = "MISSING_INVITEE_PREMIUM_WOULD_ALLOW"
MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM = "MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM"


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
    premium_retry_code=MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
)
