"""One import job from the first chunk to the merge.

Each chunk: read and normalize (worker thread) → check the suppression list, store rejected rows and
commit the progress (one short transaction) → stage the valid rows. At the end, in ONE transaction on
the staging connection: claim the job, list duplicates (``dedupe=false``), ``INSERT … SELECT`` the first
row of each identity the task lacks into ``invite_targets`` (``staging_repository.insert_targets``) and
bump the task's counters, drop the job's file. Until then no target exists. An import into an audience
merges the same staging into contacts, their tags and the audience's members instead
(``contact_merge``), in the same one transaction.

Every write is fenced by the run's ``attempt`` (``repository._owned``): a run that another run took
over (``service.begin_run``) stops at its next write, and only the owner can merge.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.db import Database
from invite_service.imports import contact_merge, remember
from invite_service.imports import file_limits as limits
from invite_service.imports import repository as repo
from invite_service.imports import staging_repository as staging
from invite_service.imports.convert import Staged
from invite_service.imports.sources import RowSource
from invite_service.imports.vector import convert_chunk
from invite_service.kit.clock import utcnow
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models.enums import TargetKind, TargetStatus
from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit
from invite_service.observability import audit, metrics
from invite_service.stores import counters as counters_store
from invite_service.stores import suppressions

# Which staged column holds each identity, in the order a suppression match is reported.
_IDENTITY_SLOTS = ((TargetKind.USER_ID, 4), (TargetKind.USERNAME, 3), (TargetKind.PHONE, 5))


class JobStopped(Exception):
    """The job left ``running`` under us (cancelled, taken over by a newer run, or its task deleted)."""


@dataclass(frozen=True)
class JobSpec:
    job_id: uuid.UUID
    attempt: int
    user_id: str
    task_id: uuid.UUID | None  # exactly one of task_id / audience_id: where the rows go
    platform: str
    source: str
    dedupe: bool
    skip_suppressed: bool
    region: str
    options: dict[str, Any]
    audience_id: uuid.UUID | None = None


_COMPLETED = NotificationEventType.IMPORT_COMPLETED


def _owner(spec: JobSpec) -> dict[str, str]:
    if spec.audience_id is not None:
        return {"audience_id": str(spec.audience_id)}
    return {"task_id": str(spec.task_id)}


def import_event(spec: JobSpec, **extra: Any) -> dict[str, Any]:
    """An import.* notification's data (docs/api.md "Notifications"): an audience import names its
    audience instead of a task."""
    return {"import_id": str(spec.job_id), **_owner(spec), **extra}


@dataclass
class Tally:
    seen: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    def take_sample(self, rejected: list[Rejection]) -> bool:
        room = limits.ERROR_SAMPLE_SIZE - len(self.sample)
        if room <= 0 or not rejected:
            return False
        self.sample += [{"row": r.row, "reason": r.reason, "detail": r.detail} for r in rejected[:room]]
        return True


def identities(rows: list[Staged]) -> dict[str, set[str]]:
    by_kind: dict[str, set[str]] = {kind: set() for kind, _slot in _IDENTITY_SLOTS}
    for row in rows:
        for kind, slot in _IDENTITY_SLOTS:
            value = row[slot]
            if isinstance(value, str):
                by_kind[kind].add(value)
    return by_kind


def split_suppressed(
    valid: list[Staged], raws: Sequence[dict[str, Any]], hits: dict[tuple[str, str], str]
) -> tuple[list[Staged], list[Rejection]]:
    """Valid rows that are clear, and a rejection for each row one of whose identities is suppressed."""
    clear: list[Staged] = []
    matched: list[Rejection] = []
    for row, raw in zip(valid, raws, strict=True):
        for kind, slot in _IDENTITY_SLOTS:
            key = row[slot]
            reason = hits.get((kind, key)) if isinstance(key, str) else None
            if reason is not None:
                detail = f"{kind} {key} is on the suppression list ({reason})"
                matched.append(Rejection(row[0], "suppressed", detail, raw))
                break
        else:
            clear.append(row)
    return clear, matched


@dataclass
class Chunk:
    """A chunk read and normalized, with the source's progress right after reading it."""

    valid: list[Staged]
    raws: Sequence[dict[str, Any]]  # the row each valid one came from
    rejected: list[Rejection]
    meta: dict[str, Any]
    bytes_read: int | None


async def _converted(source: RowSource, spec: JobSpec) -> AsyncIterator[Chunk]:
    async for rows in source.chunks():
        valid, raws, rejected = await asyncio.to_thread(
            convert_chunk, source.plan, rows, spec.region, contacts=spec.audience_id is not None
        )
        meta = {"columns": source.columns(), "rows_total": source.rows_total()}
        yield Chunk(valid, raws, rejected, meta, source.bytes_read())


async def _next(chunks: AsyncIterator[Chunk]) -> Chunk | None:
    try:
        return await chunks.__anext__()
    except StopAsyncIteration:
        return None


async def _read_ahead(chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    """Each chunk while the next is already being read and normalized (a worker thread, or the
    Parsing Service's next page), so parsing overlaps the database work of the chunk before."""
    pending = asyncio.ensure_future(_next(chunks))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(_next(chunks))
            yield chunk
    finally:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)


