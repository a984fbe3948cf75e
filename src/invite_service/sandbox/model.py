"""Telegram's vocabulary for the simulator: RPC errors, results, config, target fates, the ledger.

Everything here is pure (no clock, no state), so the adapter's tests and the HTTP sandbox servers can use
the same types without running a simulator.
"""

from __future__ import annotations

import hashlib
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

Action = Literal["invite", "message"]
AccountPlatform = Literal["telegram", "sandbox"]
HOUR = 3600
DAY = 86400

# Codes as Telegram sends them; names not listed default to 400 like most Telegram input errors.
RPC_ERROR_CODES: dict[str, int] = {
    "FLOOD_WAIT_X": 420,
    "FLOOD_PREMIUM_WAIT_X": 420,
    "SLOWMODE_WAIT_X": 420,
    "AUTH_KEY_UNREGISTERED": 401,
    "SESSION_REVOKED": 401,
    "USER_DEACTIVATED_BAN": 401,
    "ACTIVE_USER_REQUIRED": 401,
    "ALLOW_PAYMENT_REQUIRED": 406,
    "PREMIUM_ACCOUNT_REQUIRED": 403,
    "USER_NOT_MUTUAL_CONTACT": 403,
    "RANDOM_ID_DUPLICATE": 500,
    "USER_PRIVACY_RESTRICTED": 403,
    "PRIVACY_PREMIUM_REQUIRED": 403,
    "CHAT_WRITE_FORBIDDEN": 403,
    "RPC_CALL_FAIL": 500,
    "INTERNAL": 500,
}
# Errors whose name carries a number of seconds in place of X (FLOOD_WAIT_42 on the wire).
_SECONDS_ERRORS = frozenset(name for name in RPC_ERROR_CODES if name.endswith("_X"))
_WIRE_SECONDS = re.compile(r"^(?P<base>[A-Z_]+?)_(?P<seconds>\d+)$")
MAX_MESSAGE_LENGTH = 4096


class RpcError(Exception):
    """A Telegram RPC error: ``name`` as in Telegram's error list (``FLOOD_WAIT_X``), seconds for X."""

    def __init__(self, name: str, seconds: int | None = None, code: int | None = None) -> None:
        name, seconds = normalize_error_name(name, seconds)
        self.name = name
        self.seconds = seconds
        # ``code``: Telegram's class when a test names it (a name the table below does not know, or one
        # Telegram files under different classes for different methods).
        self.code = RPC_ERROR_CODES.get(name, 400) if code is None else code
        super().__init__(f"{self.code} {self.message}")

    @property
    def message(self) -> str:
        """The error as it appears on the wire, X replaced by the seconds."""
        if self.seconds is not None and self.name.endswith("_X"):
            return f"{self.name[:-1]}{self.seconds}"
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "seconds": self.seconds, "code": self.code, "message": self.message}


def normalize_error_name(name: str, seconds: int | None) -> tuple[str, int | None]:
    """Accept ``FLOOD_WAIT``, ``FLOOD_WAIT_X`` or the wire form ``FLOOD_WAIT_42``; return (name, seconds)."""
    name = name.strip().upper()
    wire = _WIRE_SECONDS.match(name)
    if wire and f"{wire['base']}_X" in _SECONDS_ERRORS:
        return f"{wire['base']}_X", int(wire["seconds"]) if seconds is None else seconds
    if f"{name}_X" in _SECONDS_ERRORS:
        name = f"{name}_X"
    if name in _SECONDS_ERRORS and seconds is None:
        raise ValueError(f"{name} needs seconds")
    return name, seconds


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """What the platform tolerates from one account; ``None`` turns a cap off."""

    min_spacing_seconds: float = 0.0
    invites_per_hour: int | None = None
    invites_per_day: int | None = None
    messages_per_hour: int | None = None
    messages_per_day: int | None = None

    def windows(self, action: Action) -> list[tuple[int, int]]:
        """(window seconds, cap) pairs for one action, caps that are off left out."""
        if action == "invite":
            pairs = [(HOUR, self.invites_per_hour), (DAY, self.invites_per_day)]
        else:
            pairs = [(HOUR, self.messages_per_hour), (DAY, self.messages_per_day)]
        return [(window, cap) for window, cap in pairs if cap is not None]


