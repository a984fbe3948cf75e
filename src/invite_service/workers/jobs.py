"""The jobs, by name: thin wrappers that take ids and call the engine or a feature (DESIGN §3 rule 4).

The embedded runner and the Celery worker call these very functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from invite_service.context.runtime import Runtime
from invite_service.execution import engine
from invite_service.execution.batch import process_batch
from invite_service.execution.jobspec import DISPATCH, PING, PROCESS_BATCH, RECOVER, TICK
from invite_service.imports import runner as import_runner
from invite_service.imports.jobspec import RUN_IMPORT, SWEEP_IMPORTS
from invite_service.notifications import delivery as notification_delivery
from invite_service.notifications.jobspec import DELIVER, SWEEP_DELIVERIES

JobFn = Callable[..., Awaitable[Any]]

JOBS: dict[str, JobFn] = {
    DISPATCH: engine.dispatch,
    PROCESS_BATCH: process_batch,
    TICK: engine.tick,
    RECOVER: engine.recover,
    RUN_IMPORT: import_runner.run_import,
    SWEEP_IMPORTS: import_runner.sweep,
    DELIVER: notification_delivery.deliver,
    SWEEP_DELIVERIES: notification_delivery.sweep,
}


async def run_job(rt: Runtime, name: str, kwargs: dict[str, Any]) -> Any:
    """Run one job and let its progress events out before returning."""
    try:
        return await JOBS[name](rt, **kwargs)
    finally:
        await rt.progress.drain()


async def ping(rt: Runtime, key: str) -> None:
    """A job that does nothing but say it ran: measures the queue's own round trip (bench, probes)."""
    if rt.redis is not None:
        await rt.redis.incr(key)


JOBS[PING] = ping
