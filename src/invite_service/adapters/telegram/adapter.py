"""Telegram through the Integration Service, plus the answer→``InviteResult`` mapping every Telegram-shaped
adapter shares (the sandbox adapter calls the same helpers on the simulator's answers).

Sends never raise for anything the service or platform says: it becomes a result. A refused service
token (a deployment fault) becomes TASK_MISCONFIGURED, not charged, so tasks pause instead of burning
targets; the client logs it as an error. The read-only ``initialize_accounts``/``check_rate_limits``
raise the typed ``IntegrationError``s; ``check_membership`` answers None when it cannot tell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace

from invite_service.adapters.base import (
    AccountStatus,
    InvitePlatformAdapter,
    InviteResult,
    OperationLookup,
    OperationState,
    Outcome,
    PlatformAccount,
    PlatformRules,
    RateLimitStatus,
    TargetRef,
    WindowUsage,
    not_sent,
)
from invite_service.adapters.telegram.client import IntegrationClient
from invite_service.adapters.telegram.errors import (
    DEFAULT_WAIT_SECONDS,
    TELEGRAM_RULES,
    classify,
    classify_http_status,
    classify_missing_invitee,
    lookup,
)
from invite_service.adapters.telegram.types import (
    AccountInfo,
    Delivery,
    IntegrationAuthError,
    IntegrationError,
    IntegrationProtocolError,
    IntegrationUnavailable,
    Invitee,
    InviteResponse,
    MessageResponse,
    parse_invite_response,
    parse_message_response,
)
from invite_service.config import Settings
from invite_service.models.enums import Platform, TargetKind

# (premium_would_allow_invite, premium_required_for_pm) of one missingInvitee.
MissingFlags = tuple[bool, bool]
# One platform call: as whom, under which operation key.
OneCall = Callable[[Invitee, str], Awaitable[InviteResult]]
OneLookup = Callable[[str], Awaitable[OperationLookup | None]]
# The re-resolve call of a step is an operation of its own: its key is the step's plus this.
RERESOLVE_SUFFIX = "-r"

_ACCOUNT_STATES = {
    "active": AccountStatus.ACTIVE,
    "flood_wait": AccountStatus.COOLING_DOWN,
    "restricted": AccountStatus.RESTRICTED,
    "unavailable": AccountStatus.UNAVAILABLE,
}


# -- shared mapping: identities, RPC errors, InvitedUsers --


def primary_identity(target: TargetRef) -> Invitee:
    """The identity to call with: Telegram's own id when known, else the username, else the phone."""
    if target.platform_user_id:
        return Invitee.of(TargetKind.USER_ID, target.platform_user_id)
    if target.username:
        return Invitee.of(TargetKind.USERNAME, target.username)
    if target.phone:
        return Invitee.of(TargetKind.PHONE, target.phone)
    return Invitee.of(target.kind, target.key)


def username_identity(target: TargetRef) -> Invitee | None:
    if target.username:
        return Invitee.of(TargetKind.USERNAME, target.username)
    if target.kind is TargetKind.USERNAME:
        return Invitee.of(TargetKind.USERNAME, target.key)
    return None


def _fallback(target: TargetRef) -> Invitee | None:
    fallback = username_identity(target)
    return None if fallback is None or fallback == primary_identity(target) else fallback


async def call_with_reresolve(target: TargetRef, key: str, call: OneCall) -> InviteResult:
    """Make ``call`` with the primary identity; on a stale id (USER_ID_INVALID/PEER_ID_INVALID) retry
    once by username when the target has one. The returned result never asks for another re-resolve.

    The first call carries ``key``, the re-resolve ``key + RERESOLVE_SUFFIX``: every try of the step
    repeats both keys, so neither call can act twice."""
    result = await call(primary_identity(target), key)
    if not result.retry_by_username:
        return result
    fallback = _fallback(target)
    if fallback is None:
        detail = f"{result.detail}; no username to re-resolve by"
        return replace(result, retry_by_username=False, detail=detail)
    second = await call(fallback, key + RERESOLVE_SUFFIX)
    return replace(second, retry_by_username=False)


async def lookup_with_reresolve(target: TargetRef, key: str, look: OneLookup) -> OperationLookup | None:
    """What became of a step made by ``call_with_reresolve``: its first call, then its re-resolve."""
    first = await look(key)
    if first is None or first.result is None or not first.result.retry_by_username:
        return first
    fallback = _fallback(target)
    if fallback is None:
        detail = f"{first.result.detail}; no username to re-resolve by"
        return replace(first, result=replace(first.result, retry_by_username=False, detail=detail))
    second = await look(key + RERESOLVE_SUFFIX)
    if second is None or second.result is None:
        # Never re-resolved (UNKNOWN_KEY): the step as a whole did not act and may be repeated.
        return second
    return replace(second, result=replace(second.result, retry_by_username=False))


