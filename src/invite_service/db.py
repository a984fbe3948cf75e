"""Engine and sessions from the database URL.

Services take a session and never commit: the request dependency (or a job's
``session_scope``) commits on success and rolls back on any error.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import structlog
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from invite_service.errors import DatabaseUnreachable, lost_database_connection

log = structlog.get_logger(__name__)
T = TypeVar("T")
# A pooled connection older than this is replaced on checkout: servers and proxies drop idle connections.
POOL_RECYCLE_SECONDS = 1800
# A connection that sat in the pool this long is pinged before use (a busy pool never waits that long, so
# the hot path pays nothing; a process that was idle through a database restart gets live connections).
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "idle_since"


def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise DatabaseUnreachable(f"cannot connect to the database: {type(exc).__name__}") from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(
    url: str, *, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout, several per send. Only a connection idle
    # for a while is pinged; one that still turns out dead on first use (the database restarted while it
    # was busy) costs one retry of the unit of work, ``Database.unit`` (docs/architecture.md).
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=POOL_RECYCLE_SECONDS
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    pool = engine.sync_engine.pool

    def checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < ping_after_idle:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (SQLAlchemy's documented protocol).
            raise DisconnectionError("an idle pooled connection was dead") from exc

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)
    return engine


class Database:
    def __init__(
        self, url: str, *, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, ping_after_idle=ping_after_idle)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    def with_session_info(self, **info: Any) -> Database:
        """The same engine and pool, with sessions that carry ``info`` (a runtime's job queue): two
        runtimes over one database (tests, benchmarks) each publish their own jobs."""
        view = object.__new__(Database)
        view.url, view.engine = self.url, self.engine
        view.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, info={**self.sessionmaker.kw.get("info", {}), **info}
        )
        return view

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back when it raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def unit(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one unit of work (``session``); once more on a fresh connection when the first
        run lost its connection (a database restart leaves every pooled connection dead).

        On a disconnect SQLAlchemy invalidates the whole pool, so the second run connects anew. Safe to
        repeat because the failed run's transaction never committed — but ``work`` must be a unit whose
        repetition is harmless even if the lost reply was a COMMIT's (fenced updates, idempotent writes).
        """
        try:
            async with self.session() as session:
                return await work(session)
        except DBAPIError as exc:
            if not lost_database_connection(exc):
                raise
            log.warning("database_connection_lost_retrying", error=type(exc.orig).__name__)
        async with self.session() as session:
            return await work(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
