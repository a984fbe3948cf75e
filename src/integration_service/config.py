"""Settings (env prefix ``INTEGRATION_``), with an optional Vault KV v2 overlay for the secrets.

When ``INTEGRATION_VAULT_ADDR`` is set, ``token_secret``, ``session_key``, ``telegram_api_id`` and
``telegram_api_hash`` are read from one KV v2 secret through an AppRole login and override the
environment. A failure stops start-up with a message that names what went wrong, never a secret.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAULT_FIELDS = (
    "token_secret",
    "token_secret_previous",
    "session_key",
    "telegram_api_id",
    "telegram_api_hash",
)
MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """The settings cannot run the service; the message says which one and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTEGRATION_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./integration-service.db"
    token_secret: str = ""  # shared with the Invite Service (INVITE_INTEGRATION_TOKEN_SECRET)
    # During a rotation: calls signed with the previous secret are still accepted; events are signed with
    # ``token_secret`` only (the Invite Service's runbook, "Rotating secrets").
    token_secret_previous: str = ""
    session_key: str = ""  # a Fernet key: urlsafe base64 of 32 random bytes
    telegram_api_id: int = 0
    telegram_api_hash: str = ""
    events_url: str = ""  # the Invite Service's /api/v1/integration/events; empty = replies are not posted
    listen: bool = True  # connect every active account at start, so replies arrive
    idle_disconnect_seconds: float = Field(default=300, gt=0)
    call_timeout_seconds: float = Field(default=30, gt=0)
    # How long a repeat of a key waits for its first call's answer before answering 503 (retry later).
    key_wait_seconds: float = Field(default=60, gt=0)
    operation_retention_hours: float = Field(default=48, ge=24)
    outbox_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=300.0, gt=0)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8100
    log_level: str = "INFO"
    log_json: bool = True
    vault_addr: str = ""
    vault_role_id: str = ""
    vault_secret_id: str = ""
    vault_approle_mount: str = "approle"
    vault_kv_mount: str = "secret"
    vault_kv_path: str = "integration-service"
    vault_timeout_seconds: float = 5.0

    def check_serving(self) -> None:
        """Refuse to serve with a secret that anyone could guess."""
        if len(self.token_secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"INTEGRATION_TOKEN_SECRET must be set (at least {MIN_SECRET_LENGTH} characters, "
                "the same value as the Invite Service's INVITE_INTEGRATION_TOKEN_SECRET)"
            )
        if self.token_secret_previous and len(self.token_secret_previous) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"INTEGRATION_TOKEN_SECRET_PREVIOUS must be at least {MIN_SECRET_LENGTH} characters"
            )
        if not self.session_key:
            raise ConfigError("INTEGRATION_SESSION_KEY must be set (a Fernet key: see docs)")

    @property
    def accepted_token_secrets(self) -> tuple[str, ...]:
        """The secrets an Invite Service call may be signed with: the current one, then the previous."""
        return tuple(s for s in (self.token_secret, self.token_secret_previous) if s)

    def check_telegram(self) -> None:
        if not self.telegram_api_id or not self.telegram_api_hash:
            raise ConfigError("INTEGRATION_TELEGRAM_API_ID and INTEGRATION_TELEGRAM_API_HASH must be set")


def load_settings(**overrides: Any) -> Settings:
    """The environment, then Vault (when configured) on top, then ``overrides``."""
    settings = Settings(**overrides)
    if settings.vault_addr:
        # Built again (not model_copy) so Vault's strings are validated and typed like the environment's.
        settings = Settings(**{**read_vault(settings), **overrides})
    return settings


def read_vault(settings: Settings) -> dict[str, Any]:
    import hvac
    import requests
    from hvac.exceptions import VaultError

    if not settings.vault_role_id or not settings.vault_secret_id:
        raise ConfigError("INTEGRATION_VAULT_ADDR is set but INTEGRATION_VAULT_ROLE_ID/SECRET_ID are not")
    where = f"{settings.vault_kv_mount}/{settings.vault_kv_path}"
    client = hvac.Client(url=settings.vault_addr, timeout=settings.vault_timeout_seconds)
    try:
        client.auth.approle.login(
            role_id=settings.vault_role_id,
            secret_id=settings.vault_secret_id,
            mount_point=settings.vault_approle_mount,
        )
        resp = client.secrets.kv.v2.read_secret_version(
            path=settings.vault_kv_path, mount_point=settings.vault_kv_mount, raise_on_deleted_version=True
        )
    except VaultError as exc:
        raise ConfigError(
            f"Vault at {settings.vault_addr}: reading {where} failed ({type(exc).__name__})"
        ) from exc
    except requests.RequestException as exc:
        raise ConfigError(f"Vault at {settings.vault_addr} cannot be reached: {type(exc).__name__}") from exc
    data: dict[str, Any] = resp.get("data", {}).get("data", {}) or {}
    return {name: data[name] for name in VAULT_FIELDS if data.get(name)}
