"""Sessions are encrypted at rest, a wrong key fails with a clear error, and logs carry no phone
number, session, token or message text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from sqlalchemy import select

from integration_service.crypto import SessionCipher, SessionKeyError
from integration_service.db import accounts, engine_for
from invite_service.adapters.telegram.client import mint_service_token
from invite_service.observability.logging import configure_logging
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer, in_thread

SECRET = "integration-sessions-test-secret-" + "x" * 32
SESSION = "1BVtsOKABu0-very-secret-string-session-" + "Q" * 300
PHONE = "4915199887766"


def test_a_wrong_key_cannot_open_a_session_and_says_why() -> None:
    stored = SessionCipher(SessionCipher.generate_key()).encrypt(SESSION)
    assert SESSION.encode() not in stored
    with pytest.raises(
        SessionKeyError, match="the session key does not match the one the session was stored with"
    ):
        SessionCipher(SessionCipher.generate_key()).decrypt(stored)
    with pytest.raises(SessionKeyError, match="not a Fernet key"):
        SessionCipher("not-a-key")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", json_output=True, stream=stream)
    yield stream
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def world() -> World:
    w = World()
    w.user(1, "me", phone="4915100000001")
    w.user(2, "friend", phone=PHONE, contact=True)
    w.chat(500, "club")
    return w


def test_stored_bytes_hide_the_session_and_a_wrong_key_refuses_without_using_the_key(
    tmp_path: Path, logs: io.StringIO
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    server = IntegrationServer(url, tmp_path, world(), SECRET, listen=False)
    server.add_account("tg-s-1", "u1", 1, session=SESSION)

    async def stored() -> bytes:
        engine = engine_for(url)
        async with engine.connect() as conn:
            value = (await conn.execute(select(accounts.c.session_ciphertext))).scalar_one()
        await engine.dispose()
        return bytes(value)

    assert SESSION.encode() not in in_thread(stored())
    token = mint_service_token(SECRET, ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "sess-key-0001"}
    body = {"peer": {"phone": f"+{PHONE}"}, "text": "a private text for a phone"}
    server.start()
    try:
        sent = httpx.post(f"{server.url}/v1/accounts/tg-s-1/messages", json=body, headers=headers)
        assert sent.status_code == 200
        assert server.fake.clients["tg-s-1"].session == SESSION  # the client got the decrypted session
    finally:
        server.stop()
    other_key = SessionCipher.generate_key()
    wrong = IntegrationServer(url, tmp_path, world(), SECRET, listen=False, session_key=other_key)
    wrong.start()
    try:
        headers["Idempotency-Key"] = "sess-key-0002"
        refused = httpx.post(f"{wrong.url}/v1/accounts/tg-s-1/messages", json=body, headers=headers)
        assert refused.status_code == 500
        assert "the session key does not match" in refused.json()["detail"]
        lookup = httpx.get(f"{wrong.url}/v1/operations/sess-key-0002", headers=headers).json()
        assert lookup["status"] == "unknown_key"  # Telegram was never asked: the key stays free
        assert wrong.fake.calls == []
    finally:
        wrong.stop()
    text = logs.getvalue()
    assert "integration_call" in text  # the calls were logged...
    for secret in (PHONE, SESSION, token, "a private text"):
        assert secret not in text  # ...without what must never reach a log
