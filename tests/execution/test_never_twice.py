"""Never twice, provably: every (boundary x outcome x step) in simulated time, over a real database.

Each case runs one target through the real engine and the in-process Integration Service (the sandbox
adapter with its operation-key store), with one fault at one boundary of the send:

- on the platform side (``SandboxFault``): no answer before the service recorded the key; the platform
  acted and the answer was lost; the answer arrives while a recovery runs, before the service recorded
  it (in progress) or after (late past the lease), and two recoveries overlapping then;
- in the engine (``kit.faults``): the process dies right after ``sending`` was committed, right after
  the platform answered, or inside the outcome's transaction before it commits.

Every case must end exactly as the same target ends with no fault (a control target in the same run),
with at most one platform call for it, nothing left in flight, and counters equal to the states.
The fate of a target is a pure function of its name, so each outcome is chosen, not hoped for.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.execution import engine
from invite_service.kit.faults import SEND, Boundary, crash, once
from invite_service.models import InviteTarget
from invite_service.sandbox.adapter import SandboxFault
from invite_service.sandbox.model import TargetFate
from invite_service.workers.stepped import simulate
from tests.execution.harness import Harness, make_harness, name_with

pytestmark = pytest.mark.asyncio

PLATFORM = ("before", "after", "slow", "late", "late_double_recover")
ENGINE = tuple(b.value for b in SEND)
BOUNDARIES = PLATFORM + ENGINE
OUTCOMES = {
    "invite": (
        TargetFate.OK,
        TargetFate.PRIVACY,
        TargetFate.MISSING,
        TargetFate.MISSING_PREMIUM_ALLOW,
        TargetFate.MISSING_PREMIUM_PM,
        TargetFate.ALREADY_MEMBER,
        TargetFate.DELETED,
    ),
    "message": (TargetFate.OK, TargetFate.BLOCKED, TargetFate.MISSING_PREMIUM_PM, TargetFate.DELETED),
}
CASES = [
    pytest.param(step, fate, boundary, id=f"{step}-{fate.value}-{boundary}")
    for step, fates in OUTCOMES.items()
    for fate in fates
    for boundary in BOUNDARIES
]


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()


def past_the_lease(h: Harness, recoveries: int = 1) -> Callable[[], Awaitable[None]]:
    """What happens while the answer is on its way: the lease runs out and recovery looks."""

    async def meanwhile() -> None:
        h.clock.advance(h.settings.send_lease_seconds + 1)
        await asyncio.gather(*(engine.recover(h.rt) for _ in range(recoveries)))

    return meanwhile


def arm(h: Harness, boundary: str, step: str) -> None:
    operation = "invite" if step == "invite" else "message"
    if boundary in ("before", "after"):
        h.adapter.faults.append(SandboxFault(boundary, operation))  # type: ignore[arg-type]
    elif boundary in ("slow", "late"):
        h.adapter.faults.append(SandboxFault(boundary, operation, meanwhile=past_the_lease(h)))  # type: ignore[arg-type]
    elif boundary == "late_double_recover":
        h.adapter.faults.append(SandboxFault("late", operation, meanwhile=past_the_lease(h, recoveries=2)))
    else:
        h.rt.faults.arm(Boundary(boundary), once(crash))


async def final_target(h: Harness, task_id: uuid.UUID) -> InviteTarget:
    async with h.rt.db.session() as s:
        return (await s.scalars(select(InviteTarget).where(InviteTarget.task_id == task_id))).one()


@pytest.mark.parametrize(("step", "fate", "boundary"), CASES)
async def test_a_fault_at_any_boundary_never_makes_the_platform_act_twice(
    h: Harness, step: str, fate: TargetFate, boundary: str
) -> None:
    [account] = await h.accounts(1)
    fields = {"action": step, "message_template": "Hello {first_name}"} if step == "message" else {}
    control = await h.task(1, [account], usernames=[name_with(fate, "control_")], **fields)
    faulted = await h.task(1, [account], usernames=[name_with(fate, "faulted_")], **fields)
    await h.control(control, "start")
    assert await h.run_until([control], {"completed"}, timedelta(days=1))
    expected = await final_target(h, control)

    arm(h, boundary, step)
    await h.control(faulted, "start")

    async def done() -> bool:
        return await h.status(faulted) == "completed"

    finished = await simulate(
        h.rt, h.clock, h.queue, until=done, horizon=timedelta(days=1), recover_every=timedelta(minutes=1)
    )
    got = await final_target(h, faulted)
    assert h.simulator.repeated_calls() == [], "the platform was asked twice for one target and step"
    assert finished, f"the task did not finish: target {got.status} {got.error_code}"
    assert (got.status, got.error_code) == (expected.status, expected.error_code)
    calls = [c for c in h.simulator.platform_calls() if c.target == got.username]
    assert len(calls) == 1, calls
    assert await h.counters(faulted) == await h.target_states(faulted)
    if boundary in ENGINE:
        assert h.queue.crashes == 1, "the armed boundary was never reached"
