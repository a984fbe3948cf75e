"""One Telethon client per account: built from the decrypted session, connected on demand, one call
in flight at a time (a lock per account), disconnected when idle.

Never built, on purpose: automated account registration, per-account proxies or device/app
fingerprints, scraping members of other groups, anything that hides who sends. Every client is the
account owner's own login on the official API credentials of this deployment, and FLOOD_WAIT is never
slept through (``flood_sleep_threshold=0``): it goes back to the caller, who schedules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from integration_service.accounts import AccountStore
from integration_service.crypto import SessionCipher, SessionKeyError
from integration_service.operations import NotSent, error

T = TypeVar("T")


class TelegramClientLike(Protocol):
    """The part of ``telethon.TelegramClient`` this service uses (the tests' fake implements it)."""

    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    def is_connected(self) -> bool: ...
    async def __call__(self, request: Any) -> Any: ...
    async def get_me(self) -> Any: ...
    async def get_input_entity(self, peer: Any) -> Any: ...
    async def get_entity(self, entity: Any) -> Any: ...
    def add_event_handler(self, callback: Callable[[Any], Awaitable[None]], event: Any = None) -> None: ...
    async def log_out(self) -> bool: ...


ClientFactory = Callable[[Any, str], TelegramClientLike]
OnClient = Callable[[Any, TelegramClientLike], None]  # (account row, client)


def telethon_factory(api_id: int, api_hash: str) -> ClientFactory:
    """Production: a real ``TelegramClient`` over the account's ``StringSession``."""

    def build(_account: Any, session: str) -> TelegramClientLike:
        from telethon import TelegramClient
        from telethon.sessions import StringSession

        client: Any = TelegramClient(StringSession(session), api_id, api_hash, flood_sleep_threshold=0)
        return client  # type: ignore[no-any-return]

    return build


class Unusable(Exception):
    """The account cannot be used (no session, a key that cannot open it)."""

    def __init__(self, payload: tuple[int, dict[str, Any]]) -> None:
        super().__init__(payload[1]["code"])
        self.payload = payload


@dataclass
class _Entry:
    client: TelegramClientLike
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)


class ClientPool:
    def __init__(
        self,
        store: AccountStore,
        cipher: SessionCipher,
        factory: ClientFactory,
        *,
        call_timeout: float,
        on_client: OnClient | None = None,
    ) -> None:
        self._store, self._cipher, self._factory = store, cipher, factory
        self._timeout = call_timeout
        self._on_client = on_client
        self._entries: dict[str, _Entry] = {}
        self._create = asyncio.Lock()

    async def _entry(self, account_id: str) -> _Entry:
        async with self._create:
            entry = self._entries.get(account_id)
            if entry is None:
                row = await self._store.get(account_id)
                if row.session_ciphertext is None or row.status == "unavailable":
                    raise Unusable(_session_gone(row.status_detail))
                try:
                    session = self._cipher.decrypt(row.session_ciphertext)
                except SessionKeyError as exc:  # a deployment problem; Telegram was never asked
                    raise NotSent(error(500, "INTERNAL", str(exc))) from exc
                entry = self._entries[account_id] = _Entry(self._factory(row, session))
                if self._on_client is not None:
                    self._on_client(row, entry.client)
            return entry

    async def call(self, account_id: str, work: Callable[[TelegramClientLike], Awaitable[T]]) -> T:
        """``work(client)`` alone on the account's client, connected first; transport failures become
        contract errors (503 before anything was sent, 502/504 after)."""
        entry = await self._entry(account_id)
        async with entry.lock:
            entry.last_used = time.monotonic()
            if not entry.client.is_connected():
                try:
                    await asyncio.wait_for(entry.client.connect(), self._timeout)
                except (OSError, ConnectionError, TimeoutError) as exc:
                    raise NotSent(error(503, "UNAVAILABLE", "Telegram cannot be reached")) from exc
            try:
                return await asyncio.wait_for(work(entry.client), self._timeout)
            except TimeoutError as exc:
                raise Unusable(error(504, "UNAVAILABLE", "Telegram did not answer in time")) from exc
            except (OSError, ConnectionError) as exc:
                raise Unusable(error(502, "UNAVAILABLE", "the connection to Telegram broke")) from exc
            finally:
                entry.last_used = time.monotonic()

    async def reap_idle(self, idle_seconds: float) -> int:
        now, closed = time.monotonic(), 0
        for entry in list(self._entries.values()):
            if entry.lock.locked() or now - entry.last_used < idle_seconds:
                continue
            if entry.client.is_connected():
                await entry.client.disconnect()
                closed += 1
        return closed

    async def forget(self, account_id: str) -> None:
        entry = self._entries.pop(account_id, None)
        if entry is not None and entry.client.is_connected():
            await entry.client.disconnect()

    async def close(self) -> None:
        for account_id in list(self._entries):
            await self.forget(account_id)


def _session_gone(detail: str | None) -> tuple[int, dict[str, Any]]:
    # Telegram's session class (rpc_code 401): the Invite Service marks the account unusable.
    return 403, {
        "code": detail if detail and detail.isupper() else "SESSION_REVOKED",
        "retry_after": None,
        "detail": "the account's session is gone; its owner must log in again",
        "rpc_code": 401,
    }
