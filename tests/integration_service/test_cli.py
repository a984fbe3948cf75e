"""The command line: settings refused before serving, accounts listed, logout revokes then deletes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from integration_service.cli import list_accounts, logout, main
from integration_service.config import ConfigError, Settings, load_settings
from integration_service.crypto import SessionCipher
from integration_service.db import accounts, engine_for
from invite_service.adapters.telegram.client import mint_service_token
from tests.conftest import free_port
from tests.integration_service.fake_telegram import FakeTelegram, World
from tests.integration_service.server import IntegrationServer
from tests.vault_server import VaultServer

SECRET = "integration-cli-test-secret-" + "c" * 32


def test_serving_needs_a_long_shared_secret_and_a_session_key() -> None:
    with pytest.raises(ConfigError, match="INTEGRATION_TOKEN_SECRET"):
        Settings(_env_file=None, token_secret="short", session_key="k").check_serving()  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="INTEGRATION_SESSION_KEY"):
        Settings(_env_file=None, token_secret=SECRET).check_serving()  # type: ignore[call-arg]


def test_keygen_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    assert SessionCipher(key).decrypt(SessionCipher(key).encrypt("s")) == "s"


def test_accounts_lists_and_logout_revokes_then_deletes_the_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    world = World()
    world.user(1, "me")
    server = IntegrationServer(url, tmp_path, world, SECRET)  # migrates; not started
    server.add_account("tg-cli-1", "owner-1", 1)
    settings = server.settings
    rows = asyncio.run(list_accounts(settings, "owner-1"))
    assert [(r["id"], r["status"]) for r in rows] == [("tg-cli-1", "active")]
    assert "tg-cli-1" in capsys.readouterr().out
    fake = FakeTelegram(world)
    asyncio.run(logout(settings, "tg-cli-1", fake.factory))
    assert fake.clients["tg-cli-1"].logged_out  # revoked on Telegram first

    async def stored() -> tuple[object, str]:
        engine = engine_for(url)
        async with engine.connect() as conn:
            row = (await conn.execute(select(accounts.c.session_ciphertext, accounts.c.status))).one()
        await engine.dispose()
        return row[0], row[1]

    assert asyncio.run(stored()) == (None, "unavailable")


def test_vault_overrides_the_secrets_and_a_refusal_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    key = SessionCipher.generate_key()
    data = {
        "token_secret": SECRET,
        "session_key": key,
        "telegram_api_id": "12345",
        "telegram_api_hash": "abc",
    }
    with VaultServer(secrets={"integration-service": data}) as vault:
        for name, value in {
            "INTEGRATION_VAULT_ADDR": vault.url,
            "INTEGRATION_VAULT_ROLE_ID": vault.role_id,
            "INTEGRATION_VAULT_SECRET_ID": vault.secret_id,
            "INTEGRATION_TOKEN_SECRET": "env-value-is-overridden",
        }.items():
            monkeypatch.setenv(name, value)
        settings = load_settings(_env_file=None)
        assert (settings.token_secret, settings.session_key) == (SECRET, key)
        assert (settings.telegram_api_id, settings.telegram_api_hash) == (12345, "abc")
        settings.check_serving()
        monkeypatch.setenv("INTEGRATION_VAULT_SECRET_ID", "wrong")
        with pytest.raises(ConfigError, match="secret/integration-service") as refused:
            load_settings(_env_file=None)
        assert vault.secret_id not in str(refused.value)


@pytest.mark.slow  # a process start: Telethon's import alone takes seconds
def test_serve_migrates_and_answers_as_a_real_process(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "INTEGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/served.db",
        "INTEGRATION_TOKEN_SECRET": SECRET,
        "INTEGRATION_SESSION_KEY": SessionCipher.generate_key(),
        "INTEGRATION_TELEGRAM_API_ID": "1",
        "INTEGRATION_TELEGRAM_API_HASH": "not-used-without-accounts",
    }
    cli = Path(sys.executable).with_name("integration-service")
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(cli), "serve", "--migrate", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.05)
        headers = {"Authorization": f"Bearer {mint_service_token(SECRET)}"}
        listed = httpx.get(f"{url}/v1/users/nobody/accounts", headers=headers)
        assert (listed.status_code, listed.json()) == (200, {"accounts": []})
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal it shut down on once it is done: -SIGTERM is the clean exit.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        log.close()
