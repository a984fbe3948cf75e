"""One identity key per target: usernames, phone numbers (E.164) and numeric user ids.

Also normalizes a task's destination chat (``@name``, a t.me link, an invite link or a numeric id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from invite_service.models.enums import TargetKind

# phonenumbers recompiles its metadata patterns on every parse unless told to keep them (over a quarter
# of a phone's normalizing). The patterns are fixed, so the cache is bounded.
phonenumbers.enable_pattern_cache()

# Telegram: 5-32 characters of [A-Za-z0-9_], starting with a letter, not ending with "_".
_USERNAME = re.compile(r"^[a-z][a-z0-9_]{3,30}[a-z0-9]$")
_TME = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/", re.IGNORECASE)
_INVITE_HASH = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
_USER_ID = re.compile(r"^\d{1,20}$")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")


class NormalizeError(ValueError):
    """Why a value is not a valid identity; the message is shown to the user per row."""


class NumberTooShort(NormalizeError):
    """A target's user id of fewer than ``MIN_TARGET_USER_ID_DIGITS`` digits (reason ``number_too_short``)."""


# A bare number is taken as a target's user id only from this many digits on. Folklore, not a documented
# rule: Telegram does not publish its id ranges, but the ids met in practice have 6 to 10 or more digits
# (even the service account that sends login codes is 777000); a number of 1-4 digits in an audience is
# a row number, a count or a cut phone far more often than a person. Suppressions and inbound events
# keep taking any positive id (they only match, never send).
MIN_TARGET_USER_ID_DIGITS = 5
TOO_SHORT = "a number this short is neither a user id nor a phone"


def normalize_username(raw: str) -> str:
    value = raw.strip()
    if "/" in value or "?" in value:  # a link or a query; a plain name (most of a file) skips the regex
        value = _TME.sub("", value)
        value = value.split("?", 1)[0].rstrip("/")
    value = value.removeprefix("@").lower()
    if not _USERNAME.match(value):
        raise NormalizeError("username must be 5-32 letters, digits or underscores, starting with a letter")
    return value


def normalize_phone(raw: str, default_region: str) -> str:
    value = raw.strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise NormalizeError("phone is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise NormalizeError("phone is not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_user_id(raw: str | int) -> str:
    value = str(raw).strip()
    if not _USER_ID.match(value) or int(value) == 0:
        raise NormalizeError("user_id must be a positive integer")
    return str(int(value))


@dataclass(frozen=True)
class Identity:
    """Every identity of a target, normalized, and the one it is keyed by."""

    kind: TargetKind
    key: str
    username: str | None
    platform_user_id: str | None
    phone: str | None


# (kind, key, username, platform user id, phone): an ``Identity`` without the objects, for imports.
IdentityValues = tuple[str, str, str | None, str | None, str | None]
_USER_ID_KIND = TargetKind.USER_ID
_USERNAME_KIND = TargetKind.USERNAME
_PHONE_KIND = TargetKind.PHONE


def normalize_identity(
    *, username: str | None, user_id: str | int | None, phone: str | None, default_region: str
) -> Identity:
    """Normalize whatever identities a row has; the key prefers user id, then username, then phone.

    Raises ``NormalizeError`` naming the field when any given value is invalid or none is given.
    """
    kind, key, norm_username, norm_user_id, norm_phone = identity_values(
        username=username, user_id=user_id, phone=phone, default_region=default_region
    )
    return Identity(TargetKind(kind), key, norm_username, norm_user_id, norm_phone)


def identity_values(
    *, username: str | None, user_id: str | int | None, phone: str | None, default_region: str
) -> IdentityValues:
    """``normalize_identity`` as a plain tuple: an import calls it once a row, a million times a file."""
    norm_user_id = norm_username = norm_phone = None
    if user_id not in (None, ""):
        try:
            norm_user_id = normalize_user_id(user_id)
        except NormalizeError as exc:
            raise NormalizeError(f"user_id: {exc}") from exc
        if len(norm_user_id) < MIN_TARGET_USER_ID_DIGITS:
            raise NumberTooShort(
                f"user_id: {TOO_SHORT} (a user id has at least {MIN_TARGET_USER_ID_DIGITS} digits)"
            )
    if username not in (None, ""):
        try:
            norm_username = normalize_username(username)
        except NormalizeError as exc:
            raise NormalizeError(f"username: {exc}") from exc
    if phone not in (None, ""):
        try:
            norm_phone = normalize_phone(phone, default_region)
        except NormalizeError as exc:
            raise NormalizeError(f"phone: {exc}") from exc
    if norm_user_id:
        return _USER_ID_KIND, norm_user_id, norm_username, norm_user_id, norm_phone
    if norm_username:
        return _USERNAME_KIND, norm_username, norm_username, norm_user_id, norm_phone
    if norm_phone:
        return _PHONE_KIND, norm_phone, norm_username, norm_user_id, norm_phone
    raise NormalizeError("a target needs a username, user_id or phone")


def normalize_destination(raw: str) -> str:
    """``@name``/t.me/name → ``@name``; invite links → ``+HASH``; numeric chat ids kept as ``-100…``."""
    value = raw.strip()
    if _CHAT_ID.match(value):
        return str(int(value))
    stripped = _TME.sub("", value)
    is_link = stripped != value
    stripped = stripped.split("?", 1)[0].rstrip("/")
    if is_link and (stripped.startswith("+") or stripped.lower().startswith("joinchat/")):
        invite = stripped[1:] if stripped.startswith("+") else stripped.split("/", 1)[1]
        if not _INVITE_HASH.match(invite):
            raise NormalizeError("invite link hash is malformed")
        return "+" + invite
    try:
        return "@" + normalize_username(stripped)
    except NormalizeError as exc:
        raise NormalizeError(
            "destination must be @name, a t.me link, an invite link or a numeric chat id"
        ) from exc
