"""HashiCorp Vault overlay: AppRole login, KV v2 read, token renewal.

When ``INVITE_VAULT_ADDR`` is set, the service's secrets come from one KV v2 secret
(``INVITE_VAULT_KV_MOUNT``/``INVITE_VAULT_KV_PATH``) and override the environment.
Any failure stops start-up with a message that says what went wrong, never the secret.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import requests
import structlog
from hvac.exceptions import Forbidden, InvalidPath, VaultError

from invite_service.config.settings import ConfigError, Settings

log = structlog.get_logger(__name__)

# KV field -> Settings attribute. Only these are taken from Vault.
VAULT_FIELDS = {
    "jwt_secret": "jwt_secret",
    "jwt_secret_previous": "jwt_secret_previous",  # set during a rotation only
    "jwt_public_key": "jwt_public_key",
    "integration_token_secret": "integration_token_secret",
    "integration_token_secret_previous": "integration_token_secret_previous",
    "parsing_token_secret": "parsing_token_secret",
    "database_url": "database_url",
}


@dataclass
class VaultSession:
    client: hvac.Client
    lease_seconds: int
    renewable: bool


def _read_credential(value: str, path: str, name: str) -> str:
    if value:
        return value
    if path:
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"Vault {name} file {path!r} cannot be read: {exc.strerror}") from exc
        if not content:
            # An empty file (an agent that has not written it yet) would only show up as a refused login.
            raise ConfigError(f"Vault {name} file {path!r} is empty")
        return content
    raise ConfigError(f"INVITE_VAULT_ADDR is set but neither INVITE_VAULT_{name.upper()} nor its _FILE is")


def login(settings: Settings) -> VaultSession:
    role_id = _read_credential(settings.vault_role_id, settings.vault_role_id_file, "role_id")
    secret_id = _read_credential(settings.vault_secret_id, settings.vault_secret_id_file, "secret_id")
    client = hvac.Client(url=settings.vault_addr, timeout=settings.vault_timeout_seconds)
    try:
        resp = client.auth.approle.login(
            role_id=role_id, secret_id=secret_id, mount_point=settings.vault_approle_mount
        )
    except VaultError as exc:
        raise ConfigError(f"Vault at {settings.vault_addr} refused the AppRole login: {exc}") from exc
    except requests.RequestException as exc:
        raise ConfigError(f"Vault at {settings.vault_addr} cannot be reached: {type(exc).__name__}") from exc
    auth = resp.get("auth") or {}
    return VaultSession(
        client=client,
        lease_seconds=int(auth.get("lease_duration") or 0),
        renewable=bool(auth.get("renewable")),
    )


def read_secrets(session: VaultSession, settings: Settings) -> dict[str, Any]:
    where = f"{settings.vault_kv_mount}/{settings.vault_kv_path}"
    try:
        resp = session.client.secrets.kv.v2.read_secret_version(
            path=settings.vault_kv_path, mount_point=settings.vault_kv_mount, raise_on_deleted_version=True
        )
    except InvalidPath as exc:
        # Vault answers 404 with no message for a KV v2 path that holds no secret.
        raise ConfigError(
            f"Vault secret {where} does not exist (KV v2 engine at {settings.vault_addr}); "
            "write it or fix INVITE_VAULT_KV_MOUNT / INVITE_VAULT_KV_PATH"
        ) from exc
    except Forbidden as exc:
        raise ConfigError(
            f"Vault secret {where} cannot be read: permission denied (Vault at {settings.vault_addr}); "
            "the AppRole's policy needs read on it"
        ) from exc
    except VaultError as exc:
        raise ConfigError(f"Vault secret {where} cannot be read: {exc}") from exc
    except requests.RequestException as exc:
        raise ConfigError(f"Vault at {settings.vault_addr} cannot be reached: {type(exc).__name__}") from exc
    data: dict[str, Any] = resp.get("data", {}).get("data", {}) or {}
    return {attr: data[field] for field, attr in VAULT_FIELDS.items() if data.get(field)}


class TokenRenewer:
    """Renews the Vault token at two thirds of its lease, in a daemon thread."""

    def __init__(self, session: VaultSession) -> None:
        self._session = session
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vault-renewer", daemon=True)
        self.renewals = 0

    def start(self) -> TokenRenewer:
        if self._session.renewable and self._session.lease_seconds > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        interval = max(self._session.lease_seconds * 2 / 3, 1.0)
        while not self._stop.wait(interval):
            try:
                resp = self._session.client.auth.token.renew_self()
                lease = int((resp.get("auth") or {}).get("lease_duration") or 0)
                self.renewals += 1
                if lease > 0:
                    interval = max(lease * 2 / 3, 1.0)
            except (VaultError, requests.RequestException) as exc:
                # Keep running on the current token; the next start-up logs in afresh.
                log.warning("vault_renew_failed", error=type(exc).__name__)
                interval = 5.0


# The one token renewer of this process: Vault issues one token per login and settings are loaded once per
# process (``get_settings`` is cached), so a fresh overlay stops the previous renewer first.
_renewer: TokenRenewer | None = None


def stop_token_renewal() -> None:
    """Stop renewing the Vault token (shutdown, or before a fresh overlay in tests)."""
    global _renewer
    if _renewer is not None:
        _renewer.stop()
        _renewer = None


def apply_vault_overlay(settings: Settings) -> Settings:
    """Settings with the Vault secrets laid over them; unchanged when Vault is off."""
    global _renewer
    if not settings.vault_addr:
        return settings
    session = login(settings)
    overlay = read_secrets(session, settings)
    log.info("vault_overlay_applied", fields=sorted(overlay))
    stop_token_renewal()
    _renewer = TokenRenewer(session).start()
    return type(settings).model_validate({**settings.model_dump(), **overlay})
