"""The tick is set-based: one tick dispatches every due task, however many (nothing is left for the next
second), in a number of statements that grows with pages of ``TICK_PAGE`` tasks, not with tasks."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from invite_service.context.jobs import Job, JobQueue
from invite_service.execution import engine
from invite_service.execution.jobspec import DISPATCH
from invite_service.models import InviteTask
from invite_service.models.enums import Platform, Priority, TaskAction, TaskStatus
from invite_service.stores import tasks as task_store
from tests.execution.harness import Harness, statements

pytestmark = pytest.mark.asyncio


class Recorder(JobQueue):
    """Keeps every published job, in publishing order; runs none."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def send(self, job: Job) -> None:
        self.jobs.append(job)

    def dispatched(self) -> list[uuid.UUID]:
        return [uuid.UUID(job.kwargs["task_id"]) for job in self.jobs if job.name == DISPATCH]


@pytest.fixture
async def rec(h: Harness) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    h.rt.use_jobs(recorder)
    yield recorder
    async with h.rt.db.session() as s:  # a thousand running tasks must not outlive the test
        await s.execute(delete(InviteTask).where(InviteTask.user_id == h.user))


async def add_tasks(
    h: Harness,
    n: int,
    *,
    status: TaskStatus = TaskStatus.RUNNING,
    next_run_at: datetime | None = None,
    priority: Priority = Priority.NORMAL,
) -> list[uuid.UUID]:
    """``n`` bare task rows (the tick reads nothing else; the dispatches it publishes are not run)."""
    rows = [
        InviteTask(
            id=uuid.uuid4(),
            user_id=h.user,
            name=f"tick {i}",
            platform=Platform.SANDBOX,
            action=TaskAction.INVITE,
            destination="@tick_chat",
            status=status,
            priority=priority,
            next_run_at=next_run_at,
        )
        for i in range(n)
    ]
    async with h.rt.db.session() as s:
        s.add_all(rows)
    return [row.id for row in rows]


async def next_runs(h: Harness, ids: list[uuid.UUID]) -> list[datetime | None]:
    async with h.rt.db.session() as s:
        rows = await s.execute(select(InviteTask.id, InviteTask.next_run_at).where(InviteTask.id.in_(ids)))
        by_id: dict[uuid.UUID, datetime | None] = dict(rows.all())
    return [by_id[i] for i in ids]


async def test_one_tick_dispatches_a_thousand_due_tasks_and_a_scheduled_start(
    h: Harness, rec: Recorder
) -> None:
    now = h.clock.now()
    never_run = await add_tasks(h, 500)
    overdue = await add_tasks(h, 500, next_run_at=now - timedelta(minutes=5))
    later = await add_tasks(h, 5, next_run_at=now + timedelta(minutes=5))
    paused = await add_tasks(h, 5, status=TaskStatus.PAUSED, next_run_at=now - timedelta(minutes=5))
    accounts = await h.accounts(1)
    scheduled = await h.task(3, accounts, scheduled_at=(now + timedelta(minutes=1)).isoformat())
    await h.control(scheduled, "start")
    assert await h.status(scheduled) == "scheduled" and rec.dispatched() == []
    h.clock.advance(120)  # the scheduled start has come; `later` is still ahead
    now = h.clock.now()

    assert await engine.tick(h.rt) == 1001

    due = never_run + overdue + [scheduled]
    assert sorted(rec.dispatched()) == sorted(due)  # every due task once, nothing else
    claim_until = now + timedelta(seconds=engine.CLAIM_SECONDS)
    assert set(await next_runs(h, due)) == {claim_until}
    assert await h.status(scheduled) == "running"
    assert await next_runs(h, later) == [now + timedelta(minutes=3)] * 5
    assert await next_runs(h, paused) == [now - timedelta(minutes=7)] * 5
    # Claimed tasks are not due again until the claim runs out: a second tick finds nothing.
    assert await engine.tick(h.rt) == 0
    assert len(rec.dispatched()) == 1001


