"""Liveness touches nothing; the detailed check reports each configured backend and 503s when one is down."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from invite_service.sandbox.integration_app import create_integration_app
from invite_service.sandbox.parsing_app import create_parsing_app
from invite_service.sandbox.simulator import TelegramSimulator
from tests.conftest import AMQP_URL, REDIS_URL, free_port, require_service
from tests.integration_service.server import ThreadedServer

pytestmark = pytest.mark.asyncio


async def _get(app, path: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get(path)


async def test_liveness_touches_nothing(settings: Settings) -> None:
    # A database URL that cannot work: liveness must still answer.
    broken = settings.model_copy(update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})
    app = create_app(broken, database=Database(broken.database_url))
    resp = await _get(app, "/health")
    assert resp.status_code == 200
    detailed = await _get(app, "/api/v1/health/detailed")
    assert detailed.status_code == 503
    assert detailed.json()["checks"]["database"]["status"] == "down"


async def test_embedded_backends_are_reported(app) -> None:  # type: ignore[no-untyped-def]
    resp = await _get(app, "/api/v1/health/detailed")
    assert resp.status_code == 200
    checks = resp.json()["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["database"]["latency_ms"] is not None
    assert {checks[k]["status"] for k in ("redis", "broker", "integration", "parsing")} == {"not_configured"}
    assert checks["parsing"]["backend"] == "sandbox"
    # The notification deliveries' backlog (notifications.service.backlog, tested with its scenarios there).
    assert checks["notifications"]["status"] == "ok"
    assert set(checks["notifications"]["detail"]) == {"backlog", "oldest_waiting_seconds"}
    assert isinstance(checks["notifications"]["detail"]["backlog"], int)
    body = resp.json()
    assert (body["profile"], body["sandbox_allowed"]) == ("embedded", True)
    assert body["simulated"] == ["telegram", "sandbox", "parsing"]


async def test_real_redis_and_rabbitmq_ok(settings: Settings, database: Database) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    require_service("RabbitMQ", "127.0.0.1", 5672)
    app = create_app(
        settings.model_copy(update={"redis_url": REDIS_URL, "broker_url": AMQP_URL}), database=database
    )
    resp = await _get(app, "/api/v1/health/detailed")
    assert resp.status_code == 200, resp.text
    checks = resp.json()["checks"]
    assert checks["redis"]["status"] == "ok"
    assert checks["broker"]["status"] == "ok"


@pytest.mark.parametrize("backend", ["redis", "broker", "integration", "parsing"])
async def test_configured_backend_down_is_503(settings: Settings, database: Database, backend: str) -> None:
    dead = free_port()
    url = {
        "redis": f"redis://127.0.0.1:{dead}/0",
        "broker": f"amqp://guest:guest@127.0.0.1:{dead}//",
        "integration": f"http://127.0.0.1:{dead}",
        "parsing": f"http://127.0.0.1:{dead}",
    }[backend]
    field = {
        "redis": "redis_url",
        "broker": "broker_url",
        "integration": "integration_url",
        "parsing": "parsing_url",
    }[backend]
    app = create_app(settings.model_copy(update={field: url}), database=database)
    resp = await _get(app, "/api/v1/health/detailed")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "degraded"
    assert body["checks"][backend]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


async def test_a_configured_parsing_service_is_probed_at_its_health(
    settings: Settings, database: Database
) -> None:
    real = FastAPI()
    real.get("/health")(lambda: {"status": "ok"})  # a real service answers without "simulated"
    parsing = ThreadedServer(real)
    parsing.start()
    try:
        app = create_app(settings.model_copy(update={"parsing_url": parsing.url}), database=database)
        resp = await _get(app, "/api/v1/health/detailed")
    finally:
        parsing.stop()
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["checks"]["parsing"]["status"] == "ok"
    assert body["checks"]["parsing"]["backend"] == "http"
    assert body["checks"]["parsing"]["detail"] is None  # a field for checks with figures (backlogs)
    assert "parsing" not in body["simulated"]


async def test_a_simulator_behind_a_url_is_reported_as_simulated(
    settings: Settings, database: Database
) -> None:
    """The compose stack points INVITE_INTEGRATION_URL and INVITE_PARSING_URL at the sandbox servers: the
    URLs look real, so health asks the servers themselves."""
    parsing = ThreadedServer(create_parsing_app())
    integration = ThreadedServer(create_integration_app(TelegramSimulator(), "t" * 32))
    parsing.start()
    integration.start()
    try:
        update = {"parsing_url": parsing.url, "integration_url": integration.url}
        app = create_app(settings.model_copy(update=update), database=database)
        resp = await _get(app, "/api/v1/health/detailed")
    finally:
        parsing.stop()
        integration.stop()
    body = resp.json()
    for check, served in (("parsing", "parsing"), ("integration", "telegram")):
        assert body["checks"][check]["status"] == "ok"
        assert body["checks"][check]["backend"] == "sandbox"
        assert body["checks"][check]["detail"] == {"simulated": True}
        assert served in body["simulated"]
