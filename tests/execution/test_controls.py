"""Pause, resume, cancel, and the platform's signals, in simulated time over the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from invite_service.adapters.telegram.errors import TELEGRAM_RULES
from invite_service.models import ExecutionLog, InviteTarget, Lane
from invite_service.suppressions.schemas import SuppressionIn
from invite_service.suppressions.service import add as add_suppression
from invite_service.workers.stepped import simulate
from tests.execution.harness import Harness, make_harness

pytestmark = pytest.mark.asyncio


async def run_while(h: Harness, predicate, horizon: timedelta) -> None:  # type: ignore[no-untyped-def]
    async def stop() -> bool:
        return not predicate()

    await simulate(h.rt, h.clock, h.queue, until=stop, horizon=horizon)


async def test_pause_stops_new_sends_resume_continues_cancel_leaves_nothing_pending(h: Harness) -> None:
    accounts = await h.accounts(2)
    task_id = await h.task(120, accounts)
    await h.control(task_id, "start")
    await run_while(h, lambda: len(h.simulator.ledger()) < 30, timedelta(hours=1))
    await h.control(task_id, "pause")
    at_pause = len(h.simulator.ledger())
    await simulate(h.rt, h.clock, h.queue, until=lambda: _false(), horizon=timedelta(hours=2))
    assert len(h.simulator.ledger()) == at_pause, "a send started after pause returned"
    assert await h.status(task_id) == "paused"

    await h.control(task_id, "resume")
    await run_while(h, lambda: len(h.simulator.ledger()) < at_pause + 20, timedelta(hours=1))
    assert len(h.simulator.ledger()) >= at_pause + 20
    await h.control(task_id, "cancel")
    at_cancel = len(h.simulator.ledger())
    await simulate(h.rt, h.clock, h.queue, until=lambda: _false(), horizon=timedelta(hours=1))
    assert len(h.simulator.ledger()) == at_cancel
    counters = await h.counters(task_id)
    assert "pending" not in counters and "reserved" not in counters, counters
    assert counters["skipped"] > 0
    assert await h.target_states(task_id) == counters
    # Repeats are harmless; resuming a cancelled task is refused.
    await h.control(task_id, "cancel")
    from invite_service.execution.policy import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        await h.control(task_id, "resume")


async def _false() -> bool:
    return False


async def test_flood_wait_is_obeyed_to_the_second(h: Harness) -> None:
    account = (await h.accounts(1))[0]
    task_id = await h.task(10, [account])
    h.simulator.inject("FLOOD_WAIT_X", count=1, seconds=100, account_id=account)
    await h.control(task_id, "start")
    assert await h.run_until([task_id], {"completed"}, timedelta(hours=1))
    async with h.rt.db.session() as s:
        logs = list(
            (
                await s.scalars(
                    select(ExecutionLog).where(ExecutionLog.task_id == task_id).order_by(ExecutionLog.id)
                )
            ).all()
        )
    flood = next(entry for entry in logs if entry.outcome == "retry_after")
    after = [entry for entry in logs if entry.id > flood.id]
    wait_until = flood.at + timedelta(seconds=100 * 1.1 + 5)
    assert after, "the task went on after the wait"
    assert min(entry.at for entry in after) >= wait_until, "the account acted before FLOOD_WAIT ended"
    assert all(e.at >= wait_until for e in h.simulator.ledger(account_id=account) if e.at > flood.at)


async def test_peer_flood_stops_the_account_in_both_tasks_and_nothing_replaces_it(h: Harness) -> None:
    a, b = await h.accounts(2)
    first = await h.task(40, [a])
    # A tolerant breaker on the second task, so it keeps going on its healthy account.
    second = await h.task(40, [a, b], settings={"breaker": {"restricted_lanes": 2, "restricted_share": 1}})
    h.simulator.inject("PEER_FLOOD", count=1, account_id=a)
    await h.control(first, "start")
    await h.control(second, "start")
    await simulate(h.rt, h.clock, h.queue, until=lambda: _false(), horizon=timedelta(hours=3))
    async with h.rt.db.session() as s:
        lanes = (await s.scalars(select(Lane).where(Lane.account_id == a))).all()
        restricted_at = max(lane.restricted_at for lane in lanes if lane.restricted_at)
        first_lanes = (await s.scalars(select(Lane).where(Lane.task_id == first))).all()
    assert {lane.status for lane in lanes} == {"restricted"}, "the account stops in every task that uses it"
    assert [lane.account_id for lane in first_lanes] == [a], "no other account was brought in"
    assert not h.simulator.ledger(account_id=a, since=restricted_at), "the restricted account acted again"
    assert h.simulator.ledger(account_id=b, since=restricted_at), "the healthy account kept working"
    # The first task (its only account restricted) is paused by the breaker with a reason.
    assert await h.status(first) == "paused"
    assert await h.status(second) == "completed"


async def test_circuit_breaker_pauses_when_restrictions_spread(h: Harness) -> None:
    accounts = await h.accounts(4)
    task_id = await h.task(2000, accounts)
    await h.control(task_id, "start")
    h.simulator.inject("PEER_FLOOD", count=1, account_id=accounts[0])
    await run_while(h, lambda: len(h.simulator.ledger(account_id=accounts[1])) < 5, timedelta(minutes=10))
    assert await h.status(task_id) == "running", "one restricted lane of four must not trip the breaker"
    h.simulator.inject("PEER_FLOOD", count=1, account_id=accounts[1])
    await run_while(h, lambda: len(h.simulator.ledger(account_id=accounts[1])) < 10, timedelta(minutes=10))
    assert await h.status(task_id) == "paused"
    async with h.rt.db.session() as s:
        from invite_service.models import InviteTask

        task = await s.get(InviteTask, task_id)
        assert task is not None and task.pause_reason and "Circuit breaker" in task.pause_reason


async def test_send_window_holds_in_a_non_utc_timezone(db_url: str) -> None:
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 07:00 in Yekaterinburg (UTC+5)
    h = await make_harness(db_url, start=start)
    try:
        account = (await h.accounts(1))[0]
        window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "09:10", "timezone": "Asia/Yekaterinburg"}
        # 120 an hour (sandbox caps) in a 10-minute window: 300 targets need three working days.
        task_id = await h.task(300, [account], settings={"send_window": window})
        await h.control(task_id, "start")
        assert await h.run_until([task_id], {"completed"}, timedelta(days=4))
        zone = ZoneInfo("Asia/Yekaterinburg")
        local = [e.at.astimezone(zone) for e in h.simulator.ledger()]
        assert local, "nothing was sent"
        assert all(t.weekday() < 5 and (9, 0) <= (t.hour, t.minute) < (9, 10) for t in local), local[:5]
        assert len({t.date() for t in local}) == 3, "the work spread over three days' windows"
    finally:
        await h.rt.db.dispose()


async def test_invite_or_message_falls_back_to_a_message(h: Harness) -> None:
    accounts = await h.accounts(3)
    task_id = await h.task(200, accounts, action="invite_or_message", message_template="Hi {first_name}!")
    await h.control(task_id, "start")
    assert await h.run_until([task_id], {"completed"}, timedelta(hours=2))
    states = await h.target_states(task_id)
    assert states.get("messaged", 0) > 0 and states.get("invited", 0) > 0, states
    messages = h.simulator.ledger(action="message")
    assert len(messages) == states["messaged"]
    assert all(m.text == f"Hi T{int(m.target.split('_')[1])}!" for m in messages)
    async with h.rt.db.session() as s:
        messaged = (
            await s.scalars(
                select(InviteTarget).where(InviteTarget.task_id == task_id, InviteTarget.status == "messaged")
            )
        ).all()
    assert all(t.error_code in TELEGRAM_RULES.message_fallback_codes for t in messaged), (
        "only a privacy refusal leads to a message"
    )


async def test_a_suppressed_target_is_never_sent(h: Harness) -> None:
    accounts = await h.accounts(2)
    task_id = await h.task(60, accounts)
    async with h.rt.db.session() as s:
        for n in (3, 17):
            await add_suppression(
                s,
                h.settings,
                h.user,
                SuppressionIn(username=f"target_{n:05d}", reason="opt_out", platform="sandbox"),
            )
    await h.control(task_id, "start")
    await run_while(h, lambda: len(h.simulator.ledger()) < 10, timedelta(hours=1))
    async with h.rt.db.session() as s:  # opted out while the task runs
        await add_suppression(
            s,
            h.settings,
            h.user,
            SuppressionIn(username="target_00055", reason="opt_out", platform="sandbox"),
        )
    assert await h.run_until([task_id], {"completed"}, timedelta(hours=2))
    sent_to = {e.target for e in h.simulator.ledger()}
    assert not sent_to & {"target_00003", "target_00017", "target_00055"}
    async with h.rt.db.session() as s:
        skipped = (
            await s.scalars(
                select(InviteTarget.username).where(
                    InviteTarget.task_id == task_id, InviteTarget.error_code == "suppressed"
                )
            )
        ).all()
    assert set(skipped) == {"target_00003", "target_00017", "target_00055"}
