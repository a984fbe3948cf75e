"""Import use cases: start a file or Parsing Service import, show, cancel, validate, sweep orphans.

Services take the request's session and never commit. A started import returns a ``StartedImport``;
the endpoint launches it only after the job row has committed (``jobs.launch``).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.imports import file_limits as limits
from invite_service.imports import repository as repo
from invite_service.imports.errors import ImportFinished, ImportJobNotFound
from invite_service.imports.parsing_client import parsing_results
from invite_service.imports.pipeline import JobSpec
from invite_service.imports.schemas import ImportJobOut, ImportOptions, ParsingImportIn, RowError
from invite_service.imports.sources import FileSource, ParsingSource, RowSource
from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import Page, SortSpec, split_page
from invite_service.kit.tabular.mapping import build_plan
from invite_service.kit.tabular.open import open_reader
from invite_service.kit.tabular.upload import spool
from invite_service.models import ImportJob, InviteTask
from invite_service.models.enums import ImportStatus
from invite_service.observability import audit
from invite_service.sandbox.parsing_app import ParsingSandbox
from invite_service.stores.tasks import get_owned

API_PREFIX = "/api/v1/import/jobs"
ORPHANED = "The service stopped while this import was running; nothing was imported. Run it again."


@dataclass
class StartedImport:
    spec: JobSpec
    source: RowSource


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


def _spec(job: ImportJob, task: InviteTask, config: Settings, dedupe: bool, skip_suppressed: bool) -> JobSpec:
    return JobSpec(
        job_id=job.id,
        user_id=task.user_id,
        task_id=task.id,
        platform=task.platform,
        source=job.source,
        dedupe=dedupe,
        skip_suppressed=skip_suppressed,
        region=config.default_phone_region,
        options=dict(job.options),
    )


async def start_file_import(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    task_id: uuid.UUID,
    upload: UploadFile,
    options: ImportOptions,
) -> StartedImport:
    """Check the task and the file (a bad file is a 4xx here, before any job exists), create the job."""
    task = await get_owned(session, user_id, task_id)
    stream, size = await spool(upload, config.import_max_upload_bytes)
    try:
        reader = await asyncio.to_thread(open_reader, stream, sheet=options.sheet)
        plan = build_plan(reader, options.mapping, purpose="targets")
    except BaseException:
        stream.close()
        raise
    info = reader.info
    job = await repo.create_job(
        session,
        user_id=user_id,
        task_id=task.id,
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
    await audit.record(
        session, user_id, "import.start", "import_job", job.id, {"task_id": str(task.id), "source": "file"}
    )
    return StartedImport(
        _spec(job, task, config, options.dedupe, options.skip_suppressed), FileSource(reader, plan, stream)
    )


async def start_parsing_import(
    session: AsyncSession, config: Settings, user_id: str, body: ParsingImportIn, sandbox: ParsingSandbox
) -> StartedImport:
    task = await get_owned(session, user_id, body.task_id)
    job = await repo.create_job(
        session,
        user_id=user_id,
        task_id=task.id,
        source="parsing",
        format="parsing",
        options={
            "parsing_task_id": body.parsing_task_id,
            "dedupe": body.dedupe,
            "skip_suppressed": body.skip_suppressed,
        },
    )
    await audit.record(
        session, user_id, "import.start", "import_job", job.id, {"task_id": str(task.id), "source": "parsing"}
    )
    source = ParsingSource(parsing_results(config, sandbox), body.parsing_task_id)
    return StartedImport(_spec(job, task, config, body.dedupe, body.skip_suppressed), source)


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
) -> Page[ImportJobOut]:
    rows, total = await repo.list_jobs(session, user_id, task_id, sort, cursor, limit)
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


async def report_columns(session: AsyncSession, user_id: str, job_id: uuid.UUID) -> list[str]:
    job = await owned_job(session, user_id, job_id)
    columns = job.options.get("columns") or []
    return [str(c) for c in columns]


async def fail_orphaned_jobs(
    session: AsyncSession, *, stale_after: timedelta = timedelta(seconds=limits.ORPHAN_AFTER_SECONDS)
) -> int:
    """Mark failed every running job whose process stopped heartbeating ``stale_after`` ago.

    Call at start-up (and now and then: ``jobs.sweep_orphans``). A staged import leaves nothing behind
    when its process dies (TEMP tables go with the connection), so failing the row is all there is.
    """
    return await repo.fail_stale(session, utcnow() - stale_after, ORPHANED)
