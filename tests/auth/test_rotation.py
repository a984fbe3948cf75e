"""Secret rotation without downtime: while a previous secret is set, tokens signed with it and with the
current one are both accepted; once it is removed only the current one is. User JWTs, the Integration
Service's event tokens (our POST /api/v1/integration/events), the reference Integration Service's check of
our calls, and the sandbox Integration Service's (docs/runbook.md "Rotating secrets")."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest

from integration_service.config import ConfigError as IntegrationConfigError
from integration_service.config import Settings as IntegrationSettings
from invite_service.auth.jwt import decode_token, mint_token
from invite_service.auth.service_token import verify_integration_token
from invite_service.config import Settings
from invite_service.config.vault import apply_vault_overlay, stop_token_renewal
from invite_service.db import Database
from invite_service.errors import Unauthorized
from invite_service.kit.service_http import INTEGRATION_SERVICE_NAME, SERVICE_NAME, mint_service_token
from invite_service.main import create_app
from invite_service.sandbox import TelegramSimulator
from invite_service.sandbox.events import mint_integration_token
from invite_service.sandbox.integration_app import create_integration_app, demo_config
from tests.integration_service.server import IntegrationServer
from tests.integration_service.support import USER, make_world
from tests.vault_server import VaultServer

OLD = "old-secret-" + "o" * 40
NEW = "new-secret-" + "n" * 40
STRANGER = "some-other-secret-" + "x" * 40


def user_token(secret: str, user: str = "alice") -> str:
    now = int(time.time())
    return pyjwt.encode({"sub": user, "iat": now, "exp": now + 300}, secret, algorithm="HS256")


# -- user JWTs -------------------------------------------------------------------------------------


async def test_user_tokens_of_both_secrets_are_accepted_during_rotation_only_the_new_after() -> None:
    rotating = Settings(_env_file=None, jwt_secret=NEW, jwt_secret_previous=OLD)  # type: ignore[call-arg]
    assert decode_token(user_token(OLD), rotating) == "alice"
    assert decode_token(user_token(NEW), rotating) == "alice"
    with pytest.raises(Unauthorized, match="InvalidSignatureError"):
        decode_token(user_token(STRANGER), rotating)

    rotated = Settings(_env_file=None, jwt_secret=NEW)  # type: ignore[call-arg]
    assert decode_token(user_token(NEW), rotated) == "alice"
    with pytest.raises(Unauthorized, match="InvalidSignatureError"):
        decode_token(user_token(OLD), rotated)


async def test_an_expired_token_of_the_previous_secret_is_still_expired() -> None:
    rotating = Settings(_env_file=None, jwt_secret=NEW, jwt_secret_previous=OLD)  # type: ignore[call-arg]
    past = int(time.time()) - 3600
    expired = pyjwt.encode({"sub": "alice", "iat": past, "exp": past + 60}, OLD, algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(expired, rotating)


async def test_dev_tokens_are_signed_with_the_current_secret_only() -> None:
    rotating = Settings(_env_file=None, jwt_secret=NEW, jwt_secret_previous=OLD)  # type: ignore[call-arg]
    minted = mint_token("bob", rotating)
    pyjwt.decode(minted, NEW, algorithms=["HS256"])  # raises if it was signed with another key
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(minted, OLD, algorithms=["HS256"])


async def test_over_http_both_user_tokens_reach_a_protected_route(db_url: str, database: Database) -> None:
    for previous, old_status in ((OLD, 200), ("", 401)):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            log_level="WARNING",
            jwt_secret=NEW,
            jwt_secret_previous=previous,
        )
        transport = httpx.ASGITransport(app=create_app(settings, database=database))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for secret, expected in ((NEW, 200), (OLD, old_status)):
                headers = {"Authorization": f"Bearer {user_token(secret)}"}
                resp = await c.get("/api/v1/tasks", headers=headers)
                assert resp.status_code == expected, (previous != "", secret == NEW, resp.text)


# -- the Integration Service's event tokens (inbound to us) ----------------------------------------


async def test_inbound_service_tokens_of_both_secrets_are_accepted_during_rotation_only_the_new_after() -> (
    None
):
    rotating = Settings(  # type: ignore[call-arg]
        _env_file=None, integration_token_secret=NEW, integration_token_secret_previous=OLD
    )
    verify_integration_token(mint_integration_token(OLD), rotating)
    verify_integration_token(mint_integration_token(NEW), rotating)
    with pytest.raises(Unauthorized):
        verify_integration_token(mint_integration_token(STRANGER), rotating)
    # A user token signed with an accepted secret is still not a service token (issuer, audience).
    with pytest.raises(Unauthorized):
        verify_integration_token(user_token(OLD), rotating)

    rotated = Settings(_env_file=None, integration_token_secret=NEW)  # type: ignore[call-arg]
    verify_integration_token(mint_integration_token(NEW), rotated)
    with pytest.raises(Unauthorized):
        verify_integration_token(mint_integration_token(OLD), rotated)


async def test_the_events_endpoint_accepts_both_during_rotation(db_url: str, database: Database) -> None:
    # An empty body: a 422 (the token passed, the body did not) tells an accepted token from a 401.
    for previous, old_status in ((OLD, 422), ("", 401)):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            log_level="WARNING",
            integration_token_secret=NEW,
            integration_token_secret_previous=previous,
        )
        transport = httpx.ASGITransport(app=create_app(settings, database=database))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for secret, expected in ((NEW, 422), (OLD, old_status)):
                headers = {"Authorization": f"Bearer {mint_integration_token(secret)}"}
                resp = await c.post("/api/v1/integration/events", json={}, headers=headers)
                assert resp.status_code == expected, (previous != "", secret == NEW, resp.text)


# -- the reference Integration Service and the sandbox one, checking our calls ---------------------


def our_call(secret: str) -> dict[str, str]:
    token = mint_service_token(secret, audience=INTEGRATION_SERVICE_NAME, issuer=SERVICE_NAME)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def reference_servers(tmp_path: Path) -> Iterator[dict[str, IntegrationServer]]:
    servers = {
        "rotating": IntegrationServer(
            f"sqlite+aiosqlite:///{tmp_path / 'rotating.db'}",
            tmp_path,
            make_world(),
            NEW,
            token_secret_previous=OLD,
        ),
        "rotated": IntegrationServer(
            f"sqlite+aiosqlite:///{tmp_path / 'rotated.db'}", tmp_path, make_world(), NEW
        ),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


async def test_the_reference_integration_service_accepts_both_during_rotation(
    reference_servers: dict[str, IntegrationServer],
) -> None:
    path = f"/v1/users/{USER}/accounts"
    async with httpx.AsyncClient() as c:
        rotating = reference_servers["rotating"].url
        assert (await c.get(rotating + path, headers=our_call(NEW))).status_code == 200
        assert (await c.get(rotating + path, headers=our_call(OLD))).status_code == 200
        assert (await c.get(rotating + path, headers=our_call(STRANGER))).status_code == 401
        rotated = reference_servers["rotated"].url
        assert (await c.get(rotated + path, headers=our_call(NEW))).status_code == 200
        assert (await c.get(rotated + path, headers=our_call(OLD))).status_code == 401


def test_the_reference_service_refuses_a_short_previous_secret(tmp_path: Path) -> None:
    settings = IntegrationSettings(  # type: ignore[call-arg]
        _env_file=None, token_secret=NEW, token_secret_previous="short", session_key="k"
    )
    with pytest.raises(IntegrationConfigError, match="INTEGRATION_TOKEN_SECRET_PREVIOUS"):
        settings.check_serving()


@pytest.fixture
async def sandbox_clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    apps = {
        "rotating": create_integration_app(
            TelegramSimulator(demo_config(0, None)), NEW, previous_token_secret=OLD
        ),
        "rotated": create_integration_app(TelegramSimulator(demo_config(0, None)), NEW),
    }
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
        for name, app in apps.items()
    }
    yield clients
    for c in clients.values():
        await c.aclose()


async def test_the_sandbox_integration_service_accepts_both_during_rotation(
    sandbox_clients: dict[str, httpx.AsyncClient],
) -> None:
    path = "/v1/users/u1/accounts"
    rotating, rotated = sandbox_clients["rotating"], sandbox_clients["rotated"]
    assert (await rotating.get(path, headers=our_call(NEW))).status_code == 200
    assert (await rotating.get(path, headers=our_call(OLD))).status_code == 200
    assert (await rotating.get(path, headers=our_call(STRANGER))).status_code == 401
    assert (await rotated.get(path, headers=our_call(NEW))).status_code == 200
    assert (await rotated.get(path, headers=our_call(OLD))).status_code == 401


# -- Vault holds the previous secrets too ----------------------------------------------------------


def test_vault_supplies_the_previous_secrets() -> None:
    secrets = {
        "jwt_secret": NEW,
        "jwt_secret_previous": OLD,
        "integration_token_secret": NEW,
        "integration_token_secret_previous": OLD,
    }
    with VaultServer(secrets={"invite-service": secrets}) as vault:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            vault_addr=vault.url,
            vault_role_id=vault.role_id,
            vault_secret_id=vault.secret_id,
        )
        try:
            overlaid = apply_vault_overlay(settings)
        finally:
            stop_token_renewal()
    assert overlaid.jwt_verification_secrets == (NEW, OLD)
    assert overlaid.integration_token_secrets == (NEW, OLD)
    assert decode_token(user_token(OLD), overlaid) == "alice"
