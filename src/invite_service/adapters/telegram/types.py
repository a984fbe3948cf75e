"""The Integration Service's vocabulary: typed errors, identities and parsed responses.

Kept apart from the HTTP client so adapters and the sandbox server can use the types without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from invite_service.models.enums import TargetKind


class Delivery(StrEnum):
    """Did a failed call reach the platform? Decides refunds and whether a re-send is safe."""

    NOT_SENT = "not_sent"  # provably not: refused connection, 429, 401, the service's own refusals
    SENT = "sent"  # the platform got it and answered (with an error)
    UNCERTAIN = "uncertain"  # timeout, dropped connection, 5xx: it may have acted


class IntegrationError(Exception):
    """A non-2xx answer (or no answer). ``code`` is a Telegram RPC name or one of the service's codes."""

    def __init__(
        self,
        status: int | None,
        code: str,
        retry_after: float | None = None,
        *,
        detail: str | None = None,
        delivery: Delivery = Delivery.SENT,
        operation: str = "",
        rpc_code: int | None = None,
    ) -> None:
        # The message carries no detail text: details may echo identities, and messages get logged.
        super().__init__(f"{operation or 'integration'}: {status if status is not None else '-'} {code}")
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.detail = detail
        self.delivery = delivery
        self.operation = operation
        # Telegram's class of the RPC error (400, 401, 403, 406, 420, 500, -503…), when ``code`` is one:
        # it classifies a name the table does not know (an unknown 401 is the session's).
        self.rpc_code = rpc_code


class IntegrationAuthError(IntegrationError):
    """The service refused our token (401): a deployment problem, never retried, never a target's fault."""


class IntegrationUnavailable(IntegrationError):
    """Retries are used up (connection failures, timeouts, 5xx, 429) or a 429 asked for too long a wait."""


class IntegrationProtocolError(IntegrationError):
    """A 2xx answer whose body breaks the contract."""

    def __init__(
        self,
        status: int | None,
        code: str,
        *,
        detail: str | None = None,
        delivery: Delivery = Delivery.UNCERTAIN,
        operation: str = "",
    ) -> None:
        super().__init__(status, code, detail=detail, delivery=delivery, operation=operation)


@dataclass(frozen=True)
class Invitee:
    """One identity of a user, as the contract's ``UserRef`` (exactly one of user_id/username/phone)."""

    kind: TargetKind
    value: str

    def __post_init__(self) -> None:
        if not self.value:
            raise ValueError("an identity needs a value")

    @classmethod
    def of(cls, kind: TargetKind | str, value: str) -> Invitee:
        kind = TargetKind(kind)
        value = value.strip()
        return cls(kind, value.lstrip("@").lower() if kind is TargetKind.USERNAME else value)

    def to_wire(self) -> dict[str, str]:
        return {self.kind.value: self.value}

    def path_value(self) -> str:
        """The membership endpoint's ``{user}``: digits = id, ``+`` = phone, anything else a username."""
        if self.kind is TargetKind.PHONE and not self.value.startswith("+"):
            return f"+{self.value}"
        return self.value

    def __repr__(self) -> str:
        # Reprs end up in tracebacks and logs: never show a phone number whole.
        shown = f"…{self.value[-2:]}" if self.kind is TargetKind.PHONE else self.value
        return f"Invitee({self.kind.value}={shown})"


@dataclass(frozen=True)
class WindowInfo:
    action: str
    window_seconds: int
    used: int
    limit: int
    resets_at: datetime | None = None


@dataclass(frozen=True)
class AccountInfo:
    id: str
    platform: str
    label: str
    status: str  # active | flood_wait | restricted | unavailable
    user_id: str | None = None
    username: str | None = None
    is_premium: bool = False
    flood_wait_until: datetime | None = None
    restricted_until: datetime | None = None
    status_detail: str | None = None
    windows: tuple[WindowInfo, ...] = ()


@dataclass(frozen=True)
class MissingInviteeInfo:
    user: Invitee | None
    user_id: int | None
    premium_would_allow_invite: bool
    premium_required_for_pm: bool


