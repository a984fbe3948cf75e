"""Fixtures of the production-shape tests: the shared services they need, a database, the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from invite_service.main import create_app
from tests.conftest import fresh_postgres, require_service
from tests.production.api import Api
from tests.production.stack import Stack

ApiFactory = Callable[[Stack], Awaitable[Api]]


@pytest.fixture(autouse=True)
def _services() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    require_service("RabbitMQ", "127.0.0.1", 5672)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of this module's own: the workers and beat here work every due task they can see."""
    with fresh_postgres("invite_prod") as url:
        yield url


@pytest.fixture
async def api_for() -> AsyncIterator[ApiFactory]:
    """The Invite API in this process, on the stack's settings (its jobs go to the stack's queues)."""
    apps: list[Any] = []
    clients: list[httpx.AsyncClient] = []

    async def make(stack: Stack) -> Api:
        app = create_app(stack.settings())
        apps.append(app)
        # 5xx as responses, not exceptions: Api.call retries them while a backend restarts.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://prod", timeout=60)
        clients.append(client)
        return Api(stack, client)

    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.state.runtime.aclose()
        await app.state.db.dispose()
