"""The database as an outage the client can ride out: an exhausted pool, a connection lost to a database
restart, and a database that cannot be reached are each a 503 with Retry-After, not a 500; after a lost
connection the very next request is served, and a write that met it left nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from tests.conftest import free_port, fresh_postgres, terminate_backends

USER = "db-outage-user"


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


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[str]:
    """Its own database: killing its connections must not touch the pools other tests share."""
    with fresh_postgres("invite_outage") as url:
        yield url


@asynccontextmanager
async def served(url: str) -> AsyncIterator[httpx.AsyncClient]:
    # One pooled connection that is never idle long enough to be pinged: the request meets the dead one.
    db = Database(url, pool_size=1, ping_after_idle=3600)
    settings = Settings(database_url=url, log_json=True, log_level="WARNING")
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.headers["Authorization"] = f"Bearer {mint_token(USER, settings)}"
            yield client
    finally:
        await db.dispose()


def assert_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.headers["retry-after"] == "2"
    assert resp.json()["code"] == "database_unavailable"


async def test_a_read_that_meets_a_restarted_database_is_a_503_and_the_next_is_served(
    private_postgres: str,
) -> None:
    async with served(private_postgres) as api:
        assert (await api.get("/api/v1/tasks")).status_code == 200
        await terminate_backends_of(private_postgres)  # what a restart does to the pooled connection
        assert_unavailable(await api.get("/api/v1/tasks"))
        assert (await api.get("/api/v1/tasks")).status_code == 200, "the pool connected anew"


async def test_a_write_that_meets_a_restarted_database_is_a_503_and_wrote_nothing(
    private_postgres: str,
) -> None:
    body = {"name": "after a restart", "action": "invite", "destination": "@outage_chat"}
    async with served(private_postgres) as api:
        before = (await api.get("/api/v1/tasks")).json()["items"]
        await terminate_backends_of(private_postgres)
        assert_unavailable(await api.post("/api/v1/tasks", json=body))
        after = (await api.get("/api/v1/tasks")).json()["items"]
        assert after == before, "the failed create left a task behind"
        created = await api.post("/api/v1/tasks", json=body)
        assert created.status_code == 201, created.text


async def test_an_unreachable_database_is_a_503_not_a_500() -> None:
    async with served(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere") as api:
        assert_unavailable(await api.get("/api/v1/tasks"))


async def terminate_backends_of(url: str) -> None:
    db = Database(url, pool_size=1)
    try:
        await terminate_backends(db)
    finally:
        await db.dispose()
