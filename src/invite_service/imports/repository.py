"""All SQL of import jobs and their rejected rows (the staging area is in ``staging_repository``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Result,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models import ImportFile, ImportJob, ImportMapping, ImportRejection, InviteTarget
from invite_service.models.enums import ImportStatus

RUNNING = ImportStatus.RUNNING
SORT_COLUMNS = {"created_at": ImportJob.created_at}
_IN_CHUNK = 1000  # identities an IN list: under SQLite's and asyncpg's bound-parameter limits
FILE_CHUNK_BYTES = 1024 * 1024  # one ``import_files`` row


def _changed(result: Result[Any]) -> int:
    """Rows an UPDATE changed (``Result`` is typed without ``rowcount``; the cursor result has it)."""
    return int(cast(CursorResult[Any], result).rowcount)


async def create_job(session: AsyncSession, **values: Any) -> ImportJob:
    job = ImportJob(status=RUNNING, attempt=0, **values)
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> ImportJob | None:
    stmt = select(ImportJob).where(ImportJob.id == job_id, ImportJob.user_id == user_id)
    return (await session.scalars(stmt.execution_options(populate_existing=True))).one_or_none()


async def job_by_id(session: AsyncSession, job_id: uuid.UUID) -> ImportJob | None:
    """Any user's job (for the job that runs it, which has only the id)."""
    stmt = select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def list_jobs(
    session: AsyncSession,
    user_id: str,
    task_id: uuid.UUID | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
    audience_id: uuid.UUID | None = None,
) -> tuple[list[ImportJob], int]:
    stmt: Select[Any] = select(ImportJob).where(ImportJob.user_id == user_id)
    if task_id is not None:
        stmt = stmt.where(ImportJob.task_id == task_id)
    if audience_id is not None:
        stmt = stmt.where(ImportJob.audience_id == audience_id)
    page = keyset_page(stmt, [ImportJob.created_at, ImportJob.id], sort, cursor, limit)
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


def _owned(job_id: uuid.UUID, attempt: int | None) -> list[ColumnElement[bool]]:
    """The job while it runs, and (given ``attempt``) while this run still owns it."""
    where = [ImportJob.id == job_id, ImportJob.status == RUNNING]
    if attempt is not None:
        where.append(ImportJob.attempt == attempt)
    return where


async def take_over(
    session: AsyncSession, job: ImportJob, sent_at: int, silent_since: datetime
) -> int | None:
    """Start a new run of a running job: bump its ``attempt`` and start its counts and rejected rows
    over (a run reads the whole source again). Returns the new run's attempt, or None when there is
    nothing to take: the job left ``running``, or another run started after this job message was sent
    (its ``attempt`` is not ``sent_at``) and still beats (it touched the row since ``silent_since``).
    """
    options = {k: v for k, v in job.options.items() if k != "phase"}
    result = await session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.status == RUNNING,
            or_(ImportJob.attempt == sent_at, ImportJob.updated_at < silent_since),
        )
        .values(
            attempt=ImportJob.attempt + 1,
            rows_seen=0,
            rows_accepted=0,
            rows_duplicate=0,
            rows_invalid=0,
            rows_suppressed=0,
            bytes_read=0,
            error_sample=[],
            options=options,
            updated_at=utcnow(),
        )
    )
    if _changed(result) == 0:
        return None
    await session.execute(delete(ImportRejection).where(ImportRejection.job_id == job.id))
    attempt = await session.scalar(select(ImportJob.attempt).where(ImportJob.id == job.id))
    return int(attempt) if attempt is not None else None