@dataclass(frozen=True)
class InviteResponse:
    chat: str
    invited: tuple[Invitee, ...]
    missing_invitees: tuple[MissingInviteeInfo, ...]


@dataclass(frozen=True)
class MessageResponse:
    message_id: int
    date: datetime | None


# -- parsing (a broken body is an IntegrationProtocolError, never a KeyError deep in an adapter) --


def _bad(what: str) -> IntegrationProtocolError:
    return IntegrationProtocolError(200, "BAD_RESPONSE", detail=what)


def _mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _bad(f"{what} is not an object")
    return data


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise _bad(f"{key} is missing")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{key} is not an integer")
    return value


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise _bad(f"{key} is not a date-time") from exc


def parse_user_ref(data: Any) -> Invitee | None:
    """A ``UserRef``; None when it names no identity we know (the caller decides if that matters)."""
    if not isinstance(data, Mapping):
        return None
    for kind in TargetKind:
        value = data.get(kind.value)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return Invitee.of(kind, str(value))
    return None


def parse_account(data: Any) -> AccountInfo:
    body = _mapping(data, "account")
    windows = body.get("windows") or []
    if not isinstance(windows, list):
        raise _bad("windows is not a list")
    return AccountInfo(
        id=_str(body, "id"),
        platform=_str(body, "platform"),
        label=_opt_str(body, "label") or _str(body, "id"),
        status=_str(body, "status"),
        user_id=_opt_str(body, "user_id"),
        username=_opt_str(body, "username"),
        is_premium=body.get("is_premium") is True,
        flood_wait_until=_time(body, "flood_wait_until"),
        restricted_until=_time(body, "restricted_until"),
        status_detail=_opt_str(body, "status_detail"),
        windows=tuple(
            WindowInfo(
                action=_str(w, "action"),
                window_seconds=_int(w, "window_seconds"),
                used=_int(w, "used"),
                limit=_int(w, "limit"),
                resets_at=_time(w, "resets_at"),
            )
            for w in (_mapping(item, "window") for item in windows)
        ),
    )


def parse_invite_response(data: Any) -> InviteResponse:
    body = _mapping(data, "invite response")
    invited, missing = body.get("invited"), body.get("missing_invitees")
    if not isinstance(invited, list) or not isinstance(missing, list):
        raise _bad("invited and missing_invitees must be lists")
    missing_items = []
    for item in missing:
        entry = _mapping(item, "missing invitee")
        user_id = entry.get("user_id")
        missing_items.append(
            MissingInviteeInfo(
                user=parse_user_ref(entry.get("user")),
                user_id=user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None,
                premium_would_allow_invite=entry.get("premium_would_allow_invite") is True,
                premium_required_for_pm=entry.get("premium_required_for_pm") is True,
            )
        )
    refs = tuple(ref for ref in (parse_user_ref(item) for item in invited) if ref is not None)
    return InviteResponse(str(body.get("chat", "")), refs, tuple(missing_items))


def parse_message_response(data: Any) -> MessageResponse:
    body = _mapping(data, "message response")
    return MessageResponse(_int(body, "message_id"), _time(body, "date"))


@dataclass(frozen=True)
class ErrorBody:
    """An error answer's fields, tolerant of bodies that break the contract."""

    code: str
    retry_after: float | None = None
    detail: str | None = None
    rpc_code: int | None = None


def error_body(response: httpx.Response) -> ErrorBody:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        return ErrorBody(f"HTTP_{response.status_code}")
    code = body.get("code")
    retry_after = body.get("retry_after")
    detail = body.get("detail")
    rpc_code = body.get("rpc_code")
    return ErrorBody(
        code.strip().upper() if isinstance(code, str) and code.strip() else f"HTTP_{response.status_code}",
        float(retry_after) if isinstance(retry_after, int | float) and retry_after >= 0 else None,
        detail if isinstance(detail, str) else None,
        rpc_code if isinstance(rpc_code, int) and not isinstance(rpc_code, bool) else None,
    )
