"""An in-process Telegram that pushes back like the real one.

Call order inside one operation mirrors what the platform checks, and decides what a call costs:
1. injected faults (``inject``) fail the call and touch no state — a failure before Telegram processed it;
2. a revoked session (AUTH_KEY_UNREGISTERED) or a PEER_FLOOD restriction refuses without counting;
3. a call during an announced FLOOD_WAIT escalates the wait (``flood_wait_escalation``) and, after
   ``max_flood_violations`` such calls, restricts the account; a call closer than ``min_spacing_seconds``
   to the previous one gets FLOOD_WAIT_X (X = remaining spacing, rounded up) and starts that wait;
4. from here the call reached the platform: it counts for spacing, and — unless the request itself is bad
   (not an admin, empty text) — toward the per-window caps, refused or not, like our own limiter counts it;
   going over a cap gives PEER_FLOOD and restricts the account for ``restriction_seconds``;
5. the target's fate (a pure function of seed and target) and the chat's state decide the answer.
Only accepted actions land in the ledger; every call past step 3 lands in ``platform_calls`` with its
answer, so tests can prove a target was never asked twice. Operations return the result or raise ``RpcError``.

Latency is applied after the call took effect, so a caller that times out during it leaves an action
the platform did perform: the ambiguous case our engine resolves with ``is_member``.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from invite_service.kit.clock import Clock
from invite_service.sandbox.model import (
    DAY,
    MAX_MESSAGE_LENGTH,
    AccountLimits,
    AccountPlatform,
    AccountStatus,
    Action,
    DoubleSend,
    InvitedUsers,
    LedgerEntry,
    MissingInvitee,
    PlatformCall,
    RepeatedCall,
    RpcError,
    SentMessage,
    SimAccount,
    SimulatorConfig,
    TargetFate,
    WindowBreach,
    canonical_key,
    ceil_seconds,
    count_in_window,
    find_double_sends,
    find_repeated_calls,
    find_window_breaches,
    normalize_error_name,
    target_fate,
    target_user_id,
)
from invite_service.sandbox.sim_state import AccountState, InjectedFault, NowSource, UnknownAccountError

_MISSING_FLAGS = {
    TargetFate.MISSING: (False, False),
    TargetFate.MISSING_PREMIUM_ALLOW: (True, False),
    TargetFate.MISSING_PREMIUM_PM: (False, True),
}

Answer = TypeVar("Answer")


class TelegramSimulator:
    """A deterministic (per seed) simulated Telegram; safe to call from concurrent asyncio tasks."""

    def __init__(self, config: SimulatorConfig | None = None, clock: NowSource | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock: NowSource = clock or Clock()
        self._lock = asyncio.Lock()
        self._latency = self.config.latency_seconds
        self._accounts: dict[str, AccountState] = {}
        self._members: dict[str, set[str]] = defaultdict(set)
        self._ledger: list[LedgerEntry] = []
        self._calls: list[PlatformCall] = []
        self._admitted: tuple[str, datetime] | None = None  # set by _admit for the call being made
        self._faults: list[InjectedFault] = []
        self._message_ids = 0

    # -- setup and inspection (synchronous: no awaits, so atomic within the event loop) --

    def reset(self, keep_accounts: bool = True) -> None:
        """Forget the ledger, memberships, faults and account states; keep accounts (fresh) if asked."""
        kept = [state.account for state in self._accounts.values()] if keep_accounts else []
        self._accounts = {}
        self._members = defaultdict(set)
        self._ledger = []
        self._calls = []
        self._faults = []
        self._message_ids = 0
        for account in kept:
            self._register(account)

    def add_account(
        self, account_id: str, user_id: str, label: str, platform: AccountPlatform = "telegram"
    ) -> SimAccount:
        if account_id in self._accounts:
            raise ValueError(f"account {account_id!r} already exists")
        return self._register(SimAccount(account_id, user_id, label, platform))

    def _register(self, account: SimAccount) -> SimAccount:
        revoked = account.account_id in self.config.revoked_sessions
        self._accounts[account.account_id] = AccountState(account, session_revoked=revoked)
        return account

    def accounts_for(self, user_id: str) -> list[SimAccount]:
        return [s.account for s in self._accounts.values() if s.account.user_id == user_id]

    def revoke_session(self, account_id: str) -> None:
        """The account's owner logged the session out: every later call gets AUTH_KEY_UNREGISTERED."""
        self._state(account_id).session_revoked = True

    def set_premium(self, account_id: str, premium: bool = True) -> None:
        """The account has (or no longer has) Telegram Premium."""
        state = self._state(account_id)
        state.account = replace(state.account, is_premium=premium)

    def restore_session(self, account_id: str) -> None:
        """The owner logged the account in again: calls work as before (a restriction still runs out)."""
        self._state(account_id).session_revoked = False

    def inject(
        self,
        error_name: str,
        count: int = 1,
        seconds: int | None = None,
        account_id: str | None = None,
        code: int | None = None,
    ) -> None:
        """The next ``count`` invite/message calls (only ``account_id``'s, if given) fail with this error
        (of Telegram's class ``code``, if given; else the class Telegram files the name under)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        name, seconds = normalize_error_name(error_name, seconds)
        self._faults.append(InjectedFault(name, seconds, count, account_id, code))

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._latency = seconds

    def ledger(
        self, account_id: str | None = None, action: Action | None = None, since: datetime | None = None
    ) -> list[LedgerEntry]:
        return [
            e
            for e in self._ledger
            if (account_id is None or e.account_id == account_id)
            and (action is None or e.action == action)
            and (since is None or e.at >= since)
        ]

    def double_sends(self) -> list[DoubleSend]:
        return find_double_sends(self._ledger)

    def platform_calls(
        self, account_id: str | None = None, action: Action | None = None
    ) -> list[PlatformCall]:
        """Every invite/message call that reached the platform, accepted or refused, in order."""
        return [
            c
            for c in self._calls
            if (account_id is None or c.account_id == account_id) and (action is None or c.action == action)
        ]

    def repeated_calls(self) -> list[RepeatedCall]:
        return find_repeated_calls(self._calls)

    def window_breaches(self, caps: AccountLimits | dict[str, AccountLimits]) -> list[WindowBreach]:
        return find_window_breaches(self._ledger, caps)

    def snapshot(self, include_ledger: bool = False) -> dict[str, Any]:
        """A JSON-ready view of the whole platform, for the sandbox HTTP servers and debugging."""
        now = self.clock.now()
        chats = set(self._members) | set(self.config.chat_capacity)
        data: dict[str, Any] = {
            "seed": self.config.seed,
            "now": now.isoformat(),
            "latency_seconds": self._latency,
            "accounts": [
                {
                    "user_id": s.account.user_id,
                    "label": s.account.label,
                    "platform": s.account.platform,
                    "is_premium": s.account.is_premium,
                    **self._status(s, now).to_dict(),
                }
                for s in self._accounts.values()
            ],
            "chats": {
                chat: {"members_added": len(self._members.get(chat, ())), "capacity": self._capacity(chat)}
                for chat in sorted(chats)
            },
            "faults": [asdict(f) for f in self._faults],
            "ledger_size": len(self._ledger),
            "platform_calls": len(self._calls),
        }
        if include_ledger:
            data["ledger"] = [e.to_dict() for e in self._ledger]
        return data

    # -- operations --

    async def invite(self, account_id: str, chat: str, target_key: str) -> InvitedUsers:
        """``channels.inviteToChannel`` for one user: InvitedUsers (maybe missing_invitees) or RpcError."""
        key = canonical_key(target_key)
        try:
            async with self._lock:
                return self._noted("invite", chat, key, lambda: self._invite(account_id, chat, key))
        finally:
            await self._delay()

    async def send_message(self, account_id: str, target_key: str, text: str) -> SentMessage:
        """``messages.sendMessage`` to a user: SentMessage or RpcError."""
        key = canonical_key(target_key)
        try:
            async with self._lock:
                return self._noted("message", None, key, lambda: self._send_message(account_id, key, text))
        finally:
            await self._delay()

    async def is_member(self, chat: str, target_key: str) -> bool:
        key = canonical_key(target_key)
        async with self._lock:
            return key in self._members.get(chat, ()) or self._fate(key) is TargetFate.ALREADY_MEMBER

    async def account_status(self, account_id: str) -> AccountStatus:
        async with self._lock:
            return self._status(self._state(account_id), self.clock.now())

    # -- the platform's decisions (called under the lock, no awaits) --

    def _noted(self, action: Action, chat: str | None, key: str, call: Callable[[], Answer]) -> Answer:
        """Make one call; if it got past ``_admit``, add it and its answer to ``platform_calls``."""
        self._admitted = None
        try:
            answer = call()
        except RpcError as err:
            self._note(action, chat, key, err.name)
            raise
        self._note(action, chat, key, self._ledger[-1].result)  # an accepted call was just recorded there
        return answer

    def _note(self, action: Action, chat: str | None, key: str, result: str) -> None:
        if self._admitted is not None:
            account_id, at = self._admitted
            self._calls.append(PlatformCall(len(self._calls) + 1, account_id, action, chat, key, at, result))
            self._admitted = None

    def _invite(self, account_id: str, chat: str, key: str) -> InvitedUsers:
        state, now = self._admit(account_id)
        if not self.config.is_admin(account_id, chat):
            raise RpcError("CHAT_ADMIN_REQUIRED")
        self._count_call(state, "invite", now)
        fate = self._fate(key)
        if key in self._members[chat] or fate is TargetFate.ALREADY_MEMBER:
            raise RpcError("USER_ALREADY_PARTICIPANT")
        self._raise_if_no_such_user(fate, key)
        capacity = self._capacity(chat)
        if capacity is not None and len(self._members[chat]) >= capacity:
            raise RpcError("USERS_TOO_MUCH")
        if fate is TargetFate.PRIVACY:
            raise RpcError("USER_PRIVACY_RESTRICTED")
        premium_admits = fate is TargetFate.MISSING_PREMIUM_ALLOW and state.account.is_premium
        if fate in _MISSING_FLAGS and not premium_admits:
            allow, pm = _MISSING_FLAGS[fate]
            missing = MissingInvitee(target_user_id(self.config, key), key, allow, pm)
            self._record(account_id, "invite", chat, key, now, "missing_invitee")
            return InvitedUsers(chat, added=[], missing_invitees=[missing])
        if fate is TargetFate.SILENT:
            self._record(account_id, "invite", chat, key, now, "no_change")
            return InvitedUsers(chat, added=[], missing_invitees=[])
        self._members[chat].add(key)
        self._record(account_id, "invite", chat, key, now, "added")
        return InvitedUsers(chat, added=[key], missing_invitees=[])

    def _send_message(self, account_id: str, key: str, text: str) -> SentMessage:
        state, now = self._admit(account_id)
        if not text.strip():
            raise RpcError("MESSAGE_EMPTY")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise RpcError("MESSAGE_TOO_LONG")
        self._count_call(state, "message", now)
        fate = self._fate(key)
        self._raise_if_no_such_user(fate, key)
        if fate is TargetFate.BLOCKED:
            raise RpcError("USER_IS_BLOCKED")
        if fate is TargetFate.MISSING_PREMIUM_PM:
            raise RpcError("PRIVACY_PREMIUM_REQUIRED")
        self._message_ids += 1
        self._record(account_id, "message", None, key, now, "delivered", text)
        return SentMessage(self._message_ids, key, now)

    def _admit(self, account_id: str) -> tuple[AccountState, datetime]:
        """Steps 1-3 of the module docstring; on return the call reached the platform."""
        state = self._state(account_id)
        self._raise_injected(account_id)
        now = self.clock.now()
        if state.session_revoked:
            raise RpcError("AUTH_KEY_UNREGISTERED")
        if state.restricted_until is not None:
            if now < state.restricted_until:
                raise RpcError("PEER_FLOOD")
            state.restricted_until = None
        if state.flood_wait_until is not None and now < state.flood_wait_until:
            # Ignoring an announced wait is what gets accounts limited: longer waits, then PEER_FLOOD.
            state.flood_violations += 1
            limit = self.config.max_flood_violations
            if limit is not None and state.flood_violations >= limit:
                self._restrict(state, now)
                raise RpcError("PEER_FLOOD")
            remaining = (state.flood_wait_until - now).total_seconds()
            wait = ceil_seconds(remaining * self.config.flood_wait_escalation)
            state.flood_wait_until = now + timedelta(seconds=wait)
            raise RpcError("FLOOD_WAIT_X", wait)
        spacing = self._limits(account_id).min_spacing_seconds
        if state.last_call_at is not None and spacing > 0:
            remaining = spacing - (now - state.last_call_at).total_seconds()
            if remaining > 0:
                wait = ceil_seconds(remaining)
                state.flood_wait_until = now + timedelta(seconds=wait)
                raise RpcError("FLOOD_WAIT_X", wait)
        state.flood_wait_until = None
        state.flood_violations = 0
        state.last_call_at = now
        self._admitted = (account_id, now)
        return state, now

    def _count_call(self, state: AccountState, action: Action, now: datetime) -> None:
        """Count a call toward the caps, refused by the target or not; over a cap -> PEER_FLOOD."""
        calls = state.calls[action]
        calls.append(now)
        calls.sort()  # a SimulatedClock set backwards must not break the bisect
        del calls[: bisect_right(calls, now - timedelta(seconds=DAY))]  # nothing older than the widest window
        for window, cap in self._limits(state.account.account_id).windows(action):
            if count_in_window(calls, now, window) > cap:
                self._restrict(state, now)
                raise RpcError("PEER_FLOOD")

    def _raise_if_no_such_user(self, fate: TargetFate, key: str) -> None:
        if fate is TargetFate.DELETED:
            raise RpcError("INPUT_USER_DEACTIVATED")
        if fate is TargetFate.UNKNOWN:
            raise RpcError("PEER_ID_INVALID" if key.lstrip("+").isdigit() else "USERNAME_NOT_OCCUPIED")

    def _raise_injected(self, account_id: str) -> None:
        for fault in self._faults:
            if fault.account_id in (None, account_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                raise RpcError(fault.name, fault.seconds, fault.code)

    def _restrict(self, state: AccountState, now: datetime) -> None:
        state.restricted_until = now + timedelta(seconds=self.config.restriction_seconds)
        state.flood_wait_until = None
        state.flood_violations = 0

    def _record(
        self,
        account_id: str,
        action: Action,
        chat: str | None,
        key: str,
        now: datetime,
        result: str,
        text: str | None = None,
    ) -> None:
        seq = len(self._ledger) + 1
        self._ledger.append(LedgerEntry(seq, account_id, action, chat, key, now, result, text))

    def _status(self, state: AccountState, now: datetime) -> AccountStatus:
        restricted = (
            state.restricted_until if state.restricted_until and now < state.restricted_until else None
        )
        waiting = state.flood_wait_until if state.flood_wait_until and now < state.flood_wait_until else None
        label: Literal["active", "flood_wait", "restricted", "session_revoked"]
        if state.session_revoked:
            label = "session_revoked"
        elif restricted:
            label = "restricted"
        else:
            label = "flood_wait" if waiting else "active"
        return AccountStatus(state.account.account_id, label, restricted, waiting)

    def _state(self, account_id: str) -> AccountState:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise UnknownAccountError(account_id) from None

    def _limits(self, account_id: str) -> AccountLimits:
        return self.config.limits_for(account_id)

    def _capacity(self, chat: str) -> int | None:
        return self.config.chat_capacity.get(chat, self.config.default_chat_capacity)

    def _fate(self, key: str) -> TargetFate:
        return target_fate(self.config, key)

    async def _delay(self) -> None:
        if self._latency > 0:
            await asyncio.sleep(self._latency)
