"""The engine harness shares one test database per run: a test's engine must drive only its own tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from invite_service.workers.stepped import simulate
from tests.execution.harness import make_harness

pytestmark = pytest.mark.asyncio


async def _false() -> bool:
    return False


async def test_a_task_left_running_by_an_earlier_test_sends_nothing_through_the_next_one(db_url: str) -> None:
    earlier = await make_harness(db_url)
    accounts = await earlier.accounts(1)
    left_running = await earlier.task(20, accounts)
    await earlier.control(left_running, "start")
    await earlier.rt.db.dispose()  # that test ends with its task still running

    h = await make_harness(db_url)
    try:
        # The sandbox adapter revives a demo account from its id, so without the sweep this engine
        # would tick the earlier task and its sends would land in this simulator's ledger.
        await simulate(h.rt, h.clock, h.queue, until=_false, horizon=timedelta(hours=2))
        assert h.simulator.ledger() == []
        assert await h.status(left_running) == "paused"
    finally:
        await h.rt.db.dispose()
