"""A task's counters: how every reader shows them (by target status, the total, the progress), and how they
change (deltas written in the transaction that moves the targets)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTask, TaskCounters
from invite_service.models.enums import FINAL_TARGET_STATUSES, TargetKind, TargetStatus


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


def replied_count(c: TaskCounters | None) -> int:
    """Targets that replied: beside the status counters, not one of them (a replied target is still
    messaged, invited, ...)."""
    return int(c.replied) if c is not None else 0


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


COUNTED_STATUSES = tuple(s.value for s in TargetStatus)
KIND_COLUMNS = {kind.value: f"kind_{kind.value}" for kind in TargetKind}


async def apply_counter_deltas(
    session: AsyncSession,
    task_id: uuid.UUID,
    status_deltas: Mapping[str, int],
    kind_deltas: Mapping[str, int] | None = None,
) -> None:
    """Add deltas to the task's counters with one UPDATE (atomic under concurrent writers).

    ``total`` follows the sum of kind deltas: only inserts and deletes change it.
    """
    values: dict[str, Any] = {}
    for status, delta in status_deltas.items():
        if delta:
            col = getattr(TaskCounters, status)
            values[status] = col + delta
    kind_deltas = kind_deltas or {}
    total = sum(kind_deltas.values())
    for kind, delta in kind_deltas.items():
        if delta:
            column = KIND_COLUMNS[kind]
            values[column] = getattr(TaskCounters, column) + delta
    if total:
        values["total"] = TaskCounters.total + total
    if values:
        await session.execute(update(TaskCounters).where(TaskCounters.task_id == task_id).values(**values))
