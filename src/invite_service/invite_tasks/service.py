"""Task use cases. Services take a session and never commit; errors are typed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.errors import AppError, Conflict, FieldError, InvalidInput
from invite_service.invite_tasks import audiences as task_audiences
from invite_service.invite_tasks.schemas import (
    BulkItemResult,
    BulkTaskAction,
    BulkTaskResult,
    DuplicateIn,
    FieldOut,
    FieldsOut,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)
from invite_service.invite_tasks.template import STANDARD_FIELDS, Unknown, unknown_placeholders
from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, TotalOnAskPage, split_page
from invite_service.models import InviteTask, Lane, TaskCounters
from invite_service.models.enums import Priority, TaskAction, TaskStatus
from invite_service.models.task_settings import TaskSettings
from invite_service.observability import audit, metrics
from invite_service.stores import targets as target_repo
from invite_service.stores import tasks as repo
from invite_service.stores.counters import Counters, progress_pct
from invite_service.stores.task_audiences import Selection, selections
from invite_service.stores.tasks import get_owned
from invite_service.stores.waiting import task_waiting

ACTIVE_STATUSES = frozenset({TaskStatus.RUNNING})
# Checks account ids against the user's accounts on a platform; returns an error per unknown id.
AccountCheck = Callable[[str, Sequence[str]], Awaitable[list[FieldError]]]
CAP_FIELDS = ("invites_per_hour", "invites_per_day", "messages_per_hour", "messages_per_day")


class TaskIsRunning(Conflict):
    code, title = "task_running", "Task is running"


class UnknownPlaceholder(InvalidInput):
    """A placeholder without fallback that no target of the task can fill (``{frist_name}``)."""

    code, title = "UNKNOWN_PLACEHOLDER", "Unknown placeholder"


def unknown_placeholder_error(unknown: Sequence[Unknown], loc: tuple[str, ...]) -> dict[str, Any]:
    """What a refusal for ``unknown`` says: the detail, one field error a placeholder, and the names."""
    return {
        "detail": "; ".join(u.message for u in unknown),
        "errors": [FieldError(loc, u.message, "unknown_placeholder") for u in unknown],
        "extra": {
            "placeholders": [
                {"name": u.name, "suggestion": u.suggestion, "closest": u.closest} for u in unknown
            ]
        },
    }


async def check_placeholders(session: AsyncSession, task_id: uuid.UUID | None, template: str | None) -> None:
    """The save-time rule: a placeholder without fallback is a standard field or one some target of the
    task has. A task without targets yet accepts other names (start checks them again) unless they are a
    near miss of a standard field."""
    if not template:
        return
    custom: list[str] | None = None
    if task_id is not None:
        counters = await repo.counters(session, task_id)
        if counters is not None and counters.total > 0:
            _standard, fields = await target_repo.field_counts(session, task_id)
            custom = list(fields)
    unknown = unknown_placeholders(template, custom)
    if unknown:
        raise UnknownPlaceholder(**unknown_placeholder_error(unknown, ("body", "message_template")))


def to_out(
    task: InviteTask,
    counters: TaskCounters | None,
    lanes: Sequence[Lane],
    now: datetime | None = None,
    audiences: Selection | None = None,
) -> TaskOut:
    c = Counters.model_validate(counters, from_attributes=True) if counters else Counters()
    remaining = c.pending + c.reserved + c.sending
    return TaskOut(
        id=task.id,
        name=task.name,
        description=task.description,
        platform=task.platform,
        action=task.action,
        destination=task.destination,
        message_template=task.message_template,
        status=task.status,
        priority=task.priority,
        account_ids=[lane.account_id for lane in lanes],
        settings=task.settings,
        scheduled_at=task.scheduled_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        pause_reason=task.pause_reason,
        version=task.version,
        created_at=task.created_at,
        updated_at=task.updated_at,
        counters=c,
        progress=progress_pct(c.model_dump()),
        waiting=task_waiting(task, lanes, now or utcnow(), remaining),
        audiences=task_audiences.view(audiences, task.settings),
    )


async def task_view(session: AsyncSession, task: InviteTask, now: datetime | None = None) -> TaskOut:
    counters = await repo.counters_for(session, [task.id])
    lanes = await repo.lanes_for(session, [task.id])
    chosen = (await selections(session, [task.id])).get(task.id)
    return to_out(task, counters.get(task.id), lanes[task.id], now, chosen)


def _validate(
    config: Settings,
    *,
    platform: str,
    action: TaskAction,
    destination: str | None,
    template: str | None,
    task_settings: TaskSettings,
    account_errors: Sequence[FieldError] = (),
) -> None:
    """Rules that span fields: what the action needs, caps no higher than the platform's, known accounts."""
    errors: list[FieldError] = list(account_errors)
    if platform not in config.offered_platforms:
        # Production without INVITE_ALLOW_SANDBOX: the simulated messenger is not a place to send from.
        offered = ", ".join(config.offered_platforms)
        message = f"'{platform}' is not offered here; use one of: {offered}"
        errors.append(FieldError(("body", "platform"), message, "enum"))
    if action.invites and not destination:
        errors.append(
            FieldError(("body", "destination"), f"is required for action '{action.value}'", "missing")
        )
    if action.messages and not template:
        errors.append(
            FieldError(("body", "message_template"), f"is required for action '{action.value}'", "missing")
        )
    platform_caps = config.caps_for(platform)
    for name in CAP_FIELDS:
        mine = getattr(task_settings.caps, name)
        ceiling = getattr(platform_caps, name)
        if mine is not None and ceiling is not None and mine > ceiling:
            errors.append(
                FieldError(
                    ("body", "settings", "caps", name),
                    f"may only lower the {platform} cap of {ceiling}",
                    "less_than_equal",
                )
            )
    if errors:
        raise InvalidInput("The task is not valid; see errors.", errors=errors)