def result_from_rpc_error(
    code: str, seconds: float | None = None, *, status: int | None = None, rpc_code: int | None = None
) -> InviteResult:
    """A Telegram RPC error (name, optional wait seconds, Telegram's class, HTTP status) → result.

    The name decides when the table knows it. For a name it does not know, Telegram's class decides
    (``rpc_code``: an unknown 401 is the session's, so the account is unusable — not each target failing
    in turn; an unknown 420 is still a wait; an unknown 5xx still uncertain), then the HTTP status.
    """
    entry, _ = lookup(code)
    if entry is None:
        for by in (rpc_code, status):
            by_status = None if by is None else classify_http_status(by, seconds=seconds)
            if by_status is not None:
                return replace(by_status, error_code=code.strip().upper()[:64] or by_status.error_code)
    return classify(code, seconds=seconds)


# Neither added nor missing: Telegram answers so for a current member of a supergroup, but also when it
# dropped the add silently. Only a membership check tells them apart; without a yes the target is
# uncertain (resolved like any answer in doubt: never re-sent, ``unknown`` when nothing proves it).
NO_CHANGE_CODE = "INVITE_NO_CHANGE"
NO_CHANGE = InviteResult(
    Outcome.TRANSIENT,
    error_code=NO_CHANGE_CODE,
    detail="the invite was accepted without a change and membership is not confirmed",
    delivery_uncertain=True,
)
ALREADY_MEMBER_CONFIRMED = InviteResult(
    Outcome.ALREADY_MEMBER, detail="accepted without a change; a membership check confirms a member"
)


def result_from_invite(added: bool, missing: Iterable[MissingFlags]) -> InviteResult:
    """One user's ``messages.InvitedUsers``: added, left out (why), or accepted without any change
    (``NO_CHANGE``: the caller confirms with ``confirm_no_change``)."""
    for premium_would_allow_invite, premium_required_for_pm in missing:
        return classify_missing_invitee(premium_would_allow_invite, premium_required_for_pm)
    if added:
        return InviteResult(Outcome.SUCCESS)
    return NO_CHANGE


async def confirm_no_change(
    result: InviteResult, is_member: Callable[[], Awaitable[bool | None]]
) -> InviteResult:
    """A ``NO_CHANGE`` answer becomes ALREADY_MEMBER when a membership check says so; else it stays."""
    if result.error_code != NO_CHANGE_CODE:
        return result
    return ALREADY_MEMBER_CONFIRMED if await is_member() is True else result


def result_from_failure(exc: IntegrationError) -> InviteResult:
    """An Integration Service failure → result, keeping "surely not sent" apart from "may have acted"."""
    if isinstance(exc, IntegrationAuthError):
        return InviteResult(
            Outcome.TASK_MISCONFIGURED,
            error_code="INTEGRATION_AUTH_FAILED",
            detail="the Integration Service refused our service token (INVITE_INTEGRATION_TOKEN_SECRET)",
            charged=False,
        )
    if exc.delivery is Delivery.UNCERTAIN or isinstance(exc, IntegrationProtocolError):
        return _uncertain(exc)
    if isinstance(exc, IntegrationUnavailable):
        if exc.status == 429:
            # The service throttles us: wait as told; nothing reached the platform, nothing is charged.
            return InviteResult(
                Outcome.RETRY_AFTER,
                error_code="INTEGRATION_THROTTLED",
                retry_after=DEFAULT_WAIT_SECONDS if exc.retry_after is None else exc.retry_after,
                detail="the Integration Service asks us to slow down",
                charged=False,
            )
        return not_sent(f"the Integration Service is unreachable ({exc.code})")
    if exc.code == "ACCOUNT_NOT_FOUND":
        return InviteResult(
            Outcome.ACCOUNT_UNAVAILABLE,
            error_code=exc.code,
            detail="the Integration Service does not know this account",
            charged=False,
        )
    if exc.delivery is Delivery.NOT_SENT:
        # The service refused the request itself (invalid body, key reuse): our bug, retried boundedly.
        return InviteResult(
            Outcome.TRANSIENT,
            error_code=exc.code,
            detail="the Integration Service refused the request",
            charged=False,
        )
    return result_from_rpc_error(exc.code, exc.retry_after, status=exc.status, rpc_code=exc.rpc_code)


