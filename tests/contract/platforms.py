"""The two implementations of the Integration Service contract, behind one driver the contract suite uses.

- ``SandboxPlatform``: a real ``invite-service sandbox-integration`` process over the simulated Telegram,
  driven through its ``/admin`` endpoints.
- ``TelethonPlatform``: the reference ``integration_service`` over real HTTP, Telegram replaced at the
  Telethon client boundary by ``FakeTelegram`` (real TL objects, real ``telethon.errors``).

A test asks for people by what Telegram will do with them (``Fate``), makes the platform refuse the next
call with a Telegram error, counts what reached the platform, restarts the service, and makes a person
reply. Everything else — every call under test — goes over HTTP through the Invite Service's own
``IntegrationClient`` and ``TelegramAdapter``, the same way for both.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from telethon import types
from telethon.errors import rpc_message_to_error

from integration_service.db import engine_for
from invite_service.adapters.telegram import Invitee
from invite_service.kit.service_http import SERVICE_NAME
from invite_service.models.enums import TargetKind
from invite_service.sandbox import TargetFate, target_fate
from invite_service.sandbox.integration_app import demo_config
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer, ThreadedServer, in_thread
from tests.sandbox.integration_server import SandboxServer, add_accounts, ledger, prepare

SECRET = "contract-suite-test-secret-" + "c" * 40
USER = "user-1"
ACCOUNT, OTHER = "acc-1", "acc-2"
CHAT = "club"
SEED = 13


class Fate(StrEnum):
    """What Telegram does when this person is invited."""

    OK = "ok"
    PRIVACY = "privacy"  # USER_PRIVACY_RESTRICTED
    MISSING = "missing"  # left out of InvitedUsers: privacy
    MISSING_PREMIUM_ALLOW = "missing_premium_allow"  # left out; a Premium account could add them
    MISSING_PREMIUM_PM = "missing_premium_pm"  # left out; messages need Premium too
    MEMBER = "member"  # already in the chat


class EventSink:
    """The Invite Service's side of inbound events, as far as the contract goes: checks the service token
    (aud=invite-service, iss=sub=integration-service) and keeps every body it accepted."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/api/v1/integration/events")
        async def receive(request: Request) -> JSONResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            try:
                jwt.decode(
                    token,
                    SECRET,
                    algorithms=["HS256"],
                    audience=SERVICE_NAME,
                    issuer="integration-service",
                    options={"require": ["exp", "iat", "sub", "aud", "iss"]},
                )
            except jwt.PyJWTError:
                return JSONResponse({"detail": "bad token"}, status_code=401)
            body = await request.json()
            self.events.append(body)
            return JSONResponse({"id": body["id"], "duplicate": False}, status_code=202)

        self.http = ThreadedServer(app)
        self.http.start()
        self.url = f"{self.http.url}/api/v1/integration/events"

    def stop(self) -> None:
        self.http.stop()


def by_name(name: str) -> Invitee:
    return Invitee.of(TargetKind.USERNAME, name)


class Platform(ABC):
    """One implementation of the contract, as the suite drives it."""

    name: str
    url: str

    @abstractmethod
    async def prepare(self) -> None:
        """A clean platform: no operation keys, ``ACCOUNT`` and ``OTHER`` of ``USER``, nobody in the chat."""

    @abstractmethod
    def person(self, fate: Fate, n: int = 0) -> Invitee:
        """The ``n``-th person whose invite ends as ``fate``."""

    @abstractmethod
    async def refuse_next(self, operation: str, error: str, rpc_code: int) -> None:
        """The platform answers the next ``operation`` ("invite" | "message") with this RPC error."""

    @abstractmethod
    async def platform_calls(self) -> int:
        """Invites and messages that reached the platform (replays and refusals by the service excluded)."""

    @abstractmethod
    async def slow(self, on: bool) -> None:
        """While on, the platform acts at once but its answer takes its time."""

    @abstractmethod
    async def restart(self) -> None:
        """Stop the service and start it again on the same stored operation keys."""

    @abstractmethod
    async def reply(self, account_id: str, person: Invitee, text: str) -> None:
        """``person`` writes ``text`` to the account."""

    @abstractmethod
    def stop(self) -> None: ...


