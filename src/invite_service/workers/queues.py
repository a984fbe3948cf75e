"""Which job queue a process publishes to: Celery on the broker, or the in-process runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invite_service.config import Settings
from invite_service.workers.enqueue import JobQueue
from invite_service.workers.local import BackgroundRunner, LocalJobQueue

if TYPE_CHECKING:
    from invite_service.runtime import Runtime


def make_job_queue(settings: Settings, runner: BackgroundRunner, runtime: Runtime) -> JobQueue:
    if settings.broker_url:
        from invite_service.workers.celery_app import CeleryJobQueue, celery_for

        return CeleryJobQueue(celery_for(settings))
    return LocalJobQueue(runner, runtime)
