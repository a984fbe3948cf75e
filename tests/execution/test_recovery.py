"""A send whose lease ran out (the worker died mid-call): the platform is asked, never re-sent blindly."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.adapters.base import Outcome
from invite_service.execution.recovery import resolve_expired_sending
from invite_service.execution.refs import target_ref
from invite_service.models import InviteTarget
from invite_service.models.enums import TargetStatus
from invite_service.targets import repository as targets
from tests.execution.harness import Harness

pytestmark = pytest.mark.asyncio
CHAT = "@engine_chat"


async def rows(h: Harness, task_id: uuid.UUID) -> list[InviteTarget]:
    async with h.rt.db.session() as s:
        result = await s.scalars(
            select(InviteTarget).where(InviteTarget.task_id == task_id).order_by(InviteTarget.id)
        )
        return list(result)


async def strand_in_sending(h: Harness, task_id: uuid.UUID, target_id: int, account_id: str) -> None:
    """What a worker killed between claiming a target and hearing the platform's answer leaves behind."""
    async with h.rt.db.session() as s:
        moved = await targets.transition(
            s,
            task_id,
            InviteTarget.id == target_id,
            [TargetStatus.PENDING.value],
            TargetStatus.SENDING.value,
            account_id=account_id,
            lease_until=h.clock.now() - timedelta(minutes=1),
        )
        assert moved == [target_id]


async def test_expired_sends_are_confirmed_requeued_or_marked_unknown_by_what_the_platform_says(
    h: Harness,
) -> None:
    [account] = await h.accounts(1)
    invite_task = await h.task(6, [account])
    message_task = await h.task(1, [account], action="message", message_template="Hi {first_name}")
    invited, absent = None, None
    for row in await rows(h, invite_task):
        member = await h.adapter.check_membership(account, CHAT, target_ref(row))
        if invited is None and member is False:
            # The call went through just before the worker died.
            result = await h.adapter.send_invite(account, CHAT, target_ref(row))
            if result.outcome is Outcome.SUCCESS:
                invited = row
                continue
        if absent is None and member is False:
            absent = row
    assert invited is not None and absent is not None, "the seed offers a plain target to invite and one not"
    [message] = await rows(h, message_task)
    for task_id, row in ((invite_task, invited), (invite_task, absent), (message_task, message)):
        await strand_in_sending(h, task_id, row.id, account)
    sent_before = len(h.simulator.ledger())

    counts = await resolve_expired_sending(h.rt, h.clock.now())

    assert counts == {"confirmed": 1, "retried": 1, "unknown": 1}
    by_id = {row.id: row for row in await rows(h, invite_task) + await rows(h, message_task)}
    assert by_id[invited.id].status == TargetStatus.INVITED.value
    assert by_id[absent.id].status == TargetStatus.PENDING.value
    assert by_id[absent.id].account_id is None  # back in the pool for whichever lane comes first
    # A message cannot be checked: its fate stays unknown until the user decides (bulk-action requeue).
    assert by_id[message.id].status == TargetStatus.UNKNOWN.value
    assert by_id[message.id].error_code == "DELIVERY_UNKNOWN"
    assert len(h.simulator.ledger()) == sent_before, "recovery itself sent nothing"
    for task_id in (invite_task, message_task):
        assert await h.counters(task_id) == await h.target_states(task_id)
    # A second pass finds nothing left to resolve.
    assert await resolve_expired_sending(h.rt, h.clock.now()) == {"confirmed": 0, "retried": 0, "unknown": 0}
