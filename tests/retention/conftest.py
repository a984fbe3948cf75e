"""Each retention test gets a database of its own (SQLite and PostgreSQL), so a sweep's counts are its rows
only, and a runtime on a simulated clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.kit.clock import SimulatedClock
from invite_service.migrations import runner
from invite_service.runtime import build_runtime
from tests.conftest import BACKENDS, fresh_postgres

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


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
