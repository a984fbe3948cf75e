"""The Integration Service client on scripted HTTP answers (``httpx.MockTransport``) and a refused port:
retries and their waits, what is never retried, "not sent" versus "may have acted", the service token,
and that nothing sensitive is logged. The client over a real server: tests/adapters/test_telegram_adapter.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import jwt
import pytest
import structlog

from invite_service.adapters.base import OperationState
from invite_service.adapters.telegram import (
    SERVICE_AUDIENCE,
    Delivery,
    IntegrationAuthError,
    IntegrationClient,
    IntegrationError,
    IntegrationProtocolError,
    IntegrationUnavailable,
    Invitee,
    RetryPolicy,
)
from invite_service.adapters.telegram.client import OperationRecord
from invite_service.config import ConfigError
from invite_service.kit.service_http import SERVICE_NAME
from invite_service.models.enums import TargetKind
from tests.conftest import free_port

SECRET = "client-test-secret-" + "x" * 40
OK_INVITE = {"chat": "@club", "invited": [{"username": "alice_a"}], "missing_invitees": []}
ALICE = Invitee.of(TargetKind.USERNAME, "alice_a")
KEY = "op-key-0123456789"
Answer = httpx.Response | Exception


class Sleeps:
    """An injectable sleep that records what the backoff asked for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Script:
    """Answers requests in order (the last one repeats) and keeps every request it saw."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def error(status: int, code: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    return httpx.Response(status, json={"code": code, **extra}, headers=headers)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Callable[..., IntegrationClient]:
    def make(script: Script, **options: Any) -> IntegrationClient:
        options.setdefault(
            "retry", RetryPolicy(max_attempts=3, backoff_initial=0.1, backoff_max=1.0, jitter=0.05)
        )
        return IntegrationClient(
            "http://integration.test", SECRET, transport=httpx.MockTransport(script), sleep=sleeps, **options
        )

    return make


async def test_a_success_is_one_attempt_with_a_valid_service_token(
    make_client: Callable[..., IntegrationClient],
) -> None:
    script = Script(httpx.Response(200, json=OK_INVITE))
    client = make_client(script)
    response = await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert response.invited == (ALICE,)
    request = script.requests[0]
    assert request.headers["Idempotency-Key"] == KEY
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=SERVICE_AUDIENCE, issuer=SERVICE_NAME)
    assert claims["sub"] == "invite-service"
    assert claims["exp"] - claims["iat"] == 60
    assert client.counters.attempts == 1 and client.counters.retries == 0
    await client.aclose()


async def test_token_is_reused_while_fresh_and_reminted_before_expiry(
    make_client: Callable[..., IntegrationClient],
) -> None:
    now = [1_000_000.0]
    script = Script(
        httpx.Response(200, json={"id": "a", "platform": "telegram", "label": "a", "status": "active"})
    )
    client = make_client(script, now=lambda: now[0])
    for step in (0, 30, 20):  # t=0, t=30 (fresh), t=50 (10 s left: re-mint)
        now[0] += step
        await client.get_account("a")
    tokens = [r.headers["Authorization"] for r in script.requests]
    assert tokens[0] == tokens[1] != tokens[2]
    issued = jwt.decode(tokens[2].split()[1], options={"verify_signature": False})
    assert issued["iat"] == 1_000_050
    await client.aclose()


async def test_5xx_is_retried_with_one_idempotency_key_then_unavailable_and_uncertain(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps
) -> None:
    script = Script(error(503, "UNAVAILABLE"))
    client = make_client(script)
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.status == 503 and caught.value.code == "UNAVAILABLE"
    assert caught.value.delivery is Delivery.UNCERTAIN
    assert len(script.requests) == 3
    assert len({r.headers["Idempotency-Key"] for r in script.requests}) == 1
    # Exponential backoff with jitter: 0.1*2^k plus at most 0.05, capped at 1.0.
    assert len(sleeps.calls) == 2
    assert 0.1 <= sleeps.calls[0] <= 0.15 and 0.2 <= sleeps.calls[1] <= 0.25
    assert client.counters.retries == 2 and client.counters.unavailable == 1
    await client.aclose()


async def test_5xx_below_the_retry_budget_ends_in_success(
    make_client: Callable[..., IntegrationClient],
) -> None:
    script = Script(error(502, "RPC_CALL_FAIL"), error(500, "INTERNAL"), httpx.Response(200, json=OK_INVITE))
    client = make_client(script)
    assert (await client.invite("acc-1", "@club", [ALICE], key=KEY)).invited == (ALICE,)
    assert client.counters.attempts == 3 and client.counters.retries == 2 and client.counters.errors == 2
    await client.aclose()


async def test_the_callers_operation_key_is_the_idempotency_key(
    make_client: Callable[..., IntegrationClient],
) -> None:
    sent = httpx.Response(200, json={"message_id": 7, "date": "2026-01-05T09:00:00+00:00"})
    script = Script(httpx.Response(200, json=OK_INVITE), sent)
    client = make_client(script)
    await client.invite("acc-1", "@club", [ALICE], key="step-key-0001")
    await client.send_message("acc-1", ALICE, "hello", key="step-key-0002")
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["step-key-0001", "step-key-0002"]
    await client.aclose()


@pytest.mark.parametrize("retry_after_header", ["2", "date"])
async def test_429_waits_exactly_retry_after(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps, retry_after_header: str
) -> None:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    header = "2" if retry_after_header == "2" else format_datetime(now + timedelta(seconds=2), usegmt=True)
    script = Script(
        error(429, "THROTTLED", headers={"Retry-After": header}), httpx.Response(200, json=OK_INVITE)
    )
    client = make_client(script, now=lambda: now.timestamp())
    await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert len(script.requests) == 2
    assert sleeps.calls == [2.0]
    assert client.counters.throttled == 1
    await client.aclose()


async def test_429_exhausted_is_unavailable_and_surely_not_sent(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps
) -> None:
    script = Script(error(429, "THROTTLED", retry_after=1.5))  # the body's value when no header
    client = make_client(script)
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert (caught.value.status, caught.value.retry_after) == (429, 1.5)
    assert caught.value.delivery is Delivery.NOT_SENT
    assert sleeps.calls == [1.5, 1.5]
    await client.aclose()


async def test_429_asking_longer_than_the_cap_is_surfaced_at_once(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps
) -> None:
    script = Script(error(429, "THROTTLED", headers={"Retry-After": "600"}))
    client = make_client(script)
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.retry_after == 600.0
    assert len(script.requests) == 1 and sleeps.calls == []
    await client.aclose()


@pytest.mark.parametrize(
    ("answer", "delivery"),
    [
        (error(420, "FLOOD_WAIT_30", retry_after=30), Delivery.SENT),
        (error(400, "PEER_FLOOD"), Delivery.SENT),
        (error(403, "USER_PRIVACY_RESTRICTED"), Delivery.SENT),
        (error(404, "ACCOUNT_NOT_FOUND"), Delivery.NOT_SENT),
        (error(400, "VALIDATION_ERROR"), Delivery.NOT_SENT),
    ],
)
async def test_other_4xx_are_answers_and_never_retried(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps, answer: httpx.Response, delivery: Delivery
) -> None:
    script = Script(answer)
    client = make_client(script)
    with pytest.raises(IntegrationError) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert type(caught.value) is IntegrationError
    assert caught.value.status == answer.status_code and caught.value.delivery is delivery
    assert len(script.requests) == 1 and sleeps.calls == []
    await client.aclose()


async def test_401_is_an_auth_error_and_never_retried(make_client: Callable[..., IntegrationClient]) -> None:
    script = Script(error(401, "UNAUTHORIZED"))
    client = make_client(script)
    with pytest.raises(IntegrationAuthError) as caught:
        await client.send_message("acc-1", ALICE, "hello", key=KEY)
    assert caught.value.delivery is Delivery.NOT_SENT
    assert len(script.requests) == 1 and client.counters.auth_failures == 1
    await client.aclose()


async def test_a_refused_connection_is_retried_and_surely_not_sent(sleeps: Sleeps) -> None:
    client = IntegrationClient(
        f"http://127.0.0.1:{free_port()}", SECRET, retry=RetryPolicy(max_attempts=2), sleep=sleeps
    )
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.code == "INTEGRATION_UNREACHABLE" and caught.value.delivery is Delivery.NOT_SENT
    assert client.counters.attempts == 2 and len(sleeps.calls) == 1
    await client.aclose()


async def test_once_an_attempt_may_have_arrived_the_call_stays_uncertain(
    make_client: Callable[..., IntegrationClient],
) -> None:
    # A read timeout (maybe executed), then refused connections: the call as a whole may have acted.
    script = Script(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"))
    client = make_client(script)
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.code == "INTEGRATION_UNREACHABLE"
    assert caught.value.delivery is Delivery.UNCERTAIN
    await client.aclose()


async def test_a_dropped_connection_is_retried_and_uncertain(
    make_client: Callable[..., IntegrationClient],
) -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    client = make_client(script)
    with pytest.raises(IntegrationUnavailable) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.code == "INTEGRATION_CONNECTION_LOST" and caught.value.delivery is Delivery.UNCERTAIN
    assert len(script.requests) == 3
    await client.aclose()


async def test_a_2xx_breaking_the_contract_is_a_protocol_error(
    make_client: Callable[..., IntegrationClient],
) -> None:
    client = make_client(Script(httpx.Response(200, json={"chat": "@club", "invited": "nope"})))
    with pytest.raises(IntegrationProtocolError) as caught:
        await client.invite("acc-1", "@club", [ALICE], key=KEY)
    assert caught.value.delivery is Delivery.UNCERTAIN
    await client.aclose()


async def test_paths_are_encoded_and_membership_is_parsed(
    make_client: Callable[..., IntegrationClient],
) -> None:
    script = Script(httpx.Response(200, json={"member": True}))
    client = make_client(script)
    phone = Invitee.of(TargetKind.PHONE, "+79991234567")
    assert await client.is_member("acc-1", "https://t.me/+AbCdEf", phone) is True
    raw = script.requests[0].url.raw_path.decode()
    assert raw.startswith("/v1/chats/https%3A%2F%2Ft.me%2F+AbCdEf/members/+79991234567?")
    assert script.requests[0].url.params["account_id"] == "acc-1"
    await client.aclose()


async def test_nothing_logged_carries_the_token_or_a_phone(
    make_client: Callable[..., IntegrationClient],
) -> None:
    phone = Invitee.of(TargetKind.PHONE, "+79991234567")
    script = Script(error(503, "UNAVAILABLE"), error(401, "UNAUTHORIZED"))
    client = make_client(script)
    with structlog.testing.capture_logs() as logs, pytest.raises(IntegrationAuthError) as caught:
        await client.send_message("acc-1", phone, "hello +79991234567", key=KEY)
    token = script.requests[0].headers["Authorization"].split()[1]
    assert logs, "retries and the auth failure are logged"
    text = repr(logs) + str(caught.value) + repr(phone)
    assert token not in text and "79991234567" not in text and "hello" not in text
    await client.aclose()


def test_a_missing_secret_or_url_refuses_to_build() -> None:
    with pytest.raises(ConfigError):
        IntegrationClient("http://integration.test", "")
    with pytest.raises(ConfigError):
        IntegrationClient("", SECRET)


# -- the outcome lookup: GET /v1/operations/{key} --


def completed(status: int, body: Any, operation: str = "invite") -> httpx.Response:
    record = {"key": KEY, "status": "completed", "operation": operation, "account_id": "acc-1"}
    return httpx.Response(200, json={**record, "result": {"status": status, "body": body}})


async def test_operation_lookups_read_every_state(make_client: Callable[..., IntegrationClient]) -> None:
    script = Script(
        httpx.Response(200, json={"key": KEY, "status": "unknown_key"}),
        httpx.Response(
            200, json={"key": KEY, "status": "in_progress", "operation": "invite", "account_id": "acc-1"}
        ),
        completed(200, OK_INVITE),
    )
    client = make_client(script)
    assert (await client.operation("a/b")).state is OperationState.UNKNOWN_KEY
    assert await client.operation(KEY) == OperationRecord(OperationState.IN_PROGRESS, "invite")
    record = await client.operation(KEY)
    assert record == OperationRecord(OperationState.COMPLETED, "invite", 200, OK_INVITE)
    assert client.answer(record) == OK_INVITE
    first = script.requests[0]
    assert first.method == "GET" and first.url.raw_path.decode() == "/v1/operations/a%2Fb"
    assert "Idempotency-Key" not in first.headers and first.headers["Authorization"].startswith("Bearer ")
    await client.aclose()


@pytest.mark.parametrize(
    ("status", "code", "error", "delivery"),
    [
        (403, "USER_PRIVACY_RESTRICTED", IntegrationError, Delivery.SENT),
        (404, "ACCOUNT_NOT_FOUND", IntegrationError, Delivery.NOT_SENT),
        (409, "IDEMPOTENCY_KEY_MISMATCH", IntegrationError, Delivery.UNCERTAIN),
        (502, "OPERATION_INTERRUPTED", IntegrationUnavailable, Delivery.UNCERTAIN),
        (502, "RPC_CALL_FAIL", IntegrationUnavailable, Delivery.UNCERTAIN),
    ],
)
async def test_a_stored_error_reads_like_the_live_answer(
    make_client: Callable[..., IntegrationClient],
    status: int,
    code: str,
    error: type[IntegrationError],
    delivery: Delivery,
) -> None:
    client = make_client(Script(completed(status, {"code": code, "retry_after": None, "detail": None})))
    record = await client.operation(KEY)
    with pytest.raises(IntegrationError) as caught:
        client.answer(record)
    assert type(caught.value) is error
    assert (caught.value.status, caught.value.code, caught.value.delivery) == (status, code, delivery)
    await client.aclose()


@pytest.mark.parametrize(
    "body",
    [
        {"key": KEY, "status": "forgotten"},
        {"key": KEY, "status": "completed", "operation": "invite", "account_id": "acc-1"},
        {"key": KEY, "status": "completed", "operation": "invite", "result": {"status": "200"}},
    ],
)
async def test_a_lookup_breaking_the_contract_is_a_protocol_error(
    make_client: Callable[..., IntegrationClient], body: dict[str, Any]
) -> None:
    client = make_client(Script(httpx.Response(200, json=body)))
    with pytest.raises(IntegrationProtocolError):
        await client.operation(KEY)
    await client.aclose()


async def test_a_key_held_by_another_request_is_uncertain_and_not_retried(
    make_client: Callable[..., IntegrationClient], sleeps: Sleeps
) -> None:
    script = Script(error(409, "IDEMPOTENCY_KEY_MISMATCH"))
    client = make_client(script)
    with pytest.raises(IntegrationError) as caught:
        await client.invite("acc-2", "@club", [ALICE], key=KEY)
    assert caught.value.delivery is Delivery.UNCERTAIN
    assert len(script.requests) == 1 and sleeps.calls == []
    await client.aclose()
