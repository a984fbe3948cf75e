"""deploy/vault/setup.sh — the compose stack's one-shot `vault-setup` — run with sh and curl against the local
Vault stand-in (tests/deploy/vault_admin.py), then the service's own Vault overlay reading its secrets with
the role files the script wrote, as the api/worker/beat containers do."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from invite_service.config import Settings, get_settings
from invite_service.config.vault import apply_vault_overlay, stop_token_renewal
from tests.conftest import require_tool
from tests.deploy.vault_admin import AdminVaultServer

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "deploy" / "vault" / "setup.sh"
POLICY = ROOT / "deploy" / "vault" / "invite-service-policy.hcl"
# Quotes, a backslash and a dollar: the script must carry the secret into JSON unchanged.
VAULT_READERS = ("migrate", "api", "worker", "beat", "integration-sandbox", "parsing-sandbox")
INTEGRATION_SECRET = 'shared "integration" secret \\ with $dollar ' + "z" * 20


@pytest.fixture
def vault() -> Iterator[AdminVaultServer]:
    with AdminVaultServer() as server:
        yield server
    stop_token_renewal()
    get_settings.cache_clear()


def run_setup(vault: AdminVaultServer, **extra: str) -> subprocess.CompletedProcess[str]:
    require_tool("curl", "Debian package `curl`")
    env = {
        "PATH": os.environ["PATH"],
        "VAULT_ADDR": vault.url,
        "VAULT_TOKEN": vault.root_token,
        "INTEGRATION_TOKEN_SECRET": INTEGRATION_SECRET,
        **extra,
    }
    return subprocess.run(
        ["sh", str(SETUP)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def overlay(role_file: Path, secret_file: Path, vault: AdminVaultServer) -> Settings:
    base = Settings(
        vault_addr=vault.url, vault_role_id_file=str(role_file), vault_secret_id_file=str(secret_file)
    )
    return apply_vault_overlay(base)


def test_the_one_shot_writes_role_files_the_service_logs_in_with(
    vault: AdminVaultServer, tmp_path: Path
) -> None:
    creds = tmp_path / "run-vault"
    done = run_setup(vault, VAULT_CREDENTIALS_DIR=str(creds))
    assert done.returncode == 0, done.stdout + done.stderr
    # The policy, the AppRole bound to it, and the KV v2 engine, as an operator's Vault would have them.
    assert vault.policies["invite-service"] == POLICY.read_text()
    assert vault.auth_mounts["approle/"] == "approle"
    assert vault.roles["invite-service"]["token_policies"] == ["invite-service"]
    assert vault.mounts["secret/"]["options"] == {"version": "2"}
    # The credentials are files only the owner reads, and never printed (compose keeps container logs).
    role_file, secret_file = creds / "role_id", creds / "secret_id"
    for path in (role_file, secret_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert vault.secret_id and vault.secret_id not in done.stdout + done.stderr
    settings = overlay(role_file, secret_file, vault)
    stored = vault.secrets["invite-service"]
    assert settings.integration_token_secret == INTEGRATION_SECRET == stored["integration_token_secret"]
    assert settings.jwt_secret == stored["jwt_secret"] and len(settings.jwt_secret) >= 32
    logins = vault.calls_to("/v1/auth/approle/login")
    assert logins and logins[-1].body == {"role_id": vault.role_id, "secret_id": vault.secret_id}


def test_running_it_again_keeps_the_mounts_and_hands_out_fresh_credentials(
    vault: AdminVaultServer, tmp_path: Path
) -> None:
    creds = tmp_path / "run-vault"
    assert run_setup(vault, VAULT_CREDENTIALS_DIR=str(creds)).returncode == 0
    first_secret_id = (creds / "secret_id").read_text().strip()
    again = run_setup(vault, VAULT_CREDENTIALS_DIR=str(creds))  # `docker compose up` again
    assert again.returncode == 0, again.stdout + again.stderr
    assert [c.path for c in vault.calls if c.path == "/v1/sys/auth/approle"] == ["/v1/sys/auth/approle"]
    assert [c.path for c in vault.calls if c.path == "/v1/sys/mounts/secret"] == ["/v1/sys/mounts/secret"]
    assert (creds / "secret_id").read_text().strip() != first_secret_id
    settings = overlay(creds / "role_id", creds / "secret_id", vault)
    assert settings.integration_token_secret == INTEGRATION_SECRET


def test_without_a_credentials_folder_the_operator_gets_them_printed(vault: AdminVaultServer) -> None:
    vault.mounts["secret/"] = {"type": "kv", "options": {"version": "2"}}  # as `vault server -dev` has it
    done = run_setup(vault)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"role_id:   {vault.role_id}" in done.stdout
    assert f"secret_id: {vault.secret_id}" in done.stdout
    assert not [c for c in vault.calls if c.path == "/v1/sys/mounts/secret"]  # the existing mount is kept


def test_a_refused_token_fails_the_one_shot_and_so_the_stack(vault: AdminVaultServer, tmp_path: Path) -> None:
    done = run_setup(vault, VAULT_TOKEN="not-the-root-token", VAULT_CREDENTIALS_DIR=str(tmp_path / "creds"))
    assert done.returncode != 0
    assert "permission denied" in done.stdout + done.stderr  # Vault's answer, shown to the operator
    assert not vault.policies and not vault.roles
    assert not (tmp_path / "creds" / "secret_id").exists()


def test_the_compose_stack_wires_the_one_shot_to_the_services() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    setup = services["vault-setup"]
    assert setup["entrypoint"] == ["sh", "/setup/setup.sh"]
    assert "./vault:/setup:ro" in setup["volumes"]
    assert setup["depends_on"]["vault"] == {"condition": "service_healthy"}
    creds_volume, creds_dir = next(v.split(":")[:2] for v in setup["volumes"] if not v.startswith("."))
    assert setup["environment"]["VAULT_CREDENTIALS_DIR"] == creds_dir
    assert setup["environment"]["VAULT_ADDR"] == "http://vault:8200"
    assert setup["environment"]["VAULT_TOKEN"] == services["vault"]["environment"]["VAULT_DEV_ROOT_TOKEN_ID"]
    for name in VAULT_READERS:
        svc = services[name]
        env = svc["environment"]
        assert env["INVITE_VAULT_ADDR"] == "http://vault:8200"
        mounted = next(v.split(":")[1] for v in svc["volumes"] if v.startswith(f"{creds_volume}:"))
        assert env["INVITE_VAULT_ROLE_ID_FILE"] == f"{mounted}/role_id"
        assert env["INVITE_VAULT_SECRET_ID_FILE"] == f"{mounted}/secret_id"
        assert svc["depends_on"]["vault-setup"] == {"condition": "service_completed_successfully"}
        # The secrets come from Vault, not from the operator's shell.
        assert "INVITE_JWT_SECRET" not in env and "INVITE_INTEGRATION_TOKEN_SECRET" not in env


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}: ``given`` is the operator's shell."""

    def one(m: re.Match[str]) -> str:
        name, op, rest = m.group(1), m.group(2), m.group(3)
        if name in given:
            return given[name]
        assert op == ":-", f"${{{name}}} must be set by the operator: {rest}"
        return rest

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


