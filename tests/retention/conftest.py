"""Each retention test gets a database of its own (SQLite and PostgreSQL), so a sweep's counts are its rows
only, and a runtime on a simulated clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.kit.clock import SimulatedClock
from invite_service.main import create_app
from invite_service.migrations import runner
from invite_service.runtime import build_runtime
from tests.conftest import BACKENDS, fresh_postgres

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Api = tuple[httpx.AsyncClient, Database, dict[str, str], str]  # client, database, auth headers, user id


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'retention.db'}"
        runner.upgrade(url)
        yield url
    else:
        with fresh_postgres("invite_retention") as url:
            yield url


@pytest.fixture
async def rt(fresh_url: str) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=fresh_url, log_level="WARNING")
    runtime = build_runtime(settings, Database(fresh_url, pool_size=5), clock=SimulatedClock(NOW))
    yield runtime
    await runtime.aclose()
    await runtime.db.dispose()


def clock(rt: Runtime) -> SimulatedClock:
    assert isinstance(rt.clock, SimulatedClock)
    return rt.clock


@pytest.fixture
async def api(fresh_url: str) -> AsyncIterator[Api]:
    """The real app on this test's database (the API reads the real clock: rows are aged instead)."""
    settings = Settings(database_url=fresh_url, log_level="WARNING")
    db = Database(fresh_url, pool_size=5)
    app = create_app(settings, database=db)
    user = f"user-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {mint_token(user, settings)}"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, db, headers, user
    await db.dispose()
