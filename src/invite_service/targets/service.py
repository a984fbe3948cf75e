"""Target use cases: add (one or in bulk), list, edit, delete, bulk actions, stats."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.errors import Conflict, FieldError, InvalidInput, NotFound
from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import Page, SortSpec, split_page
from invite_service.models import InviteTarget, InviteTask
from invite_service.models.enums import TargetKind, TargetStatus
from invite_service.models.identity import Identity, NormalizeError, normalize_identity
from invite_service.observability import audit
from invite_service.stores import counters as counters_store
from invite_service.stores import targets as repo
from invite_service.stores import tasks as task_store
from invite_service.targets.schemas import (
    BulkActionIn,
    BulkActionOut,
    BulkRowResult,
    BulkTargetsIn,
    BulkTargetsOut,
    TargetIn,
    TargetOut,
    TargetStats,
    TargetUpdate,
)

IN_FLIGHT = frozenset({TargetStatus.RESERVED, TargetStatus.SENDING})
# Which statuses each bulk action may change: never a target the engine holds right now.
BULK_FROM: dict[str, list[TargetStatus]] = {
    "delete": [s for s in TargetStatus if s not in IN_FLIGHT],
    "reset_to_pending": [TargetStatus.FAILED, TargetStatus.SKIPPED, TargetStatus.UNKNOWN],
    "skip": [TargetStatus.PENDING],
}


class TargetNotFound(NotFound):
    code, title = "target_not_found", "Target not found"


class DuplicateTarget(Conflict):
    code, title = "target_duplicate", "Target already in the task"


class TargetInFlight(Conflict):
    code, title = "target_in_flight", "Target is being processed"


def to_out(t: InviteTarget) -> TargetOut:
    return TargetOut(
        id=t.id,
        task_id=t.task_id,
        kind=TargetKind(t.kind),
        key=t.key,
        username=t.username,
        user_id=t.platform_user_id,
        phone=t.phone,
        first_name=t.first_name,
        last_name=t.last_name,
        fields=t.extra,
        source=t.source,
        status=TargetStatus(t.status),
        attempts=t.attempts,
        account_id=t.account_id,
        error_code=t.error_code,
        error_detail=t.error_detail,
        next_attempt_at=t.next_attempt_at,
        processed_at=t.processed_at,
        replied_at=t.replied_at,
        created_at=t.created_at,
        updated_at=t.updated_at,
    )


def identify(body: TargetIn, config: Settings) -> Identity:
    return normalize_identity(
        username=body.username,
        user_id=body.user_id,
        phone=body.phone,
        default_region=config.default_phone_region,
    )


def _row(task: InviteTask, ident: Identity, body: TargetIn, source: str) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "user_id": task.user_id,
        "kind": ident.kind.value,
        "key": ident.key,
        "username": ident.username,
        "platform_user_id": ident.platform_user_id,
        "phone": ident.phone,
        "first_name": body.first_name,
        "last_name": body.last_name,
        "extra": body.fields,
        "source": source,
        "status": TargetStatus.PENDING,
        "attempts": 0,
    }


def _identity_error(exc: NormalizeError, prefix: tuple[str | int, ...]) -> FieldError:
    field, _, message = str(exc).partition(": ")
    if message and field in {"username", "user_id", "phone"}:
        return FieldError((*prefix, field), message)
    return FieldError(prefix, str(exc))


async def create_target(
    session: AsyncSession, config: Settings, task: InviteTask, body: TargetIn
) -> TargetOut:
    try:
        ident = identify(body, config)
    except NormalizeError as exc:
        raise InvalidInput("The target is not valid.", errors=[_identity_error(exc, ("body",))]) from exc
    inserted = await repo.insert_targets(session, [_row(task, ident, body, "api")])
    if not inserted:
        raise DuplicateTarget(f"The task already has {ident.kind.value} {ident.key!r}.")
    target = await repo.get_target(session, task.user_id, task.id, inserted[0][0])
    assert target is not None
    await audit.record(session, task.user_id, "target.create", "target", target.id, {"task_id": str(task.id)})
    return to_out(target)


async def bulk_create(
    session: AsyncSession, config: Settings, task: InviteTask, body: BulkTargetsIn
) -> BulkTargetsOut:
    if len(body.targets) > config.max_bulk_targets:
        raise InvalidInput(
            errors=[FieldError(("body", "targets"), f"at most {config.max_bulk_targets} targets a request")]
        )
    results: list[BulkRowResult] = []
    rows: list[dict[str, Any]] = []
    row_index: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(body.targets):
        prefix: tuple[str | int, ...] = ("body", "targets", index)
        try:
            item = TargetIn.model_validate(raw)
            ident = identify(item, config)
        except ValidationError as exc:
            errors = [FieldError((*prefix, *e["loc"]), e["msg"], e["type"]).as_dict() for e in exc.errors()]
            results.append(BulkRowResult(index=index, result="invalid", errors=errors))
            continue
        except NormalizeError as exc:
            results.append(
                BulkRowResult(index=index, result="invalid", errors=[_identity_error(exc, prefix).as_dict()])
            )
            continue
        identity = (ident.kind.value, ident.key)
        if identity in row_index:
            results.append(BulkRowResult(index=index, result="duplicate", key=ident.key))
            continue
        row_index[identity] = index
        rows.append(_row(task, ident, item, "bulk"))
        results.append(BulkRowResult(index=index, result="created", key=ident.key))
    invalid = [r for r in results if r.result == "invalid"]
    if invalid and body.all_or_nothing:
        raise InvalidInput(
            f"{len(invalid)} of {len(body.targets)} rows are invalid; nothing was added (all_or_nothing).",
            errors=[FieldError(tuple(e["loc"]), str(e["msg"])) for r in invalid for e in r.errors],  # type: ignore[arg-type]
        )
    inserted = {(kind, key): target_id for target_id, kind, key in await repo.insert_targets(session, rows)}
    for identity, index in row_index.items():
        target_id = inserted.get(identity)
        if target_id is None:  # the task had it already
            results[index] = BulkRowResult(index=index, result="duplicate", key=identity[1])
        else:
            results[index].id = target_id
    created = sum(r.result == "created" for r in results)
    duplicates = sum(r.result == "duplicate" for r in results)
    await audit.record(
        session,
        task.user_id,
        "target.bulk_create",
        "task",
        task.id,
        {"created": created, "duplicates": duplicates, "invalid": len(invalid)},
    )
    return BulkTargetsOut(created=created, duplicates=duplicates, invalid=len(invalid), results=results)


async def list_targets(
    session: AsyncSession,
    task: InviteTask,
    *,
    statuses: list[str],
    kind: str | None,
    q: str | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
    error_code: str | None = None,
) -> Page[TargetOut]:
    rows, total = await repo.list_targets(
        session,
        task.user_id,
        task.id,
        statuses=statuses,
        kind=kind,
        q=q,
        error_code=error_code,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = split_page(rows, limit, sort, lambda t: (getattr(t, sort.field), t.id))
    return Page[TargetOut](items=[to_out(t) for t in items], next_cursor=next_cursor, total=total)


async def _owned_target(session: AsyncSession, task: InviteTask, target_id: int) -> InviteTarget:
    target = await repo.get_target(session, task.user_id, task.id, target_id)
    if target is None:
        raise TargetNotFound(f"No target {target_id} in this task")
    return target


async def get_target(session: AsyncSession, task: InviteTask, target_id: int) -> TargetOut:
    return to_out(await _owned_target(session, task, target_id))


async def update_target(
    session: AsyncSession, task: InviteTask, target_id: int, body: TargetUpdate
) -> TargetOut:
    target = await _owned_target(session, task, target_id)
    if target.status in IN_FLIGHT:
        raise TargetInFlight(f"Target is {target.status}; try again when it is done.")
    changes = body.model_dump(exclude_unset=True)
    for field in ("first_name", "last_name"):
        if field in changes:
            setattr(target, field, changes[field])
    if "fields" in changes:
        target.extra = changes["fields"] or {}
    target.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session, task.user_id, "target.update", "target", target.id, {"fields": sorted(changes)}
    )
    return to_out(target)


async def delete_target(session: AsyncSession, task: InviteTask, target_id: int) -> None:
    target = await _owned_target(session, task, target_id)
    if target.status in IN_FLIGHT:
        raise TargetInFlight(f"Target is {target.status}; try again when it is done.")
    where = repo.selection(
        task.user_id, task.id, ids=[target.id], statuses=[], kind=None, allowed_from=BULK_FROM["delete"]
    )
    await repo.delete_where(session, task.id, where)
    await audit.record(session, task.user_id, "target.delete", "target", target_id, {"task_id": str(task.id)})


async def bulk_action(session: AsyncSession, task: InviteTask, body: BulkActionIn) -> BulkActionOut:
    where = repo.selection(
        task.user_id,
        task.id,
        ids=body.ids,
        statuses=[s.value for s in body.filter.status] if body.filter else [],
        kind=body.filter.kind.value if body.filter and body.filter.kind else None,
        allowed_from=BULK_FROM[body.action],
    )
    if body.action == "delete":
        affected = await repo.delete_where(session, task.id, where)
    elif body.action == "reset_to_pending":
        moved = await repo.transition(
            session,
            task.id,
            where,
            BULK_FROM["reset_to_pending"],
            TargetStatus.PENDING,
            attempts=0,
            error_code=None,
            error_detail=None,
            next_attempt_at=None,
            account_id=None,
            processed_at=None,
            lease_until=None,
            # The user's explicit decision to send again: a new operation, never a replay of the old.
            lineage=InviteTarget.lineage + 1,
            operation_key=None,
        )
        affected = len(moved)
    else:
        moved = await repo.transition(
            session,
            task.id,
            where,
            BULK_FROM["skip"],
            TargetStatus.SKIPPED,
            processed_at=utcnow(),
            error_code="skipped_by_user",
        )
        affected = len(moved)
    await audit.record(
        session, task.user_id, f"target.bulk_{body.action}", "task", task.id, {"affected": affected}
    )
    return BulkActionOut(action=body.action, affected=affected)


async def stats(session: AsyncSession, task: InviteTask) -> TargetStats:
    counters = await task_store.counters(session, task.id)
    if counters is None:
        raise TargetNotFound("Task has no counters")
    return TargetStats(
        total=counters.total,
        by_status={s: getattr(counters, s.value) for s in TargetStatus},
        by_kind={k: getattr(counters, counters_store.KIND_COLUMNS[k.value]) for k in TargetKind},
    )