async def record_progress(
    session: AsyncSession,
    job_id: uuid.UUID,
    *,
    attempt: int | None = None,
    deltas: Mapping[str, int],
    bytes_read: int | None = None,
    error_sample: list[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
) -> bool:
    """Add counter deltas to a running job (its heartbeat too); False if it is no longer running
    (or, given ``attempt``, no longer this run's)."""
    values: dict[str, Any] = {name: getattr(ImportJob, name) + n for name, n in deltas.items() if n}
    if bytes_read is not None:
        values["bytes_read"] = bytes_read
    if error_sample is not None:
        values["error_sample"] = error_sample
    if options is not None:
        values["options"] = options
    values["updated_at"] = utcnow()
    result = await session.execute(update(ImportJob).where(*_owned(job_id, attempt)).values(**values))
    return _changed(result) > 0


async def claim_for_merge(session: AsyncSession, job_id: uuid.UUID, attempt: int, now: datetime) -> bool:
    """Mark a running job completed, first thing in the merge transaction.

    The row lock (PostgreSQL) or the write lock (SQLite) it takes makes a concurrent cancel wait,
    then find the job finished; a job cancelled first (or taken over by a newer run) is not claimed
    and the merge rolls back.
    """
    result = await session.execute(
        update(ImportJob)
        .where(*_owned(job_id, attempt))
        .values(status=ImportStatus.COMPLETED, finished_at=now, updated_at=now)
    )
    return _changed(result) > 0


async def set_results(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


async def add_options(session: AsyncSession, job_id: uuid.UUID, more: Mapping[str, Any]) -> None:
    """Add keys to the job's options (the merge's results)."""
    options = await session.scalar(select(ImportJob.options).where(ImportJob.id == job_id))
    await session.execute(
        update(ImportJob).where(ImportJob.id == job_id).values(options={**(options or {}), **more})
    )


async def finish_unless_done(
    session: AsyncSession,
    job_id: uuid.UUID,
    status: ImportStatus,
    error: str | None,
    *,
    attempt: int | None = None,
) -> bool:
    """Move a running job to a final status and drop its file; False when it had already left
    ``running`` (or, given ``attempt``, another run owns it)."""
    now = utcnow()
    result = await session.execute(
        update(ImportJob)
        .where(*_owned(job_id, attempt))
        .values(status=status.value, error=error, finished_at=now, updated_at=now)
    )
    if _changed(result) == 0:
        return False
    await delete_file(session, job_id)
    return True


async def touch(session: AsyncSession, job_id: uuid.UUID, attempt: int | None = None) -> bool:
    result = await session.execute(
        update(ImportJob).where(*_owned(job_id, attempt)).values(updated_at=utcnow())
    )
    return _changed(result) > 0


async def silent_jobs(session: AsyncSession, silent_since: datetime) -> list[ImportJob]:
    """Running jobs whose run stopped heartbeating (its process died, or it was never started)."""
    stmt = select(ImportJob).where(ImportJob.status == RUNNING, ImportJob.updated_at < silent_since)
    return list((await session.scalars(stmt.order_by(ImportJob.created_at))).all())


async def store_file(session: AsyncSession, job_id: uuid.UUID, stream: IO[bytes]) -> int:
    """Keep the upload with its job, ``FILE_CHUNK_BYTES`` a row; returns the number of rows."""
    stream.seek(0)
    seq = 0
    while data := stream.read(FILE_CHUNK_BYTES):
        await session.execute(insert(ImportFile).values(job_id=job_id, seq=seq, data=data))
        seq += 1
    return seq


async def load_file(session: AsyncSession, job_id: uuid.UUID, into: IO[bytes]) -> int:
    """Write the job's file into ``into`` a row at a time; returns the number of rows (0: no file)."""
    seqs = (await session.scalars(select(ImportFile.seq).where(ImportFile.job_id == job_id))).all()
    for seq in sorted(seqs):
        data = await session.scalar(
            select(ImportFile.data).where(ImportFile.job_id == job_id, ImportFile.seq == seq)
        )
        into.write(data or b"")
    into.seek(0)
    return len(seqs)


async def delete_file(session: AsyncSession, job_id: uuid.UUID) -> None:
    await session.execute(delete(ImportFile).where(ImportFile.job_id == job_id))


async def delete_files_of_finished_jobs(session: AsyncSession) -> int:
    """Files whose job is no longer running (a safety net: every way a job ends drops its file)."""
    finished = select(ImportJob.id).where(ImportJob.status != RUNNING)
    result = await session.execute(delete(ImportFile).where(ImportFile.job_id.in_(finished)))
    return _changed(result)


async def add_rejections(session: AsyncSession, job_id: uuid.UUID, rows: Sequence[Rejection]) -> None:
    if rows:
        await session.execute(
            insert(ImportRejection),
            [
                {
                    "job_id": job_id,
                    "row_number": r.row,
                    "reason": r.reason,
                    "detail": r.detail[:500],
                    "raw": r.raw,
                    "duplicate_of_row": r.duplicate_of_row,
                }
                for r in rows
            ],
        )


async def rejections_page(
    session: AsyncSession, job_id: uuid.UUID, after: tuple[int, int] | None, limit: int
) -> list[ImportRejection]:
    """Rejected rows in row order, keyset-paged by (row_number, id) for a streamed report."""
    stmt = select(ImportRejection).where(ImportRejection.job_id == job_id)
    if after is not None:
        row, rid = after
        stmt = stmt.where(
            or_(
                ImportRejection.row_number > row,
                and_(ImportRejection.row_number == row, ImportRejection.id > rid),
            )
        )
    stmt = stmt.order_by(ImportRejection.row_number, ImportRejection.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def existing_identities(
    session: AsyncSession, task_id: uuid.UUID, by_kind: Mapping[str, Iterable[str]]
) -> set[tuple[str, str]]:
    """Which of these (kind, key) identities the task already has (validate, no writes)."""
    found: set[tuple[str, str]] = set()
    for kind, keys in by_kind.items():
        unique = list(set(keys))
        for start in range(0, len(unique), _IN_CHUNK):
            stmt = select(InviteTarget.key).where(
                InviteTarget.task_id == task_id,
                InviteTarget.kind == kind,
                InviteTarget.key.in_(unique[start : start + _IN_CHUNK]),
            )
            found.update((kind, key) for key in (await session.scalars(stmt)).all())
    return found


async def remembered_mapping(
    session: AsyncSession, user_id: str, header_signature: str
) -> dict[str, Any] | None:
    stmt = select(ImportMapping.mapping).where(
        ImportMapping.user_id == user_id, ImportMapping.header_signature == header_signature
    )
    value = await session.scalar(stmt)
    return value if isinstance(value, dict) else None


async def remember_mapping(
    session: AsyncSession, user_id: str, header_signature: str, mapping: dict[str, Any], now: datetime
) -> None:
    """Insert or overwrite the user's mapping for this header (one statement: concurrent imports of
    the same header settle on the last)."""
    values = {"user_id": user_id, "header_signature": header_signature, "mapping": mapping, "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(ImportMapping).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "header_signature"],
            set_={"mapping": stmt.excluded.mapping, "updated_at": stmt.excluded.updated_at},
        )
    )
