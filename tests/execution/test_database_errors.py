"""A database error mid-batch: reservations go back at once, the task log says so, and the send that was
in flight is resolved by recovery from the outcome lookup (never sent again)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.db import Database
from invite_service.execution.batch import process_batch
from invite_service.kit.faults import Boundary, once
from invite_service.models import ExecutionLog, InviteTarget
from invite_service.models.enums import TargetStatus
from invite_service.sandbox.model import TargetFate
from invite_service.stores import in_flight
from tests.conftest import terminate_backends
from tests.execution.harness import Harness, name_with

pytestmark = pytest.mark.asyncio


async def database_gone(_context: dict[str, Any]) -> None:
    raise OperationalError(
        "UPDATE invite_targets …", {}, ConnectionResetError("server closed the connection")
    )


async def test_a_database_error_mid_batch_gives_reservations_back_and_recovery_finishes_the_send(
    h: Harness,
) -> None:
    [account] = await h.accounts(1)
    names = [name_with(TargetFate.OK, f"dberr{i}_") for i in range(3)]
    task_id = await h.task(3, [account], usernames=names)
    await h.control(task_id, "start")
    async with h.rt.db.session() as s:
        ids = await in_flight.reserve(
            s, task_id, account, 3, h.clock.now(), h.clock.now() + timedelta(minutes=5)
        )
    assert len(ids) == 3
    # The platform acts on the first target; the outcome's commit then fails on the database.
    h.rt.faults.arm(Boundary.BEFORE_RECORD_COMMIT, once(database_gone))

    with pytest.raises(OperationalError):
        await process_batch(h.rt, task_id, account, ids)

    async with h.rt.db.session() as s:
        rows = {t.id: t for t in await s.scalars(select(InviteTarget).where(InviteTarget.task_id == task_id))}
        logs = list(
            await s.scalars(
                select(ExecutionLog).where(
                    ExecutionLog.task_id == task_id, ExecutionLog.outcome == "released"
                )
            )
        )
    first, *rest = ids
    assert rows[first].status == TargetStatus.SENDING.value and rows[first].operation_key
    assert [rows[i].status for i in rest] == [TargetStatus.PENDING.value] * 2, "not left for the lease"
    assert [(log.error_code, log.action) for log in logs] == [("DATABASE_ERROR", "batch")]
    assert len(h.simulator.platform_calls()) == 1

    assert await h.run_until([task_id], {"completed"}, timedelta(hours=1), recover_every=timedelta(minutes=1))
    assert await h.target_states(task_id) == {TargetStatus.INVITED.value: 3}
    assert h.simulator.repeated_calls() == []
    assert len(h.simulator.platform_calls()) == 3
    assert await h.counters(task_id) == await h.target_states(task_id)


async def test_a_dead_pooled_connection_costs_one_retry_not_the_unit(postgres_url: str) -> None:
    """No pre-ping: the unit meets the dead connection on first use, the pool is invalidated, and the unit
    runs once more on a fresh connection."""
    db = Database(postgres_url, pool_size=1, ping_after_idle=3600)  # never idle long enough to be pinged
    try:
        async with db.session() as s:
            before = await s.scalar(text("SELECT pg_backend_pid()"))
        await terminate_backends(db)
        runs: list[int] = []

        async def work(s: AsyncSession) -> Any:
            runs.append(1)
            return await s.scalar(text("SELECT pg_backend_pid()"))

        after = await db.unit(work)
        assert after != before
        assert len(runs) == 2, "the first run met the dead connection (nothing pinged it first)"
    finally:
        await db.dispose()


async def test_a_batch_survives_its_pool_dying_between_jobs(h: Harness) -> None:
    if h.rt.db.backend != "postgresql":
        pytest.skip("kills PostgreSQL backends")
    [account] = await h.accounts(1)
    names = [name_with(TargetFate.OK, f"dbgone{i}_") for i in range(3)]
    task_id = await h.task(3, [account], usernames=names)
    await h.control(task_id, "start")
    async with h.rt.db.session() as s:
        ids = await in_flight.reserve(
            s, task_id, account, 3, h.clock.now(), h.clock.now() + timedelta(minutes=5)
        )
    await terminate_backends(h.rt.db)  # the database restarted while the worker's pool sat idle

    await process_batch(h.rt, task_id, account, ids)  # paced: the first target goes, the rest wait

    states = await h.target_states(task_id)
    assert states.get(TargetStatus.INVITED.value) == 1, states
    assert len(h.simulator.platform_calls()) == 1
    assert await h.counters(task_id) == states


async def test_an_idle_pooled_connection_is_pinged_and_replaced_before_use(postgres_url: str) -> None:
    """A connection that sat idle past the threshold (here: any) is pinged on checkout and replaced if dead,
    so even a plain session (no unit retry: an API request) never meets it."""
    db = Database(postgres_url, pool_size=1, ping_after_idle=0.0)
    try:
        async with db.session() as s:
            before = await s.scalar(text("SELECT pg_backend_pid()"))
        await terminate_backends(db)
        async with db.session() as s:
            after = await s.scalar(text("SELECT pg_backend_pid()"))
        assert after != before
    finally:
        await db.dispose()
