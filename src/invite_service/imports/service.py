"""Import use cases: start a file or Parsing Service import, show, cancel, begin a run, resume orphans.

Services take the request's (or the job's) session and never commit. Starting an import creates the
job row (and keeps a file's bytes in ``import_files``) and defers an ``imports.run`` job, published to
the job queue once that transaction commits (``context/jobs.py``); ``jobs.run_import`` runs it on a
worker (the in-process runner when embedded).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.context.jobs import defer
from invite_service.imports import file_limits as limits
from invite_service.imports import repository as repo
from invite_service.imports.destination import Destination, check_one, resolve
from invite_service.imports.errors import ImportFinished, ImportJobNotFound, RejectionsExpired
from invite_service.imports.jobspec import run_import_job
from invite_service.imports.pipeline import JobSpec
from invite_service.imports.schemas import ImportJobOut, ImportOptions, ParsingImportIn, RowError
from invite_service.imports.sources import probe
from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import Page, SortSpec, split_page
from invite_service.kit.tabular.upload import spool
from invite_service.models import ImportJob
from invite_service.models.enums import ImportStatus
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit
from invite_service.observability import audit

API_PREFIX = "/api/v1/import/jobs"
GAVE_UP = (
    "The import was started {runs} times and its process stopped each time; nothing was imported. "
    "The logs have the details."
)


def to_out(job: ImportJob) -> ImportJobOut:
    progress: float | None = None
    rows_total = job.options.get("rows_total")
    if job.status == ImportStatus.COMPLETED:
        progress = 100.0
    elif job.bytes_total and job.bytes_read:
        progress = min(99.9, round(100.0 * job.bytes_read / job.bytes_total, 1))
    elif isinstance(rows_total, int) and rows_total > 0:
        progress = min(99.9, round(100.0 * job.rows_seen / rows_total, 1))
    return ImportJobOut(
        id=job.id,
        task_id=job.task_id,
        audience_id=job.audience_id,
        source=job.source,
        status=ImportStatus(job.status),
        phase=(
            ("merging" if job.options.get("phase") == "merging" else "reading")
            if job.status == ImportStatus.RUNNING
            else None
        ),
        filename=job.filename,
        format=job.format,
        options=job.options,
        rows_seen=job.rows_seen,
        rows_accepted=job.rows_accepted,
        rows_duplicate=job.rows_duplicate,
        rows_invalid=job.rows_invalid,
        rows_suppressed=job.rows_suppressed,
        progress=progress,
        error=job.error,
        error_sample=[RowError.model_validate(e) for e in job.error_sample],
        rejected_url=f"{API_PREFIX}/{job.id}/rejected.csv",
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


def _spec(job: ImportJob, into: Destination, config: Settings, attempt: int) -> JobSpec:
    return JobSpec(
        job_id=job.id,
        attempt=attempt,
        user_id=job.user_id,
        task_id=into.task_id,
        audience_id=into.audience_id,
        platform=into.platform,
        source=job.source,
        dedupe=bool(job.options.get("dedupe", True)),
        skip_suppressed=bool(job.options.get("skip_suppressed", True)),
        region=config.default_phone_region,
        options={k: v for k, v in job.options.items() if k != "phase"},
    )


async def start_file_import(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    into: tuple[uuid.UUID | None, uuid.UUID | None],
    upload: UploadFile,
    options: ImportOptions,
) -> ImportJob:
    """Check the task or audience (``into``: exactly one of the two ids) and the file (a bad file is a
    4xx here, before any job exists), create the job with the file's bytes beside it, and defer the
    job that imports it.

    The file is probed (off the event loop) before the session is first used, so no database
    connection is held while it is parsed."""
    check_one(*into)
    stream, size = await spool(upload, config.import_max_upload_bytes)
    try:
        reader, plan = await asyncio.to_thread(probe, stream, options.sheet, options.mapping)
        dest = await resolve(session, user_id, *into)
        info = reader.info
        job = await repo.create_job(
            session,
            user_id=user_id,
            task_id=dest.task_id,
            audience_id=dest.audience_id,
            source="file",
            filename=(upload.filename or "upload")[:255],
            format=info.format,
            bytes_total=size,
            options={
                **options.model_dump(),
                "encoding": info.encoding,
                "delimiter": info.delimiter,
                "sheet": info.sheet,
                "has_header": info.has_header,
                "columns": info.columns,
                "rows_total": info.rows_estimate,
                "resolved_mapping": plan.described(),
            },
        )
        await repo.store_file(session, job.id, stream)
    finally:
        stream.close()
    await audit.record(
        session, user_id, "import.start", "import_job", job.id, {**dest.ids(), "source": "file"}
    )
    defer(session, run_import_job(job.id, job.attempt))
    return job


async def start_parsing_import(session: AsyncSession, user_id: str, body: ParsingImportIn) -> ImportJob:
    check_one(body.task_id, body.audience_id)
    dest = await resolve(session, user_id, body.task_id, body.audience_id)
    job = await repo.create_job(
        session,
        user_id=user_id,
        task_id=dest.task_id,
        audience_id=dest.audience_id,
        source="parsing",
        format="parsing",
        options={
            "parsing_task_id": body.parsing_task_id,
            "dedupe": body.dedupe,
            "skip_suppressed": body.skip_suppressed,
        },
    )
    await audit.record(
        session, user_id, "import.start", "import_job", job.id, {**dest.ids(), "source": "parsing"}
    )
    defer(session, run_import_job(job.id, job.attempt))
    return job


async def owned_job(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> ImportJob:
    job = await repo.get_job(session, user_id, job_id)
    if job is None:
        raise ImportJobNotFound(f"No import job {job_id}")
    return job


async def get_job(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> ImportJobOut:
    return to_out(await owned_job(session, user_id, job_id))


async def list_jobs(
    session: AsyncSession,
    user_id: str,
    task_id: uuid.UUID | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
    audience_id: uuid.UUID | None = None,
) -> Page[ImportJobOut]:
    rows, total = await repo.list_jobs(session, user_id, task_id, sort, cursor, limit, audience_id)
    items, next_cursor = split_page(rows, limit, sort, lambda j: (j.created_at, j.id))
    return Page[ImportJobOut](items=[to_out(j) for j in items], next_cursor=next_cursor, total=total)


async def cancel(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> ImportJobOut:
    """Cancel a running import; the job notices at its next chunk or heartbeat and drops its staging.

    Cancelling a cancelled job is a no-op; a completed or failed one is a 409.
    """
    job = await owned_job(session, user_id, job_id)
    if job.status != ImportStatus.CANCELLED:
        if not await repo.finish_unless_done(
            session, job.id, ImportStatus.CANCELLED, "Cancelled by the user."
        ):
            job = await owned_job(session, user_id, job_id)
            raise ImportFinished(f"The import already {job.status}; nothing to cancel.")
        await audit.record(session, user_id, "import.cancel", "import_job", job.id, {})
        job = await owned_job(session, user_id, job_id)
    return to_out(job)


async def report_columns(
    session: AsyncSession, settings: Settings, user_id: str, job_id: uuid.UUID
) -> list[str]:
    """The columns of the job's rejected.csv; a 410 once retention has deleted its rows (an empty file
    would say there were none)."""
    job = await owned_job(session, user_id, job_id)
    kept = timedelta(days=settings.retention_import_rejection_days)
    ended = job.finished_at or job.updated_at
    if job.status != ImportStatus.RUNNING and kept and ended < utcnow() - kept:
        raise RejectionsExpired(
            f"The rejected rows of an import are kept {settings.retention_import_rejection_days:g} days "
            "after it ended."
        )
    columns = job.options.get("columns") or []
    return [str(c) for c in columns]


async def begin_run(
    session: AsyncSession, config: Settings, job_id: uuid.UUID, sent_at: int
) -> tuple[JobSpec, ImportJob] | None:
    """Make this run the owner of a running job (``repo.take_over``): its spec and row, or None when
    there is nothing to run (finished, cancelled, deleted with its task, or another live run has it).

    A job whose runs keep dying (``MAX_RUNS``: say a file that kills its process) is failed instead.
    """
    job = await repo.job_by_id(session, job_id)
    if job is None or job.status != ImportStatus.RUNNING:
        return None
    if job.task_id is None and job.audience_id is None:
        return None
    into = await resolve(session, job.user_id, job.task_id, job.audience_id)
    silent_since = utcnow() - timedelta(seconds=limits.ORPHAN_AFTER_SECONDS)
    attempt = await repo.take_over(session, job, sent_at, silent_since)
    if attempt is None:
        return None
    if attempt > limits.MAX_RUNS:
        runs = attempt - 1
        error = GAVE_UP.format(runs=runs)
        if await repo.finish_unless_done(session, job.id, ImportStatus.FAILED, error, attempt=attempt):
            owner = (
                {"audience_id": str(job.audience_id)} if job.audience_id else {"task_id": str(job.task_id)}
            )
            data = {"import_id": str(job.id), **owner, "error": error}
            await emit(session, job.user_id, NotificationEventType.IMPORT_FAILED, data, utcnow())
        return None
    return _spec(job, into, config, attempt), job


async def resume_orphaned_jobs(
    session: AsyncSession, *, stale_after: timedelta = timedelta(seconds=limits.ORPHAN_AFTER_SECONDS)
) -> int:
    """Run again every running job whose run stopped heartbeating ``stale_after`` ago (its process
    died, or its job message was lost); returns how many.

    The job's row is touched so the next sweep waits for the new run; the new run takes the job over
    (``begin_run``) and starts it again from its first row. Nothing of a dead run remains to undo:
    its staging was a TEMP table, gone with its connection, and no target exists before the merge.
    """
    jobs = await repo.silent_jobs(session, utcnow() - stale_after)
    for job in jobs:
        await repo.touch(session, job.id, job.attempt)
        defer(session, run_import_job(job.id, job.attempt))
    await repo.delete_files_of_finished_jobs(session)
    return len(jobs)
