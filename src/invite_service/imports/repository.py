"""All SQL of import jobs and their rejected rows (the staging area is in ``staging_repository``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Select, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models import ImportJob, ImportRejection, InviteTarget
from invite_service.models.enums import ImportStatus

RUNNING = ImportStatus.RUNNING.value
SORT_COLUMNS = {"created_at": ImportJob.created_at}
_IN_CHUNK = 1000  # identities an IN list: under SQLite's and asyncpg's bound-parameter limits


def _changed(result: Result[Any]) -> int:
    """Rows an UPDATE changed (``Result`` is typed without ``rowcount``; the cursor result has it)."""
    return int(cast(CursorResult[Any], result).rowcount)


async def create_job(session: AsyncSession, **values: Any) -> ImportJob:
    job = ImportJob(status=RUNNING, **values)
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> ImportJob | None:
    stmt = select(ImportJob).where(ImportJob.id == job_id, ImportJob.user_id == user_id)
    return (await session.scalars(stmt.execution_options(populate_existing=True))).one_or_none()


async def list_jobs(
    session: AsyncSession,
    user_id: str,
    task_id: uuid.UUID | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> tuple[list[ImportJob], int]:
    stmt: Select[Any] = select(ImportJob).where(ImportJob.user_id == user_id)
    if task_id is not None:
        stmt = stmt.where(ImportJob.task_id == task_id)
    page = keyset_page(stmt, [ImportJob.created_at, ImportJob.id], sort, cursor, limit)
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


async def record_progress(
    session: AsyncSession,
    job_id: uuid.UUID,
    *,
    deltas: Mapping[str, int],
    bytes_read: int | None = None,
    error_sample: list[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
) -> bool:
    """Add counter deltas to a running job (its heartbeat too); False if it is no longer running."""
    values: dict[str, Any] = {name: getattr(ImportJob, name) + n for name, n in deltas.items() if n}
    if bytes_read is not None:
        values["bytes_read"] = bytes_read
    if error_sample is not None:
        values["error_sample"] = error_sample
    if options is not None:
        values["options"] = options
    values["updated_at"] = utcnow()
    result = await session.execute(
        update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == RUNNING).values(**values)
    )
    return _changed(result) > 0


async def claim_for_merge(session: AsyncSession, job_id: uuid.UUID, now: datetime) -> bool:
    """Mark a running job completed, first thing in the merge transaction.

    The row lock (PostgreSQL) or the write lock (SQLite) it takes makes a concurrent cancel wait,
    then find the job finished; a job cancelled first is not claimed and the merge rolls back.
    """
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == RUNNING)
        .values(status=ImportStatus.COMPLETED.value, finished_at=now, updated_at=now)
    )
    return _changed(result) > 0


async def set_results(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


async def finish_unless_done(
    session: AsyncSession, job_id: uuid.UUID, status: ImportStatus, error: str | None
) -> bool:
    """Move a running job to a final status; False when it had already left ``running``."""
    now = utcnow()
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == RUNNING)
        .values(status=status.value, error=error, finished_at=now, updated_at=now)
    )
    return _changed(result) > 0


async def touch(session: AsyncSession, job_id: uuid.UUID) -> bool:
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == RUNNING)
        .values(updated_at=utcnow())
    )
    return _changed(result) > 0


async def fail_stale(session: AsyncSession, silent_since: datetime, error: str) -> int:
    now = utcnow()
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.status == RUNNING, ImportJob.updated_at < silent_since)
        .values(status=ImportStatus.FAILED.value, error=error, finished_at=now, updated_at=now)
    )
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
