"""Publishing jobs: only after the transaction that asked for them commits.

``defer(session, name, ...)`` records a job on the session; a listener sends every recorded
job once the session commits and drops them on rollback (polar's job queue manager), so a
worker never sees an id whose row is not there yet, nor work for a change that was undone.

A job that cannot be published (the broker is down) is logged and kept in ``unpublished(session)``;
it is not raised: the commit it follows cannot be undone, and the database stays the source of truth
(the ticker dispatches every due task again, ``recover`` frees reservations whose batch never ran).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from invite_service.models.enums import Priority

# Base names; a deployment's queues are ``Settings.queue_prefix`` + these (``queue_names``), so two
# deployments or test runs on one broker never consume each other's jobs.
QUEUES = {Priority.HIGH: "invite-high", Priority.NORMAL: "invite-normal", Priority.LOW: "invite-low"}
# RabbitMQ message priority inside a queue (queues are declared with x-max-priority 10).
MESSAGE_PRIORITY = {Priority.HIGH: 9, Priority.NORMAL: 5, Priority.LOW: 1}
_PENDING = "deferred_jobs"
_QUEUE = "job_queue"
_UNPUBLISHED = "unpublished_jobs"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    countdown: float = 0.0

    def queue(self, prefix: str) -> str:
        return prefix + QUEUES[self.priority]


def queue_names(prefix: str) -> dict[Priority, str]:
    """The queue of each priority for a deployment with this ``INVITE_QUEUE_PREFIX``."""
    return {priority: prefix + name for priority, name in QUEUES.items()}


class JobQueue(ABC):
    @abstractmethod
    def send(self, job: Job) -> None:
        """Publish now (callers normally use ``defer`` instead)."""


def session_info(queue: JobQueue) -> dict[str, Any]:
    """The session ``info`` that makes a session publish its deferred jobs to ``queue``."""
    return {_QUEUE: queue}


def defer(session: AsyncSession | Session, job: Job) -> None:
    session.info.setdefault(_PENDING, []).append(job)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    jobs: list[Job] = session.info.pop(_PENDING, [])
    queue: JobQueue | None = session.info.get(_QUEUE)
    if queue is None:
        if jobs:
            raise RuntimeError("jobs were deferred on a session with no job queue bound")
        return
    for job in jobs:
        try:
            queue.send(job)
        except Exception as exc:  # noqa: BLE001 - any broker failure; see the module docstring
            session.info.setdefault(_UNPUBLISHED, []).append(job)
            log.error("job_not_published", job=job.name, job_kwargs=job.kwargs, error=repr(exc))


def can_defer(session: AsyncSession | Session) -> bool:
    """Whether this session publishes deferred jobs (a bare session, e.g. an import's staging one, does
    not: work it records is left to a periodic sweep)."""
    return session.info.get(_QUEUE) is not None


def unpublished(session: AsyncSession | Session) -> list[Job]:
    """The jobs this session committed but could not publish (its caller may act on them at once)."""
    jobs: list[Job] = session.info.get(_UNPUBLISHED, [])
    return jobs


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
