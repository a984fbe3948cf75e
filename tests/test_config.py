"""Settings: INVITE_* environment, list parsing, the JWT algorithm rules and the start-up checks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from invite_service.adapters.registry import UnknownPlatformError
from invite_service.config import ConfigError, Profile, Settings, get_settings
from invite_service.runtime import build_adapters


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only what a test sets: no INVITE_* from the shell, no .env from the checkout."""
    for name in list(os.environ):
        if name.startswith("INVITE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def rsa_public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ec_public_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


REAL_SERVICES = {"integration_url": "http://integration.internal", "parsing_url": "http://parsing.internal"}


def test_defaults_are_the_embedded_profile() -> None:
    settings = Settings()
    assert settings.profile is Profile.EMBEDDED
    assert settings.embedded
    assert settings.database_backend == "sqlite"
    assert settings.jwt_algorithms == ["HS256"]
    assert settings.cors_origins == []
    assert settings.vault_addr == ""


def test_settings_come_from_invite_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_PROFILE", "production")
    monkeypatch.setenv("INVITE_PORT", "9100")
    monkeypatch.setenv("INVITE_DATABASE_URL", "postgresql+asyncpg://invite@db/invite")
    monkeypatch.setenv("INVITE_LOG_JSON", "false")
    monkeypatch.setenv("INVITE_JWT_LEEWAY_SECONDS", "5")
    monkeypatch.setenv("INVITE_JWT_AUDIENCE", "invite-service")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///unprefixed.db")  # no prefix: ignored

    settings = Settings()

    assert settings.profile is Profile.PRODUCTION
    assert not settings.embedded
    assert settings.port == 9100
    assert settings.database_url == "postgresql+asyncpg://invite@db/invite"
    assert settings.database_backend == "postgresql"
    assert settings.log_json is False
    assert settings.jwt_leeway_seconds == 5
    assert settings.jwt_audience == "invite-service"


def test_dotenv_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "INVITE_PORT=9200\nINVITE_JWT_ISSUER=https://from-dotenv.example\n", encoding="utf-8"
    )
    monkeypatch.setenv("INVITE_PORT", "9300")
    settings = Settings()
    assert settings.jwt_issuer == "https://from-dotenv.example"
    assert settings.port == 9300


def test_csv_lists_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_CORS_ORIGINS", " https://app.example, http://localhost:5173 ,,")
    monkeypatch.setenv("INVITE_JWT_ALGORITHMS", "RS256, PS256")
    settings = Settings()
    assert settings.cors_origins == ["https://app.example", "http://localhost:5173"]
    assert settings.jwt_algorithms == ["RS256", "PS256"]
    assert not settings.uses_hmac


