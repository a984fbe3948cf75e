"""The retry rule and service token both sibling-service clients use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import jwt
import pytest

from invite_service.kit.service_http import (
    SERVICE_NAME,
    Retryable,
    RetryPolicy,
    mint_service_token,
    retry_after_header,
    retrying,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, expected: float | None) -> None:
    assert retry_after_header({"retry-after": value}, NOW.timestamp()) == expected


async def test_waits_follow_retry_after_capped_then_backoff_and_stop_at_the_budget() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    answers = iter(
        [Retryable(429, "SLOW_DOWN", 12.0), Retryable(429, "SLOW_DOWN", 600.0), Retryable(503, "DOWN")]
    )
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise next(answers)

    policy = RetryPolicy(
        max_attempts=3, backoff_initial=0.1, backoff_max=1.0, jitter=0.0, max_retry_after=30.0
    )
    with pytest.raises(Retryable) as failed:
        await retrying(policy, sleep=sleep)(attempt)
    assert calls == 3  # bounded: the third failure is the caller's to handle
    assert failed.value.code == "DOWN"
    assert sleeps == [12.0, 30.0]  # as asked, then capped at max_retry_after


async def test_success_after_a_retry_returns_the_value_and_other_errors_are_not_retried() -> None:
    async def sleep(seconds: float) -> None:
        return None

    outcomes: list[Exception | str] = [Retryable(None, "ConnectError"), "ok"]

    async def flaky() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert await retrying(RetryPolicy(), sleep=sleep)(flaky) == "ok"

    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a 4xx answer")

    with pytest.raises(ValueError, match="4xx"):
        await retrying(RetryPolicy(max_attempts=5), sleep=sleep)(refused)
    assert calls == 1


def test_service_token_names_us_and_its_audience_and_expires() -> None:
    secret = "s" * 40
    token = mint_service_token(secret, audience="parsing-service", ttl_seconds=60)
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="parsing-service", issuer=SERVICE_NAME)
    assert claims["sub"] == SERVICE_NAME
    assert claims["exp"] - claims["iat"] == 60
    assert mint_service_token(secret, audience="parsing-service") != mint_service_token(
        secret, audience="parsing-service"
    )  # a unique jti each time
