"""The Telethon-backed Integration Service, one per test module and database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest

from invite_service.adapters.telegram import IntegrationClient, RetryPolicy
from tests.conftest import BACKENDS, fresh_postgres
from tests.integration_service.server import IntegrationServer
from tests.integration_service.support import ACCOUNT, ME, SECRET, USER, make_world, no_sleep


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IntegrationServer]:
    """Served over real HTTP with a fake Telethon client; each test module gets its own."""
    workdir = tmp_path_factory.mktemp("integration-service")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'is.db'}"
        else:
            url = stack.enter_context(fresh_postgres("integration_test", migrated=False))
        running = IntegrationServer(url, workdir, make_world(), SECRET)
        running.add_account(ACCOUNT, USER, ME)
        yield running.start()
        running.stop()


@pytest.fixture
async def client(server: IntegrationServer) -> AsyncIterator[IntegrationClient]:
    integration = IntegrationClient(server.url, SECRET, retry=RetryPolicy(max_attempts=1), sleep=no_sleep)
    yield integration
    await integration.aclose()
