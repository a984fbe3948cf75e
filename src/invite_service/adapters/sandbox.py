"""A simulated Telegram in process (the embedded profile): ``TelegramSimulator`` called directly.

Its answers go through the very mapping the Telegram adapter uses (``adapters.telegram``), so the
engine sees identical ``InviteResult``s whether it runs on the sandbox or on the Integration Service.
"""

from __future__ import annotations

from datetime import timedelta

from invite_service.accounts.integration_types import Invitee
from invite_service.adapters.base import (
    AccountStatus,
    InvitePlatformAdapter,
    InviteResult,
    Outcome,
    PlatformAccount,
    RateLimitStatus,
    TargetRef,
    WindowUsage,
)
from invite_service.adapters.telegram import (
    OneCall,
    call_with_reresolve,
    primary_identity,
    result_from_invite,
    result_from_rpc_error,
)
from invite_service.models.enums import Platform
from invite_service.sandbox.integration_state import demo_account_id, ensure_demo_accounts
from invite_service.sandbox.model import AccountPlatform, RpcError, SimAccount
from invite_service.sandbox.model import AccountStatus as SimAccountStatus
from invite_service.sandbox.simulator import TelegramSimulator, UnknownAccountError

DEMO_ACCOUNTS_PER_USER = 4

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

    async def initialize_accounts(self, user_id: str) -> list[PlatformAccount]:
        if self.demo_accounts_per_user and not self._owned(user_id):
            ensure_demo_accounts(self.simulator, user_id, self._sim_platform, self.demo_accounts_per_user)
        return [await self._account(account) for account in self._owned(user_id)]

    async def send_invite(self, account_id: str, destination: str, target: TargetRef) -> InviteResult:
        async def once(who: Invitee) -> InviteResult:
            try:
                invited = await self.simulator.invite(account_id, destination, who.value)
            except RpcError as err:
                return result_from_rpc_error(err.message, err.seconds, status=err.code)
            flags = [
                (m.premium_would_allow_invite, m.premium_required_for_pm) for m in invited.missing_invitees
            ]
            return result_from_invite(bool(invited.added), flags)

        return await self._on_known_account(account_id, target, once)

    async def send_message(self, account_id: str, target: TargetRef, text: str) -> InviteResult:
        async def once(who: Invitee) -> InviteResult:
            try:
                sent = await self.simulator.send_message(account_id, who.value, text)
            except RpcError as err:
                return result_from_rpc_error(err.message, err.seconds, status=err.code)
            return InviteResult(Outcome.SUCCESS, detail=f"message {sent.message_id}")

        return await self._on_known_account(account_id, target, once)

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

    async def _on_known_account(self, account_id: str, target: TargetRef, once: OneCall) -> InviteResult:
        try:
            await self._status(account_id)
        except UnknownAccountError:
            return _unknown_account(account_id)
        return await call_with_reresolve(target, once)

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
