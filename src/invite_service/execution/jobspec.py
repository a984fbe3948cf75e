"""The jobs the engine enqueues, by name (``workers/jobs.py`` maps each name to its function)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from invite_service.context.jobs import Job
from invite_service.models.enums import Priority

DISPATCH = "execution.dispatch"
PROCESS_BATCH = "execution.process_batch"
TICK = "execution.tick"
RECOVER = "execution.recover"
PING = "system.ping"


def dispatch_job(task_id: uuid.UUID, priority: Priority, countdown: float = 0.0) -> Job:
    return Job(DISPATCH, {"task_id": str(task_id)}, priority=priority, countdown=countdown)


def batch_job(task_id: uuid.UUID, account_id: str, target_ids: Sequence[int], priority: Priority) -> Job:
    return Job(
        PROCESS_BATCH,
        {"task_id": str(task_id), "account_id": account_id, "target_ids": list(target_ids)},
        priority=priority,
    )
