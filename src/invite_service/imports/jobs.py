"""The background side of imports: run a job (with a heartbeat) and sweep orphaned ones.

Jobs run in the API process through ``BackgroundRunner``. A running job touches its row every
``HEARTBEAT_SECONDS``; the heartbeat also notices when the row left ``running`` (a cancel from any
process, the orphan sweep, the task deleted) and stops the job even while it waits on the Parsing
Service. Whatever stops a job before its merge, its staging goes and no target remains.
"""

from __future__ import annotations

import asyncio
import traceback
from datetime import timedelta

import structlog

from invite_service.db import Database
from invite_service.imports import file_limits as limits
from invite_service.imports import pipeline
from invite_service.imports import repository as repo
from invite_service.imports.errors import ParsingError
from invite_service.imports.pipeline import JobStopped
from invite_service.imports.service import StartedImport, fail_orphaned_jobs
from invite_service.kit.tabular.errors import FileRejected
from invite_service.models.enums import ImportStatus
from invite_service.workers.local import BackgroundRunner

log = structlog.get_logger(__name__)
INTERNAL = "An internal error stopped the import; nothing was imported. The logs have the details."
SHUTDOWN = "The service stopped during the import; nothing was imported. Run it again."


class Heartbeat:
    def __init__(self, database: Database, started: StartedImport, job: asyncio.Task[None]) -> None:
        self._database = database
        self._job_id = started.spec.job_id
        self._job = job
        self._stop = asyncio.Event()
        self.stopped_job = False
        self._task = asyncio.create_task(self._beat(), name=f"import-heartbeat:{self._job_id}")

    async def _beat(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=limits.HEARTBEAT_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                async with self._database.session() as session:
                    alive = await repo.touch(session, self._job_id)
            except Exception:  # a missed beat is retried next time; the chunk commits also beat
                log.warning("import_heartbeat_failed", job_id=str(self._job_id), exc_info=True)
                continue
            if not alive:
                self.stopped_job = True
                self._job.cancel()
                return

    async def stop(self) -> None:
        """Stop beating (before the merge, whose claim on the row takes over)."""
        self._stop.set()
        await asyncio.gather(self._task, return_exceptions=True)


async def _finish(database: Database, started: StartedImport, status: ImportStatus, error: str) -> None:
    async with database.session() as session:
        await repo.finish_unless_done(session, started.spec.job_id, status, error)


async def run_import(database: Database, started: StartedImport) -> None:
    """Run one import job to completion, failure or cancellation; never leaves it ``running``."""
    job_id = str(started.spec.job_id)
    me = asyncio.current_task()
    assert me is not None
    beat = Heartbeat(database, started, me)
    try:
        inserted = await pipeline.run(database, started.spec, started.source, beat.stop)
        log.info("import_completed", job_id=job_id, accepted=inserted)
    except asyncio.CancelledError:
        if beat.stopped_job:
            me.uncancel()
            log.info("import_stopped", job_id=job_id)
            return
        await _finish(database, started, ImportStatus.FAILED, SHUTDOWN)
        raise
    except JobStopped:
        log.info("import_stopped", job_id=job_id)
    except (FileRejected, ParsingError) as exc:
        message = exc.detail if isinstance(exc, FileRejected) else str(exc)
        log.info("import_failed", job_id=job_id, error=type(exc).__name__)
        await _finish(database, started, ImportStatus.FAILED, message)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job must end failed, not running
        # Where it broke, but not the message: a database error quotes row values (phone numbers).
        frames = [
            f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
            for f in traceback.extract_tb(exc.__traceback__)
        ]
        log.error("import_crashed", job_id=job_id, error=type(exc).__name__, frames=frames[-8:])
        await _finish(database, started, ImportStatus.FAILED, INTERNAL)
    finally:
        await beat.stop()
        await started.source.aclose()


async def launch(runner: BackgroundRunner, database: Database, started: StartedImport) -> None:
    """Start a committed import job (a background task of the response, so after the commit).

    Async so Starlette runs it on the event loop rather than in a worker thread.
    """
    runner.spawn(run_import, database, started, name=f"import:{started.spec.job_id}")


async def sweep_orphans(database: Database) -> None:
    """Fail jobs whose process died, at start-up and every ``ORPHAN_SWEEP_SECONDS`` after."""
    while True:
        try:
            async with database.session() as session:
                failed = await fail_orphaned_jobs(
                    session, stale_after=timedelta(seconds=limits.ORPHAN_AFTER_SECONDS)
                )
            if failed:
                log.warning("import_orphans_failed", count=failed)
        except Exception:
            log.warning("import_orphan_sweep_failed", exc_info=True)
        await asyncio.sleep(limits.ORPHAN_SWEEP_SECONDS)
