"""An unexpected exception is a problem+json 500 whose log line names the request and the user, so the
report of one user's failure can be found in the logs (and nothing of the exception's message leaks)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi import FastAPI

from invite_service.api.deps import CurrentUser
from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from invite_service.observability.logging import configure_logging

SECRET_IN_MESSAGE = "+79161234567 leaked"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    yield io.StringIO()
    configure_logging("WARNING", True)  # back to stdout for the tests that follow


@pytest.fixture
def app_with_a_failing_route(settings: Settings, database: Database, log: io.StringIO) -> FastAPI:
    """The real app plus a test-only route that fails after authenticating (first, ahead of the UI)."""
    app = create_app(settings, database=database)
    configure_logging("INFO", True, stream=log)

    async def fail(user: CurrentUser) -> None:
        raise RuntimeError(SECRET_IN_MESSAGE)

    async def note(user: CurrentUser) -> None:
        structlog.get_logger("test").warning("handler_line")

    for path, endpoint in (("/api/v1/test-only/fail", fail), ("/api/v1/test-only/log", note)):
        app.add_api_route(path, endpoint, methods=["GET"])
        app.router.routes.insert(0, app.router.routes.pop())
    return app


async def test_the_unhandled_error_line_names_the_user_and_the_request(
    app_with_a_failing_route: FastAPI, settings: Settings, log: io.StringIO
) -> None:
    user = "unhandled-user-1"
    headers = {"Authorization": f"Bearer {mint_token(user, settings)}", "X-Request-ID": "req-unhandled-1"}
    transport = httpx.ASGITransport(app=app_with_a_failing_route, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/api/v1/test-only/fail", headers=headers)
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "internal_error"
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("event") == "unhandled_error"]
    assert len(errors) == 1, lines
    assert errors[0]["user_id"] == user
    assert errors[0]["request_id"] == "req-unhandled-1"
    assert "RuntimeError" in errors[0]["exception"]
    assert SECRET_IN_MESSAGE not in log.getvalue()


async def test_a_handlers_log_lines_name_the_user(
    app_with_a_failing_route: FastAPI, settings: Settings, log: io.StringIO
) -> None:
    # The authenticating dependency binds user_id to the log context; run in a thread pool (a plain
    # ``def``), its binding would be lost before the handler logs.
    headers = {"Authorization": f"Bearer {mint_token('logging-user-1', settings)}"}
    transport = httpx.ASGITransport(app=app_with_a_failing_route)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/v1/test-only/log", headers=headers)).status_code == 200
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    noted = [line for line in lines if line.get("event") == "handler_line"]
    assert len(noted) == 1 and noted[0]["user_id"] == "logging-user-1", lines