class SandboxPlatform(Platform):
    name = "sandbox"

    def __init__(self, workdir: Path, events_url: str) -> None:
        self.server = SandboxServer(
            SECRET, workdir, seed=SEED, state_file=workdir / "operations.jsonl", events_url=events_url
        )
        self.server.start()
        self.url = self.server.url

    def _admin(self) -> httpx.AsyncClient:
        return self.server.admin()

    async def prepare(self) -> None:
        async with self._admin() as admin:
            await prepare(admin, USER, (ACCOUNT, OTHER))

    def person(self, fate: Fate, n: int = 0) -> Invitee:
        wanted = TargetFate.ALREADY_MEMBER if fate is Fate.MEMBER else TargetFate(fate.value)
        found = (
            f"user{i:05d}" for i in range(20_000) if target_fate(demo_config(SEED), f"user{i:05d}") is wanted
        )
        for _ in range(n):
            next(found)
        return by_name(next(found))

    async def refuse_next(self, operation: str, error: str, rpc_code: int) -> None:
        async with self._admin() as admin:
            body = {"name": error, "code": rpc_code}
            (await admin.post("/admin/faults/rpc", json=body)).raise_for_status()

    async def platform_calls(self) -> int:
        async with self._admin() as admin:
            return len((await ledger(admin))["platform_calls"])

    async def slow(self, on: bool) -> None:
        async with self._admin() as admin:
            seconds = 1 if on else 0
            (await admin.post("/admin/faults/latency", params={"seconds": seconds})).raise_for_status()

    async def restart(self) -> None:
        self.server.stop()
        self.server.start()
        self.url = self.server.url
        async with self._admin() as admin:
            await add_accounts(admin, USER, (ACCOUNT, OTHER))  # the simulated platform restarts empty

    async def reply(self, account_id: str, person: Invitee, text: str) -> None:
        async with self._admin() as admin:
            body = {"account_id": account_id, "peer": person.to_wire(), "text": text}
            (await admin.post("/admin/replies", json=body)).raise_for_status()

    def stop(self) -> None:
        self.server.stop()


_FATE_IDS = {fate: 1000 * (i + 1) for i, fate in enumerate(Fate)}
_ME = {ACCOUNT: 1, OTHER: 2}
_ACTIVE = (
    "UPDATE accounts SET status='active', status_detail=NULL, flood_wait_until=NULL, restricted_until=NULL"
)
_WRITES = {"invite": ("InviteToChannelRequest", "AddChatUserRequest"), "message": ("SendMessageRequest",)}


def _telethon_error(code: int, message: str) -> Callable[[], Exception]:
    """The exception Telethon raises when Telegram answers ``rpc_error(code, message)``."""
    return lambda: rpc_message_to_error(types.RpcError(error_code=code, error_message=message), None)


def _world() -> World:
    world = World()
    for account, me in _ME.items():
        world.user(me, f"{account.replace('-', '_')}_self")
    world.chat(500, CHAT, channel=True)
    for fate, base in _FATE_IDS.items():
        for n in range(5):
            uid = base + n
            world.user(uid, f"{fate.value}_{n}")
            if fate is Fate.PRIVACY:
                world.refuse[uid] = _telethon_error(403, "USER_PRIVACY_RESTRICTED")
            elif fate is Fate.MISSING:
                world.missing[uid] = (False, False)
            elif fate is Fate.MISSING_PREMIUM_ALLOW:
                world.missing[uid] = (True, False)
            elif fate is Fate.MISSING_PREMIUM_PM:
                world.missing[uid] = (False, True)
            elif fate is Fate.MEMBER:
                world.chats[500].members.add(uid)
    return world


class TelethonPlatform(Platform):
    def __init__(self, db_url: str, workdir: Path, events_url: str, backend: str) -> None:
        self.name = f"telethon-{backend}"
        self.db_url, self.workdir, self.events_url = db_url, workdir, events_url
        self._boot()
        self.server.add_account(ACCOUNT, USER, _ME[ACCOUNT])
        self.server.add_account(OTHER, USER, _ME[OTHER])
        self.server.start()
        self.url = self.server.url

    def _boot(self) -> None:
        self.world = _world()
        self.server = IntegrationServer(
            self.db_url, self.workdir, self.world, SECRET, events_url=self.events_url
        )

    async def prepare(self) -> None:
        # A clean "Telegram" and no operation keys: the same accounts on a fresh world and empty tables.
        self.server.stop()
        self._forget_keys()
        self.world = _world()
        self.server.world = self.world
        self.server.start()
        self.url = self.server.url

    def _forget_keys(self) -> None:
        async def forget() -> None:
            engine = engine_for(self.db_url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text("DELETE FROM operations"))
                    await conn.execute(text(_ACTIVE))
            finally:
                await engine.dispose()

        in_thread(forget())

    def person(self, fate: Fate, n: int = 0) -> Invitee:
        return by_name(f"{fate.value}_{n}")

    async def refuse_next(self, operation: str, error: str, rpc_code: int) -> None:
        for request in _WRITES[operation]:
            self.world.fail(request, _telethon_error(rpc_code, error))

    async def platform_calls(self) -> int:
        writes = {name for names in _WRITES.values() for name in names}
        return sum(1 for call in self.server.fake.calls if call.request in writes)

    async def slow(self, on: bool) -> None:
        if on:
            self.world.hold.update(_WRITES["invite"] + _WRITES["message"])
        else:
            await asyncio.to_thread(self.server.run, self.world.release())

    async def restart(self) -> None:
        self.server.stop()
        self.server.start()
        self.url = self.server.url

    async def reply(self, account_id: str, person: Invitee, text: str) -> None:
        user = next(u for u in self.world.users.values() if u.username == person.value)
        await asyncio.to_thread(self.server.deliver, account_id, user.id, text)

    def stop(self) -> None:
        self.server.stop()