@dataclass(frozen=True)
class SimulatorConfig:
    """A simulated platform. Shares are fractions of targets (0..1, summing to at most 1)."""

    seed: int = 0
    privacy_share: float = 0.0  # invite -> USER_PRIVACY_RESTRICTED
    already_member_share: float = 0.0  # invite -> USER_ALREADY_PARTICIPANT (member of every chat)
    deleted_share: float = 0.0  # -> INPUT_USER_DEACTIVATED
    unknown_username_share: float = 0.0  # -> USERNAME_NOT_OCCUPIED (PEER_ID_INVALID for numeric keys)
    blocked_share: float = 0.0  # message -> USER_IS_BLOCKED
    missing_invitee_share: float = 0.0  # invite "succeeds", user in missing_invitees, no flags
    missing_premium_allow_share: float = 0.0  # ... with premium_would_allow_invite
    missing_premium_pm_share: float = (
        0.0  # ... with premium_required_for_pm (message -> PRIVACY_PREMIUM_REQUIRED)
    )
    # invite "succeeds" with neither the user added nor in missing_invitees, and they are not a member
    silent_invite_share: float = 0.0
    limits: AccountLimits = field(default_factory=AccountLimits)
    account_limits: Mapping[str, AccountLimits] = field(default_factory=dict)
    restriction_seconds: int = DAY  # how long PEER_FLOOD lasts once a cap is exceeded
    flood_wait_escalation: float = 2.0  # a call during a wait multiplies the remaining wait by this
    max_flood_violations: int | None = 3  # that many calls during waits -> PEER_FLOOD
    chat_capacity: Mapping[str, int] = field(default_factory=dict)
    default_chat_capacity: int | None = None
    not_admin: Mapping[str, frozenset[str]] = field(default_factory=dict)  # chat ("*" = any) -> accounts
    revoked_sessions: frozenset[str] = frozenset()
    latency_seconds: float = 0.0

    def __post_init__(self) -> None:
        shares = self.shares()
        if any(not 0.0 <= share <= 1.0 for share in shares.values()):
            raise ValueError("target shares must be within 0..1")
        if sum(shares.values()) > 1.0 + 1e-9:
            raise ValueError("target shares must sum to at most 1")
        if self.flood_wait_escalation < 1.0 or self.restriction_seconds < 0 or self.latency_seconds < 0:
            raise ValueError("escalation must be >= 1, restriction and latency >= 0")

    def shares(self) -> dict[TargetFate, float]:
        return {
            TargetFate.PRIVACY: self.privacy_share,
            TargetFate.ALREADY_MEMBER: self.already_member_share,
            TargetFate.DELETED: self.deleted_share,
            TargetFate.UNKNOWN: self.unknown_username_share,
            TargetFate.BLOCKED: self.blocked_share,
            TargetFate.MISSING: self.missing_invitee_share,
            TargetFate.MISSING_PREMIUM_ALLOW: self.missing_premium_allow_share,
            TargetFate.MISSING_PREMIUM_PM: self.missing_premium_pm_share,
            TargetFate.SILENT: self.silent_invite_share,
        }

    def limits_for(self, account_id: str) -> AccountLimits:
        return self.account_limits.get(account_id, self.limits)

    def is_admin(self, account_id: str, chat: str) -> bool:
        return account_id not in self.not_admin.get(chat, frozenset()) | self.not_admin.get("*", frozenset())


class TargetFate(StrEnum):
    OK = "ok"
    PRIVACY = "privacy"
    ALREADY_MEMBER = "already_member"
    DELETED = "deleted"
    UNKNOWN = "unknown"
    BLOCKED = "blocked"
    MISSING = "missing"
    MISSING_PREMIUM_ALLOW = "missing_premium_allow"
    MISSING_PREMIUM_PM = "missing_premium_pm"
    SILENT = "silent"  # an invite answered with no change (not added, not missing, not a member)


def canonical_key(target_key: str) -> str:
    """Telegram resolves ``@Alice`` and ``alice`` to one user, so the simulator does too."""
    return target_key.strip().lstrip("@").lower()


def _unit(seed: int, key: str, salt: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def target_fate(config: SimulatorConfig, target_key: str) -> TargetFate:
    """A pure function of (seed, target): independent of order, chat and sending account."""
    point = _unit(config.seed, canonical_key(target_key), "fate")
    edge = 0.0
    for fate, share in config.shares().items():
        edge += share
        if point < edge:
            return fate
    return TargetFate.OK


def target_user_id(config: SimulatorConfig, target_key: str) -> int:
    """A stable Telegram-like user id for a target (what missing_invitees carries)."""
    return 10_000_000 + int(_unit(config.seed, canonical_key(target_key), "uid") * 7_000_000_000)


@dataclass(frozen=True, slots=True)
class MissingInvitee:
    """Telegram's ``missingInvitee``: the add call succeeded but this user was left out."""

    user_id: int
    target: str
    premium_would_allow_invite: bool = False
    premium_required_for_pm: bool = False


@dataclass(frozen=True, slots=True)
class InvitedUsers:
    """Telegram's ``messages.InvitedUsers``: ``added`` holds targets that joined."""

    chat: str
    added: list[str]
    missing_invitees: list[MissingInvitee]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: int
    target: str
    date: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "target": self.target, "date": self.date.isoformat()}