@pytest.mark.parametrize("service", VAULT_READERS)
def test_each_service_of_the_stack_starts_with_what_the_one_shot_wrote(
    vault: AdminVaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    # The operator's shell as the compose header says: only the shared secret (and Grafana's password).
    shell = {"INVITE_INTEGRATION_TOKEN_SECRET": INTEGRATION_SECRET}
    compose: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    setup_env = {
        k: interpolate(str(v), shell) for k, v in compose["services"]["vault-setup"]["environment"].items()
    }
    creds = tmp_path / "run-vault"
    assert setup_env["INTEGRATION_TOKEN_SECRET"] == INTEGRATION_SECRET
    assert run_setup(vault, VAULT_CREDENTIALS_DIR=str(creds)).returncode == 0
    for name in list(os.environ):
        if name.startswith("INVITE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key, value in compose["services"][service]["environment"].items():
        value = interpolate(str(value), shell)
        # The container's addresses, pointed at this machine's stand-ins.
        value = value.replace("http://vault:8200", vault.url).replace(
            setup_env["VAULT_CREDENTIALS_DIR"], str(creds)
        )
        if key.startswith("INVITE_") and key.removeprefix("INVITE_").lower() in Settings.model_fields:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = get_settings()  # the start-up path: env, the Vault overlay, then the production checks
    assert settings.profile.value == "production"
    assert settings.integration_token_secret == INTEGRATION_SECRET
    assert settings.jwt_secret == vault.secrets["invite-service"]["jwt_secret"]