async def create_task(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    body: TaskCreate,
    check_accounts: AccountCheck | None = None,
) -> TaskOut:
    task_settings = body.settings or TaskSettings()
    account_errors = (
        await check_accounts(body.platform.value, body.account_ids or []) if check_accounts else []
    )
    _validate(
        config,
        platform=body.platform,
        action=body.action,
        destination=body.destination,
        template=body.message_template,
        task_settings=task_settings,
        account_errors=account_errors,
    )
    await check_placeholders(session, None, body.message_template)
    await task_audiences.check(
        session, user_id, body.platform.value, body.audiences, task_settings.contact_policy
    )
    task = InviteTask(
        id=uuid.uuid4(),
        user_id=user_id,
        name=body.name,
        description=body.description,
        platform=body.platform.value,
        action=body.action.value,
        destination=body.destination,
        message_template=body.message_template,
        status=TaskStatus.DRAFT,
        priority=body.priority,
        settings=task_settings.model_dump(mode="json"),
        scheduled_at=body.scheduled_at,
    )
    await repo.add(session, task)
    # Always through ``save``: audience rules given inside ``settings`` are not taken.
    task.settings = await task_audiences.save(session, task.id, body.audiences, task.settings)
    await repo.set_lanes(session, task.id, body.account_ids or [])
    await audit.record(session, user_id, "task.create", "task", task.id, {"name": task.name})
    metrics.after_commit(session, metrics.TASKS_CREATED.inc)
    return await task_view(session, task)


async def list_tasks(
    session: AsyncSession,
    user_id: str,
    filters: repo.TaskFilters,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
    *,
    with_total: bool = False,
) -> TotalOnAskPage[TaskOut]:
    """A page in three statements whatever its size (tasks with counters, their lanes, their audiences);
    a fourth, the count, only when asked: a first page that holds every match already knows its total."""
    rows = await repo.list_page(session, user_id, filters, sort, cursor, limit)
    page, next_cursor = split_page(rows, limit, sort, lambda r: (getattr(r[0], sort.field), r[0].id))
    ids = [task.id for task, _ in page]
    lanes = await repo.lanes_for(session, ids)
    chosen = await selections(session, ids)
    total: int | None = None
    if with_total:
        total = await repo.count_matching(session, user_id, filters)
    elif cursor is None and next_cursor is None:
        total = len(page)
    return TotalOnAskPage[TaskOut](
        # ``waiting`` from the same set-based reads (counters, lanes, audiences): no per-task query.
        items=[to_out(t, counters, lanes[t.id], now, chosen.get(t.id)) for t, counters in page],
        next_cursor=next_cursor,
        total=total,
    )


async def get_task(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, now: datetime | None = None
) -> TaskOut:
    return await task_view(session, await get_owned(session, user_id, task_id), now)


