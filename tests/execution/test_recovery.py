"""A send in doubt (its lease ran out, or its answer was lost) is decided only from proof (recovery.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.adapters.base import InviteResult, OperationLookup, OperationState, Outcome
from invite_service.execution.keys import operation_key
from invite_service.execution.recovery import Verdict, _resolve_one, resolve_expired_sending, verdict
from invite_service.execution.refs import target_ref
from invite_service.models import InviteTarget
from invite_service.models.enums import TargetStatus
from invite_service.sandbox.model import TargetFate
from invite_service.stores import targets as targets
from invite_service.stores import tasks as task_store
from tests.execution.harness import Harness, name_with

CHAT = "@engine_chat"
ANSWERED = OperationLookup(OperationState.COMPLETED, InviteResult(Outcome.SUCCESS))
INTERRUPTED = OperationLookup(
    OperationState.COMPLETED,
    InviteResult(Outcome.TRANSIENT, "OPERATION_INTERRUPTED", delivery_uncertain=True),
)
RUNNING = OperationLookup(OperationState.IN_PROGRESS)
NEVER_ASKED = OperationLookup(OperationState.UNKNOWN_KEY)


@pytest.mark.parametrize(
    ("lookup", "member", "last_word", "expected"),
    [
        (ANSWERED, None, True, Verdict.RECORD),
        (ANSWERED, False, False, Verdict.RECORD),
        (INTERRUPTED, True, True, Verdict.CONFIRMED),
        (INTERRUPTED, False, True, Verdict.UNKNOWN),
        (INTERRUPTED, None, False, Verdict.UNKNOWN),
        (RUNNING, None, True, Verdict.WAIT),
        (NEVER_ASKED, None, True, Verdict.RETRY),
        (NEVER_ASKED, False, False, Verdict.RETRY),
        (None, True, True, Verdict.CONFIRMED),
        (None, True, False, Verdict.CONFIRMED),
        # "Not a member" proves nothing: a privacy refusal, a pending request or a leaver look the same.
        (None, False, True, Verdict.UNKNOWN),
        (None, False, False, Verdict.WAIT),
        (None, None, True, Verdict.UNKNOWN),
        (None, None, False, Verdict.WAIT),
    ],
)
def test_the_verdict_table(
    lookup: OperationLookup | None, member: bool | None, last_word: bool, expected: Verdict
) -> None:
    assert verdict(lookup, member, last_word=last_word) is expected


async def rows(h: Harness, task_id: uuid.UUID) -> list[InviteTarget]:
    async with h.rt.db.session() as s:
        result = await s.scalars(
            select(InviteTarget).where(InviteTarget.task_id == task_id).order_by(InviteTarget.id)
        )
        return list(result)


async def strand_in_sending(h: Harness, task_id: uuid.UUID, row: InviteTarget, account_id: str) -> str:
    """What a worker killed between claiming a target and recording the platform's answer leaves."""
    step = "message" if row.extra.get("message") else "invite"
    key = operation_key(task_id, row.id, step, row.lineage)
    async with h.rt.db.session() as s:
        moved = await targets.transition(
            s,
            task_id,
            InviteTarget.id == row.id,
            [TargetStatus.PENDING.value],
            TargetStatus.SENDING.value,
            account_id=account_id,
            operation_key=key,
            lease_until=h.clock.now() - timedelta(minutes=1),
        )
        assert moved == [row.id]
    return key


async def test_stuck_sends_are_recorded_retried_or_confirmed_by_proof_and_nothing_is_sent(
    h: Harness,
) -> None:
    [account] = await h.accounts(1)
    names = [name_with(TargetFate.OK, f"plain{i}_") for i in range(5)]
    invite_task = await h.task(4, [account], usernames=names[:4])
    message_task = await h.task(
        1, [account], usernames=names[4:], action="message", message_template="Hi {first_name}"
    )
    answered, never_asked, confirmed, no_proof = await rows(h, invite_task)
    [message] = await rows(h, message_task)
    keys = {}
    for task_id, row in ((invite_task, r) for r in (answered, never_asked, confirmed, no_proof)):
        keys[row.id] = await strand_in_sending(h, task_id, row, account)
    message.extra = {"message": True}
    keys[message.id] = await strand_in_sending(h, message_task, message, account)
    # The call went through just before the worker died: the service holds the answer under the key.
    sent = await h.adapter.send_invite(account, CHAT, target_ref(answered), key=keys[answered.id])
    assert sent.outcome is Outcome.SUCCESS
    h.clock.advance(3600)  # past the account's pacing
    sent = await h.adapter.send_message(account, target_ref(message), "Hi", key=keys[message.id])
    assert sent.outcome is Outcome.SUCCESS
    # A row from before operation keys: no lookup can know it; the person is a member (say, invited
    # by that lost call), which a membership check confirms.
    h.clock.advance(3600)
    await h.simulator.invite(account, CHAT, confirmed.username or "")
    for row in (confirmed, no_proof):
        async with h.rt.db.session() as s:
            await s.execute(
                InviteTarget.__table__.update().where(InviteTarget.id == row.id).values(operation_key=None)
            )
    calls_before = len(h.simulator.platform_calls())

    counts = await resolve_expired_sending(h.rt, h.clock.now())

    assert counts == {"record": 2, "confirmed": 1, "wait": 0, "retry": 1, "unknown": 1}
    assert len(h.simulator.platform_calls()) == calls_before, "recovery itself sent nothing"
    by_id = {row.id: row for row in await rows(h, invite_task) + await rows(h, message_task)}
    assert by_id[answered.id].status == TargetStatus.INVITED.value
    assert by_id[message.id].status == TargetStatus.MESSAGED.value
    assert by_id[confirmed.id].status == TargetStatus.INVITED.value
    # Never asked: back to the pool with the same key (lineage kept), so its retry cannot act twice.
    retried = by_id[never_asked.id]
    assert (retried.status, retried.lineage, retried.account_id) == (TargetStatus.PENDING.value, 0, None)
    # No proof either way ("not a member" proves nothing): unknown, until the user decides.
    assert by_id[no_proof.id].status == TargetStatus.UNKNOWN.value
    for task_id in (invite_task, message_task):
        assert await h.counters(task_id) == await h.target_states(task_id)
    # A second pass finds nothing left to resolve.
    again = await resolve_expired_sending(h.rt, h.clock.now())
    assert sum(again.values()) == 0


async def test_a_stale_recovery_cannot_overwrite_a_newer_attempt(h: Harness) -> None:
    [account] = await h.accounts(1)
    task_id = await h.task(1, [account])
    [row] = await rows(h, task_id)
    await strand_in_sending(h, task_id, row, account)
    # Between recovery's read and its write, the row moved on to a newer attempt under another key.
    async with h.rt.db.session() as s:
        await s.execute(
            InviteTarget.__table__.update()
            .where(InviteTarget.id == row.id)
            .values(operation_key="a-newer-attempt", lease_until=h.clock.now() + timedelta(minutes=5))
        )
    async with h.rt.db.session() as s:
        loaded = await task_store.task(s, task_id)
    assert loaded is not None
    assert await _resolve_one(h.rt, loaded, row, h.clock.now()) is None
    [after] = await rows(h, task_id)
    assert (after.status, after.operation_key) == (TargetStatus.SENDING.value, "a-newer-attempt")
    assert await h.counters(task_id) == await h.target_states(task_id)
