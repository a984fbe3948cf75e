"""One Settings object for the whole service (prefix ``INVITE_``).

Every backend is chosen by its URL (12-factor): an empty URL means the embedded,
in-process implementation. Feature code never branches on the profile; only
``main.py`` and the wiring helpers look at these URLs.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

import jwt
from jwt.algorithms import get_default_algorithms
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "embedded-profile-placeholder-secret-change-me"  # noqa: S105 - a known placeholder, refused outside embedded


# The Integration client's longest backoff between attempts (kit.service_http.RetryPolicy.backoff_max).
INTEGRATION_BACKOFF_MAX_SECONDS = 5.0
# What a send needs beyond the call itself: the commits around it, a busy event loop.
SEND_LEASE_MARGIN_SECONDS = 5.0


class ConfigError(RuntimeError):
    """Settings that must not start the service; the message says what to fix."""


class Profile(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class PlatformCaps(BaseModel):
    """Hard per-account caps a platform imposes; ``None`` means no cap for that window."""

    invites_per_hour: int | None = None
    invites_per_day: int | None = None
    messages_per_hour: int | None = None
    messages_per_day: int | None = None
    min_delay_seconds: float = 0.0


DEFAULT_PLATFORM_CAPS: dict[str, PlatformCaps] = {
    # Telegram's published-in-practice safe defaults: 50 invites a day, 5 an hour, 40 messages a day.
    "telegram": PlatformCaps(
        invites_per_hour=5, invites_per_day=50, messages_per_day=40, min_delay_seconds=30.0
    ),
    # The simulated messenger: caps fast enough for a 100-target demo to finish in about a minute.
    "sandbox": PlatformCaps(
        invites_per_hour=120,
        invites_per_day=1000,
        messages_per_hour=120,
        messages_per_day=1000,
        min_delay_seconds=0.5,
    ),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INVITE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    profile: Profile = Profile.EMBEDDED
    host: str = "127.0.0.1"
    port: int = 8002
    log_level: str = "INFO"
    log_json: bool = True

    database_url: str = "sqlite+aiosqlite:///./var/invite.db"
    database_pool_size: int = 10
    broker_url: str = ""
    redis_url: str = ""
    integration_url: str = ""
    parsing_url: str = ""
    integration_token_secret: str = ""
    # HS256 secret for the Parsing Service's service JWT; empty = the Integration Service's secret.
    parsing_token_secret: str = ""
    import_max_upload_bytes: int = 50 * 1024 * 1024  # 413 above it
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    jwt_secret: str = PLACEHOLDER_SECRET
    jwt_public_key: str = ""
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["HS256"])
    jwt_audience: str = ""
    jwt_issuer: str = ""
    jwt_leeway_seconds: int = 30
    dev_token_ttl_seconds: int = 12 * 3600

    vault_addr: str = ""
    vault_role_id: str = ""
    vault_secret_id: str = ""
    vault_role_id_file: str = ""
    vault_secret_id_file: str = ""
    vault_approle_mount: str = "approle"
    vault_kv_mount: str = "secret"
    vault_kv_path: str = "invite-service"
    vault_timeout_seconds: float = 5.0

    default_phone_region: str = "RU"
    platform_caps: dict[str, PlatformCaps] = Field(default_factory=lambda: dict(DEFAULT_PLATFORM_CAPS))
    max_bulk_targets: int = 10_000

    # Execution engine (DESIGN §5).
    flood_buffer_ratio: float = 0.10  # FLOOD_WAIT is obeyed plus 10 % …
    flood_buffer_seconds: float = 5.0  # … plus 5 s
    restriction_hours: float = 24.0  # PEER_FLOOD and kin stop the account this long
    tick_seconds: float = 1.0  # how often the ticker looks for due tasks
    recover_seconds: float = 60.0  # how often expired reservations are recovered
    batch_size: int = 20  # targets a lane reserves at once when it needs no pacing
    reservation_lease_seconds: float = 300.0  # a reserved target returns to the pool after this
    # A target "sending" longer than this is resolved by recovery (the outcome lookup). It must outlive
    # the longest call the Integration client can make (``send_call_budget_seconds`` + a margin).
    send_lease_seconds: float = 120.0
    integration_timeout_seconds: float = 10.0  # per HTTP attempt to the Integration Service
    integration_max_attempts: int = 3  # attempts of one call (retries on timeouts, 5xx, 429)
    integration_max_retry_after_seconds: float = 30.0  # longest 429 Retry-After slept through
    # Prefix of the Celery queue names (``<prefix>invite-high`` …): deployments or test runs sharing one
    # broker never consume each other's jobs. A vhost in INVITE_BROKER_URL does the same.
    queue_prefix: str = ""
    # Tests only: a folder whose files arm the engine's fault points in worker processes (kit/faults.py).
    fault_dir: str = ""
    account_lock_wait_seconds: float = 10.0
    # One sender per account: a worker that dies mid-batch holds its account this long at most.
    account_lock_ttl_seconds: float = 60.0
    transient_backoff_seconds: float = 30.0  # first wait after a transient failure (doubling per attempt)
    # Port for a Celery worker host's /metrics (0 = off); set PROMETHEUS_MULTIPROC_DIR with it.
    worker_metrics_port: int = 0
    health_timeout_seconds: float = 2.0
    # A fresh detailed health check at most this often; callers in between get the last result (Age header).
    health_detailed_cache_seconds: float = 5.0
    # HTTP limits (docs/security.md). JSON bodies: 413 above the cap, counted while the body arrives. A
    # parsed body can take ~50 times its size in memory (16 MiB of `{},` took 800 MB), so the cap is small
    # everywhere (the largest other body, 500 task ids, is ~20 KB) and larger only on the targets routes,
    # which check the token before reading: 16 MiB holds 10,000 bulk rows (max_bulk_targets) at ~1.6 KiB
    # each, a generous row with names, a phone and several extra fields. Files have their own cap.
    request_max_json_bytes: int = Field(1024 * 1024, gt=0)
    request_max_bulk_json_bytes: int = Field(16 * 1024 * 1024, gt=0)
    request_body_idle_timeout_seconds: float = Field(30.0, gt=0)  # 408 when a body stalls this long
    # Open GET /tasks/{id}/events per user and API process; the one over it is a 429.
    max_event_streams_per_user: int = Field(10, gt=0)
    # A reply that is one of these (or starts with one, then a space or punctuation) opts the person out
    # (integration_events/keywords.py; compared casefolded, punctuation at the ends stripped).
    opt_out_keywords: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["stop", "unsubscribe", "стоп", "отписаться", "не пишите"]
    )
    # Retention (retention/policy.py; docs/runbook.md "Retention and database sizing"). A periodic job
    # deletes old rows in batches of `retention_batch_size`, each its own short transaction, at most
    # `retention_max_batches` per table and run (the rest waits for the next run). 0 days/hours = keep
    # forever, except for the ledger: it is always kept for the longest limiter window (a day) + slack.
    retention_interval_seconds: float = Field(3600.0, gt=0)
    retention_batch_size: int = Field(5000, gt=0)
    retention_max_batches: int = Field(200, gt=0)
    # At least the Redis limiter's clock slack (limits/redis.py CLOCK_SLACK: 1 h), which its rebuild reads.
    retention_ledger_slack_hours: float = Field(24.0, ge=1)
    retention_idempotency_hours: float = Field(24.0, ge=0)  # a replay after this is a fresh request
    retention_execution_log_days: float = Field(90, ge=0)
    retention_audit_days: float = Field(365, ge=0)
    retention_import_staging_hours: float = Field(1.0, ge=0)  # an ended import's uploaded file
    retention_import_rejection_days: float = Field(90, ge=0)  # the rejected.csv of an ended import
    retention_integration_event_days: float = Field(30, ge=0)  # inbound event ids (reply dedupe)
    # The notification feed's events and their finished deliveries (the delivery log); an open delivery and
    # its event stay until it ends.
    retention_notification_days: float = Field(30, ge=0)

    # --- Production never fakes, secret rotation (issue 14, helper "prod") ---
    # Production refuses to start on a simulator (no INVITE_INTEGRATION_URL or INVITE_PARSING_URL) and does
    # not offer the `sandbox` platform, unless the operator opts in here (logged at start, shown in
    # /api/v1/health/detailed and /api/v1/meta). The embedded profile always runs on the simulators.
    allow_sandbox: bool = False
    # Rotation without downtime (docs/runbook.md "Rotating secrets"): tokens signed with the previous secret
    # are still accepted while it is set; nothing is signed with it.
    jwt_secret_previous: str = ""
    integration_token_secret_previous: str = ""

    # Notifications (notifications/; docs/api.md "Notifications"). Webhooks and apprise channels reach
    # only public addresses unless private ranges are allowed (an operator's choice; tests set it).
    notifications_allow_private_targets: bool = False
    notifications_sweep_seconds: float = Field(5.0, gt=0)  # how often due deliveries are sent
    notifications_sweep_batch: int = Field(100, gt=0)  # deliveries claimed by one sweep
    notifications_lease_seconds: float = Field(60.0, gt=0)  # a claimed delivery is another's after this
    notifications_timeout_seconds: float = Field(10.0, gt=0)  # one webhook POST / channel send
    # An endpoint or channel is disabled after this many failed attempts in a row (no success between);
    # one dead event alone makes 8 attempts over ~27 h, so the default means "more than one event's
    # whole retry schedule failed".
    notifications_disable_after_failures: int = Field(10, gt=0)

    @field_validator("cors_origins", "jwt_algorithms", "opt_out_keywords", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                # The JSON list form pydantic-settings documents; split on commas it would
                # silently become origins like '["https://a"' instead of failing or working.
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        allowed = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
        bad = [alg for alg in value if alg not in allowed]
        if bad or not value:
            raise ValueError(f"unsupported JWT algorithms {bad or value}; pick from {sorted(allowed)}")
        symmetric = {alg.startswith("HS") for alg in value}
        if len(symmetric) > 1:
            # Mixing HMAC and public-key algorithms is the classic key-confusion hole.
            raise ValueError("INVITE_JWT_ALGORITHMS mixes HS* with public-key algorithms")
        return value

    def ensure_startable(self) -> Settings:
        """Refuse to start with settings that cannot authenticate anyone, or placeholder secrets
        outside the embedded profile.

        Called after the Vault overlay, since Vault is where production secrets come from.
        """
        if not self.uses_hmac:
            # In every profile: a missing or unusable key would otherwise fail every request.
            self._check_public_key()
        self.check_send_lease()
        if self.profile is Profile.EMBEDDED:
            return self
        if self.uses_hmac and (self.jwt_secret == PLACEHOLDER_SECRET or len(self.jwt_secret) < 32):
            raise ConfigError(
                "INVITE_JWT_SECRET is the embedded placeholder or shorter than 32 characters; "
                "set a real secret (or INVITE_VAULT_ADDR) for the production profile"
            )
        if self.uses_hmac and self.jwt_secret_previous and len(self.jwt_secret_previous) < 32:
            raise ConfigError("INVITE_JWT_SECRET_PREVIOUS is shorter than 32 characters")
        self._check_real_backends()
        return self

    def _check_real_backends(self) -> None:
        """Production serves real platforms only, unless the operator opted into the simulators."""
        missing = [
            name
            for name, url in (
                ("INVITE_INTEGRATION_URL", self.integration_url),
                ("INVITE_PARSING_URL", self.parsing_url),
            )
            if not url
        ]
        if missing and not self.allow_sandbox:
            raise ConfigError(
                f"the production profile would serve simulators: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set. Point "
                f"{'it' if len(missing) == 1 else 'them'} at the real services, or set "
                "INVITE_ALLOW_SANDBOX=true to run on the simulators knowingly (nothing is really sent)"
            )

    @property
    def sandbox_allowed(self) -> bool:
        """Whether simulators may serve this process: always in the embedded profile, opt-in in production."""
        return self.embedded or self.allow_sandbox

    @property
    def offered_platforms(self) -> list[str]:
        """The platforms users may create tasks on: ``sandbox`` only where simulators are allowed."""
        return ["telegram", "sandbox"] if self.sandbox_allowed else ["telegram"]

    @property
    def simulated(self) -> list[str]:
        """What this process serves with a simulator (the /api/v1/meta contract); empty in real production."""
        names = [] if self.integration_url else ["telegram"]
        if "sandbox" in self.offered_platforms:
            names.append("sandbox")
        if not self.parsing_url:
            names.append("parsing")
        return names

    @property
    def jwt_verification_secrets(self) -> tuple[str, ...]:
        """HS* user tokens verify with the current secret, then the previous one during a rotation."""
        return (self.jwt_secret, self.jwt_secret_previous) if self.jwt_secret_previous else (self.jwt_secret,)

    @property
    def integration_token_secrets(self) -> tuple[str, ...]:
        """Service tokens from the Integration Service: the current secret, then the previous one."""
        if not self.integration_token_secret:
            return ()
        previous = self.integration_token_secret_previous
        return (self.integration_token_secret, previous) if previous else (self.integration_token_secret,)

    @property
    def send_call_budget_seconds(self) -> float:
        """The longest one Integration call can take: every attempt timing out, the longest wait between."""
        waits = max(INTEGRATION_BACKOFF_MAX_SECONDS, self.integration_max_retry_after_seconds)
        attempts = self.integration_max_attempts
        return attempts * self.integration_timeout_seconds + (attempts - 1) * waits

    def check_send_lease(self) -> None:
        """A send lease shorter than a call would let recovery look while the call still runs."""
        needed = self.send_call_budget_seconds + SEND_LEASE_MARGIN_SECONDS
        if self.send_lease_seconds < needed:
            raise ConfigError(
                f"INVITE_SEND_LEASE_SECONDS={self.send_lease_seconds:g} is shorter than the longest "
                f"Integration call ({self.send_call_budget_seconds:g} s from "
                "INVITE_INTEGRATION_TIMEOUT_SECONDS, INVITE_INTEGRATION_MAX_ATTEMPTS and "
                "INVITE_INTEGRATION_MAX_RETRY_AFTER_SECONDS) plus "
                f"{SEND_LEASE_MARGIN_SECONDS:g} s; raise the lease to at least {needed:g} s"
            )

    def _check_public_key(self) -> None:
        if not self.jwt_public_key:
            raise ConfigError("INVITE_JWT_PUBLIC_KEY is required for RS*/ES*/PS* algorithms")
        algorithms = get_default_algorithms()
        for alg in self.jwt_algorithms:
            # One key must fit every listed algorithm (e.g. RS256 and ES256 cannot share a key).
            try:
                algorithms[alg].prepare_key(self.jwt_public_key)
            except (jwt.PyJWTError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"INVITE_JWT_PUBLIC_KEY is not a usable {alg} key ({type(exc).__name__}); "
                    "give the PEM public key of the token issuer"
                ) from exc

    @property
    def embedded(self) -> bool:
        return self.profile is Profile.EMBEDDED

    @property
    def uses_hmac(self) -> bool:
        return self.jwt_algorithms[0].startswith("HS")

    @property
    def database_backend(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    def caps_for(self, platform: str) -> PlatformCaps:
        return self.platform_caps.get(platform, PlatformCaps())
