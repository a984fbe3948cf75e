"""Structured logs: JSON lines with request/user/task context, and no phone number, token, cookie or
message body in them — neither from structured fields, nor free text, nor exceptions, nor stdlib loggers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog

from invite_service.auth.jwt import mint_token
from invite_service.observability.logging import configure_logging, format_exception_safely, redact_text
from invite_service.sandbox.adapter import SandboxAdapter
from tests.statistics.helpers import make_task, run_to_completion

PHONE = "+79161234567"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text",
    [
        f"call {PHONE} now",
        "call +7 (916) 123-45-67 now",
        "call 8 916 123 45 67 now",
        "call 89161234567 now",
        "call +1-202-555-0143 now",
    ],
)
def test_phone_numbers_are_masked(text: str) -> None:
    out = redact_text(text)
    assert out == "call [redacted-phone] now"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("Cookie: session=abc123; theme=dark", "abc123"),
        ("set-cookie: sid=s3cr3t; Path=/", "s3cr3t"),
        (f"token {JWT} expired", JWT),
        ("GET /callback?access_token=tok_9f8e7d&x=1", "tok_9f8e7d"),
        ("password=hunter2 user=bob", "hunter2"),
        ("postgresql://invite:pg-pass@db:5432/invite", "pg-pass"),
        ("api_key: 'k-123456'", "k-123456"),
    ],
)
def test_credentials_in_free_text_are_masked(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "took 1234 ms",
        "2026-03-02T06:00:00.123456+00:00",
        "2026-03-02 06:00:00",
        "task 42 of 100000",
        "order 123456789",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_exceptions_keep_their_frames_and_types_but_not_their_messages() -> None:
    def inner() -> None:
        raise ValueError(f"peer {PHONE} refused 'Hello Anna'")

    try:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError("while sending 'Hello Anna'") from exc
    except RuntimeError as exc:
        rendered = format_exception_safely(exc)
    assert "builtins.ValueError (message withheld)" in rendered
    assert "builtins.RuntimeError (message withheld)" in rendered
    assert "in inner" in rendered and "direct cause" in rendered
    assert "Hello Anna" not in rendered and "9161234567" not in rendered


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything the service logs, rendered exactly as in production, at DEBUG."""
    out = io.StringIO()
    configure_logging("DEBUG", True, stream=out)
    try:
        yield out
    finally:
        configure_logging("WARNING", True)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_structured_fields_are_masked_at_any_depth(captured: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.info(
        "outgoing",
        phone=PHONE,
        text="Hello Anna, your code is 7Q-XK",
        request={"headers": {"Authorization": f"Bearer {JWT}", "Cookie": "sid=1"}, "body": "Hello Anna"},
        peers=[{"phone": PHONE}],
        note=f"sent to {PHONE}",
        raw=b"\x00binary",
    )
    (entry,) = lines(captured)
    dumped = json.dumps(entry)
    for leak in ("9161234567", JWT, "Hello Anna", "7Q-XK", "sid=1", "binary"):
        assert leak not in dumped
    assert entry["event"] == "outgoing" and entry["level"] == "info" and "timestamp" in entry


def test_context_is_merged_into_every_line_stdlib_included(captured: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1", user_id="user-1", task_id="task-1")
    try:
        structlog.get_logger("test").info("structured")
        logging.getLogger("somelib").warning("plain stdlib line about %s", PHONE)
    finally:
        structlog.contextvars.clear_contextvars()
    first, second = lines(captured)
    for entry in (first, second):
        assert (entry["request_id"], entry["user_id"], entry["task_id"]) == ("req-1", "user-1", "task-1")
    assert second["event"] == "plain stdlib line about [redacted-phone]"


@pytest.mark.asyncio
async def test_a_run_with_phone_targets_and_a_message_leaks_nothing(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, settings, captured: io.StringIO, monkeypatch
) -> None:
    token = mint_token("user-logs", settings)
    h = {"Authorization": f"Bearer {token}", "Cookie": "session=c00kie-value"}
    body = "your personal code is 7Q-XK-99"
    phones = [f"+7916{i:07d}" for i in range(1, 9)]
    real_send = SandboxAdapter.send_message
    log = structlog.get_logger("adapter.careless")

    async def careless_send(self, account_id, target, text, *, key):  # type: ignore[no-untyped-def]
        # An adapter that logs everything it handles, as a third-party driver might.
        log.info("sending", phone=target.phone, text=text, headers={"Authorization": f"Bearer {token}"})
        logging.getLogger("httpx").warning(
            "POST /v1/accounts/%s/messages peer=%s text=%r", account_id, target.phone, text
        )
        result = await real_send(self, account_id, target, text, key=key)
        if target.phone == phones[0]:
            # Sent, then the answer is lost: the engine learns the outcome from the key's lookup.
            raise ConnectionError(f"peer {target.phone} dropped {text!r} token={token}")
        return result

    # On the class: whichever app's runtime runs the jobs on this database uses it.
    monkeypatch.setattr(SandboxAdapter, "send_message", careless_send)
    rows = [{"phone": p, "first_name": "Anna"} for p in phones]
    tid = await make_task(
        client, h, rows, action="message", destination=None, message_template="Hi {first_name}, " + body
    )
    await run_to_completion(client, h, tid)
    await client.get(f"/api/v1/tasks/{tid}/logs", headers=h)

    entries = lines(captured)
    output = captured.getvalue()
    assert any(e["event"] == "sending" for e in entries)
    crash = next(e for e in entries if e["event"] == "adapter_call_failed")
    assert crash["task_id"] == tid and "ConnectionError (message withheld)" in crash["exception"]
    for phone in phones:
        assert phone[1:] not in output and phone[-10:] not in output
    for leak in (token, body, "7Q-XK-99", "c00kie-value"):
        assert leak not in output
