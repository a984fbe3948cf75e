"""The service around the calls: keys across a restart and a crash, one call per account at a time,
idle clients, an unreachable Telegram, a bug inside, metrics."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from invite_service.adapters.base import OperationState
from invite_service.adapters.telegram import IntegrationClient, IntegrationError, RetryPolicy
from tests.integration_service.server import IntegrationServer
from tests.integration_service.support import (
    ACCOUNT,
    ALICE,
    CAROL,
    CHAT,
    DAVE,
    SECRET,
    by_id,
    invited_ids,
    no_sleep,
    until,
    until_async,
)


async def test_keys_survive_a_restart_and_an_interrupted_call_is_reported(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    live = await client.invite(ACCOUNT, CHAT, [by_id(CAROL)], key="restart-key-01")
    # A call the process died in: its key was recorded in_progress and never completed.
    server.run(_insert_in_progress(server, "crash-key-0001"))
    server.stop()
    server.start()
    fresh = IntegrationClient(server.url, SECRET, retry=RetryPolicy(max_attempts=1), sleep=no_sleep)
    try:
        assert await fresh.invite(ACCOUNT, CHAT, [by_id(CAROL)], key="restart-key-01") == live
        assert server.fake.calls == []  # replayed from the database: Telegram not asked
        record = await fresh.operation("crash-key-0001")
        assert (record.state, record.status) == (OperationState.COMPLETED, 502)
        assert record.body["code"] == "OPERATION_INTERRUPTED"
        assert (await fresh.operation("never-used-key")).state is OperationState.UNKNOWN_KEY
    finally:
        await fresh.aclose()


async def test_one_call_per_account_at_a_time_and_a_repeat_waits_for_the_first(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    world = server.world
    world.user(31, "erin")
    world.hold.add("InviteToChannelRequest")
    world.held = 0
    first = asyncio.create_task(client.invite(ACCOUNT, CHAT, [by_id(31)], key="held-key-0001"))
    await until(lambda: world.held == 1)  # Telegram is "working" on the invite
    repeat = asyncio.create_task(client.invite(ACCOUNT, CHAT, [by_id(31)], key="held-key-0001"))
    message = asyncio.create_task(client.send_message(ACCOUNT, by_id(31), "hi", key="held-key-0002"))

    async def both_waiting() -> bool:
        # The message's key is recorded (it is past the store, at the account's lock) ...
        return (await client.operation("held-key-0002")).state is OperationState.IN_PROGRESS

    await until_async(both_waiting)
    assert (await client.operation("held-key-0001")).state is OperationState.IN_PROGRESS
    server.run(world.release())
    assert await first == await repeat  # ... and the repeat got the first call's answer
    await message
    invites = [
        c for c in server.fake.calls if c.request == "InviteToChannelRequest" and 31 in invited_ids(c.args)
    ]
    assert len(invites) == 1
    assert world.max_in_flight[ACCOUNT] == 1


async def test_idle_clients_disconnect_and_an_unreachable_telegram_is_a_503_that_frees_the_key(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    await client.is_member(ACCOUNT, CHAT, by_id(ALICE))
    assert server.run(server.app.state.pool.reap_idle(0)) == 1
    assert not server.fake.clients[ACCOUNT].is_connected()
    server.world.unreachable = True
    try:
        with pytest.raises(IntegrationError) as down:
            await client.send_message(ACCOUNT, by_id(ALICE), "later", key="down-key-0001")
        assert (down.value.status, down.value.code) == (503, "UNAVAILABLE")
        assert (await client.operation("down-key-0001")).state is OperationState.UNKNOWN_KEY
    finally:
        server.world.unreachable = False
    await client.send_message(ACCOUNT, by_id(ALICE), "later", key="down-key-0001")  # connects on demand
    assert server.fake.clients[ACCOUNT].is_connected()


async def test_metrics_count_calls(server: IntegrationServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    assert 'integration_calls_total{operation="invite",outcome="ok"}' in text
    assert "integration_outbox_depth" in text


async def test_a_failure_inside_the_service_is_a_500_and_the_key_is_never_acted_on_again(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    server.world.fail("InviteToChannelRequest", lambda: KeyError("a bug"))
    with pytest.raises(IntegrationError) as failed:
        await client.invite(ACCOUNT, CHAT, [by_id(DAVE)], key="bug-key-00001")
    assert (failed.value.status, failed.value.code) == (500, "INTERNAL")
    record = await client.operation("bug-key-00001")  # the call may have acted: never again under this key
    assert (record.state, record.status, record.body["code"]) == (
        OperationState.COMPLETED,
        502,
        "OPERATION_INTERRUPTED",
    )


async def _insert_in_progress(server: IntegrationServer, key: str) -> None:
    from sqlalchemy import insert

    from integration_service.app import utcnow
    from integration_service.db import engine_for, operations

    engine = engine_for(server.db_url)
    async with engine.begin() as conn:
        await conn.execute(
            insert(operations).values(
                key=key,
                fingerprint="invite|x|y",
                operation="invite",
                account_id=ACCOUNT,
                status="in_progress",
                created_at=utcnow(),
            )
        )
    await engine.dispose()
