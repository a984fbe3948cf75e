"""What the engine does with Telegram's errors, end to end: simulated messenger, real database.

Each test injects the error into the simulator (or gives a target a fate) and checks what a user relies
on: which targets end how, which accounts stop, when the task pauses and why, and what was never sent.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.execution import premium
from invite_service.models import InviteTarget, InviteTask, Lane
from invite_service.sandbox.integration_state import demo_config
from invite_service.sandbox.model import TargetFate, target_fate
from invite_service.workers.stepped import simulate
from tests.execution.harness import SEED, Harness, make_harness, name_with

pytestmark = pytest.mark.asyncio


async def _quiet() -> bool:
    return False


async def settle(h: Harness, task_id: uuid.UUID, hours: float = 2) -> None:
    """Run until the task is no longer running (completed or paused), or the horizon passes."""
    await h.run_until([task_id], {"completed", "paused", "cancelled"}, timedelta(hours=hours))


async def targets(h: Harness, task_id: uuid.UUID) -> dict[str, InviteTarget]:
    async with h.rt.db.session() as s:
        rows = (await s.scalars(select(InviteTarget).where(InviteTarget.task_id == task_id))).all()
    return {row.username or "": row for row in rows}


async def lanes(h: Harness, task_id: uuid.UUID) -> dict[str, str]:
    async with h.rt.db.session() as s:
        rows = (await s.scalars(select(Lane).where(Lane.task_id == task_id))).all()
    return {row.account_id: str(row.status) for row in rows}


async def pause_reason(h: Harness, task_id: uuid.UUID) -> str:
    async with h.rt.db.session() as s:
        task = await s.get(InviteTask, task_id)
        assert task is not None
        return task.pause_reason or ""


def ok_names(n: int, prefix: str = "ok") -> list[str]:
    return [name_with(TargetFate.OK, f"{prefix}{i}_") for i in range(n)]


async def test_a_ban_makes_the_account_unusable_and_time_does_not_bring_it_back(h: Harness) -> None:
    a, b = await h.accounts(2)
    task_id = await h.task(0, [a, b], usernames=ok_names(6))
    h.simulator.inject("USER_DEACTIVATED_BAN", account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    await simulate(h.rt, h.clock, h.queue, until=_quiet, horizon=timedelta(days=2))
    assert (await lanes(h, task_id))[a] == "unavailable", "a banned account is not a restriction that ends"
    assert await h.status(task_id) == "completed"
    assert all(t.status == "invited" for t in (await targets(h, task_id)).values())
    assert not h.simulator.ledger(account_id=a), "the banned account never acted"


async def test_an_unknown_session_class_error_stops_the_account_not_the_targets(h: Harness) -> None:
    a, b = await h.accounts(2)
    task_id = await h.task(0, [a, b], usernames=ok_names(6))
    # Not in the table; Telegram's class (401) says the session is unusable.
    h.simulator.inject("ACTIVE_USER_REQUIRED", account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert (await lanes(h, task_id))[a] == "unavailable"
    states = {t.status for t in (await targets(h, task_id)).values()}
    assert states == {"invited"}, "no target failed for the account's fault"


async def test_bots_too_much_skips_the_target_and_keeps_every_account(h: Harness) -> None:
    a, b = await h.accounts(2)
    task_id = await h.task(0, [a, b], usernames=ok_names(8))
    h.simulator.inject("BOTS_TOO_MUCH", count=3)
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"
    assert set((await lanes(h, task_id)).values()) == {"active"}, "a bot target excluded no account"
    rows = (await targets(h, task_id)).values()
    assert sorted(t.error_code or "" for t in rows if t.status == "failed") == ["BOTS_TOO_MUCH"] * 3
    assert sum(t.status == "invited" for t in rows) == 5


@pytest.mark.parametrize(
    "code", ["ALLOW_PAYMENT_REQUIRED", "PREMIUM_ACCOUNT_REQUIRED", "USER_NOT_MUTUAL_CONTACT"]
)
async def test_target_refusals_that_allow_no_link_are_skipped_without_a_message(
    h: Harness, code: str
) -> None:
    a = (await h.accounts(1))[0]
    names = ok_names(3)
    task_id = await h.task(
        0, [a], usernames=names, action="invite_or_message", message_template="Join us, {first_name}"
    )
    h.simulator.inject(code, account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"
    rows = await targets(h, task_id)
    refused = [t for t in rows.values() if t.error_code == code]
    assert len(refused) == 1 and refused[0].status == "failed"
    assert not h.simulator.ledger(action="message"), "no invite link was messaged instead"
    if code == "USER_NOT_MUTUAL_CONTACT":
        assert "left" in (refused[0].error_detail or ""), "the reason says they may have left"


async def test_a_monoforum_destination_pauses_the_task_with_its_reason(h: Harness) -> None:
    a, b = await h.accounts(2)
    task_id = await h.task(0, [a, b], usernames=ok_names(6))
    h.simulator.inject("CHANNEL_MONOFORUM_UNSUPPORTED", account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "paused"
    assert "CHANNEL_MONOFORUM_UNSUPPORTED" in await pause_reason(h, task_id)
    # The chat is at fault, not the account: nothing is excluded, so a resume goes on with both.
    assert set((await lanes(h, task_id)).values()) == {"active"}
    await h.control(task_id, "resume")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"


async def test_a_full_chat_pause_names_both_causes(h: Harness) -> None:
    a = (await h.accounts(1))[0]
    task_id = await h.task(0, [a], usernames=ok_names(3))
    h.simulator.inject("USERS_TOO_MUCH", account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    reason = await pause_reason(h, task_id)
    assert await h.status(task_id) == "paused"
    assert "full" in reason and "200" in reason, reason


@pytest.mark.parametrize(("failures", "paused"), [(4, False), (5, True)])
async def test_chat_member_add_failed_pauses_only_when_it_repeats_five_in_a_row(
    h: Harness, failures: int, paused: bool
) -> None:
    a = (await h.accounts(1))[0]
    task_id = await h.task(0, [a], usernames=ok_names(8))
    h.simulator.inject("CHAT_MEMBER_ADD_FAILED", count=failures, account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    rows = (await targets(h, task_id)).values()
    assert sum(t.error_code == "CHAT_MEMBER_ADD_FAILED" and t.status == "failed" for t in rows) == failures
    if paused:
        assert await h.status(task_id) == "paused"
        assert "last 5 invites" in await pause_reason(h, task_id)
    else:
        assert await h.status(task_id) == "completed"


async def test_random_id_duplicate_counts_as_delivered_and_is_never_resent(h: Harness) -> None:
    a = (await h.accounts(1))[0]
    names = ok_names(3)
    task_id = await h.task(0, [a], usernames=names, action="message", message_template="Hi {first_name}")
    h.simulator.inject("RANDOM_ID_DUPLICATE", account_id=a)
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"
    rows = await targets(h, task_id)
    assert {t.status for t in rows.values()} == {"messaged"}
    duplicate = [name for name, t in rows.items() if t.error_code == "RANDOM_ID_DUPLICATE"]
    assert len(duplicate) == 1
    sent_to = [e.target for e in h.simulator.ledger(action="message")]
    assert duplicate[0] not in sent_to, "the message was not sent again"


async def test_an_invite_with_no_change_and_no_membership_ends_unknown_and_is_not_resent(db_url: str) -> None:
    config = replace(demo_config(SEED), silent_invite_share=0.05)
    h = await make_harness(db_url, config=config)
    try:
        silent = next(
            f"quiet{n}" for n in range(100_000) if target_fate(config, f"quiet{n}") is TargetFate.SILENT
        )
        fine = [f"fine{n}" for n in range(100_000) if target_fate(config, f"fine{n}") is TargetFate.OK][:3]
        a = (await h.accounts(1))[0]
        task_id = await h.task(0, [a], usernames=[silent, *fine])
        await h.control(task_id, "start")
        await h.run_until([task_id], {"completed"}, timedelta(hours=2), recover_every=timedelta(minutes=10))
        await simulate(h.rt, h.clock, h.queue, until=_quiet, horizon=timedelta(hours=6))
        rows = await targets(h, task_id)
        assert rows[silent].status == "unknown", "not taken for a member without proof"
        assert {rows[name].status for name in fine} == {"invited"}
        invites = [e for e in h.simulator.ledger(action="invite") if e.target == silent]
        assert len(invites) == 1, "invited once, never again"
    finally:
        await h.rt.db.dispose()


async def test_a_missing_invitee_premium_would_admit_is_retried_once_by_a_premium_lane(h: Harness) -> None:
    a, b = await h.accounts(2)
    h.simulator.set_premium(b)
    picky = name_with(TargetFate.MISSING_PREMIUM_ALLOW, "picky")
    # The picky target first: the first lane (a, no Premium) reserves it.
    task_id = await h.task(0, [a, b], usernames=[picky, *ok_names(4)])
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"
    rows = await targets(h, task_id)
    assert rows[picky].status == "invited" and rows[picky].error_code is None
    calls = [(e.account_id, e.result) for e in h.simulator.ledger(action="invite") if e.target == picky]
    assert calls == [(a, "missing_invitee"), (b, "added")], "one retry, by the Premium account"


async def test_without_a_premium_lane_the_missing_invitee_is_skipped_with_its_reason(h: Harness) -> None:
    a, b = await h.accounts(2)
    picky = name_with(TargetFate.MISSING_PREMIUM_ALLOW, "picky")
    task_id = await h.task(0, [a, b], usernames=[picky, *ok_names(3)])
    await h.control(task_id, "start")
    await settle(h, task_id)
    assert await h.status(task_id) == "completed"
    row = (await targets(h, task_id))[picky]
    assert (row.status, row.error_code) == ("failed", "MISSING_INVITEE_PREMIUM_WOULD_ALLOW")
    assert "premium" in (row.error_detail or "")
    assert len([e for e in h.simulator.ledger(action="invite") if e.target == picky]) == 1


@pytest.mark.parametrize(("action", "ends"), [("invite", "failed"), ("invite_or_message", "messaged")])
async def test_a_hand_off_ends_when_no_premium_lane_is_left(h: Harness, action: str, ends: str) -> None:
    a, b = await h.accounts(2)
    h.simulator.set_premium(b)
    picky = name_with(TargetFate.MISSING_PREMIUM_ALLOW, "picky")
    task_id = await h.task(
        0, [a, b], usernames=[picky, *ok_names(3)], action=action, message_template="Join us, {first_name}"
    )
    await h.control(task_id, "start")

    async def handed() -> bool:
        return (await targets(h, task_id))[picky].error_code == "HANDED_TO_PREMIUM"

    await simulate(h.rt, h.clock, h.queue, until=handed, horizon=timedelta(hours=1))
    assert await handed()
    # The Premium account's session is revoked before it gets to the target: it is left to no one.
    async with h.rt.db.session() as s:
        lane = await s.get(Lane, (task_id, b))
        assert lane is not None
        lane.status = "unavailable"  # type: ignore[assignment]
    await settle(h, task_id)
    row = (await targets(h, task_id))[picky]
    assert row.status == ends
    assert [e.account_id for e in h.simulator.ledger(action="invite") if e.target == picky] == [a]
    if ends == "failed":
        assert row.error_code == "MISSING_INVITEE_PREMIUM_WOULD_ALLOW"
        assert "no Premium account" in (row.error_detail or "")


async def test_a_listing_that_never_answers_does_not_hold_a_start(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Premium refresh asks the platform inside the start's transaction: it gives up, the start goes on
    and the lanes keep what they knew."""
    a, b = await h.accounts(2)
    task_id = await h.task(0, [a, b], usernames=ok_names(2))
    never = asyncio.Event()

    async def silent(_user_id: str) -> list[object]:
        await never.wait()
        return []

    monkeypatch.setattr(premium, "REFRESH_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(h.adapter, "initialize_accounts", silent)
    # The bound is a guard against a hang, not a measurement: without the refresh's own deadline this waits
    # forever.
    await asyncio.wait_for(h.control(task_id, "start"), 60)
    assert await h.status(task_id) == "running"
    async with h.rt.db.session() as s:
        rows = (await s.scalars(select(Lane).where(Lane.task_id == task_id))).all()
    assert sorted((lane.account_id, lane.is_premium) for lane in rows) == [(a, False), (b, False)]
