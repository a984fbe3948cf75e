"""What every call to a sibling service (Integration, Parsing) shares: the service token we present
and one retry rule.

The rule: bounded attempts, exponential backoff with jitter between them, and a server's
``Retry-After`` honoured as given (capped at the policy's ``max_retry_after``). Only a
``Retryable`` is retried; each client decides which failures are (connection errors, 5xx, 429)
and what an exhausted budget means for its callers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import jwt
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

INTEGRATION_SERVICE_NAME = "integration-service"
SERVICE_NAME = "invite-service"  # our issuer and subject in every service token

Sleep = Callable[[float], Awaitable[None]]
BeforeSleep = Callable[[RetryCallState], None]


def mint_service_token(
    secret: str,
    *,
    audience: str,
    issuer: str = SERVICE_NAME,
    now: float | None = None,
    ttl_seconds: int = 60,
) -> str:
    """A short-lived HS256 bearer token from ``issuer`` (also its subject) for ``audience`` (a unique
    ``jti`` each time): our calls to other services, and the Integration Service's events to us."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_service_token(
    token: str, secrets: str | Sequence[str], *, audience: str, issuer: str, leeway: float = 5
) -> None:
    """Raise a ``jwt.PyJWTError`` unless ``token`` is a service token ``mint_service_token`` made for
    ``audience`` by ``issuer`` (subject included) with one of ``secrets``.

    More than one secret during a rotation (the current one first, then the previous): a token signed
    with either is accepted, so the two sides can switch one after the other without downtime.
    """
    keys = [secrets] if isinstance(secrets, str) else [s for s in secrets if s]
    if not keys:
        raise jwt.InvalidKeyError("no secret to verify service tokens with")
    for key in keys[:-1]:
        try:
            _verify_with(token, key, audience=audience, issuer=issuer, leeway=leeway)
            return
        except jwt.InvalidSignatureError:
            continue  # signed with another secret of the rotation
    _verify_with(token, keys[-1], audience=audience, issuer=issuer, leeway=leeway)


def _verify_with(token: str, secret: str, *, audience: str, issuer: str, leeway: float) -> None:
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=audience,
        issuer=issuer,
        leeway=leeway,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    if claims.get("sub") != issuer:
        raise jwt.InvalidTokenError("unexpected subject")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one logical call. Attempts are bounded; waits are capped."""

    max_attempts: int = 3
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    jitter: float = 0.2
    # The longest server-asked wait slept through; a client may surface longer ones instead.
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff_initial < 0 or self.max_retry_after < 0:
            raise ValueError("max_attempts must be >= 1 and waits >= 0")


class Retryable(Exception):
    """One failed attempt that may heal by itself: the only thing ``retrying`` retries."""

    def __init__(self, status: int | None, code: str, retry_after: float | None = None) -> None:
        super().__init__(code if status is None else f"{code} (HTTP {status})")
        self.status = status
        self.code = code
        self.retry_after = retry_after


def retry_after_header(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date (RFC 9110 allows both)."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return max(0.0, (when - at).total_seconds())


def retrying(
    policy: RetryPolicy, *, sleep: Sleep | None = None, before_sleep: BeforeSleep | None = None
) -> AsyncRetrying:
    """A tenacity controller for one logical call; the last ``Retryable`` is re-raised when the
    attempts run out."""
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_initial, max=policy.backoff_max, jitter=policy.jitter
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(max(0.0, exc.retry_after), policy.max_retry_after)
        return float(backoff(state))

    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception_type(Retryable),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep or asyncio.sleep,
    )
