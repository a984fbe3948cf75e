"""A task's counters as every reader shows them: by target status, with the total and the progress."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from invite_service.models import InviteTask, TaskCounters
from invite_service.models.enums import FINAL_TARGET_STATUSES, TargetStatus


class Counters(BaseModel):
    total: int = 0
    pending: int = 0
    reserved: int = 0
    sending: int = 0
    invited: int = 0
    messaged: int = 0
    already_member: int = 0
    failed: int = 0
    skipped: int = 0
    unknown: int = 0


def counters_dict(c: TaskCounters | None) -> dict[str, int]:
    names = ["total", *[s.value for s in TargetStatus]]
    return {n: int(getattr(c, n)) if c is not None else 0 for n in names}


def progress_pct(counts: dict[str, int]) -> float:
    done = sum(counts[s.value] for s in FINAL_TARGET_STATUSES)
    return round(100.0 * done / counts["total"], 2) if counts["total"] else 0.0


def status_event(task: InviteTask, counters: TaskCounters | None, kind: str) -> dict[str, Any]:
    """A task's state and counters as every progress event and event-stream snapshot shows them."""
    counts = counters_dict(counters)
    return {
        "type": kind,
        "task_id": str(task.id),
        "status": str(task.status),
        "pause_reason": task.pause_reason,
        "counters": counts,
        "progress": progress_pct(counts),
    }
