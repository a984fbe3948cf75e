"""Fixtures of the statistics API tests that run the engine: the execution tests' harness (simulated clock
and messenger) and an API client signed in as its user."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.main import create_app
from tests.execution.harness import Harness, make_harness


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


@pytest.fixture
async def api(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(h.settings, runtime=h.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.headers["Authorization"] = f"Bearer {mint_token(h.user, h.settings)}"
        yield client
