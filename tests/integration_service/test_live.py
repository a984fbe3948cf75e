"""Opt-in: the service against real Telegram. Skipped unless TELEGRAM_API_ID, TELEGRAM_API_HASH and
TELEGRAM_SESSION (a Telethon StringSession of an account you own) are set; TELEGRAM_LIVE_CHAT (a chat
the account is in) adds the membership check. It only reads: it never invites or sends."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from integration_service.telegram import telethon_factory
from invite_service.adapters.telegram import IntegrationClient, Invitee
from invite_service.models.enums import TargetKind
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer

API_ID = os.environ.get("TELEGRAM_API_ID", "")
API_HASH = os.environ.get("TELEGRAM_API_HASH", "")
SESSION = os.environ.get("TELEGRAM_SESSION", "")
CHAT = os.environ.get("TELEGRAM_LIVE_CHAT", "")
SECRET = "integration-live-test-secret-" + "l" * 32

pytestmark = pytest.mark.skipif(
    not (API_ID and API_HASH and SESSION),
    reason="set TELEGRAM_API_ID, TELEGRAM_API_HASH and TELEGRAM_SESSION",
)


async def test_lists_the_account_and_checks_its_own_membership(tmp_path: Path) -> None:
    server = IntegrationServer(
        f"sqlite+aiosqlite:///{tmp_path}/live.db",
        tmp_path,
        World(),
        SECRET,
        listen=False,
        client_factory=telethon_factory(int(API_ID), API_HASH),
    )
    server.add_account("tg-live", "live-user", 0, session=SESSION)
    await asyncio.to_thread(server.start)
    client = IntegrationClient(server.url, SECRET)
    try:
        (account,) = await client.list_accounts("live-user")  # get_me through the service
        assert account.status == "active"
        if CHAT and account.username:
            me = Invitee.of(TargetKind.USERNAME, account.username)
            assert await client.is_member("tg-live", CHAT, me) is True
    finally:
        await client.aclose()
        await asyncio.to_thread(server.stop)
