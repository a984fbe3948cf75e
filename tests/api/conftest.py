"""API tests over the engine harness (tests/execution/harness.py): the real app on a simulated clock
and messenger, over the test's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from invite_service.auth.jwt import mint_token
from invite_service.main import create_app
from tests.execution.harness import Harness


@asynccontextmanager
async def api_client(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app on the harness's runtime, signed in as the harness's user."""
    app = create_app(h.settings, runtime=h.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.headers["Authorization"] = f"Bearer {mint_token(h.user, h.settings)}"
        yield client