def _uncertain(exc: IntegrationError) -> InviteResult:
    entry, _ = lookup(exc.code)
    if entry is not None and entry.outcome is not Outcome.TRANSIENT:
        # A definite platform answer carried by a 5xx (a contract slip): trust the answer.
        return entry.result(exc.retry_after, raw=exc.code)
    if entry is not None:
        result = entry.result(raw=exc.code)
    elif exc.status is not None and (by_status := classify_http_status(exc.status)) is not None:
        result = replace(by_status, error_code=exc.code)
    else:
        result = InviteResult(
            Outcome.TRANSIENT, error_code=exc.code, detail="no answer from the Integration Service"
        )
    return replace(result, delivery_uncertain=True, charged=True)


def account_from_info(info: AccountInfo, platform: Platform) -> PlatformAccount:
    status = _ACCOUNT_STATES.get(info.status, AccountStatus.UNAVAILABLE)
    detail = info.status_detail
    if info.status not in _ACCOUNT_STATES:
        # An unknown state is not safe to send from.
        detail = f"unknown account state {info.status!r}"
    return PlatformAccount(
        id=info.id,
        platform=platform,
        label=info.label,
        status=status,
        username=info.username,
        is_premium=info.is_premium,
        cooldown_until=info.restricted_until or info.flood_wait_until,
        status_detail=detail,
    )


def _invite_result(response: InviteResponse) -> InviteResult:
    flags = [(m.premium_would_allow_invite, m.premium_required_for_pm) for m in response.missing_invitees]
    return result_from_invite(bool(response.invited), flags)


def _message_result(sent: MessageResponse) -> InviteResult:
    return InviteResult(Outcome.SUCCESS, detail=f"message {sent.message_id}")


# -- the adapter --


class TelegramAdapter(InvitePlatformAdapter):
    """Telegram through the Integration Service; one adapter (and one pooled client) per process/loop."""

    def __init__(self, client: IntegrationClient, *, platform: Platform = Platform.TELEGRAM) -> None:
        self.client = client
        self.platform = platform

    @classmethod
    def from_settings(cls, settings: Settings, **client_options: object) -> TelegramAdapter:
        return cls(IntegrationClient.from_settings(settings, **client_options))

    async def initialize_accounts(self, user_id: str) -> list[PlatformAccount]:
        infos = await self.client.list_accounts(user_id, self.platform.value)
        return [account_from_info(info, self.platform) for info in infos]

    async def send_invite(
        self, account_id: str, destination: str, target: TargetRef, *, key: str
    ) -> InviteResult:
        async def once(who: Invitee, op_key: str) -> InviteResult:
            try:
                return _invite_result(await self.client.invite(account_id, destination, [who], key=op_key))
            except IntegrationError as exc:
                return result_from_failure(exc)

        result = await call_with_reresolve(target, key, once)
        return await confirm_no_change(result, lambda: self.check_membership(account_id, destination, target))

    async def send_message(self, account_id: str, target: TargetRef, text: str, *, key: str) -> InviteResult:
        async def once(who: Invitee, op_key: str) -> InviteResult:
            try:
                return _message_result(await self.client.send_message(account_id, who, text, key=op_key))
            except IntegrationError as exc:
                return result_from_failure(exc)

        return await call_with_reresolve(target, key, once)

    async def lookup_operation(self, key: str, target: TargetRef) -> OperationLookup | None:
        async def look(op_key: str) -> OperationLookup | None:
            try:
                record = await self.client.operation(op_key)
            except IntegrationError:
                return None  # cannot tell now
            if record.state is not OperationState.COMPLETED:
                return OperationLookup(record.state)
            try:
                answer = self.client.answer(record)
                if record.operation == "invite":
                    result = _invite_result(parse_invite_response(answer))
                else:
                    result = _message_result(parse_message_response(answer))
            except IntegrationError as exc:
                result = result_from_failure(exc)
            return OperationLookup(OperationState.COMPLETED, result)

        return await lookup_with_reresolve(target, key, look)

    @property
    def rules(self) -> PlatformRules:
        return TELEGRAM_RULES

    @property
    def supports_operation_lookup(self) -> bool:
        return True

    async def check_rate_limits(self, account_id: str) -> RateLimitStatus:
        info = await self.client.get_account(account_id)
        windows = tuple(
            WindowUsage(w.action, w.window_seconds, w.used, w.limit, w.resets_at) for w in info.windows
        )
        return RateLimitStatus(account_id, windows, info.restricted_until or info.flood_wait_until)

    async def check_membership(self, account_id: str, destination: str, target: TargetRef) -> bool | None:
        try:
            return await self.client.is_member(account_id, destination, primary_identity(target))
        except IntegrationError:
            return None  # cannot tell now; the target stays unknown rather than being guessed

    @property
    def supports_membership_check(self) -> bool:
        return True

    async def aclose(self) -> None:
        await self.client.aclose()
