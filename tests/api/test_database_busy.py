"""An exhausted database pool is an overload the client can ride out: 503 with Retry-After, not a 500."""

from __future__ import annotations

import httpx
from sqlalchemy.exc import TimeoutError as PoolTimeout

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app


async def test_a_pool_timeout_is_a_503_problem_with_retry_after(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings, database=database)

    async def busy() -> None:
        # What SQLAlchemy raises when every connection stayed checked out for the pool's whole timeout.
        raise PoolTimeout("QueuePool limit of size 1 overflow 1 reached, connection timed out")

    app.add_api_route("/api/v1/test-pool-exhausted", busy)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the API's catch-all 404
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/api/v1/test-pool-exhausted")
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.headers["retry-after"] == "5"
    assert resp.json()["code"] == "database_busy"
