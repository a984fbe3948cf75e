"""The staging area of an import job: a TEMP table on a connection of its own, merged at the end.

PostgreSQL takes each chunk with ``COPY`` (asyncpg's binary ``copy_records_to_table``); SQLite with one
executemany a chunk. Nothing reaches ``invite_targets`` until ``insert_targets`` runs in the merge
transaction, so a failed or cancelled job leaves no targets: closing the connection drops the table.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from invite_service.db import Database
from invite_service.imports.convert import STAGED_COLUMNS, Staged
from invite_service.models import ImportRejection, InviteTarget
from invite_service.models.base import JSONType
from invite_service.models.enums import TargetStatus
from invite_service.stores import targets as target_repo

_UNIQUE_VIOLATION = "23505"
# Sort memory of the merge transaction (PostgreSQL): enough to sort a 1M-row staging in memory.
MERGE_WORK_MEM = "256MB"
_NAMES = ", ".join(STAGED_COLUMNS)
TARGET_COLUMNS = (
    "task_id",
    "user_id",
    "kind",
    "key",
    "username",
    "platform_user_id",
    "phone",
    "first_name",
    "last_name",
    "extra",
    "source",
    "status",
    "attempts",
    "created_at",
    "updated_at",
)


def _stage_table(job_id: uuid.UUID, *, contacts: bool) -> Table:
    # An audience import finds each row's contact in the merge (``contact_merge``).
    more = [Column("contact_id", BigInteger)] if contacts else []
    return Table(
        f"import_stage_{job_id.hex}",
        MetaData(),
        Column("row_no", Integer, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("key", String(64), nullable=False),
        Column("username", String(64)),
        Column("platform_user_id", String(32)),
        Column("phone", String(20)),
        Column("first_name", String(200)),
        Column("last_name", String(200)),
        Column("extra", Text().with_variant(JSONB(), "postgresql"), nullable=False),
        *more,
        prefixes=["TEMPORARY"],
    )


class Stage:
    def __init__(self, conn: AsyncConnection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.rows = 0
        self._postgres = conn.dialect.name == "postgresql"

    async def add(self, rows: Sequence[Staged]) -> None:
        """Stage a chunk and commit it (the TEMP table keeps committed rows until the connection ends)."""
        if not rows:
            return
        if self._postgres:
            raw = await self.conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(self.table.name, records=rows, columns=list(STAGED_COLUMNS))
        else:
            marks = ", ".join("?" for _ in STAGED_COLUMNS)
            # The table name is ``import_stage_<uuid hex>``, made here; the values are bound.
            sql = f"INSERT INTO {self.table.name} ({_NAMES}) VALUES ({marks})"  # noqa: S608
            await self.conn.exec_driver_sql(sql, list(rows))
            await self.conn.commit()
        self.rows += len(rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction on the staging connection: the merge must see the TEMP table."""
        async with AsyncSession(bind=self.conn, expire_on_commit=False) as session, session.begin():
            if self._postgres:
                # Its plans cost enough to be JIT-compiled: ~0.7 s of compiling for no gain (the time
                # goes into writing rows and index entries).
                await session.execute(text("SET LOCAL jit = off"))
                # The merge sorts the whole staging twice (first row of each identity, duplicates);
                # at the default 4 MB both spill to temp files on a large file. Local to this
                # transaction, and one merge runs per import job.
                await session.execute(text(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'"))
            yield session


@asynccontextmanager
async def open_stage(
    database: Database, job_id: uuid.UUID, *, contacts: bool = False
) -> AsyncIterator[Stage]:
    async with database.engine.connect() as conn:
        try:
            table = _stage_table(job_id, contacts=contacts)
            await conn.run_sync(lambda sync_conn: table.create(sync_conn))
            await conn.commit()
            yield Stage(conn, table)
        finally:
            # Closing this connection (not returning it to the pool) drops the TEMP table and its
            # rows in whatever state a failure or a cancel left them.
            await conn.invalidate()


def _ranked(table: Table) -> Any:
    """Each staged row with its rank among rows of the same identity (1 = the first in the file)."""
    rank = func.row_number().over(partition_by=(table.c.kind, table.c.key), order_by=table.c.row_no)
    first = func.min(table.c.row_no).over(partition_by=(table.c.kind, table.c.key))
    return select(*table.c, rank.label("rank"), first.label("first_row")).subquery("ranked")


async def report_duplicates(
    session: AsyncSession, table: Table, job_id: uuid.UUID, task_id: uuid.UUID | None
) -> None:
    """List every duplicate row as a rejection (reason ``duplicate``): a repeat of an earlier row names
    it (``duplicate_of_row``); a row whose identity the task already has names none. Without a task
    (an audience import) only repeats are duplicates: a known person is merged, not skipped."""
    ranked = _ranked(table)
    in_task: ColumnElement[bool] = (
        exists()
        .where(
            InviteTarget.task_id == task_id,
            InviteTarget.kind == ranked.c.kind,
            InviteTarget.key == ranked.c.key,
        )
        .correlate(ranked)
        if task_id is not None
        else false()
    )
    why = case(
        (ranked.c.rank > 1, literal("repeats row ") + cast(ranked.c.first_row, String)),
        else_=literal("is already in the task"),
    )
    src = select(
        literal(job_id, type_=ImportRejection.job_id.type),
        ranked.c.row_no,
        literal("duplicate"),
        ranked.c.kind + literal(" ") + ranked.c.key + literal(" ") + why,
        literal({}, type_=JSONType),
        case((ranked.c.rank > 1, ranked.c.first_row), else_=literal(None, type_=Integer)),
    ).where(or_(ranked.c.rank > 1, in_task))
    cols = ["job_id", "row_number", "reason", "detail", "raw", "duplicate_of_row"]
    await session.execute(insert(ImportRejection).from_select(cols, src))


def _target_values(rows: Any, *, task_id: uuid.UUID, user_id: str, source: str, now: datetime) -> list[Any]:
    """The ``TARGET_COLUMNS`` of a new pending target made from each row of ``rows``."""
    return [
        literal(task_id, type_=InviteTarget.task_id.type),
        literal(user_id, type_=InviteTarget.user_id.type),
        rows.c.kind,
        rows.c.key,
        rows.c.username,
        rows.c.platform_user_id,
        rows.c.phone,
        rows.c.first_name,
        rows.c.last_name,
        rows.c.extra,
        literal(source),
        literal(TargetStatus.PENDING),
        literal(0),
        literal(now, type_=InviteTarget.created_at.type),
        literal(now, type_=InviteTarget.updated_at.type),
    ]


async def insert_targets(
    session: AsyncSession, table: Table, *, task_id: uuid.UUID, user_id: str, source: str, now: datetime
) -> Counter[str]:
    """``INSERT … SELECT`` the first row of each identity, in file order, skipping identities the task
    has; returns the inserted targets by kind."""
    if session.get_bind().dialect.name == "postgresql":
        return await _insert_postgres(
            session, table, task_id=task_id, user_id=user_id, source=source, now=now
        )
    ranked = _ranked(table)
    src = (
        select(*_target_values(ranked, task_id=task_id, user_id=user_id, source=source, now=now))
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.row_no)
    )
    stmt = (
        sqlite.insert(InviteTarget)
        .from_select(list(TARGET_COLUMNS), src)
        .on_conflict_do_nothing(index_elements=["task_id", "kind", "key"])
    )
    # SQLite has one writer at a time, so before/after counts inside this transaction are exact.
    before = await _kinds(session, task_id)
    await session.execute(stmt)
    after = await _kinds(session, task_id)
    after.subtract(before)
    return +after


async def _insert_postgres(
    session: AsyncSession, table: Table, *, task_id: uuid.UUID, user_id: str, source: str, now: datetime
) -> Counter[str]:
    """A plain ``INSERT`` of the identities the task lacks, counted on the server (RETURNING into a
    CTE, grouped). ``ON CONFLICT`` costs a speculative insertion a row (a fifth of the merge), so it
    is only the fallback for an identity another transaction added after this statement's snapshot."""
    first = (
        select(table)
        .ext(postgresql.distinct_on(table.c.kind, table.c.key))
        .order_by(table.c.kind, table.c.key, table.c.row_no)
        .subquery("first")
    )
    in_task = exists().where(
        InviteTarget.task_id == task_id, InviteTarget.kind == first.c.kind, InviteTarget.key == first.c.key
    )
    src = (
        select(*_target_values(first, task_id=task_id, user_id=user_id, source=source, now=now))
        .where(~in_task)
        .order_by(first.c.row_no)
    )
    stmt = postgresql.insert(InviteTarget).from_select(list(TARGET_COLUMNS), src)
    try:
        async with session.begin_nested():
            return await _count_inserted(session, stmt)
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        # Someone added one of these identities meanwhile (the unique key said so): that one is
        # skipped, as it would have been had it been there first.
        fallback = stmt.on_conflict_do_nothing(index_elements=["task_id", "kind", "key"])
        return await _count_inserted(session, fallback)


async def _count_inserted(session: AsyncSession, stmt: Any) -> Counter[str]:
    inserted = stmt.returning(InviteTarget.kind).cte("inserted")
    rows = await session.execute(select(inserted.c.kind, func.count()).group_by(inserted.c.kind))
    return Counter({kind: int(n) for kind, n in rows})


async def _kinds(session: AsyncSession, task_id: uuid.UUID) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _status, kind, n in await target_repo.group_counts(session, InviteTarget.task_id == task_id):
        counts[kind] += n
    return counts