@pytest.mark.parametrize("n", [10, 1000])
async def test_a_due_tick_costs_a_statement_per_page_not_per_task(h: Harness, rec: Recorder, n: int) -> None:
    await add_tasks(h, n)
    with statements(h) as seen:
        assert await engine.tick(h.rt) == n
    pages = math.ceil((n + 1) / engine.TICK_PAGE)  # the last page comes back short (or empty)
    assert len(seen) == 1 + pages, seen  # reactivate_lanes, then one UPDATE … RETURNING a page
    assert len(rec.dispatched()) == n
    with statements(h) as seen:
        assert await engine.tick(h.rt) == 0
    assert len(seen) == 2, seen  # an idle tick: reactivate_lanes and one empty claim


async def test_high_priority_is_claimed_and_published_first_across_pages(
    h: Harness, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "TICK_PAGE", 4)
    now = h.clock.now()
    normal = await add_tasks(h, 6, next_run_at=now - timedelta(minutes=9))
    high = await add_tasks(h, 3, priority=Priority.HIGH, next_run_at=now - timedelta(minutes=1))
    low = await add_tasks(h, 3, priority=Priority.LOW, next_run_at=now - timedelta(hours=1))

    with statements(h) as seen:
        assert await engine.tick(h.rt) == 12
    assert len(seen) == 1 + 4  # pages of 4, 4, 4 and an empty one

    order = rec.dispatched()
    assert set(order[:3]) == set(high)
    assert set(order[3:9]) == set(normal)
    assert set(order[9:]) == set(low)
    expected = [Priority.HIGH] * 3 + [Priority.NORMAL] * 6 + [Priority.LOW] * 3
    assert [job.priority for job in rec.jobs] == expected


async def test_a_task_held_by_a_dispatcher_is_skipped_not_waited_for(
    h: Harness, rec: Recorder, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL (SQLite has one writer, so no tick can meet a held row)")
    held, *free = await add_tasks(h, 5)
    async with h.rt.db.engine.connect() as other:
        # What dispatch holds while it works on a task: the task's row lock, until its commit.
        await other.execute(select(InviteTask.id).where(InviteTask.id == held).with_for_update())
        # The bound only turns a hang (a tick waiting on the lock its own test holds) into a failure.
        assert await asyncio.wait_for(engine.tick(h.rt), timeout=120) == 4
        assert sorted(rec.dispatched()) == sorted(free)
        await other.rollback()
    assert await engine.tick(h.rt) == 1  # released: the next tick takes it
    assert rec.dispatched()[-1] == held


async def test_tasks_of_other_states_are_never_claimed(h: Harness, rec: Recorder) -> None:
    past = h.clock.now() - timedelta(minutes=1)
    for status in (TaskStatus.DRAFT, TaskStatus.PAUSED, TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        await add_tasks(h, 2, status=status, next_run_at=past)
    assert await engine.tick(h.rt) == 0
    async with h.rt.db.session() as s:
        moved = await s.scalar(
            select(func.count()).where(InviteTask.user_id == h.user, InviteTask.next_run_at != past)
        )
    assert moved == 0 and rec.dispatched() == []


async def test_claims_and_reschedules_leave_the_tasks_updated_at_alone(h: Harness, rec: Recorder) -> None:
    """``updated_at`` is when the user's view of the task changed. The engine's scheduling (a tick's claim,
    a lane's next run, even one written after the task completed) is not such a change: the task a user
    reads twice after it completed must read the same."""
    running = await add_tasks(h, 3)
    completed = await add_tasks(h, 1, status=TaskStatus.COMPLETED)
    marked = datetime(2026, 1, 2, 3, 4, 5, tzinfo=h.clock.now().tzinfo)
    async with h.rt.db.session() as s:
        await s.execute(
            update(InviteTask).where(InviteTask.id.in_(running + completed)).values(updated_at=marked)
        )

    assert await engine.tick(h.rt) == 3
    async with h.rt.db.session() as s:  # a lane's batch that ends after another lane completed the task
        await task_store.set_next_run(s, completed[0], h.clock.now())

    async with h.rt.db.session() as s:
        stmt = select(InviteTask.updated_at, InviteTask.next_run_at)
        rows = await s.execute(stmt.where(InviteTask.id.in_(running + completed)))
        seen = rows.all()
    assert {updated for updated, _ in seen} == {marked}
    assert all(next_run is not None for _, next_run in seen)  # the writes did happen
