"""An engine in simulated time over a real database and the real simulated messenger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update

from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.db import Database
from invite_service.execution import control
from invite_service.execution.premium import refresh_premium
from invite_service.invite_tasks.schemas import TaskCreate
from invite_service.invite_tasks.service import create_task
from invite_service.kit.clock import SimulatedClock
from invite_service.models import InviteTarget, InviteTask, TaskCounters
from invite_service.models.enums import Platform, TaskStatus
from invite_service.runtime import build_adapters, build_runtime
from invite_service.sandbox.adapter import SandboxAdapter, simulator_limits
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import AccountLimits, SimulatorConfig, TargetFate, target_fate
from invite_service.sandbox.simulator import TelegramSimulator
from invite_service.stores.counters import counters_dict
from invite_service.targets.schemas import BulkTargetsIn
from invite_service.targets.service import bulk_create
from invite_service.workers.stepped import SteppedJobQueue, simulate

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday morning
SEED = 7  # the simulator's seed: a target's fate is a pure function of (seed, name)


def name_with(fate: TargetFate, prefix: str) -> str:
    """A username whose simulated fate is ``fate``, so a test chooses outcomes instead of hoping."""
    config = demo_config(SEED)
    return next(f"{prefix}{n}" for n in range(100_000) if target_fate(config, f"{prefix}{n}") is fate)


@dataclass
class Harness:
    rt: Runtime
    clock: SimulatedClock
    queue: SteppedJobQueue
    simulator: TelegramSimulator
    adapter: SandboxAdapter
    user: str

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    async def accounts(self, n: int) -> list[str]:
        accounts = await self.adapter.initialize_accounts(self.user)
        return [a.id for a in accounts][:n]

    async def task(
        self, n_targets: int, accounts: list[str], *, usernames: list[str] | None = None, **fields: Any
    ) -> uuid.UUID:
        body: dict[str, Any] = {
            "name": "engine test",
            "platform": "sandbox",
            "action": "invite",
            "destination": "@engine_chat",
            "account_ids": accounts,
            **fields,
        }
        async with self.rt.db.session() as s:
            task = await create_task(s, self.settings, self.user, TaskCreate.model_validate(body))
            row = await s.get(InviteTask, task.id)
            assert row is not None
            names = usernames or [f"target_{i:05d}" for i in range(n_targets)]
            rows = [{"username": name, "first_name": f"T{i}"} for i, name in enumerate(names)]
            for start in range(0, len(rows), 10_000):
                await bulk_create(s, self.settings, row, BulkTargetsIn(targets=rows[start : start + 10_000]))
        return task.id

    async def control(self, task_id: uuid.UUID, action: str) -> None:
        async with self.rt.db.session() as s:
            task = await s.get(InviteTask, task_id)
            assert task is not None
            now = self.clock.now()
            if action == "start":
                await control.start(s, self.rt, task, now)
                await refresh_premium(s, self.rt, task)
            elif action == "pause":
                await control.pause(s, self.rt, task, None, now)
            elif action == "resume":
                await control.resume(s, self.rt, task, now)
                await refresh_premium(s, self.rt, task)
            else:
                await control.cancel(s, self.rt, task, now)

    async def status(self, task_id: uuid.UUID) -> str:
        async with self.rt.db.session() as s:
            return str(await s.scalar(select(InviteTask.status).where(InviteTask.id == task_id)))

    async def target_states(self, task_id: uuid.UUID) -> dict[str, int]:
        async with self.rt.db.session() as s:
            rows = await s.execute(
                select(InviteTarget.status, func.count())
                .where(InviteTarget.task_id == task_id)
                .group_by(InviteTarget.status)
            )
            return {status: int(n) for status, n in rows}

    async def counters(self, task_id: uuid.UUID) -> dict[str, int]:
        async with self.rt.db.session() as s:
            c = await s.get(TaskCounters, task_id)
            return {k: v for k, v in counters_dict(c).items() if v and k != "total"}

    async def run_until(
        self,
        task_ids: list[uuid.UUID],
        statuses: set[str],
        horizon: timedelta,
        recover_every: timedelta = timedelta(hours=6),
    ) -> bool:
        async def done() -> bool:
            return all([await self.status(t) in statuses for t in task_ids])

        # Without crashes recovery can run rarely (it forces a step each time).
        return await simulate(
            self.rt, self.clock, self.queue, until=done, horizon=horizon, recover_every=recover_every
        )


async def make_harness(
    db_url: str,
    *,
    settings: Settings | None = None,
    config: SimulatorConfig | None = None,
    limits: AccountLimits | None = None,
    start: datetime = START,
) -> Harness:
    settings = settings or Settings(database_url=db_url, log_level="WARNING")
    clock = SimulatedClock(start)
    caps = settings.caps_for(Platform.SANDBOX.value)
    simulator = TelegramSimulator(config or demo_config(SEED, limits or simulator_limits(caps)), clock=clock)
    adapter = SandboxAdapter(simulator, platform=Platform.SANDBOX)
    registry = build_adapters(settings)
    registry.provide(Platform.SANDBOX.value, adapter)
    db = Database(db_url, pool_size=5)
    await stop_leftover_tasks(db)
    rt = build_runtime(settings, db, clock=clock, adapters=registry)
    queue = SteppedJobQueue(clock)
    rt.use_jobs(queue)
    return Harness(rt, clock, queue, simulator, adapter, f"engine-{uuid.uuid4().hex[:10]}")


async def stop_leftover_tasks(db: Database) -> None:
    """Pause every task an earlier test left running or scheduled in the shared test database.

    A harness's engine ticks over the whole database, and the sandbox adapter revives a demo account
    from its id, so a task left running by another test would send through this test's simulator
    (and show up in its ledger). Each test's engine drives only the tasks it creates.
    """
    async with db.session() as s:
        await s.execute(
            update(InviteTask)
            .where(InviteTask.status.in_([TaskStatus.RUNNING, TaskStatus.SCHEDULED]))
            .values(status=TaskStatus.PAUSED)
        )


def final_states() -> set[str]:
    return {TaskStatus.COMPLETED.value}


@contextmanager
def statements(h: Harness, containing: str = "") -> Iterator[list[str]]:
    """Every SQL statement the runtime's engine sends while the block runs (those ``containing`` a
    text, when given): the tests that count round trips or look for a read count these."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if containing in statement:
            seen.append(statement)

    engine = h.rt.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
