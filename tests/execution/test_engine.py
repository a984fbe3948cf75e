"""The engine in the embedded shape with a simulated clock: real database, limiter and simulated messenger."""

from __future__ import annotations

from datetime import timedelta

import pytest

from invite_service.models.enums import TargetStatus
from tests.execution.harness import START, Harness

pytestmark = pytest.mark.asyncio
FINAL = {
    s.value
    for s in (
        TargetStatus.INVITED,
        TargetStatus.MESSAGED,
        TargetStatus.ALREADY_MEMBER,
        TargetStatus.FAILED,
        TargetStatus.SKIPPED,
    )
}


def caps_of(h: Harness):  # type: ignore[no-untyped-def]
    from invite_service.sandbox.adapter import simulator_limits

    return simulator_limits(h.settings.caps_for("sandbox"))


async def test_200_targets_over_4_accounts_complete_without_breach(h: Harness) -> None:
    accounts = await h.accounts(4)
    task_id = await h.task(200, accounts)
    await h.control(task_id, "start")
    assert await h.run_until([task_id], {"completed"}, horizon=timedelta(hours=2))

    states = await h.target_states(task_id)
    assert sum(states.values()) == 200
    assert set(states) <= FINAL, states
    assert await h.counters(task_id) == states
    ledger = h.simulator.ledger()
    assert len({e.target for e in ledger}) == len(ledger), "a target was acted on twice"
    assert h.simulator.double_sends() == []
    assert h.simulator.window_breaches(caps_of(h)) == []
    added = sum(1 for e in ledger if e.result == "added")
    assert states.get("invited", 0) == added, "every accepted invite shows as invited, and only those"
    used = {e.account_id for e in ledger}
    assert used == set(accounts), "the work is spread over every account"
    print("states", states, "ledger", len(ledger), "sim time", h.clock.now() - START)
