"""The contract between the execution engine and a messenger.

An adapter turns one platform call into an ``InviteResult`` that already says everything the
engine must do next (wait, stop the account, pause the task, suppress the target, …), so the
engine never re-parses platform error names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Self

from invite_service.models.enums import Platform, SuppressionReason, TargetKind


class Outcome(StrEnum):
    SUCCESS = "success"
    ALREADY_MEMBER = "already_member"
    # The platform asked us to wait (FLOOD_WAIT): obey retry_after to the second.
    RETRY_AFTER = "retry_after"
    # The platform limited the account (PEER_FLOOD, bans): it stops for every task.
    ACCOUNT_RESTRICTED = "account_restricted"
    # The session/account is unusable until its owner acts (logged out, deleted).
    ACCOUNT_UNAVAILABLE = "account_unavailable"
    # This target can never be reached this way (privacy, blocked us, no such user).
    TARGET_REJECTED = "target_rejected"
    # The task cannot work with this account as configured (not admin, chat full, bad chat).
    TASK_MISCONFIGURED = "task_misconfigured"
    # Try again later; the engine bounds this by the task's max attempts.
    TRANSIENT = "transient"


# Outcomes where the target did nothing wrong: it must not burn one of its attempts.
_NO_ATTEMPT_OUTCOMES = frozenset(
    {Outcome.RETRY_AFTER, Outcome.ACCOUNT_RESTRICTED, Outcome.ACCOUNT_UNAVAILABLE, Outcome.TASK_MISCONFIGURED}
)


class MissingInviteeReason(StrEnum):
    """Why ``messages.InvitedUsers.missing_invitees`` left a user out of a "successful" add."""

    PRIVACY = "privacy"
    PREMIUM_WOULD_ALLOW_INVITE = "premium_would_allow_invite"
    PREMIUM_REQUIRED_FOR_PM = "premium_required_for_pm"


@dataclass(frozen=True)
class InviteResult:
    """What one platform call did, and what the engine must do about it."""

    outcome: Outcome
    error_code: str | None = None
    # Seconds to wait before this account may act again (RETRY_AFTER only).
    retry_after: float | None = None
    detail: str | None = None
    # Did the platform receive the call? False only when it provably never left us
    # (connection refused before sending): the limiter may then refund the ledger row.
    charged: bool = True
    # The call may have taken effect although we got no answer (timeouts, 5xx): never
    # re-send blindly, resolve through a membership check where the platform has one.
    delivery_uncertain: bool = False
    # The chat refuses whoever asks (full: USERS_TOO_MUCH; no invites: a monoforum): the task pauses, and
    # ``detail`` says why; the lanes stay as they are.
    pause_task: bool = False
    # The target told us it does not want us (USER_IS_BLOCKED → blocked_us).
    suggest_suppression: SuppressionReason | None = None
    # USER_ID_INVALID/PEER_ID_INVALID: a stale id; re-resolve once by username, then fail.
    retry_by_username: bool = False
    missing_invitee: MissingInviteeReason | None = None
    # The invite failed for a privacy reason: for an invite_or_message task a link may be
    # sent by message instead (Telegram itself offers this). False when messaging is barred
    # or unwanted (a person who left the chat: USER_NOT_MUTUAL_CONTACT).
    message_allowed: bool = False
    # A per-target refusal that, repeated for many targets in a row, points at the chat: the task pauses.
    pause_if_repeated: bool = False

    def __post_init__(self) -> None:
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.outcome is Outcome.RETRY_AFTER and self.retry_after is None:
            raise ValueError("RETRY_AFTER needs retry_after seconds")
        if not self.charged and self.outcome in (Outcome.SUCCESS, Outcome.ALREADY_MEMBER):
            # A success proves the platform got the call; refunding it would under-count caps.
            raise ValueError("a successful call is always charged")

    @property
    def ok(self) -> bool:
        """The target ended where the task wanted it (sent, or a member already)."""
        return self.outcome in (Outcome.SUCCESS, Outcome.ALREADY_MEMBER)

    @property
    def stops_account(self) -> bool:
        """The account must stop for every task until the platform or its owner lifts it."""
        return self.outcome in (Outcome.ACCOUNT_RESTRICTED, Outcome.ACCOUNT_UNAVAILABLE)

    @property
    def counts_attempt(self) -> bool:
        """Whether this call uses up one of the target's attempts (waits and account faults do not)."""
        return self.outcome not in _NO_ATTEMPT_OUTCOMES


class OperationState(StrEnum):
    """What the Integration Service knows of one operation key (``GET /v1/operations/{key}``)."""

    # The platform answered; ``OperationLookup.result`` holds what it said.
    COMPLETED = "completed"
    # The key is recorded and its call is still running: wait, never act again.
    IN_PROGRESS = "in_progress"
    # The key was never recorded. Keys are recorded durably before the platform is called, so this
    # proves the platform was never asked: the same key may be sent again safely.
    UNKNOWN_KEY = "unknown_key"


@dataclass(frozen=True)
class OperationLookup:
    state: OperationState
    result: InviteResult | None = None  # COMPLETED only


