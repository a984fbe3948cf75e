"""One contract suite, two implementations: every test here runs against the sandbox server and against the
Telethon-backed Integration Service (on each database backend of the run)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest

from invite_service.adapters.telegram import IntegrationClient, RetryPolicy
from tests.conftest import BACKENDS, fresh_postgres
from tests.contract.platforms import SECRET, EventSink, Platform, SandboxPlatform, TelethonPlatform

IMPLEMENTATIONS = ["sandbox", *(f"telethon-{backend}" for backend in BACKENDS)]


@pytest.fixture(scope="module")
def sink() -> Iterator[EventSink]:
    running = EventSink()
    yield running
    running.stop()


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def running(
    request: pytest.FixtureRequest, sink: EventSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp(str(request.param))
    with ExitStack() as stack:
        impl: Platform
        if request.param == "sandbox":
            impl = SandboxPlatform(workdir, sink.url)
        elif request.param == "telethon-sqlite":
            impl = TelethonPlatform(f"sqlite+aiosqlite:///{workdir / 'is.db'}", workdir, sink.url, "sqlite")
        else:
            url = stack.enter_context(fresh_postgres("contract_is", migrated=False))
            impl = TelethonPlatform(url, workdir, sink.url, "postgresql")
        try:
            yield impl
        finally:
            impl.stop()


@pytest.fixture
async def platform(running: Platform, sink: EventSink) -> Platform:
    await running.prepare()
    sink.events.clear()
    return running


async def _no_sleep(_seconds: float) -> None:
    return None


def make_client(platform: Platform, **options: object) -> IntegrationClient:
    """The Invite Service's own client, one attempt a call (the suite looks at single answers).

    Its timeouts are far above production's: a slow answer from a server on a loaded CI box must not
    turn into the client's own NOT_SENT timeout, which is not what these tests look at.
    """
    options = {"timeout": 120.0, "connect_timeout": 60.0, **options}
    return IntegrationClient(
        platform.url,
        SECRET,
        retry=RetryPolicy(max_attempts=1),
        sleep=_no_sleep,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[IntegrationClient]:
    integration = make_client(platform)
    yield integration
    await integration.aclose()
