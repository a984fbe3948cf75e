"""The ticker's cost (issue 17, item 4): an idle tick and a due tick at 10, 100 and 1,000 running tasks, with
10,000 lanes (one account each) and 9,000 finished tasks of history, on PostgreSQL.

- idle tick: every running task's next run is ahead (the common beat): ``reactivate_lanes`` + an empty claim;
- due tick: every running task is due (after a restart, or a burst of wakes): one tick claims them all;
- per-task (the shape of the tick before issue 17, in the same run): one SELECT of at most 500 due tasks, then
  one UPDATE per task; timed over the beats it needs to dispatch them all (printed: 2 ticks for 1,000, a
  second apart in production).

Floors, measured in the same run and process: an asyncpg ``SELECT 1`` (one round trip); a pooled session
doing ``SELECT 1`` (pre-ping, BEGIN, the statement, COMMIT: what any unit of work costs); for the idle tick
its own two statements (compiled from the code) in one transaction on a raw asyncpg connection; for the due
tick the bare set-based UPDATE of the same rows on that connection (the SQL work alone: no session, no ORM,
no jobs). Dispatch jobs go to an in-process list (publishing to RabbitMQ is not measured here).

Run: ``python -m bench.ticks`` (or ``make bench``). A throwaway PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

from bench.common import summary, temp_postgres
from invite_service.config import Settings
from invite_service.context.jobs import Job, JobQueue
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.execution import engine
from invite_service.kit.clock import SimulatedClock
from invite_service.migrations import runner
from invite_service.models import InviteTask, Lane
from invite_service.models.enums import LaneStatus, Platform, TaskAction, TaskStatus
from invite_service.observability.logging import configure_logging
from invite_service.runtime import build_runtime
from invite_service.stores import schedule
from invite_service.stores import tasks as task_store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TASKS, LANES_PER_TASK, HISTORY = 1000, 10, 9000  # 10,000 lanes; 9,000 finished tasks without lanes
RUNNING = (10, 100, 1000)
IDLE_REPS, DUE_REPS = 200, {10: 60, 100: 30, 1000: 10}
OLD_PAGE = 500
BARE_UPDATE = "UPDATE invite_tasks SET next_run_at = $1 WHERE status = 'running' AND next_run_at IS NULL"


class NoQueue(JobQueue):
    def __init__(self) -> None:
        self.sent = 0

    def send(self, job: Job) -> None:
        self.sent += 1


async def seed(db: Database) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(TASKS)]
    base = {"platform": Platform.SANDBOX, "action": TaskAction.INVITE, "destination": "@bench"}
    async with db.session() as s:
        await s.execute(
            insert(InviteTask),
            [
                {"id": tid, "user_id": f"u{i % 100}", "name": f"t{i}", "status": TaskStatus.PAUSED, **base}
                for i, tid in enumerate(ids)
            ]
            + [
                {
                    "id": uuid.uuid4(),
                    "user_id": f"u{i % 100}",
                    "name": f"h{i}",
                    "status": TaskStatus.COMPLETED,
                }
                | base
                for i in range(HISTORY)
            ],
        )
        lanes = []
        for i, tid in enumerate(ids):
            for p in range(LANES_PER_TASK):
                n = i * LANES_PER_TASK + p
                cooling = n % 100 == 0  # 1 % of lanes wait out a cooldown that has not run out
                lanes.append(
                    {
                        "task_id": tid,
                        "account_id": f"acct-{n:05d}",
                        "position": p,
                        "status": LaneStatus.COOLING_DOWN if cooling else LaneStatus.ACTIVE,
                        "cooldown_until": NOW + timedelta(hours=1) if cooling else None,
                    }
                )
        await s.execute(insert(Lane), lanes)
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return ids


async def set_running(db: Database, ids: list[uuid.UUID], running: int, next_run_at: datetime | None) -> None:
    async with db.session() as s:
        await s.execute(update(InviteTask).where(InviteTask.id.in_(ids)).values(status=TaskStatus.PAUSED))
        await s.execute(
            update(InviteTask)
            .where(InviteTask.id.in_(ids[:running]))
            .values(status=TaskStatus.RUNNING, next_run_at=next_run_at)
        )


async def per_task_tick(rt: Runtime) -> int:
    """The tick's shape before issue 17: one SELECT of at most 500 due tasks, then one UPDATE per task."""
    now = rt.clock.now()
    async with rt.db.session() as session:
        await schedule.reactivate_lanes(session, now)
        due = (
            select(InviteTask.id)
            .where(
                InviteTask.status == TaskStatus.RUNNING,
                (InviteTask.next_run_at.is_(None)) | (InviteTask.next_run_at <= now),
            )
            .order_by(InviteTask.priority.desc(), InviteTask.next_run_at)
            .limit(OLD_PAGE)
        )
        ids = list(await session.scalars(due))
        for task_id in ids:
            await task_store.set_next_run(session, task_id, now + timedelta(seconds=engine.CLAIM_SECONDS))
    return len(ids)