def not_sent(detail: str | None = None) -> InviteResult:
    """A call that never reached the platform (e.g. connection refused): retry, refund the ledger."""
    return InviteResult(Outcome.TRANSIENT, error_code="NOT_SENT", detail=detail, charged=False)


@dataclass(frozen=True)
class TargetRef:
    """Every identity we know for one target, normalized; ``kind``/``key`` is the one it was loaded by."""

    kind: TargetKind
    key: str
    username: str | None = None
    platform_user_id: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class AccountStatus(StrEnum):
    ACTIVE = "active"
    COOLING_DOWN = "cooling_down"
    RESTRICTED = "restricted"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class PlatformAccount:
    """A messenger account as the Integration Service (or the sandbox) reports it."""

    id: str
    platform: Platform
    label: str
    status: AccountStatus = AccountStatus.ACTIVE
    username: str | None = None
    is_premium: bool = False
    cooldown_until: datetime | None = None
    status_detail: str | None = None

    @property
    def usable(self) -> bool:
        return self.status in (AccountStatus.ACTIVE, AccountStatus.COOLING_DOWN)


@dataclass(frozen=True)
class WindowUsage:
    """One limit window of one action ("invite" | "message") of one account."""

    action: str
    window_seconds: int
    used: int
    limit: int
    # When the oldest counted action leaves the window (sliding windows); None if empty.
    resets_at: datetime | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class RateLimitStatus:
    account_id: str
    windows: tuple[WindowUsage, ...] = ()
    # A platform wait (FLOOD_WAIT) in force, if any.
    cooldown_until: datetime | None = None

    def next_available_at(self, now: datetime, action: str | None = None) -> datetime | None:
        """When the account may act again (for ``action``, or any); None means now.

        Every window must have room at once, so the answer is the latest of the cooldown
        and the resets of all exhausted windows.
        """
        blockers = [self.cooldown_until] if self.cooldown_until and self.cooldown_until > now else []
        for window in self.windows:
            if action is not None and window.action != action:
                continue
            if window.remaining == 0 and window.resets_at is not None and window.resets_at > now:
                blockers.append(window.resets_at)
        return max(blockers) if blockers else None


def _every_name_known(code: str) -> bool:
    return True


@dataclass(frozen=True)
class PlatformRules:
    """What the engine's rules (``execution/policy.py``) must know of one platform's error names.

    The adapter supplies it, so the rules hold no platform's error table.
    """

    # An invite_or_message task sends the message instead after an invite refused with one of these.
    message_fallback_codes: frozenset[str] = frozenset()
    # Whether ``code`` is one of the platform's known error names. An unknown name gets one more try
    # and then fails the target (a known one is retried up to the task's max attempts).
    is_known_error: Callable[[str], bool] = _every_name_known
    # An invite refused with this code would have been admitted from a Premium account: the engine retries
    # it once through a Premium lane of the same task, if the task has one (None: no such refusal).
    premium_retry_code: str | None = None


class InvitePlatformAdapter(ABC):
    """One messenger behind the engine. Implementations must never raise for platform errors:
    every platform answer becomes an ``InviteResult``; only programming errors propagate."""

    @abstractmethod
    async def initialize_accounts(self, user_id: str) -> list[PlatformAccount]:
        """The accounts ``user_id`` owns on this platform, with their current status."""

    @abstractmethod
    async def send_invite(
        self, account_id: str, destination: str, target: TargetRef, *, key: str
    ) -> InviteResult:
        """Add ``target`` to the chat ``destination`` (username, id or link) as ``account_id``.

        ``key`` is the step's operation key, sent as the Idempotency-Key: the same on every try of
        the step, so the platform acts at most once whatever crashes in between."""

    @abstractmethod
    async def send_message(self, account_id: str, target: TargetRef, text: str, *, key: str) -> InviteResult:
        """Send the already rendered ``text`` to ``target`` as ``account_id`` (``key`` as above)."""

    async def lookup_operation(self, key: str, target: TargetRef) -> OperationLookup | None:
        """What became of the step sent with ``key``; None = this adapter cannot tell right now.

        ``target`` lets an adapter follow the step's own sub-calls (a re-resolve by username)."""
        return None

    @abstractmethod
    async def check_rate_limits(self, account_id: str) -> RateLimitStatus:
        """What the platform side knows about this account's limits and waits."""

    async def check_membership(self, account_id: str, destination: str, target: TargetRef) -> bool | None:
        """Is ``target`` in ``destination``? None = this adapter cannot tell.

        A secondary signal only: "is a member" confirms an invite; "is not a member" proves nothing
        (a privacy refusal, a pending join request and a person who left all look the same).
        """
        return None

    @property
    def rules(self) -> PlatformRules:
        """The platform specifics the engine's rules need (by default: no fallback, every name known)."""
        return PlatformRules()

    @property
    def supports_membership_check(self) -> bool:
        return False

    @property
    def supports_operation_lookup(self) -> bool:
        return False

    async def aclose(self) -> None:
        """Release connections; the default adapter holds none."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
