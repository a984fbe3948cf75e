"""Task state changes — start, pause, resume, cancel, complete — for the API and the engine alike.

Every change goes through ``policy.check_transition`` under the task's row lock (PostgreSQL)
and its version check (SQLite); repeating a call is harmless; a change that is not allowed is a
409 naming the current state. Jobs and progress events go out only after the commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences import materialise
from invite_service.context.jobs import defer
from invite_service.errors import Conflict, FieldError, InvalidInput
from invite_service.execution.jobspec import dispatch_job
from invite_service.execution.policy import LANE_USABLE, TransitionNotAllowed, check_transition
from invite_service.invite_tasks.service import unknown_placeholder_error
from invite_service.invite_tasks.template import unknown_placeholders
from invite_service.kit.progress import ProgressBus, defer_event
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import TargetStatus, TaskStatus
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit
from invite_service.observability import audit
from invite_service.stores import targets as targets
from invite_service.stores import tasks as task_store
from invite_service.stores.counters import status_event


class UnknownPlaceholderAtStart(Conflict):
    """The template needs a field no pending target has (it was saved before the targets came)."""

    code, title = "UNKNOWN_PLACEHOLDER", "Unknown placeholder"


class _HasBus(Protocol):
    progress: ProgressBus


async def publish_status(
    session: AsyncSession, rt: _HasBus, task: InviteTask, kind: str = "progress"
) -> None:
    event = status_event(task, await task_store.counters(session, task.id), kind)
    defer_event(session, rt.progress, task.id, event)


async def _set_status(
    session: AsyncSession, rt: _HasBus, task: InviteTask, status: TaskStatus, **values: Any
) -> None:
    task.status = status
    for key, value in values.items():
        setattr(task, key, value)
    await session.flush()  # the version check fires here on SQLite
    await publish_status(session, rt, task, kind="status")


async def start_check(session: AsyncSession, task: InviteTask) -> list[FieldError]:
    """Why the task cannot run, one error a reason (empty when it can)."""
    errors: list[FieldError] = []
    action = task.action
    if action.invites and not task.destination:
        errors.append(FieldError(("task", "destination"), "a destination chat is needed to invite"))
    if action.messages and not task.message_template:
        errors.append(
            FieldError(("task", "message_template"), "a message template is needed to send messages")
        )
    lanes = await task_store.lanes(session, task.id)
    if not any(lane.status in LANE_USABLE for lane in lanes):
        errors.append(FieldError(("task", "account_ids"), "at least one usable account is needed"))
    counters = await task_store.counters(session, task.id)
    if counters is None or counters.pending == 0:
        errors.append(FieldError(("task", "targets"), "at least one pending target is needed"))
    return errors


async def check_placeholders_at_start(session: AsyncSession, task: InviteTask) -> None:
    """A placeholder without fallback must be a standard field or one some pending target has: the save-time
    rule let a task without targets keep other names, so they are checked against the audience here."""
    if not task.action.messages or not task.message_template:
        return
    _standard, custom = await targets.field_counts(session, task.id, [TargetStatus.PENDING])
    unknown = unknown_placeholders(task.message_template, list(custom), among="any pending target")
    if unknown:
        refusal = unknown_placeholder_error(unknown, ("task", "message_template"))
        raise UnknownPlaceholderAtStart(
            refusal["detail"],
            errors=refusal["errors"],
            extra={**refusal["extra"], "current_status": str(task.status)},
        )


async def _has_pending(session: AsyncSession, task: InviteTask) -> bool:
    counters = await task_store.counters(session, task.id)
    return counters is not None and counters.pending > 0


async def start(session: AsyncSession, rt: _HasBus, task: InviteTask, now: datetime) -> None:
    scheduled = task.scheduled_at is not None and task.scheduled_at > now
    to = TaskStatus.SCHEDULED if scheduled else TaskStatus.RUNNING
    current = task.status
    if current in (TaskStatus.RUNNING, TaskStatus.SCHEDULED) and not check_transition(
        "start", current, current
    ):
        return
    check_transition("start", current, to)
    if current is TaskStatus.DRAFT or materialise.takes_new_contacts(task):
        # Before the checks, in this transaction: a task whose targets all come from audiences may start.
        await materialise.materialise(session, task, now)
    if current is TaskStatus.COMPLETED and not await _has_pending(session, task):
        # A completed task runs again only for targets requeued into it. With none, starting it is a
        # transition it cannot make (409 naming its state), not a precondition the user could fix (422).
        raise TransitionNotAllowed(
            f"Cannot start a task that is {current}: it has no pending targets (requeue some first).",
            extra={"current_status": str(current)},
        )
    errors = await start_check(session, task)
    if errors:
        raise InvalidInput("The task cannot start yet; see errors.", errors=errors)
    await check_placeholders_at_start(session, task)
    await _set_status(
        session,
        rt,
        task,
        to,
        pause_reason=None,
        finished_at=None,
        started_at=None if scheduled else now,
        next_run_at=now,
    )
    if not scheduled:
        defer(session, dispatch_job(task.id, task.priority))
    await audit.record(session, task.user_id, "task.start", "task", task.id, {"status": str(to)})


async def start_scheduled(session: AsyncSession, rt: _HasBus, task_id: uuid.UUID, now: datetime) -> None:
    task = await task_store.task(session, task_id, for_update=True)
    if task is not None and task.status is TaskStatus.SCHEDULED:
        await materialise.materialise(session, task, now)  # the contacts added while it waited
        await _set_status(session, rt, task, TaskStatus.RUNNING, started_at=now, next_run_at=now)


async def pause(
    session: AsyncSession, rt: _HasBus, task: InviteTask, reason: str | None, now: datetime
) -> bool:
    if not check_transition("pause", task.status, TaskStatus.PAUSED):
        return False
    await _set_status(session, rt, task, TaskStatus.PAUSED, pause_reason=reason)
    return True


async def pause_task(
    session: AsyncSession, rt: _HasBus, task: InviteTask, reason: str, now: datetime
) -> None:
    """The engine's pause (breaker, a full chat, no account left): the reason tells the user why."""
    if task.status is TaskStatus.RUNNING:
        await pause(session, rt, task, reason, now)
        await audit.record(
            session, task.user_id, "task.pause", "task", task.id, {"reason": reason, "by": "engine"}
        )
        await emit(session, task.user_id, NotificationEventType.TASK_PAUSED, _event(task, reason=reason), now)


