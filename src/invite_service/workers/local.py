"""In-process background work for the embedded profile: the job queue and the ticker (the beat).

Tasks are tracked so they are not garbage-collected mid-flight, their failures are logged,
and shutdown cancels what is still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from invite_service.context.jobs import Job, JobQueue
from invite_service.context.runtime import Runtime
from invite_service.execution import engine
from invite_service.imports import file_limits as import_limits
from invite_service.imports import runner as import_runner
from invite_service.notifications import delivery as notification_delivery
from invite_service.workers.jobs import run_job

log = structlog.get_logger(__name__)


class BackgroundRunner:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any, name: str, **kwargs: Any
    ) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(fn(*args, **kwargs), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_failed", task=task.get_name(), error=repr(task.exception()))

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until nothing is running (wrap in ``asyncio.timeout`` to bound it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class LocalJobQueue(JobQueue):
    """The embedded profile's queue: each job runs as an asyncio task in this process."""

    def __init__(self, runner: BackgroundRunner, runtime: Runtime) -> None:
        self._runner = runner
        self._runtime = runtime

    def send(self, job: Job) -> None:
        self._runner.spawn(self._run, job, name=f"job:{job.name}")

    async def _run(self, job: Job) -> None:
        if job.countdown > 0:
            await asyncio.sleep(job.countdown)
        await run_job(self._runtime, job.name, job.kwargs)


class LocalTicker:
    """The embedded profile's beat: ``tick`` every few seconds, ``recover`` every minute, and the
    imports' orphan sweep. Its first sweep resumes every running import that has missed three
    heartbeats (an import left running by a process that stopped), not every running one: another
    process on the same database (a second app in tests, an operator's second `serve`) may be running
    one right now, and taking it over would restart its work from the first row."""

    def __init__(self, runner: BackgroundRunner, runtime: Runtime) -> None:
        self._runner = runner
        self._runtime = runtime

    def start(self) -> None:
        self._runner.spawn(self._loop, name="ticker")

    async def _loop(self) -> None:
        settings = self._runtime.settings
        last_recover = 0.0
        last_sweep: float | None = None
        last_notify = 0.0
        notify: asyncio.Task[Any] | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                await engine.tick(self._runtime)
                if loop.time() - last_recover >= settings.recover_seconds:
                    last_recover = loop.time()
                    await engine.recover(self._runtime)
                if last_sweep is None or loop.time() - last_sweep >= import_limits.ORPHAN_SWEEP_SECONDS:
                    stale_after = (
                        3 * import_limits.HEARTBEAT_SECONDS
                        if last_sweep is None
                        else import_limits.ORPHAN_AFTER_SECONDS
                    )
                    last_sweep = loop.time()
                    await import_runner.sweep(self._runtime, stale_after)
                # Beside the tick, not in it: a slow receiver must not hold up the engine.
                idle = notify is None or notify.done()
                if idle and loop.time() - last_notify >= settings.notifications_sweep_seconds:
                    last_notify = loop.time()
                    notify = self._runner.spawn(
                        notification_delivery.sweep, self._runtime, name="notification-sweep"
                    )
                await self._runtime.progress.drain()
            except Exception:
                log.exception("ticker_failed")
            await asyncio.sleep(settings.tick_seconds)
