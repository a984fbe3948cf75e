"""A job queue driven by simulated time: tests and benchmarks run days of work in seconds.

Jobs wait until ``run_due`` runs those whose time has come (countdowns honoured against the
simulated clock); ``simulate`` alternates ticks, jobs and clock jumps to the next due instant.
The engine, database, limiter and simulated messenger are all the real ones.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from invite_service.context.jobs import Job, JobQueue
from invite_service.context.runtime import Runtime
from invite_service.execution import engine
from invite_service.kit.clock import SimulatedClock
from invite_service.kit.faults import Crash
from invite_service.models import InviteTask
from invite_service.models.enums import TaskStatus
from invite_service.workers.jobs import run_job


class SteppedJobQueue(JobQueue):
    def __init__(self, clock: SimulatedClock) -> None:
        self._clock = clock
        self._heap: list[tuple[datetime, int, Job]] = []
        self._seq = itertools.count()
        self.ran = 0
        self.crashes = 0

    def send(self, job: Job) -> None:
        due = self._clock.now() + timedelta(seconds=job.countdown)
        heapq.heappush(self._heap, (due, next(self._seq), job))

    def next_due(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    async def run_due(self, rt: Runtime) -> int:
        count = 0
        while self._heap and self._heap[0][0] <= self._clock.now():
            _, _, job = heapq.heappop(self._heap)
            try:
                await run_job(rt, job.name, job.kwargs)
            except Crash:
                # The "process" died in the job: like Celery's acks_late + reject_on_worker_lost,
                # the broker hands the job out again.
                self.crashes += 1
                self.send(job)
            count += 1
        self.ran += count
        return count


async def _next_task_time(rt: Runtime) -> datetime | None:
    async with rt.db.session() as s:
        running = await s.scalar(
            select(func.min(InviteTask.next_run_at)).where(InviteTask.status == TaskStatus.RUNNING)
        )
        scheduled = await s.scalar(
            select(func.min(InviteTask.scheduled_at)).where(InviteTask.status == TaskStatus.SCHEDULED)
        )
    times = [t for t in (running, scheduled) if t is not None]
    return min(times) if times else None


async def simulate(
    rt: Runtime,
    clock: SimulatedClock,
    queue: SteppedJobQueue,
    *,
    until: Callable[[], Awaitable[bool]],
    horizon: timedelta,
    recover_every: timedelta = timedelta(minutes=10),
    on_step: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Run the engine in simulated time until ``until()`` holds or ``horizon`` passes."""
    end = clock.now() + horizon
    next_recover = clock.now()
    while clock.now() <= end:
        await engine.tick(rt)
        if clock.now() >= next_recover:
            await engine.recover(rt)
            next_recover = clock.now() + recover_every
        while await queue.run_due(rt):
            pass
        if on_step is not None:
            await on_step()
        if await until():
            return True
        candidates = [t for t in (queue.next_due(), await _next_task_time(rt), next_recover) if t is not None]
        soonest = min(candidates)
        # Always move forward; a due time in the past means "now", so step by a second.
        clock.set(max(soonest, clock.now() + timedelta(seconds=1)))
    return await until()
