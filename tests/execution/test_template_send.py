"""The engine sends what the template rules say (fallbacks included), in simulated time over the real
simulated messenger; and a test message shares the account's caps with the engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from invite_service.execution.trial_message import send_test_message
from invite_service.invite_tasks.schemas import MessageTestIn
from invite_service.models import InviteTask
from invite_service.sandbox.model import TargetFate
from invite_service.stores.tasks import get_owned
from invite_service.targets.schemas import BulkTargetsIn
from invite_service.targets.service import bulk_create
from tests.execution.harness import Harness, name_with
from tests.execution.test_platform_errors import settle

pytestmark = pytest.mark.asyncio


async def test_the_engine_renders_fallbacks_for_empty_and_missing_fields(h: Harness) -> None:
    a = (await h.accounts(1))[0]
    named, blank, bare = (name_with(TargetFate.OK, p) for p in ("named_", "blank_", "bare_"))
    template = "Привет, {first_name|друг}! {city|}"
    task_id = await h.task(0, [a], action="message", message_template=template)
    async with h.rt.db.session() as s:
        task = (await s.scalars(select(InviteTask).where(InviteTask.id == task_id))).one()
        rows = [
            {"username": named, "first_name": "Анна", "fields": {"city": "Казань"}},
            {"username": blank, "first_name": "", "fields": {"city": ""}},
            {"username": bare},
        ]
        await bulk_create(s, h.settings, task, BulkTargetsIn.model_validate({"targets": rows}))
    await h.control(task_id, "start")
    await settle(h, task_id)
    sent = {e.target: e.text for e in h.simulator.ledger(action="message")}
    assert sent == {named: "Привет, Анна! Казань", blank: "Привет, друг! ", bare: "Привет, друг! "}


async def test_a_test_message_takes_a_slot_the_engine_then_lacks(h: Harness) -> None:
    a = (await h.accounts(1))[0]
    names = [name_with(TargetFate.OK, f"capped{i}_") for i in range(2)]
    caps = {"caps": {"messages_per_hour": 2}}
    task_id = await h.task(0, [a], usernames=names, action="message", message_template="Hi", settings=caps)
    me = name_with(TargetFate.OK, "myself_")
    async with h.rt.db.session() as s:
        task = await get_owned(s, h.user, task_id)
        out = await send_test_message(s, h.rt, task, MessageTestIn(to=me))
    assert out.outcome == "success"
    h.clock.advance(5)
    await h.control(task_id, "start")
    done = await h.run_until([task_id], {"completed"}, horizon=timedelta(minutes=30))
    # Two a sliding hour: the test message took one, so within the half hour the engine sent one target only.
    assert not done
    assert next(e.target for e in h.simulator.ledger(account_id=a, action="message")) == me
    assert len(h.simulator.ledger(account_id=a, action="message")) == 2
    assert (await h.counters(task_id)) == {"messaged": 1, "pending": 1}
    # Once the test message's slot leaves the window, the engine finishes.
    assert await h.run_until([task_id], {"completed"}, horizon=timedelta(hours=2))
