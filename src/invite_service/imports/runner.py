"""The jobs of imports: run one (with a heartbeat), and sweep orphaned ones back onto the queue.

Both run on the job queue (``workers/jobs.py``): a Celery worker in production, the in-process runner
embedded. A running job touches its row every ``HEARTBEAT_SECONDS``; the heartbeat also notices when
the row left ``running`` or this run lost it (a cancel from any process, a newer run, the task
deleted) and stops the job even while it waits on the Parsing Service. Whatever stops a run before its
merge, its staging goes and no target remains. A run whose process died leaves the job ``running``
and silent: ``sweep`` (a periodic job) sends it again, and the new run starts over from the first row.
"""

from __future__ import annotations

import asyncio
import tempfile
import traceback
import uuid
from datetime import timedelta

import structlog

from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.imports import file_limits as limits
from invite_service.imports import pipeline, service
from invite_service.imports import repository as repo
from invite_service.imports.errors import ParsingError
from invite_service.imports.parsing_client import parsing_results
from invite_service.imports.pipeline import JobSpec, JobStopped
from invite_service.imports.sources import FileSource, ParsingSource, RowSource, probe
from invite_service.kit.clock import utcnow
from invite_service.kit.tabular.errors import FileRejected
from invite_service.models import ImportJob
from invite_service.models.enums import ImportStatus
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit

log = structlog.get_logger(__name__)
INTERNAL = "An internal error stopped the import; nothing was imported. The logs have the details."
FILE_GONE = "The uploaded file is no longer stored; nothing was imported. Upload it again."


class FileGone(Exception):
    pass


class Heartbeat:
    def __init__(self, database: Database, spec: JobSpec, job: asyncio.Task[None]) -> None:
        self._database = database
        self._spec = spec
        self._job = job
        self._stop = asyncio.Event()
        self.stopped_job = False
        self._task = asyncio.create_task(self._beat(), name=f"import-heartbeat:{spec.job_id}")

    async def _beat(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=limits.HEARTBEAT_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                async with self._database.session() as session:
                    alive = await repo.touch(session, self._spec.job_id, self._spec.attempt)
            except Exception:  # a missed beat is retried next time; the chunk commits also beat
                log.warning("import_heartbeat_failed", job_id=str(self._spec.job_id), exc_info=True)
                continue
            if not alive:
                self.stopped_job = True
                self._job.cancel()
                return

    async def stop(self) -> None:
        """Stop beating (before the merge, whose claim on the row takes over)."""
        self._stop.set()
        await asyncio.gather(self._task, return_exceptions=True)


async def _finish(database: Database, spec: JobSpec, status: ImportStatus, error: str) -> None:
    async with database.session() as session:
        finished = await repo.finish_unless_done(session, spec.job_id, status, error, attempt=spec.attempt)
        if finished and status is ImportStatus.FAILED:
            data = pipeline.import_event(spec, error=error)
            await emit(session, spec.user_id, NotificationEventType.IMPORT_FAILED, data, utcnow())


async def _file_source(database: Database, job: ImportJob) -> FileSource:
    """The job's file, copied from ``import_files`` into a temp file of this process, probed as the
    upload was (the same content and options give the same reader and plan)."""
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - FileSource closes it
    try:
        async with database.session() as session:
            if not await repo.load_file(session, job.id, stream):
                raise FileGone
        options = job.options
        reader, plan = await asyncio.to_thread(probe, stream, options.get("sheet"), options.get("mapping"))
    except BaseException:
        stream.close()
        raise
    return FileSource(reader, plan, stream)


async def _source(rt: Runtime, job: ImportJob) -> RowSource:
    if job.source == "parsing":
        client = parsing_results(rt.settings, rt.parsing)
        return ParsingSource(client, str(job.options["parsing_task_id"]))
    return await _file_source(rt.db, job)


async def run_import(rt: Runtime, job_id: str, attempt: int = 0) -> None:
    """The ``imports.run`` job: run an import to completion, failure or cancellation.

    ``attempt`` is the job's run counter when this message was sent; a message for a job that a live
    run already has (a duplicate, a redelivery) does nothing. A run stopped by its process's shutdown
    leaves the job ``running`` for the sweep to resume; every other end is final.
    """
    database = rt.db
    async with database.session() as session:
        begun = await service.begin_run(session, rt.settings, uuid.UUID(job_id), attempt)
    if begun is None:
        log.info("import_not_run", job_id=job_id, sent_at=attempt)
        return
    spec, job = begun
    log.info("import_started", job_id=job_id, attempt=spec.attempt)
    me = asyncio.current_task()
    assert me is not None
    beat = Heartbeat(database, spec, me)
    source: RowSource | None = None
    try:
        source = await _source(rt, job)
        inserted = await pipeline.run(database, spec, source, beat.stop)
        log.info("import_completed", job_id=job_id, accepted=inserted)
    except asyncio.CancelledError:
        if beat.stopped_job:
            me.uncancel()
            log.info("import_stopped", job_id=job_id)
            return
        # The process is stopping: the job stays running and the sweep runs it again.
        log.info("import_interrupted", job_id=job_id, attempt=spec.attempt)
        raise
    except JobStopped:
        log.info("import_stopped", job_id=job_id)
    except FileGone:
        await _finish(database, spec, ImportStatus.FAILED, FILE_GONE)
    except (FileRejected, ParsingError) as exc:
        message = exc.detail if isinstance(exc, FileRejected) else str(exc)
        log.info("import_failed", job_id=job_id, error=type(exc).__name__)
        await _finish(database, spec, ImportStatus.FAILED, message)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job must end failed, not running
        # Where it broke, but not the message: a database error quotes row values (phone numbers).
        frames = [
            f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
            for f in traceback.extract_tb(exc.__traceback__)
        ]
        log.error("import_crashed", job_id=job_id, error=type(exc).__name__, frames=frames[-8:])
        await _finish(database, spec, ImportStatus.FAILED, INTERNAL)
    finally:
        await beat.stop()
        if source is not None:
            await source.aclose()


async def sweep(rt: Runtime, stale_after_seconds: float = limits.ORPHAN_AFTER_SECONDS) -> int:
    """The ``imports.sweep`` job (the beat / the embedded ticker, every ``ORPHAN_SWEEP_SECONDS``):
    send again every running import whose run stopped heartbeating; returns how many."""
    async with rt.db.session() as session:
        resumed = await service.resume_orphaned_jobs(
            session, stale_after=timedelta(seconds=stale_after_seconds)
        )
    if resumed:
        log.warning("import_orphans_resumed", count=resumed)
    return resumed