@dataclass(frozen=True, slots=True)
class SimAccount:
    account_id: str
    user_id: str
    label: str
    platform: AccountPlatform
    # Telegram Premium: privacy that admits premium inviters lets this account add the user.
    is_premium: bool = False


@dataclass(frozen=True, slots=True)
class AccountStatus:
    account_id: str
    state: Literal["active", "flood_wait", "restricted", "session_revoked"]
    restricted_until: datetime | None
    flood_wait_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "state": self.state,
            "restricted_until": _iso(self.restricted_until),
            "flood_wait_until": _iso(self.flood_wait_until),
        }


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One action the platform accepted. ``result``: added | missing_invitee | no_change | delivered."""

    seq: int
    account_id: str
    action: Action
    chat: str | None
    target: str
    at: datetime
    result: str
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class DoubleSend:
    action: Action
    chat: str | None
    target: str
    entries: list[LedgerEntry]


# Refusals about the account or the request, not the target: the platform did not act on the target,
# so a later call for it (a new attempt lineage) is no repeat.
UNTOUCHED_TARGET_ERRORS = frozenset(
    {"PEER_FLOOD", "CHAT_ADMIN_REQUIRED", "USERS_TOO_MUCH", "MESSAGE_EMPTY", "MESSAGE_TOO_LONG"}
)


@dataclass(frozen=True, slots=True)
class PlatformCall:
    """One call that reached the platform (past faults, revoked sessions and waits), refused or not.
    ``result``: added | missing_invitee | delivered, or the RPC error's name."""

    seq: int
    account_id: str
    action: Action
    chat: str | None
    target: str
    at: datetime
    result: str

    @property
    def touched_target(self) -> bool:
        return self.result not in UNTOUCHED_TARGET_ERRORS

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class RepeatedCall:
    action: Action
    chat: str | None
    target: str
    calls: list[PlatformCall]


@dataclass(frozen=True, slots=True)
class WindowBreach:
    """The fullest window of ``window_seconds`` for one account/action that held more than ``cap``."""

    account_id: str
    action: Action
    window_seconds: int
    cap: int
    count: int
    window_end: datetime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def find_double_sends(entries: Iterable[LedgerEntry]) -> list[DoubleSend]:
    """Targets accepted more than once for the same action and chat, by any accounts."""
    groups: dict[tuple[Action, str | None, str], list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.action, entry.chat, entry.target)].append(entry)
    return [DoubleSend(a, c, t, found) for (a, c, t), found in groups.items() if len(found) > 1]


def find_repeated_calls(calls: Iterable[PlatformCall]) -> list[RepeatedCall]:
    """(action, chat, target) the platform acted on more than once, by any accounts: stricter than
    ``find_double_sends``, as a refusal (privacy, a missing invitee, blocked) counts too. Calls refused
    for the account's or request's sake (``UNTOUCHED_TARGET_ERRORS``) are left out."""
    groups: dict[tuple[Action, str | None, str], list[PlatformCall]] = defaultdict(list)
    for call in calls:
        if call.touched_target:
            groups[(call.action, call.chat, call.target)].append(call)
    return [RepeatedCall(a, c, t, found) for (a, c, t), found in groups.items() if len(found) > 1]


def count_in_window(times: list[datetime], end: datetime, window_seconds: int) -> int:
    """Entries in the sliding window (end - window, end]; ``times`` sorted. The simulator caps use it too."""
    start = end - timedelta(seconds=window_seconds)
    return bisect_right(times, end) - bisect_right(times, start)


def find_window_breaches(
    entries: Iterable[LedgerEntry], caps: AccountLimits | Mapping[str, AccountLimits]
) -> list[WindowBreach]:
    """Every (account, action, window) whose exact sliding window ever held more than its cap."""
    times: dict[tuple[str, Action], list[datetime]] = defaultdict(list)
    for entry in entries:
        times[(entry.account_id, entry.action)].append(entry.at)
    breaches: list[WindowBreach] = []
    for (account_id, action), stamps in sorted(times.items()):
        stamps.sort()
        limits = caps if isinstance(caps, AccountLimits) else caps.get(account_id)
        for window, cap in limits.windows(action) if limits else []:
            # The fullest window ends on some entry, so checking windows ending at each entry is exact.
            count, end = max((count_in_window(stamps, at, window), at) for at in stamps)
            if count > cap:
                breaches.append(WindowBreach(account_id, action, window, cap, count, end))
    return breaches


def ceil_seconds(seconds: float) -> int:
    """Telegram reports waits in whole seconds, rounded up (never 0 for a wait that exists)."""
    return max(1, math.ceil(seconds - 1e-9))
