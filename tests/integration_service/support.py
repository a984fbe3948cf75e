"""What the Integration Service tests share: the world they start from, identities, waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from telethon import types
from telethon.errors import rpc_message_to_error

from integration_service.accounts import AccountStore
from integration_service.app import utcnow
from integration_service.db import engine_for
from invite_service.adapters.telegram import Invitee
from invite_service.adapters.telegram.client import mint_service_token
from invite_service.models.enums import TargetKind
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer

SECRET = "integration-service-test-secret-" + "s" * 32
USER, ACCOUNT, ME = "user-1", "tg-acc-1", 1
CHAT, BASIC = "club", "basic"
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14


def by_id(uid: int) -> Invitee:
    return Invitee.of(TargetKind.USER_ID, str(uid))


async def no_sleep(_s: float) -> None:
    return None


def wire(code: int, message: str) -> Callable[[], Exception]:
    """The error Telethon raises when Telegram answers ``rpc_error(code, message)``."""
    return lambda: rpc_message_to_error(types.RpcError(error_code=code, error_message=message), None)


def make_world() -> World:
    world = World()
    world.user(ME, "me_account")
    for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")):
        world.user(uid, name)
    world.chat(500, CHAT, channel=True)
    world.chat(600, BASIC, channel=False)
    return world


def raw(server: IntegrationServer) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {mint_service_token(SECRET, ttl_seconds=600)}"}
    return httpx.AsyncClient(base_url=server.url, headers=headers)


def account_store(server: IntegrationServer) -> AccountStore:
    """The account rows (run its calls with ``server.run``: its engine is made on the server's loop)."""
    return AccountStore(engine_for(server.db_url), utcnow)


async def reset_account(server: IntegrationServer) -> None:
    """Put the account back to active (the row is the service's state, not Telegram's)."""
    await account_store(server).set(
        ACCOUNT, status="active", status_detail=None, flood_wait_until=None, restricted_until=None
    )


def invited_ids(args: dict[str, object]) -> list[int]:
    users = args.get("users") or []
    return [int(u["user_id"]) for u in users if isinstance(u, dict)]  # type: ignore[union-attr]


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def check() -> bool:
        return condition()

    await until_async(check, timeout)


async def until_async(condition: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    """Wait for a condition (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.01)