async def stream_into(
    stage: staging.Stage, database: Database, spec: JobSpec, source: RowSource, tally: Tally
) -> None:
    meta: dict[str, Any] = {}
    async for chunk in _read_ahead(_converted(source, spec)):
        valid, rejected = chunk.valid, chunk.rejected
        async with database.session() as session:
            if await suppressions.has_entries(session, spec.user_id, spec.platform):
                hits = await suppressions.suppressed_among(
                    session, spec.user_id, spec.platform, identities(valid)
                )
                clear, matched = split_suppressed(valid, chunk.raws, hits)
            else:  # the common case: no list, nothing to match
                clear, matched = valid, []
            if spec.skip_suppressed:
                staged, reported = clear, sorted(rejected + matched, key=lambda r: r.row)
            else:  # imported anyway (the engine skips them at send time); counted, not rejected
                staged, reported = valid, rejected
            seen = len(valid) + len(rejected)
            tally.seen += seen
            # The report's columns (JSON keys met late) and the expected row count, when they change.
            options = {**spec.options, **chunk.meta} if chunk.meta != meta else None
            meta = chunk.meta
            alive = await repo.record_progress(
                session,
                spec.job_id,
                attempt=spec.attempt,
                deltas={"rows_seen": seen, "rows_invalid": len(rejected), "rows_suppressed": len(matched)},
                bytes_read=chunk.bytes_read,
                error_sample=tally.sample if tally.take_sample(reported) else None,
                options=options,
            )
            if not alive:  # rolls back: a run that lost the job writes nothing more
                raise JobStopped
            await repo.add_rejections(session, spec.job_id, reported)
        await stage.add(staged)
    async with database.session() as session:
        # Everything is read; the merge may take a while on a big file: say so.
        if not await repo.record_progress(
            session,
            spec.job_id,
            attempt=spec.attempt,
            deltas={},
            options={**spec.options, **meta, "phase": "merging"},
        ):
            raise JobStopped


async def _remember(session: AsyncSession, spec: JobSpec, now: datetime) -> None:
    """A finished file import with a header remembers its mapping for the next file of that header."""
    columns, resolved = spec.options.get("columns"), spec.options.get("resolved_mapping")
    if spec.source != "file" or not spec.options.get("has_header"):
        return
    if not isinstance(columns, list) or not columns or not isinstance(resolved, dict):
        return
    names = [str(c) for c in columns]
    await repo.remember_mapping(
        session, spec.user_id, remember.signature(names), remember.stored(names, resolved), now
    )


async def merge(stage: staging.Stage, spec: JobSpec, tally: Tally) -> int:
    """Everything the job adds, in one transaction; returns the number of rows accepted (new targets,
    or the contacts an audience import created or merged into)."""
    async with stage.transaction() as session:
        now = utcnow()
        if not await repo.claim_for_merge(session, spec.job_id, spec.attempt, now):
            raise JobStopped
        await repo.delete_file(session, spec.job_id)
        # Duplicates are skipped either way and always listed in rejected.csv (``dedupe`` is kept
        # for compatibility: it once decided whether they were listed).
        await staging.report_duplicates(session, stage.table, spec.job_id, spec.task_id)
        if spec.audience_id is not None:
            accepted, details = await _merge_contacts(session, stage, spec, spec.audience_id, now)
        else:
            assert spec.task_id is not None
            accepted, details = await _merge_targets(session, stage, spec, spec.task_id, now)
        await repo.set_results(
            session, spec.job_id, rows_accepted=accepted, rows_duplicate=stage.rows - accepted
        )
        await _remember(session, spec, now)
        await audit.record(
            session,
            spec.user_id,
            "import.complete",
            "import_job",
            spec.job_id,
            {**_owner(spec), "accepted": accepted, "seen": tally.seen, **details},
        )
        await emit(
            session,
            spec.user_id,
            _COMPLETED,
            import_event(spec, accepted=accepted, rejected=tally.seen - stage.rows),
            now,
        )
    metrics.count_import_rows(  # rows seen but never staged were rejected (invalid, or suppressed)
        accepted=accepted, duplicate=stage.rows - accepted, rejected=tally.seen - stage.rows
    )
    return accepted


async def _merge_targets(
    session: AsyncSession, stage: staging.Stage, spec: JobSpec, task_id: uuid.UUID, now: datetime
) -> tuple[int, dict[str, Any]]:
    kinds = await staging.insert_targets(
        session, stage.table, task_id=task_id, user_id=spec.user_id, source=spec.source, now=now
    )
    inserted = sum(kinds.values())
    await counters_store.apply_counter_deltas(session, task_id, {TargetStatus.PENDING: inserted}, kinds)
    return inserted, {}


async def _merge_contacts(
    session: AsyncSession, stage: staging.Stage, spec: JobSpec, audience_id: uuid.UUID, now: datetime
) -> tuple[int, dict[str, Any]]:
    counts = await contact_merge.merge_contacts(
        session, stage.table, user_id=spec.user_id, platform=spec.platform, audience_id=audience_id, now=now
    )
    details = {"created": counts.created, "merged": counts.merged, "added": counts.added}
    await repo.add_options(session, spec.job_id, {"contacts": details})
    return counts.rows, details


async def run(
    database: Database, spec: JobSpec, source: RowSource, before_merge: Callable[[], Awaitable[None]]
) -> int:
    tally = Tally()
    contacts = spec.audience_id is not None
    async with staging.open_stage(database, spec.job_id, contacts=contacts) as stage:
        await stream_into(stage, database, spec, source, tally)
        await before_merge()
        return await merge(stage, spec, tally)
