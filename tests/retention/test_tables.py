"""Every table past its retention in simulated time: exactly the old rows go, the rest stay.

Rows are written through the stores the service uses (execution log, audit, reply events, imports), with
their instants taken from the simulated clock; the sweep runs at ``NOW``.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select, update

from invite_service.context.runtime import Runtime
from invite_service.imports import repository as import_repo
from invite_service.kit.faults import Boundary, Crash
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models import (
    AuditEvent,
    ExecutionLog,
    IdempotencyKey,
    ImportFile,
    ImportJob,
    ImportRejection,
    IntegrationEvent,
)
from invite_service.models.enums import ImportStatus
from invite_service.models.notifications import (
    DeliveryStatus,
    NotificationDelivery,
    NotificationEvent,
    NotificationEventType,
    WebhookEndpoint,
)
from invite_service.notifications import service as notifications
from invite_service.observability import audit
from invite_service.retention.jobspec import SWEEP_RETENTION
from invite_service.retention.policy import RetentionIncomplete, sweep
from invite_service.stores import logs, replies
from invite_service.workers.jobs import run_job
from tests.retention.conftest import NOW

DAY = timedelta(days=1)


async def write_log(rt: Runtime, at: datetime) -> None:
    async with rt.db.session() as session:
        await logs.log(session, task_id=uuid.uuid4(), user_id="u1", action="invite", outcome="invited", at=at)


async def write_audit(rt: Runtime, at: datetime, object_id: str) -> None:
    async with rt.db.session() as session:
        await audit.record(session, "u1", "task.create", "task", object_id)
        await session.flush()
        await session.execute(update(AuditEvent).where(AuditEvent.object_id == object_id).values(at=at))


async def instants(rt: Runtime, column: Any) -> list[datetime]:
    async with rt.db.session() as session:
        return sorted(await session.scalars(select(column)))


async def count(rt: Runtime, model: Any, *where: Any) -> int:
    async with rt.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def deleted_metric(table: str) -> float:
    return REGISTRY.get_sample_value("invite_retention_deleted_total", {"table": table}) or 0.0


async def test_execution_logs_at_89_days_stay_and_at_91_go(rt: Runtime) -> None:
    for days in (1, 89, 91, 200):
        await write_log(rt, NOW - days * DAY)
    before = deleted_metric("invite_execution_logs")
    counts = await sweep(rt)
    assert counts["invite_execution_logs"] == 2
    assert await instants(rt, ExecutionLog.at) == [NOW - 89 * DAY, NOW - DAY]
    assert deleted_metric("invite_execution_logs") - before == 2


async def test_audit_events_keep_a_year(rt: Runtime) -> None:
    for days in (364, 366, 400):
        await write_audit(rt, NOW - days * DAY, f"obj-{days}")
    counts = await sweep(rt)
    assert counts["audit_events"] == 2
    assert await instants(rt, AuditEvent.at) == [NOW - 364 * DAY]


async def test_zero_days_keeps_a_table_forever(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(
        update={"retention_audit_days": 0, "retention_execution_log_days": 0}
    )
    await write_audit(rt, NOW - 3000 * DAY, "ancient")
    await write_log(rt, NOW - 3000 * DAY)
    counts = await sweep(rt)
    assert "audit_events" not in counts and "invite_execution_logs" not in counts
    assert await count(rt, AuditEvent) == await count(rt, ExecutionLog) == 1


async def test_idempotency_keys_go_after_24_hours(rt: Runtime) -> None:
    async with rt.db.session() as session:
        for hours in (23, 25):
            await session.execute(
                insert(IdempotencyKey).values(
                    user_id="u1",
                    scope="POST /tasks",
                    key=f"k{hours}",
                    request_hash="h",
                    status_code=201,
                    response={},
                    created_at=NOW - timedelta(hours=hours),
                )
            )
    counts = await sweep(rt)
    assert counts["idempotency_keys"] == 1
    async with rt.db.session() as session:
        assert list(await session.scalars(select(IdempotencyKey.key))) == ["k23"]


async def test_integration_events_keep_30_days(rt: Runtime) -> None:
    async with rt.db.session() as session:
        for days in (29, 31):
            assert await replies.claim_event(session, "u1", f"evt-{days}", NOW - days * DAY)
    counts = await sweep(rt)
    assert counts["integration_events"] == 1
    async with rt.db.session() as session:
        assert list(await session.scalars(select(IntegrationEvent.id))) == ["evt-29"]
        # A repeat of a kept event is still a duplicate.
        assert not await replies.claim_event(session, "u1", "evt-29", NOW)


async def make_import(
    rt: Runtime, status: ImportStatus, ended: datetime | None, *, files: int = 2, rejected: int = 3
) -> uuid.UUID:
    async with rt.db.session() as session:
        job = await import_repo.create_job(session, user_id="u1", source="file", filename="a.csv")
        chunk = import_repo.FILE_CHUNK_BYTES
        await import_repo.store_file(session, job.id, io.BytesIO(b"x" * (chunk * (files - 1) + 10)))
        rows: Sequence[Rejection] = [Rejection(i, "invalid", "bad", {"c": i}) for i in range(rejected)]
        await import_repo.add_rejections(session, job.id, rows)
        # A running job last beat long ago (e.g. its worker is being replaced) must still be left alone.
        last_beat = ended or NOW - 400 * DAY
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id)
            .values(status=status.value, finished_at=ended, updated_at=last_beat, created_at=last_beat)
        )
        return job.id


async def test_ended_imports_lose_their_file_after_the_grace_and_their_rejections_later(rt: Runtime) -> None:
    running = await make_import(rt, ImportStatus.RUNNING, None)
    done_2h = await make_import(rt, ImportStatus.COMPLETED, NOW - timedelta(hours=2))
    failed_30m = await make_import(rt, ImportStatus.FAILED, NOW - timedelta(minutes=30))
    cancelled_91d = await make_import(rt, ImportStatus.CANCELLED, NOW - 91 * DAY)

    counts = await sweep(rt)

    assert counts["import_files"] == 2 + 2  # done_2h's and cancelled_91d's
    assert counts["import_rejections"] == 3  # cancelled_91d's
    files = {job: await count(rt, ImportFile, ImportFile.job_id == job) for job in (running, done_2h)}
    assert files == {running: 2, done_2h: 0}
    assert await count(rt, ImportFile, ImportFile.job_id == failed_30m) == 2  # inside the 1 h grace
    kept = {
        job: await count(rt, ImportRejection, ImportRejection.job_id == job)
        for job in (running, done_2h, failed_30m, cancelled_91d)
    }
    assert kept == {running: 3, done_2h: 3, failed_30m: 3, cancelled_91d: 0}
    assert await count(rt, ImportJob) == 4  # the jobs themselves stay (the user's import history)


async def test_batches_honour_the_per_run_budget_and_the_next_run_finishes(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"retention_batch_size": 2, "retention_max_batches": 2})
    for i in range(5):
        await write_audit(rt, NOW - (400 + i) * DAY, f"old-{i}")
    await write_audit(rt, NOW - DAY, "new")
    first = await sweep(rt)
    assert first["audit_events"] == 4  # two batches of two, then the budget ends the run
    assert await count(rt, AuditEvent) == 2
    second = await sweep(rt)
    assert second["audit_events"] == 1
    assert await count(rt, AuditEvent) == 1


async def test_without_a_tight_budget_one_run_deletes_everything_old_in_small_batches(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"retention_batch_size": 2})
    for i in range(5):
        await write_log(rt, NOW - (100 + i) * DAY)
    await write_log(rt, NOW)
    counts = await run_job(rt, SWEEP_RETENTION, {})  # the job path the beat and the ticker take
    assert counts["invite_execution_logs"] == 5
    assert await instants(rt, ExecutionLog.at) == [NOW]


async def test_each_batch_commits_on_its_own_so_a_crash_mid_run_keeps_what_was_done(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"retention_batch_size": 2})
    for i in range(5):
        await write_log(rt, NOW - (100 + i) * DAY)
    batches: list[int] = []

    async def die_after_the_first_batch(context: dict[str, Any]) -> None:
        if context["table"] == "invite_execution_logs":
            batches.append(context["deleted"])
            raise Crash

    rt.faults.arm(Boundary.AFTER_RETENTION_BATCH, die_after_the_first_batch)
    with pytest.raises(Crash):
        await sweep(rt)
    assert batches == [2]
    assert await count(rt, ExecutionLog) == 3  # the first batch stayed deleted: its own transaction
    rt.faults.disarm()
    assert (await sweep(rt))["invite_execution_logs"] == 3  # the next run finishes the job


async def test_a_table_that_fails_does_not_stop_the_others(rt: Runtime) -> None:
    await write_log(rt, NOW - 100 * DAY)
    await write_audit(rt, NOW - 400 * DAY, "old")

    async def logs_fail(context: dict[str, Any]) -> None:
        if context["table"] == "invite_execution_logs":
            raise RuntimeError("simulated database error")

    rt.faults.arm(Boundary.AFTER_RETENTION_BATCH, logs_fail)
    with pytest.raises(RetentionIncomplete, match="invite_execution_logs"):
        await sweep(rt)
    assert await count(rt, AuditEvent) == 0  # swept after the failing table
    rt.faults.disarm()


async def test_notifications_keep_30_days_and_an_open_delivery_keeps_its_event(rt: Runtime) -> None:
    async with rt.db.session() as session:
        endpoint = WebhookEndpoint(user_id="u1", url="https://hooks.example/x", secret="whsec_x")
        session.add(endpoint)
        await session.flush()
        events = {}
        for name, days in (("recent", 29), ("finished", 31), ("open", 31)):
            event = await notifications.emit(session, "u1", NotificationEventType.TASK_COMPLETED, {}, NOW)
            events[name] = event.id
            await session.execute(
                update(NotificationEvent)
                .where(NotificationEvent.id == event.id)
                .values(created_at=NOW - days * DAY)
            )
            status = DeliveryStatus.RETRYING if name == "open" else DeliveryStatus.SUCCEEDED
            await session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.event_id == event.id)
                .values(created_at=NOW - days * DAY, status=status)
            )
        # An old event nobody was subscribed to (no delivery at all).
        bare = await notifications.emit(session, "u2", NotificationEventType.TASK_PAUSED, {}, NOW)
        await session.execute(
            update(NotificationEvent).where(NotificationEvent.id == bare.id).values(created_at=NOW - 40 * DAY)
        )
    counts = await sweep(rt)
    assert (counts["notification_deliveries"], counts["notification_events"]) == (1, 2)
    async with rt.db.session() as session:
        kept = set(await session.scalars(select(NotificationEvent.id)))
        assert kept == {events["recent"], events["open"]}
        left = set(await session.scalars(select(NotificationDelivery.event_id)))
        assert left == {events["recent"], events["open"]}  # the retrying one is never touched