def test_json_lists_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON form pydantic-settings documents works too, instead of becoming one odd origin."""
    monkeypatch.setenv("INVITE_CORS_ORIGINS", '["https://app.example", "https://admin.example"]')
    monkeypatch.setenv("INVITE_JWT_ALGORITHMS", '["HS512"]')
    settings = Settings()
    assert settings.cors_origins == ["https://app.example", "https://admin.example"]
    assert settings.jwt_algorithms == ["HS512"]


def test_single_cors_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_CORS_ORIGINS", "https://app.example")
    assert Settings().cors_origins == ["https://app.example"]


@pytest.mark.parametrize("value", ["HS256,RS256", "ES256, HS512"])
def test_mixed_hmac_and_public_key_algorithms_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("INVITE_JWT_ALGORITHMS", value)
    with pytest.raises(ValidationError, match="mixes HS"):
        Settings()


@pytest.mark.parametrize("value", ["HS999", "none", "RS256,foo", ""])
def test_unknown_or_empty_algorithm_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("INVITE_JWT_ALGORITHMS", value)
    with pytest.raises(ValidationError, match="unsupported JWT algorithms"):
        Settings()


def test_algorithm_rules_apply_to_constructor_arguments_too() -> None:
    with pytest.raises(ValidationError, match="mixes HS"):
        Settings(jwt_algorithms=["HS256", "RS256"])
    with pytest.raises(ValidationError, match="unsupported"):
        Settings(jwt_algorithms=["none"])


def test_public_key_algorithms_need_a_usable_key_in_every_profile() -> None:
    for profile in ("embedded", "production"):
        with pytest.raises(ConfigError, match="INVITE_JWT_PUBLIC_KEY is required"):
            Settings(profile=profile, jwt_algorithms=["RS256"]).ensure_startable()
        with pytest.raises(ConfigError, match="not a usable RS256 key"):
            Settings(profile=profile, jwt_algorithms=["RS256"], jwt_public_key="not a pem").ensure_startable()
    # An EC key for an RSA algorithm, and one key for both families, cannot verify anything.
    with pytest.raises(ConfigError, match="RS256"):
        Settings(jwt_algorithms=["RS256"], jwt_public_key=ec_public_pem()).ensure_startable()
    with pytest.raises(ConfigError, match="ES256"):
        Settings(jwt_algorithms=["RS256", "ES256"], jwt_public_key=rsa_public_pem()).ensure_startable()


def test_public_key_settings_start_with_a_matching_key() -> None:
    rsa_pem = rsa_public_pem()
    started = Settings(
        profile="production", jwt_algorithms=["RS256", "PS256"], jwt_public_key=rsa_pem, **REAL_SERVICES
    )
    assert started.ensure_startable().jwt_public_key == rsa_pem
    ec_settings = Settings(
        profile="production", jwt_algorithms=["ES256"], jwt_public_key=ec_public_pem(), **REAL_SERVICES
    )
    assert ec_settings.ensure_startable() is ec_settings


def test_get_settings_refuses_production_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_PROFILE", "production")
    with pytest.raises(ConfigError, match="INVITE_JWT_SECRET"):
        get_settings()
    get_settings.cache_clear()
    monkeypatch.setenv("INVITE_JWT_SECRET", "s" * 32)
    monkeypatch.setenv("INVITE_ALLOW_SANDBOX", "true")
    assert get_settings().jwt_secret == "s" * 32


def test_a_send_lease_shorter_than_the_longest_integration_call_refuses_to_start() -> None:
    # 3 attempts x 10 s + 2 waits of max(5, 30) s = 90 s; the lease must cover it plus 5 s.
    assert Settings().send_call_budget_seconds == 90
    Settings(send_lease_seconds=95).ensure_startable()
    with pytest.raises(ConfigError, match="INVITE_SEND_LEASE_SECONDS=94"):
        Settings(send_lease_seconds=94).ensure_startable()
    quick = Settings(
        send_lease_seconds=15,
        integration_timeout_seconds=2,
        integration_max_attempts=2,
        integration_max_retry_after_seconds=1,
    )
    assert quick.send_call_budget_seconds == 9
    quick.ensure_startable()


# --- Production never fakes (issue 14) ---

PRODUCTION = {"profile": "production", "jwt_secret": "p" * 40}


@pytest.mark.parametrize(
    ("urls", "missing"),
    [
        ({}, ["INVITE_INTEGRATION_URL", "INVITE_PARSING_URL"]),
        ({"integration_url": "http://integration.internal"}, ["INVITE_PARSING_URL"]),
        ({"parsing_url": "http://parsing.internal"}, ["INVITE_INTEGRATION_URL"]),
    ],
)
def test_production_refuses_to_start_on_simulators(urls: dict[str, str], missing: list[str]) -> None:
    with pytest.raises(ConfigError, match="INVITE_ALLOW_SANDBOX") as refused:
        Settings(**PRODUCTION, **urls).ensure_startable()
    for name in missing:
        assert name in str(refused.value)
    for name in {"INVITE_INTEGRATION_URL", "INVITE_PARSING_URL"} - set(missing):
        assert name not in str(refused.value)


def test_production_with_real_services_simulates_nothing() -> None:
    settings = Settings(**PRODUCTION, **REAL_SERVICES).ensure_startable()
    assert settings.simulated == []
    assert settings.offered_platforms == ["telegram"]
    assert settings.sandbox_allowed is False


def test_production_opted_into_simulators_starts_and_says_which() -> None:
    settings = Settings(**PRODUCTION, allow_sandbox=True).ensure_startable()
    assert settings.sandbox_allowed is True
    assert settings.simulated == ["telegram", "sandbox", "parsing"]
    assert settings.offered_platforms == ["telegram", "sandbox"]
    partly = Settings(**PRODUCTION, allow_sandbox=True, integration_url="http://i").ensure_startable()
    assert partly.simulated == ["sandbox", "parsing"]


def test_embedded_profile_is_unchanged() -> None:
    settings = Settings().ensure_startable()
    assert settings.sandbox_allowed is True
    assert settings.offered_platforms == ["telegram", "sandbox"]
    assert settings.simulated == ["telegram", "sandbox", "parsing"]


def test_the_sandbox_platform_is_not_registered_in_production_without_the_opt_in() -> None:
    real = build_adapters(Settings(**PRODUCTION, **REAL_SERVICES, integration_token_secret="s" * 32))
    with pytest.raises(UnknownPlatformError):
        real.get("sandbox")
    opted_in = build_adapters(Settings(**PRODUCTION, allow_sandbox=True))
    assert opted_in.get("sandbox") is not None
    assert build_adapters(Settings()).get("sandbox") is not None


def test_previous_secrets_are_read_and_a_short_previous_jwt_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INVITE_JWT_SECRET_PREVIOUS", "o" * 32)
    monkeypatch.setenv("INVITE_INTEGRATION_TOKEN_SECRET", "n" * 32)
    monkeypatch.setenv("INVITE_INTEGRATION_TOKEN_SECRET_PREVIOUS", "m" * 32)
    settings = Settings(**PRODUCTION, **REAL_SERVICES).ensure_startable()
    assert settings.jwt_verification_secrets == ("p" * 40, "o" * 32)
    assert settings.integration_token_secrets == ("n" * 32, "m" * 32)
    with pytest.raises(ConfigError, match="INVITE_JWT_SECRET_PREVIOUS"):
        Settings(**PRODUCTION, **REAL_SERVICES, jwt_secret_previous="short").ensure_startable()