async def timed(
    reps: int, before: Callable[[], Awaitable[None]], run: Callable[[], Awaitable[object]]
) -> float:
    """p50 in ms of ``run`` over ``reps`` runs, ``before`` (not timed) resetting the state each time."""
    samples = []
    for _ in range(reps):
        await before()
        start = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - start) * 1000)
    return summary(samples)["p50"]


def driver_sql(stmt: ClauseElement, dialect: Dialect) -> tuple[str, list[Any]]:
    """The statement as asyncpg receives it (``$n`` placeholders) and its values, bind-processed."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    values = []
    for name in compiled.positiontup or []:
        bind = compiled.binds[name if name in compiled.binds else name.rsplit("_", 1)[0]]  # an expanded IN
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        value = params[name]
        values.append(process(value) if process is not None and value is not None else value)
    return compiled.string, values


async def measure(url: str) -> None:
    configure_logging("WARNING", json_output=False)
    db = Database(url, pool_size=2)
    ids = await seed(db)
    rt = build_runtime(Settings(database_url=url, log_level="WARNING"), db, clock=SimulatedClock(NOW))
    queue = NoQueue()
    rt.use_jobs(queue)
    raw = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    # The idle tick's own two statements, run bare: what the database must do, nothing around it.
    reactivate = driver_sql(schedule.reactivate_lanes_statement(NOW), db.engine.dialect)
    claim = driver_sql(
        schedule.claim_due_statement(NOW, NOW, engine.TICK_PAGE, postgresql=True), db.engine.dialect
    )
    try:

        async def noop() -> None:
            return None

        async def select_1() -> object:
            return await raw.fetchval("SELECT 1")

        async def session_select_1() -> object:
            async with rt.db.session() as session:
                return await session.scalar(text("SELECT 1"))

        async def idle_bare() -> object:
            async with raw.transaction():
                await raw.execute(reactivate[0], *reactivate[1])
                return await raw.fetch(claim[0], *claim[1])  # claims nothing: every next run is ahead

        ahead = NOW + timedelta(hours=1)
        await set_running(db, ids, RUNNING[0], ahead)
        for _ in range(50):  # warm the pool, the plans and the floor's connection
            await select_1()
            await idle_bare()
            await engine.tick(rt)
        floor = await timed(IDLE_REPS, noop, select_1)
        session_floor = await timed(IDLE_REPS, noop, session_select_1)
        print(f"\n[ticks] PostgreSQL, {TASKS * LANES_PER_TASK} lanes, {TASKS + HISTORY} tasks; p50 in ms")
        print(f"  {'asyncpg SELECT 1 (floor)':48s} {floor:8.3f}")
        print(
            f"  {'pooled session: BEGIN, SELECT 1, COMMIT':48s} {session_floor:8.3f}"
            f"  {session_floor / floor:7.1f}x"
        )
        for running in RUNNING:
            await set_running(db, ids, running, ahead)
            bare_idle = await timed(IDLE_REPS, noop, idle_bare)
            idle = await timed(IDLE_REPS, noop, lambda: engine.tick(rt))
            print(
                f"  {f'idle tick, {running} running':48s} {idle:8.3f}  {idle / floor:7.1f}x"
                f"  {idle / session_floor:5.2f}x session  {idle / bare_idle:5.2f}x its bare statements"
                f" ({bare_idle:.3f})"
            )

            async def all_due(n: int = running) -> None:
                await set_running(db, ids, n, None)

            async def bare_update() -> object:
                return await raw.execute(BARE_UPDATE, NOW + timedelta(seconds=engine.CLAIM_SECONDS))

            reps = DUE_REPS[running]
            bare = await timed(reps, all_due, bare_update)
            sent = queue.sent
            due = await timed(reps, all_due, lambda: engine.tick(rt))
            assert queue.sent - sent == reps * running, "every due task dispatched by one tick"
            beats = -(-running // OLD_PAGE)  # 500 a beat: the rest waits for the next second

            async def old_ticks(n: int = running, beats: int = beats) -> None:
                assert sum([await per_task_tick(rt) for _ in range(beats)]) == n

            old = await timed(reps, all_due, old_ticks)
            print(
                f"  {f'due tick, {running} due (set-based)':48s} {due:8.3f}  {due / floor:7.1f}x"
                f"  {due / session_floor:5.2f}x session  {due / bare:5.2f}x bare UPDATE ({bare:.3f})  1 tick"
            )
            print(
                f"  {f'due tick, {running} due (per-task UPDATEs, old)':48s} {old:8.3f}  {old / floor:7.1f}x"
                f"  {old / session_floor:5.2f}x session  {old / bare:5.2f}x bare UPDATE  {beats} tick(s)"
            )
    finally:
        await raw.close()
        await db.dispose()


def main() -> None:
    with temp_postgres() as pg:
        runner.upgrade(pg)
        asyncio.run(measure(pg))


if __name__ == "__main__":
    main()
