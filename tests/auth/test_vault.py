"""The Vault overlay against a real HTTP server (tests/vault_server.py), through hvac unpatched."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from invite_service.config import PLACEHOLDER_SECRET, ConfigError, Settings, get_settings
from invite_service.config import vault as vault_module
from invite_service.config.vault import apply_vault_overlay
from tests.vault_server import VaultServer

LONG_SECRET = "v" * 48
KV_SECRET = {
    "jwt_secret": LONG_SECRET,
    "integration_token_secret": "integration-from-vault",
    "database_url": "postgresql+asyncpg://invite@db.internal/invite",
    # Not a secret field: the overlay must ignore it rather than let Vault reconfigure auth.
    "jwt_algorithms": "RS256",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No INVITE_* from the developer's shell or .env leaks in; no renewer thread outlives a test."""
    for name in list(os.environ):
        if name.startswith("INVITE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    vault_module.stop_token_renewal()


@pytest.fixture
def vault() -> Iterator[VaultServer]:
    with VaultServer(secrets={"invite-service": dict(KV_SECRET)}) as server:
        yield server


def vault_settings(server: VaultServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "vault_addr": server.url,
        "vault_role_id": server.role_id,
        "vault_secret_id": server.secret_id,
        "vault_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_overlay_overrides_environment(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_JWT_SECRET", "env-secret-that-vault-replaces-xxxxxxxx")
    monkeypatch.setenv("INVITE_INTEGRATION_TOKEN_SECRET", "env-integration")
    monkeypatch.setenv("INVITE_DATABASE_URL", "sqlite+aiosqlite:///./env.db")
    monkeypatch.setenv("INVITE_JWT_ISSUER", "https://auth.example")  # not in Vault: env value stays
    monkeypatch.setenv("INVITE_VAULT_ADDR", vault.url)
    monkeypatch.setenv("INVITE_VAULT_ROLE_ID", vault.role_id)
    monkeypatch.setenv("INVITE_VAULT_SECRET_ID", vault.secret_id)

    settings = apply_vault_overlay(Settings(_env_file=None))

    assert settings.jwt_secret == LONG_SECRET
    assert settings.integration_token_secret == "integration-from-vault"
    assert settings.database_url == "postgresql+asyncpg://invite@db.internal/invite"
    assert settings.database_backend == "postgresql"
    assert settings.jwt_issuer == "https://auth.example"
    assert settings.jwt_algorithms == ["HS256"], "only the secret fields may come from Vault"

    (login,) = vault.calls_to("/v1/auth/approle/login")
    assert login.body == {"role_id": vault.role_id, "secret_id": vault.secret_id}
    (read,) = vault.calls_to("/v1/secret/data/invite-service")
    assert read.token in vault.tokens, "the KV read must use the token the login returned"


def test_overlay_is_off_without_vault_addr(vault: VaultServer) -> None:
    settings = Settings(_env_file=None, jwt_secret="from-env-" + "e" * 32)
    assert apply_vault_overlay(settings).jwt_secret == settings.jwt_secret
    assert vault.calls == []


def test_custom_mounts_and_path(monkeypatch: pytest.MonkeyPatch) -> None:
    server = VaultServer(approle_mount="svc-approle", kv_mount="kv", secrets={"apps/invite": KV_SECRET})
    with server:
        settings = apply_vault_overlay(
            vault_settings(
                server, vault_approle_mount="svc-approle", vault_kv_mount="kv", vault_kv_path="apps/invite"
            )
        )
    assert settings.jwt_secret == LONG_SECRET
    assert [c.path for c in server.calls] == ["/v1/auth/svc-approle/login", "/v1/kv/data/apps/invite"]


def test_role_and_secret_id_read_from_files(vault: VaultServer, tmp_path: Path) -> None:
    role_file = tmp_path / "role_id"
    secret_file = tmp_path / "secret_id"
    # Files written by a Vault agent or `echo` end with a newline; it is not part of the credential.
    role_file.write_text(vault.role_id + "\n", encoding="utf-8")
    secret_file.write_text(vault.secret_id + "\n", encoding="utf-8")

    settings = apply_vault_overlay(
        vault_settings(
            vault,
            vault_role_id="",
            vault_secret_id="",
            vault_role_id_file=str(role_file),
            vault_secret_id_file=str(secret_file),
        )
    )

    assert settings.jwt_secret == LONG_SECRET
    (login,) = vault.calls_to("/v1/auth/approle/login")
    assert login.body == {"role_id": vault.role_id, "secret_id": vault.secret_id}


def test_unreadable_secret_id_file_is_named(vault: VaultServer, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-secret-id"
    with pytest.raises(ConfigError) as err:
        apply_vault_overlay(vault_settings(vault, vault_secret_id="", vault_secret_id_file=str(missing)))
    assert str(missing) in str(err.value)
    assert vault.calls == [], "no login is attempted without credentials"


def test_empty_secret_id_file_is_refused(vault: VaultServer, tmp_path: Path) -> None:
    empty = tmp_path / "secret_id"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty") as err:
        apply_vault_overlay(vault_settings(vault, vault_secret_id="", vault_secret_id_file=str(empty)))
    assert str(empty) in str(err.value)
    assert vault.calls == []


def test_missing_credentials_are_named(vault: VaultServer) -> None:
    with pytest.raises(ConfigError, match="INVITE_VAULT_ROLE_ID"):
        apply_vault_overlay(vault_settings(vault, vault_role_id=""))


def test_refused_login_names_vault_and_reason_but_not_the_secret(vault: VaultServer) -> None:
    wrong_secret_id = "wrong-secret-id-7f3a9c"
    with pytest.raises(ConfigError) as err:
        apply_vault_overlay(vault_settings(vault, vault_secret_id=wrong_secret_id))

    message = str(err.value)
    assert vault.url in message
    assert "refused" in message
    assert "invalid role or secret ID" in message  # Vault's own reason is passed on
    assert wrong_secret_id not in message
    assert vault.secret_id not in message
    # The server really saw the attempt, and nothing was read after the refusal.
    assert len(vault.calls_to("/v1/auth/approle/login")) == 1
    assert vault.calls_to("/v1/secret/data/invite-service") == []


def test_unreachable_vault_is_a_clear_config_error() -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    settings = Settings(
        _env_file=None, vault_addr=addr, vault_role_id="r", vault_secret_id="s", vault_timeout_seconds=2
    )
    with pytest.raises(ConfigError) as err:
        apply_vault_overlay(settings)
    assert addr in str(err.value)
    assert "cannot be reached" in str(err.value)


def test_missing_kv_secret_is_a_clear_error() -> None:
    with VaultServer(secrets={}) as server, pytest.raises(ConfigError) as err:
        apply_vault_overlay(vault_settings(server))
    message = str(err.value)
    assert "secret/invite-service" in message
    assert "does not exist" in message
    assert server.url in message


def test_kv_permission_denied_is_a_clear_error(vault: VaultServer) -> None:
    vault.denied_paths.add("invite-service")  # the role's policy lacks read on the path
    with pytest.raises(ConfigError) as err:
        apply_vault_overlay(vault_settings(vault))
    assert "secret/invite-service" in str(err.value)
    assert "permission denied" in str(err.value)


def test_token_is_renewed_before_its_lease_ends() -> None:
    with VaultServer(secrets={"invite-service": KV_SECRET}, lease_seconds=1) as server:
        apply_vault_overlay(vault_settings(server))
        deadline = time.monotonic() + 15
        while not server.renewals and time.monotonic() < deadline:
            time.sleep(0.05)
        renewals = server.renewals
    assert renewals, "the renewer never called auth/token/renew-self"
    assert renewals[0].token in server.tokens, "renew-self must carry the login token"


def test_production_refuses_placeholder_and_short_secrets() -> None:
    with pytest.raises(ConfigError, match="INVITE_JWT_SECRET"):
        Settings(_env_file=None, profile="production").ensure_startable()
    with pytest.raises(ConfigError, match="INVITE_JWT_SECRET"):
        Settings(_env_file=None, profile="production", jwt_secret="short").ensure_startable()
    # The embedded profile starts with the placeholder: that is what `make run` uses.
    assert Settings(_env_file=None).ensure_startable().jwt_secret == PLACEHOLDER_SECRET


def test_production_starts_when_vault_supplies_a_long_secret(vault: VaultServer) -> None:
    settings = vault_settings(vault, profile="production", allow_sandbox=True)
    assert settings.jwt_secret == PLACEHOLDER_SECRET
    assert apply_vault_overlay(settings).ensure_startable().jwt_secret == LONG_SECRET


def test_production_refuses_a_short_secret_from_vault() -> None:
    with VaultServer(secrets={"invite-service": {"jwt_secret": "too-short"}}) as server:
        overlaid = apply_vault_overlay(vault_settings(server, profile="production"))
    with pytest.raises(ConfigError, match="32 characters"):
        overlaid.ensure_startable()


def test_start_up_settings_apply_vault_then_the_checks(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_settings() is what the app and the CLI start from: env -> Vault overlay -> ensure_startable."""
    monkeypatch.setenv("INVITE_PROFILE", "production")
    monkeypatch.setenv("INVITE_ALLOW_SANDBOX", "true")
    monkeypatch.setenv("INVITE_VAULT_ADDR", vault.url)
    monkeypatch.setenv("INVITE_VAULT_ROLE_ID", vault.role_id)
    monkeypatch.setenv("INVITE_VAULT_SECRET_ID", vault.secret_id)
    assert get_settings().jwt_secret == LONG_SECRET

    get_settings.cache_clear()
    monkeypatch.setenv("INVITE_VAULT_SECRET_ID", "not-the-secret-id")
    with pytest.raises(ConfigError, match="refused"):
        get_settings()


@pytest.mark.skipif(
    importlib.util.find_spec("invite_service.cli") is None, reason="invite_service.cli is not written yet"
)
def test_serve_exits_non_zero_on_a_refused_login(vault: VaultServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVITE_")}
    wrong_secret_id = "wrong-secret-id-for-cli-5d1e"
    env.update(
        INVITE_PROFILE="production",
        INVITE_VAULT_ADDR=vault.url,
        INVITE_VAULT_ROLE_ID=vault.role_id,
        INVITE_VAULT_SECRET_ID=wrong_secret_id,
        INVITE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        INVITE_PORT=str(closed_port()),
    )
    cli = Path(sys.executable).with_name("invite-service")
    # The timeout only guards against a server that starts anyway; the assertions are on the outcome.
    proc = subprocess.run(
        [str(cli), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert vault.url in output
    assert "refused" in output
    assert wrong_secret_id not in output


def policy_paths() -> dict[str, set[str]]:
    """path → capabilities, from deploy/vault/invite-service-policy.hcl (its simple shape only)."""
    text = (Path(__file__).resolve().parents[2] / "deploy/vault/invite-service-policy.hcl").read_text()
    blocks = re.findall(r'path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}', text)
    assert blocks and text.count("path ") == len(blocks), "every path block parsed"
    return {path: set(re.findall(r'"(\w+)"', caps)) for path, caps in blocks}


def test_the_vault_policy_grants_exactly_what_the_service_calls() -> None:
    with VaultServer(secrets={"invite-service": KV_SECRET}, lease_seconds=1) as server:
        apply_vault_overlay(vault_settings(server))
        deadline = time.monotonic() + 15
        while not server.renewals and time.monotonic() < deadline:
            time.sleep(0.05)
        calls = list(server.calls)
    needed: dict[str, set[str]] = {}
    for call in calls:
        path = call.path.removeprefix("/v1/")
        if path.startswith("auth/approle/login"):
            continue  # logging in needs no policy: the role id and secret id are the credentials
        needed.setdefault(path, set()).add("read" if call.method == "GET" else "update")
    assert set(needed) == {"secret/data/invite-service", "auth/token/renew-self"}, needed
    assert policy_paths() == needed  # nothing the service does is denied, nothing more is granted
