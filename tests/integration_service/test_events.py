"""Replies: a private message to an account goes through the durable outbox to the Invite Service's
events endpoint with a valid service JWT; 5xx is retried, 4xx is not, a restart loses nothing."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from invite_service.observability.logging import configure_logging
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer, ThreadedServer

SECRET = "integration-events-test-secret-" + "e" * 32
USER, ACCOUNT, ME, PERSON = "owner-7", "tg-ev-1", 1, 42


class Receiver:
    """A stand-in for the Invite Service's events endpoint: records posts, answers scripted statuses."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (claims, body)
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        app = FastAPI()

        @app.post("/api/v1/integration/events")
        async def receive(request: Request) -> JSONResponse:
            token = request.headers["authorization"].removeprefix("Bearer ")
            claims = jwt.decode(
                token,
                SECRET,
                algorithms=["HS256"],
                audience="invite-service",
                issuer="integration-service",
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
            )
            body = await request.json()
            with self.lock:
                self.posts.append((claims, body))
                status = self.statuses.pop(0) if self.statuses else 202
            return JSONResponse({"id": body["id"], "duplicate": False}, status_code=status)

        self.http = ThreadedServer(app)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _claims, body in self.posts]


def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait for a condition (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        threading.Event().wait(0.01)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.http.start()
    yield running
    running.http.stop()


@pytest.fixture(scope="module")
def server(receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntegrationServer]:
    workdir = tmp_path_factory.mktemp("integration-events")
    world = World()
    world.user(ME, "me")
    world.user(PERSON, "person", phone="4915112345678", contact=True)
    events_url = f"{receiver.http.url}/api/v1/integration/events"
    running = IntegrationServer(
        f"sqlite+aiosqlite:///{workdir / 'is.db'}", workdir, world, SECRET, events_url=events_url
    )
    running.add_account(ACCOUNT, USER, ME)
    yield running.start()
    running.stop()


def test_a_reply_is_posted_with_a_valid_service_token(server: IntegrationServer, receiver: Receiver) -> None:
    server.deliver(ACCOUNT, PERSON, "СТОП")
    until(lambda: len(receiver.posts) == 1)
    claims, body = receiver.posts[0]
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        "integration-service",
        "integration-service",
        "invite-service",
    )
    assert claims["exp"] - claims["iat"] <= 60 and claims["jti"]
    assert body["id"].startswith(f"{ACCOUNT}:")
    assert {k: body[k] for k in ("type", "platform", "account_id", "user_id", "text")} == {
        "type": "message_received",
        "platform": "telegram",
        "account_id": ACCOUNT,
        "user_id": USER,
        "text": "СТОП",
    }
    assert body["peer"] == {"user_id": str(PERSON), "username": "person", "phone": "+4915112345678"}
    assert isinstance(body["message_id"], int) and "T" in body["date"]


def test_a_5xx_is_retried_and_a_4xx_is_not(server: IntegrationServer, receiver: Receiver) -> None:
    receiver.posts.clear()
    receiver.statuses[:] = [503]
    server.deliver(ACCOUNT, PERSON, "retry me")
    until(lambda: len(receiver.posts) == 2)  # the 503, then the retry that got 202
    assert receiver.bodies()[0] == receiver.bodies()[1]
    receiver.posts.clear()
    receiver.statuses[:] = [400]
    server.deliver(ACCOUNT, PERSON, "refused")
    until(lambda: len(receiver.posts) == 1)
    server.deliver(ACCOUNT, PERSON, "next one")  # proves the poster moved on without resending
    until(lambda: len(receiver.posts) == 2)
    assert [b["text"] for b in receiver.bodies()] == ["refused", "next one"]


def test_undelivered_replies_are_sent_after_a_restart(server: IntegrationServer, receiver: Receiver) -> None:
    receiver.posts.clear()
    receiver.statuses[:] = [503] * 1000  # the Invite Service is down
    server.deliver(ACCOUNT, PERSON, "while you were down")
    until(lambda: len(receiver.posts) >= 1)
    server.stop()
    receiver.statuses.clear()  # back up
    receiver.posts.clear()
    server.start()
    until(lambda: any(b["text"] == "while you were down" for b in receiver.bodies()))


def test_reply_logs_carry_no_phone_or_text(server: IntegrationServer, receiver: Receiver) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json_output=True, stream=stream)
    try:
        receiver.posts.clear()
        receiver.statuses[:] = [503]  # a retry is logged too
        server.deliver(ACCOUNT, PERSON, "please unsubscribe me")
        until(lambda: len(receiver.posts) == 2)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert "reply_queued" in text and "reply_retry" in text
    for secret in ("4915112345678", "unsubscribe", SECRET):
        assert secret not in text
