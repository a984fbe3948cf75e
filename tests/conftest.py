"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

With ``CI=true`` a missing PostgreSQL (or Redis, RabbitMQ in their tests) fails the run;
on a developer machine those tests are skipped with the reason.

``INVITE_TEST_BACKENDS=sqlite`` (comma-separated; default both) narrows the database tests for the
inner loop (``make test-fast``); every PostgreSQL-only test is then skipped. ``make test`` always
runs the full set, and with ``CI=true`` a narrowed set is refused.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from invite_service.migrations import runner

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("INVITE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("INVITE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("INVITE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
ALL_BACKENDS = ("sqlite", "postgresql")


def _selected_backends() -> tuple[str, ...]:
    raw = os.environ.get("INVITE_TEST_BACKENDS", "")
    asked = {part.strip() for part in raw.split(",") if part.strip()}
    if unknown := asked - set(ALL_BACKENDS):
        raise pytest.UsageError(f"INVITE_TEST_BACKENDS: unknown {sorted(unknown)}, known {ALL_BACKENDS}")
    chosen = tuple(b for b in ALL_BACKENDS if b in asked)
    if not chosen:
        return ALL_BACKENDS
    if CI and chosen != ALL_BACKENDS:
        raise pytest.UsageError(f"CI=true runs every backend; INVITE_TEST_BACKENDS={raw!r} would drop some")
    return chosen


BACKENDS = _selected_backends()


def pytest_report_header() -> str:
    return f"database backends: {', '.join(BACKENDS)} (INVITE_TEST_BACKENDS)"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI) when a real backend is not reachable."""
    if name == "PostgreSQL" and "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among INVITE_TEST_BACKENDS")
    if port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if CI:
        pytest.fail(f"{message}; CI=true requires it (start it as .ci/run does)", pytrace=False)
    pytest.skip(message)


def require_tool(name: str, how: str) -> str:
    """The path of a command-line tool; skip (locally) or fail (CI) when it is not installed."""
    found = shutil.which(name)
    if found is not None:
        return found
    message = f"{name} is not installed ({how})"
    if CI:
        pytest.fail(f"{message}; CI=true requires it (.ci/run installs it)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def terminate_backends(db: Database) -> None:
    """What a database restart does to a pool: every connection it holds is gone (killed server-side)."""
    async with db.engine.connect() as conn:
        name = await conn.scalar(text("SELECT current_database()"))
    await _pg_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
        "AND pid <> pg_backend_pid()"
    )


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "test.db"
    url = f"sqlite+aiosqlite:///{path}"
    runner.upgrade(url)
    return url


@contextmanager
def fresh_postgres(prefix: str = "invite_test", *, migrated: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated unless asked otherwise), dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        if migrated:
            runner.upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database; each test using it runs once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url, pool_size=5)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, log_json=True, log_level="WARNING")


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, database=database)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


UserFactory = Callable[[], Awaitable[dict[str, str]]]


@pytest.fixture
def new_user(settings: Settings) -> Callable[[], dict[str, str]]:
    """Make a fresh user (a random id, so tests never see each other's rows); returns auth headers."""

    def make() -> dict[str, str]:
        user = f"user-{uuid.uuid4().hex[:12]}"
        return {"Authorization": f"Bearer {mint_token(user, settings)}", "X-Test-User": user}

    return make


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