async def resume(session: AsyncSession, rt: _HasBus, task: InviteTask, now: datetime) -> None:
    if not check_transition("resume", task.status, TaskStatus.RUNNING):
        return
    if materialise.takes_new_contacts(task):
        await materialise.materialise(session, task, now)
    await _set_status(session, rt, task, TaskStatus.RUNNING, pause_reason=None, next_run_at=now)
    defer(session, dispatch_job(task.id, task.priority))


async def cancel(session: AsyncSession, rt: _HasBus, task: InviteTask, now: datetime) -> None:
    """Nothing pending is left: pending and reserved targets become ``skipped``."""
    if not check_transition("cancel", task.status, TaskStatus.CANCELLED):
        return
    await targets.transition(
        session,
        task.id,
        InviteTarget.task_id == task.id,
        [TargetStatus.PENDING, TargetStatus.RESERVED],
        TargetStatus.SKIPPED,
        error_code="cancelled",
        processed_at=now,
        lease_until=None,
    )
    await _set_status(session, rt, task, TaskStatus.CANCELLED, finished_at=now, next_run_at=None)


async def complete_task(session: AsyncSession, rt: _HasBus, task: InviteTask, now: datetime) -> None:
    await _set_status(session, rt, task, TaskStatus.COMPLETED, finished_at=now, next_run_at=None)
    await audit.record(session, task.user_id, "task.complete", "task", task.id, {})
    await emit(session, task.user_id, NotificationEventType.TASK_COMPLETED, _event(task), now)


def _event(task: InviteTask, **extra: Any) -> dict[str, Any]:
    """A task.* notification's data (docs/api.md "Notifications"). task.failed has no emitter: no path
    sets TaskStatus.FAILED today."""
    return {"task_id": str(task.id), "task_name": task.name, "status": str(task.status), **extra}