async def update_task(
    session: AsyncSession,
    config: Settings,
    user_id: str,
    task_id: uuid.UUID,
    body: TaskUpdate,
    check_accounts: AccountCheck | None = None,
) -> TaskOut:
    task = await get_owned(session, user_id, task_id, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    if task.status in ACTIVE_STATUSES and set(changes) - {"priority"}:
        raise TaskIsRunning(
            f"Task is {task.status}: only its priority can change; pause it first.",
            extra={"current_status": task.status},
        )
    task_settings = (
        body.settings
        if "settings" in changes and body.settings
        else TaskSettings.model_validate(task.settings)
    )
    merged: dict[str, Any] = {
        "action": TaskAction(changes.get("action", task.action)),
        "destination": changes.get("destination", task.destination),
        "template": changes.get("message_template", task.message_template),
    }
    account_errors: list[FieldError] = []
    if check_accounts and "account_ids" in changes:
        account_errors = await check_accounts(task.platform, body.account_ids or [])
    _validate(
        config, platform=task.platform, task_settings=task_settings, account_errors=account_errors, **merged
    )
    if "message_template" in changes:
        await check_placeholders(session, task.id, body.message_template)
    override = task_settings.contact_policy if "settings" in changes else None
    await task_audiences.check(session, user_id, task.platform, body.audiences, override)
    for field in ("name", "description", "destination", "message_template", "scheduled_at", "priority"):
        if field in changes:
            setattr(task, field, getattr(body, field))
    if "action" in changes:
        task.action = merged["action"].value
    if "settings" in changes:
        # The audience rules are written through ``audiences``, not ``settings``: keep the stored ones.
        rules = task.settings.get("audience_rules")
        task.settings = {**task_settings.model_dump(mode="json"), "audience_rules": rules}
    if "audiences" in changes:
        task.settings = await task_audiences.save(session, task.id, body.audiences, task.settings)
    if "account_ids" in changes:
        await repo.set_lanes(session, task.id, body.account_ids or [])
    await session.flush()
    await audit.record(session, user_id, "task.update", "task", task.id, {"fields": sorted(changes)})
    return await task_view(session, task)


async def task_fields(session: AsyncSession, user_id: str, task_id: uuid.UUID) -> FieldsOut:
    """The insert chips: the standard fields, then every imported field of the task's targets by name."""
    task = await get_owned(session, user_id, task_id)
    standard, custom = await target_repo.field_counts(session, task.id)
    fields = [FieldOut(name=name, targets=standard.get(name, 0), standard=True) for name in STANDARD_FIELDS]
    fields += [
        FieldOut(name=name, targets=count, standard=False)
        for name, count in sorted(custom.items())
        if name not in STANDARD_FIELDS
    ]
    return FieldsOut(fields=fields)


async def delete_task(session: AsyncSession, user_id: str, task_id: uuid.UUID) -> None:
    task = await get_owned(session, user_id, task_id, for_update=True)
    if task.status in ACTIVE_STATUSES:
        raise TaskIsRunning(
            "A running task cannot be deleted; cancel or pause it first.",
            extra={"current_status": task.status},
        )
    await repo.delete_task(session, task)
    await audit.record(session, user_id, "task.delete", "task", task_id, {"name": task.name})


async def duplicate_task(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, body: DuplicateIn
) -> TaskOut:
    source = await get_owned(session, user_id, task_id)
    lanes = (await repo.lanes_for(session, [source.id]))[source.id]
    copy = InviteTask(
        id=uuid.uuid4(),
        user_id=user_id,
        name=body.name or f"{source.name} (copy)"[:200],
        description=source.description,
        platform=source.platform,
        action=source.action,
        destination=source.destination,
        message_template=source.message_template,
        status=TaskStatus.DRAFT,
        priority=source.priority,
        settings=dict(source.settings),
    )
    await repo.add(session, copy)
    await repo.set_lanes(session, copy.id, [lane.account_id for lane in lanes])
    await task_audiences.copy(session, source.id, copy.id)
    copied = 0
    if body.include_targets:
        copied = await target_repo.copy_targets(session, source.id, copy.id, user_id)
    await audit.record(
        session, user_id, "task.duplicate", "task", copy.id, {"source": str(source.id), "targets": copied}
    )
    return await task_view(session, copy)


ControlFn = Callable[[InviteTask, str], Awaitable[None]]


async def bulk(
    session: AsyncSession, user_id: str, body: BulkTaskAction, control: ControlFn
) -> BulkTaskResult:
    """Apply one action to many tasks; each task succeeds or fails on its own.

    ``control`` applies PAUSE/RESUME/CANCEL (the execution service), passed in by the endpoint.
    """
    tasks = {t.id: t for t in await repo.get_many(session, user_id, body.task_ids)}
    results: list[BulkItemResult] = []
    for task_id in dict.fromkeys(body.task_ids):
        task = tasks.get(task_id)
        if task is None:
            results.append(BulkItemResult(task_id=task_id, ok=False, status=404, detail="not found"))
            continue
        try:
            if body.action == "DELETE":
                if task.status in ACTIVE_STATUSES:
                    raise TaskIsRunning(f"task is {task.status}")
                await repo.delete_task(session, task)
                await audit.record(session, user_id, "task.delete", "task", task_id, {"bulk": True})
            elif body.action == "SET_PRIORITY":
                task.priority = body.priority or Priority.NORMAL
                await audit.record(
                    session, user_id, "task.update", "task", task_id, {"fields": ["priority"], "bulk": True}
                )
            else:
                await control(task, body.action.lower())
        except AppError as exc:
            results.append(BulkItemResult(task_id=task_id, ok=False, status=exc.status, detail=exc.detail))
            continue
        results.append(BulkItemResult(task_id=task_id, ok=True, status=200))
    await session.flush()
    ok = sum(r.ok for r in results)
    return BulkTaskResult(results=results, succeeded=ok, failed=len(results) - ok)
