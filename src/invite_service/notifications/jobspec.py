"""The jobs of notifications, by name (``workers/jobs.py`` maps each name to its function)."""

from __future__ import annotations

import uuid

from invite_service.context.jobs import Job

DELIVER = "notifications.deliver"
SWEEP_DELIVERIES = "notifications.sweep"


def deliver_job(delivery_id: uuid.UUID) -> Job:
    return Job(DELIVER, {"delivery_id": str(delivery_id)})
