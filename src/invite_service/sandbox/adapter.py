"""A simulated Telegram in process (the embedded profile): ``TelegramSimulator`` called directly.

Its answers go through the very mapping the Telegram adapter uses (``adapters.telegram``), so the
engine sees identical ``InviteResult``s whether it runs on the sandbox or on the Integration Service.
It keeps operation keys as the Integration Service contract asks (``sandbox.operations``): a key acts
at most once and ``lookup_operation`` tells what became of it. ``faults`` put an infrastructure failure
between the engine and that in-process service, for the crash tests.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from invite_service.adapters.base import (
    AccountStatus,
    InvitePlatformAdapter,
    InviteResult,
    OperationLookup,
    Outcome,
    PlatformAccount,
    PlatformRules,
    RateLimitStatus,
    TargetRef,
    WindowUsage,
)
from invite_service.adapters.telegram.adapter import (
    OneCall,
    call_with_reresolve,
    confirm_no_change,
    lookup_with_reresolve,
    primary_identity,
    result_from_invite,
    result_from_rpc_error,
)
from invite_service.adapters.telegram.errors import TELEGRAM_RULES
from invite_service.adapters.telegram.types import Invitee
from invite_service.config import PlatformCaps
from invite_service.models.enums import Platform
from invite_service.sandbox.integration_state import demo_account_id, demo_config, ensure_demo_accounts
from invite_service.sandbox.model import AccountLimits, AccountPlatform, RpcError, SimAccount
from invite_service.sandbox.model import AccountStatus as SimAccountStatus
from invite_service.sandbox.operations import KeyMismatch, OperationStore
from invite_service.sandbox.sim_state import UnknownAccountError
from invite_service.sandbox.simulator import TelegramSimulator

DEMO_ACCOUNTS_PER_USER = 4
FaultStage = Literal["before", "after", "slow", "late"]


def _uncertain(code: str, detail: str) -> InviteResult:
    return InviteResult(Outcome.TRANSIENT, error_code=code, detail=detail, delivery_uncertain=True)


# The answer of a call the service died in: the platform may have acted.
INTERRUPTED = _uncertain("OPERATION_INTERRUPTED", "the Integration Service stopped during this call")


@dataclass
class SandboxFault:
    """An infrastructure fault for the next ``count`` calls (of ``operation``, if given).

    before: the call fails with no answer before the service recorded it (the platform never acts);
    after: the platform acts, then the answer is lost; slow: the platform acts and ``meanwhile`` runs
    before the service records the answer (a lookup then says in_progress); late: the platform acts,
    the service records it, ``meanwhile`` runs, then the answer arrives. ``meanwhile`` is where a test
    lets the send lease run out and recovery look."""

    stage: FaultStage
    operation: Literal["invite", "message"] | None = None
    count: int = 1
    meanwhile: Callable[[], Awaitable[None]] | None = None


# A weak side-table, not process state: each simulator's key store lives exactly as long as the simulator
# (the in-process stand-in for one Integration Service), and the simulator itself stays free of adapter types.
_stores: weakref.WeakKeyDictionary[TelegramSimulator, OperationStore[InviteResult]] = (
    weakref.WeakKeyDictionary()
)


def operations_for(simulator: TelegramSimulator) -> OperationStore[InviteResult]:
    """One key store per simulated platform: every adapter over it is one Integration Service."""
    store = _stores.get(simulator)
    if store is None:
        store = _stores[simulator] = OperationStore(interrupted=INTERRUPTED)
    return store


_STATES = {
    "active": AccountStatus.ACTIVE,
    "flood_wait": AccountStatus.COOLING_DOWN,
    "restricted": AccountStatus.RESTRICTED,
    "session_revoked": AccountStatus.UNAVAILABLE,
}


def _unknown_account(account_id: str) -> InviteResult:
    # Like the Integration Service's 404: nothing reached the platform.
    return InviteResult(
        Outcome.ACCOUNT_UNAVAILABLE,
        error_code="ACCOUNT_NOT_FOUND",
        detail=f"the sandbox has no account {account_id!r}",
        charged=False,
    )


class SandboxAdapter(InvitePlatformAdapter):
    """``platform`` names the accounts it serves (``sandbox``, or ``telegram`` without an Integration URL)."""

    def __init__(
        self,
        simulator: TelegramSimulator,
        *,
        platform: Platform = Platform.SANDBOX,
        demo_accounts_per_user: int = DEMO_ACCOUNTS_PER_USER,
    ) -> None:
        self.simulator = simulator
        self.platform = platform
        self._sim_platform: AccountPlatform = "sandbox" if platform is Platform.SANDBOX else "telegram"
        self.demo_accounts_per_user = demo_accounts_per_user
        self.operations = operations_for(simulator)
        self.faults: list[SandboxFault] = []

    async def initialize_accounts(self, user_id: str) -> list[PlatformAccount]:
        if self.demo_accounts_per_user and not self._owned(user_id):
            ensure_demo_accounts(self.simulator, user_id, self._sim_platform, self.demo_accounts_per_user)
        return [await self._account(account) for account in self._owned(user_id)]

    async def send_invite(
        self, account_id: str, destination: str, target: TargetRef, *, key: str
    ) -> InviteResult:
        async def act(who: Invitee) -> InviteResult:
            try:
                invited = await self.simulator.invite(account_id, destination, who.value)
            except RpcError as err:
                return result_from_rpc_error(err.message, err.seconds, rpc_code=err.code)
            flags = [
                (m.premium_would_allow_invite, m.premium_required_for_pm) for m in invited.missing_invitees
            ]
            result = result_from_invite(bool(invited.added), flags)
            return await confirm_no_change(result, lambda: self.simulator.is_member(destination, who.value))

        async def once(who: Invitee, op_key: str) -> InviteResult:
            fingerprint = f"invite|{account_id}|{destination}|{who.kind}:{who.value}"
            return await self._operation("invite", op_key, fingerprint, lambda: act(who))

        return await self._on_known_account(account_id, target, key, once)

    async def send_message(self, account_id: str, target: TargetRef, text: str, *, key: str) -> InviteResult:
        async def act(who: Invitee) -> InviteResult:
            try:
                sent = await self.simulator.send_message(account_id, who.value, text)
            except RpcError as err:
                return result_from_rpc_error(err.message, err.seconds, rpc_code=err.code)
            return InviteResult(Outcome.SUCCESS, detail=f"message {sent.message_id}")

        async def once(who: Invitee, op_key: str) -> InviteResult:
            digest = hashlib.sha256(text.encode()).hexdigest()
            fingerprint = f"message|{account_id}|{who.kind}:{who.value}|{digest}"
            return await self._operation("message", op_key, fingerprint, lambda: act(who))

        return await self._on_known_account(account_id, target, key, once)

    async def lookup_operation(self, key: str, target: TargetRef) -> OperationLookup | None:
        async def look(op_key: str) -> OperationLookup:
            state, result = self.operations.lookup(op_key)
            return OperationLookup(state, result)

        return await lookup_with_reresolve(target, key, look)

    @property
    def rules(self) -> PlatformRules:
        return TELEGRAM_RULES

    @property
    def supports_operation_lookup(self) -> bool:
        return True

    async def _operation(
        self, operation: str, key: str, fingerprint: str, act: Callable[[], Awaitable[InviteResult]]
    ) -> InviteResult:
        """One contract call through the key store, with the fault armed for it (if any) around it."""
        fault = self._take_fault(operation)
        if fault is not None and fault.stage == "before":
            return _uncertain("INTEGRATION_TIMEOUT", "injected: no answer, nothing recorded")

        async def acting() -> InviteResult:
            result = await act()
            if fault is not None and fault.stage == "slow" and fault.meanwhile is not None:
                await fault.meanwhile()
            return result

        try:
            result = await self.operations.run(key, fingerprint, acting)
        except KeyMismatch:
            return _uncertain("IDEMPOTENCY_KEY_MISMATCH", "the key is held by another request")
        if fault is not None and fault.stage == "after":
            return _uncertain("INTEGRATION_CONNECTION_LOST", "injected: the platform acted, no answer came")
        if fault is not None and fault.stage == "late" and fault.meanwhile is not None:
            await fault.meanwhile()
        return result

    def _take_fault(self, operation: str) -> SandboxFault | None:
        for fault in self.faults:
            if fault.operation in (None, operation):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def check_rate_limits(self, account_id: str) -> RateLimitStatus:
        """The platform's wait, and the windows as the simulator's ledger counts them (accepted actions;
        the simulator's own cap check also counts calls the target refused)."""
        status = await self._status(account_id)
        now = self.simulator.clock.now()
        windows: list[WindowUsage] = []
        limits = self.simulator.config.limits_for(account_id)
        for action in ("invite", "message"):
            for seconds, cap in limits.windows(action):
                start = now - timedelta(seconds=seconds)
                times = [e.at for e in self.simulator.ledger(account_id, action) if start < e.at <= now]
                resets_at = min(times) + timedelta(seconds=seconds) if times else None
                windows.append(WindowUsage(action, seconds, len(times), cap, resets_at))
        return RateLimitStatus(account_id, tuple(windows), status.restricted_until or status.flood_wait_until)

    async def check_membership(self, account_id: str, destination: str, target: TargetRef) -> bool | None:
        # Keyed like the invite itself (primary identity), so a crash mid-invite resolves exactly.
        return await self.simulator.is_member(destination, primary_identity(target).value)

    @property
    def supports_membership_check(self) -> bool:
        return True

    # -- accounts --

    def _owned(self, user_id: str) -> list[SimAccount]:
        return [a for a in self.simulator.accounts_for(user_id) if a.platform == self._sim_platform]

    async def _account(self, account: SimAccount) -> PlatformAccount:
        status = await self.simulator.account_status(account.account_id)
        return PlatformAccount(
            id=account.account_id,
            platform=self.platform,
            label=account.label,
            status=_STATES[status.state],
            is_premium=account.is_premium,
            cooldown_until=status.restricted_until or status.flood_wait_until,
            status_detail="session revoked" if status.state == "session_revoked" else None,
        )

    async def _status(self, account_id: str) -> SimAccountStatus:
        try:
            return await self.simulator.account_status(account_id)
        except UnknownAccountError:
            if not self._revive(account_id):
                raise
            return await self.simulator.account_status(account_id)

    async def _on_known_account(
        self, account_id: str, target: TargetRef, key: str, once: OneCall
    ) -> InviteResult:
        try:
            await self._status(account_id)
        except UnknownAccountError:
            return _unknown_account(account_id)
        return await call_with_reresolve(target, key, once)

    def _revive(self, account_id: str) -> bool:
        """The in-memory simulator forgets everything on restart; a demo account's id names its owner,
        so it is re-created (with a fresh state) instead of failing a task that was running."""
        _, _, rest = account_id.partition("-")
        owner, _, number = rest.rpartition("-")
        if not owner or not number.isdigit() or not 1 <= int(number) <= self.demo_accounts_per_user:
            return False
        if demo_account_id(self._sim_platform, owner, int(number)) != account_id:
            return False
        ensure_demo_accounts(self.simulator, owner, self._sim_platform, self.demo_accounts_per_user)
        return True


# The embedded simulators' audience: fixed, so a demo behaves the same on every run.
EMBEDDED_SEED = 2026
# The simulator stamps a call when it arrives, our limiter when it reserves; arrivals can bunch up by a
# few milliseconds, so the simulator's spacing is a little looser than ours (its caps are exact).
SIMULATOR_SPACING_TOLERANCE = 0.8


def simulator_limits(caps: PlatformCaps) -> AccountLimits:
    """What a simulator tolerates for a platform: our hard caps, so it pushes back only if we breach them."""
    return AccountLimits(
        min_spacing_seconds=caps.min_delay_seconds * SIMULATOR_SPACING_TOLERANCE,
        invites_per_hour=caps.invites_per_hour,
        invites_per_day=caps.invites_per_day,
        messages_per_hour=caps.messages_per_hour,
        messages_per_day=caps.messages_per_day,
    )


def embedded_simulator(caps: PlatformCaps) -> TelegramSimulator:
    """A simulator for one platform's accounts, pushing back only above our caps; every user's demo
    accounts live in it, ids unique per user."""
    return TelegramSimulator(demo_config(EMBEDDED_SEED, simulator_limits(caps)))
