"""The Telethon-backed Integration Service over real HTTP, driven by the Invite Service's own
``IntegrationClient``; Telegram is a fake client returning real Telethon TL objects and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from telethon import errors, types
from telethon.errors import rpc_message_to_error, rpcbaseerrors

from integration_service.mapping import random_id_for
from invite_service.adapters.base import OperationState, Outcome, TargetRef
from invite_service.adapters.telegram import IntegrationClient, IntegrationError, Invitee, RetryPolicy
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.adapters.telegram.client import mint_service_token
from invite_service.models.enums import TargetKind
from tests.conftest import fresh_postgres
from tests.integration_service.fake_telegram import World
from tests.integration_service.server import IntegrationServer

SECRET = "integration-service-test-secret-" + "s" * 32
USER, ACCOUNT, ME = "user-1", "tg-acc-1", 1
CHAT, BASIC = "club", "basic"
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14


def by_id(uid: int) -> Invitee:
    return Invitee.of(TargetKind.USER_ID, str(uid))


async def _skip(_s: float) -> None:
    return None


def wire(code: int, message: str) -> Callable[[], Exception]:
    """The error Telethon raises when Telegram answers ``rpc_error(code, message)``."""
    return lambda: rpc_message_to_error(types.RpcError(error_code=code, error_message=message), None)


def make_world() -> World:
    world = World()
    world.user(ME, "me_account")
    for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")):
        world.user(uid, name)
    world.chat(500, CHAT, channel=True)
    world.chat(600, BASIC, channel=False)
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IntegrationServer]:
    workdir = tmp_path_factory.mktemp("integration-service")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite+aiosqlite:///{workdir / 'is.db'}"])
        running = IntegrationServer(next(urls), workdir, make_world(), SECRET)
        running.add_account(ACCOUNT, USER, ME)
        yield running.start()
        running.stop()
        return
    with fresh_postgres("integration_test", migrated=False) as url:
        running = IntegrationServer(url, workdir, make_world(), SECRET)
        running.add_account(ACCOUNT, USER, ME)
        yield running.start()
        running.stop()


@pytest.fixture
async def client(server: IntegrationServer) -> AsyncIterator[IntegrationClient]:
    integration = IntegrationClient(server.url, SECRET, retry=RetryPolicy(max_attempts=1), sleep=_skip)
    yield integration
    await integration.aclose()


def raw(server: IntegrationServer) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {mint_service_token(SECRET, ttl_seconds=600)}"}
    return httpx.AsyncClient(base_url=server.url, headers=headers)


async def test_lists_the_users_accounts_with_get_me_details(client: IntegrationClient) -> None:
    accounts = await client.list_accounts(USER)
    assert [(a.id, a.platform, a.status, a.username) for a in accounts] == [
        (ACCOUNT, "telegram", "active", "me_account")
    ]
    assert await client.list_accounts("nobody") == []
    with pytest.raises(IntegrationError) as refused:
        await client.get_account("tg-missing")
    assert (refused.value.status, refused.value.code) == (404, "ACCOUNT_NOT_FOUND")


async def test_invite_adds_and_reports_missing_invitees_with_both_premium_flags(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    server.world.missing[BOB] = (True, False)
    server.world.missing[CAROL] = (False, True)
    answer = await client.invite(ACCOUNT, CHAT, [by_id(ALICE), by_id(BOB), by_id(CAROL)], key="inv-key-0001")
    assert answer.invited == (by_id(ALICE),)
    flags = {
        (m.user_id, m.premium_would_allow_invite, m.premium_required_for_pm) for m in answer.missing_invitees
    }
    assert flags == {(BOB, True, False), (CAROL, False, True)}
    assert ALICE in server.world.chats[500].members
    assert await client.is_member(ACCOUNT, CHAT, by_id(ALICE)) is True
    assert await client.is_member(ACCOUNT, CHAT, by_id(DAVE)) is False
    # A basic group: messages.addChatUser, and membership from the full chat.
    basic = await client.invite(ACCOUNT, BASIC, [Invitee.of(TargetKind.USERNAME, "dave")], key="inv-key-0002")
    assert basic.invited == (Invitee.of(TargetKind.USERNAME, "dave"),)
    assert server.fake.count("AddChatUserRequest") == 1
    assert await client.is_member(ACCOUNT, BASIC, Invitee.of(TargetKind.USERNAME, "dave")) is True


async def test_an_invite_with_no_visible_add_lists_nobody(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    server.world.user(21, "quiet")
    server.world.silent.add(21)
    answer = await client.invite(ACCOUNT, CHAT, [by_id(21)], key="inv-key-0003")
    assert (answer.invited, answer.missing_invitees) == ((), ())


@pytest.mark.parametrize(
    ("make_error", "status", "code", "rpc_code", "retry_after"),
    [
        (lambda: errors.UserPrivacyRestrictedError(request=None), 403, "USER_PRIVACY_RESTRICTED", 403, None),
        (lambda: errors.FloodWaitError(request=None, capture=30), 420, "FLOOD_WAIT_30", 420, 30.0),
        (lambda: errors.PeerFloodError(request=None), 400, "PEER_FLOOD", 400, None),
        (lambda: errors.AuthKeyUnregisteredError(request=None), 403, "AUTH_KEY_UNREGISTERED", 401, None),
        (lambda: errors.UserDeactivatedBanError(request=None), 403, "USER_DEACTIVATED_BAN", 401, None),
        (
            lambda: rpcbaseerrors.UnauthorizedError(request=None, message="ACTIVE_USER_REQUIRED", code=401),
            403,
            "ACTIVE_USER_REQUIRED",
            401,
            None,
        ),
        (lambda: errors.BotsTooMuchError(request=None), 400, "BOTS_TOO_MUCH", 400, None),
        (lambda: errors.RpcCallFailError(request=None), 502, "RPC_CALL_FAIL", 500, None),
        # As Telethon builds them from the wire (``rpc_message_to_error``), known to it or not:
        (wire(400, "USER_NOT_MUTUAL_CONTACT"), 400, "USER_NOT_MUTUAL_CONTACT", 400, None),
        (wire(400, "USERS_TOO_MUCH"), 400, "USERS_TOO_MUCH", 400, None),
        (wire(403, "PREMIUM_ACCOUNT_REQUIRED"), 403, "PREMIUM_ACCOUNT_REQUIRED", 403, None),
        (wire(400, "CHAT_MEMBER_ADD_FAILED"), 400, "CHAT_MEMBER_ADD_FAILED", 400, None),
        (wire(400, "CHANNEL_MONOFORUM_UNSUPPORTED"), 400, "CHANNEL_MONOFORUM_UNSUPPORTED", 400, None),
        (wire(403, "ALLOW_PAYMENT_REQUIRED"), 403, "ALLOW_PAYMENT_REQUIRED", 403, None),
        (wire(403, "ALLOW_PAYMENT_REQUIRED_250"), 403, "ALLOW_PAYMENT_REQUIRED_250", 403, None),
        (wire(420, "FLOOD_PREMIUM_WAIT_5"), 420, "FLOOD_PREMIUM_WAIT_5", 420, 5.0),
        (wire(-503, "Timeout"), 504, "TIMEOUT", -503, None),
        (wire(-500, "No workers running"), 502, "NO_WORKERS_RUNNING", -500, None),
    ],
)
async def test_telegram_errors_keep_their_name_class_and_wait(
    server: IntegrationServer,
    make_error: object,
    status: int,
    code: str,
    rpc_code: int,
    retry_after: float | None,
) -> None:
    server.world.fail("InviteToChannelRequest", make_error)  # type: ignore[arg-type]
    key = f"err-{code.lower()}"
    async with raw(server) as http:
        answer = await http.post(
            f"/v1/accounts/{ACCOUNT}/invite",
            json={"chat": CHAT, "users": [{"user_id": str(DAVE)}]},
            headers={"Idempotency-Key": key},
        )
        assert answer.status_code == status
        assert answer.json() == {
            "code": code,
            "retry_after": retry_after,
            "detail": None,
            "rpc_code": rpc_code,
        }
        account = (await http.get(f"/v1/accounts/{ACCOUNT}")).json()
    expected = {420: "flood_wait", 401: "unavailable"}.get(
        rpc_code, "restricted" if code == "PEER_FLOOD" else "active"
    )
    assert account["status"] == expected
    # Put the account back for the next case (the row is the service's state, not Telegram's).
    server.run(
        server_store(server).set(
            ACCOUNT, status="active", status_detail=None, flood_wait_until=None, restricted_until=None
        )
    )


def server_store(server: IntegrationServer):  # type: ignore[no-untyped-def]
    from integration_service.accounts import AccountStore
    from integration_service.app import utcnow
    from integration_service.db import engine_for

    return AccountStore(engine_for(server.db_url), utcnow)


async def test_message_random_id_comes_from_the_key_and_a_replay_makes_no_call(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    before = server.fake.count("SendMessageRequest")
    first = await client.send_message(ACCOUNT, by_id(ALICE), "hello", key="msg-key-0001")
    again = await client.send_message(ACCOUNT, by_id(ALICE), "hello", key="msg-key-0001")
    assert first == again
    sends = [c for c in server.fake.calls if c.request == "SendMessageRequest"][before:]
    assert [c.args["random_id"] for c in sends] == [random_id_for("msg-key-0001")]
    # The same key on another body is refused, and nothing is sent.
    with pytest.raises(IntegrationError) as mismatch:
        await client.send_message(ACCOUNT, by_id(ALICE), "other text", key="msg-key-0001")
    assert (mismatch.value.status, mismatch.value.code) == (409, "IDEMPOTENCY_KEY_MISMATCH")
    assert server.fake.count("SendMessageRequest") == before + 1


async def test_random_id_duplicate_is_passed_up_by_name(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    server.world.random_ids.add((ME, random_id_for("msg-key-0002")))
    with pytest.raises(IntegrationError) as duplicate:
        await client.send_message(ACCOUNT, by_id(BOB), "hi", key="msg-key-0002")
    assert (duplicate.value.status, duplicate.value.code) == (400, "RANDOM_ID_DUPLICATE")


async def test_the_service_token_is_required(server: IntegrationServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.get(f"/v1/users/{USER}/accounts")
        wrong = await anonymous.get(
            f"/v1/users/{USER}/accounts", headers={"Authorization": f"Bearer {mint_service_token('x' * 40)}"}
        )
    for answer in (refused, wrong):
        assert (answer.status_code, answer.json()["code"]) == (401, "UNAUTHORIZED")
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_a_bad_body_is_a_validation_error(server: IntegrationServer) -> None:
    async with raw(server) as http:
        bad = await http.post(f"/v1/accounts/{ACCOUNT}/invite", json={"chat": CHAT, "users": []})
    assert (bad.status_code, bad.json()["code"]) == (400, "VALIDATION_ERROR")


async def test_keys_survive_a_restart_and_an_interrupted_call_is_reported(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    live = await client.invite(ACCOUNT, CHAT, [by_id(CAROL)], key="restart-key-01")
    # A call the process died in: its key was recorded in_progress and never completed.
    server.run(_insert_in_progress(server, "crash-key-0001"))
    server.stop()
    server.start()
    fresh = IntegrationClient(server.url, SECRET, retry=RetryPolicy(max_attempts=1), sleep=_skip)
    try:
        assert await fresh.invite(ACCOUNT, CHAT, [by_id(CAROL)], key="restart-key-01") == live
        assert server.fake.calls == []  # replayed from the database: Telegram not asked
        record = await fresh.operation("crash-key-0001")
        assert (record.state, record.status) == (OperationState.COMPLETED, 502)
        assert record.body["code"] == "OPERATION_INTERRUPTED"
        assert (await fresh.operation("never-used-key")).state is OperationState.UNKNOWN_KEY
    finally:
        await fresh.aclose()


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
    invites = [c for c in server.fake.calls if c.request == "InviteToChannelRequest" and 31 in _ids(c.args)]
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


def _ids(args: dict[str, object]) -> list[int]:
    users = args.get("users") or []
    return [int(u["user_id"]) for u in users if isinstance(u, dict)]  # type: ignore[union-attr]


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def check() -> bool:
        return condition()

    await until_async(check, timeout)


async def until_async(condition: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    """Wait for a condition (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.01)


async def test_identities_resolve_as_telegram_allows(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    server.world.user(41, "frank", phone="4915100000041", contact=True)
    server.world.user(42, "gina", phone="4915100000042")  # not a contact: her phone does not resolve
    by_phone = await client.invite(
        ACCOUNT, CHAT, [Invitee.of(TargetKind.PHONE, "+4915100000041")], key="id-key-0001"
    )
    assert by_phone.invited == (Invitee.of(TargetKind.PHONE, "+4915100000041"),)
    cases = [
        (Invitee.of(TargetKind.PHONE, "+4915100000042"), "USER_ID_INVALID"),
        (Invitee.of(TargetKind.USERNAME, "nobody_here"), "USERNAME_NOT_OCCUPIED"),
        (by_id(999_999), "USER_ID_INVALID"),
    ]
    for n, (who, code) in enumerate(cases):
        with pytest.raises(IntegrationError) as refused:
            await client.invite(ACCOUNT, CHAT, [who], key=f"id-key-01{n}")
        assert (refused.value.status, refused.value.code) == (400, code)


async def test_the_invite_services_adapter_reads_the_answers_as_it_reads_the_sandboxs(
    server: IntegrationServer, client: IntegrationClient
) -> None:
    adapter = TelegramAdapter(client)
    server.world.user(51, "hank")
    hank = TargetRef(TargetKind.USERNAME, "hank", username="hank")
    assert (await adapter.send_invite(ACCOUNT, CHAT, hank, key="adapter-key-01")).outcome is Outcome.SUCCESS
    assert (await adapter.send_message(ACCOUNT, hank, "hi", key="adapter-key-02")).outcome is Outcome.SUCCESS
    assert await adapter.check_membership(ACCOUNT, CHAT, hank) is True
    server.world.user(52, "ivy")
    ivy = TargetRef(TargetKind.USERNAME, "ivy", username="ivy")
    cases = [
        (lambda: errors.UserPrivacyRestrictedError(request=None), Outcome.TARGET_REJECTED, None),
        (lambda: errors.FloodWaitError(request=None, capture=30), Outcome.RETRY_AFTER, 30.0),
        (lambda: errors.PeerFloodError(request=None), Outcome.ACCOUNT_RESTRICTED, None),
        (lambda: errors.AuthKeyUnregisteredError(request=None), Outcome.ACCOUNT_UNAVAILABLE, None),
    ]
    for n, (make_error, outcome, retry_after) in enumerate(cases):
        server.world.fail("InviteToChannelRequest", make_error)
        result = await adapter.send_invite(ACCOUNT, CHAT, ivy, key=f"adapter-key-1{n}")
        assert (result.outcome, result.retry_after) == (outcome, retry_after)
        server.run(
            server_store(server).set(
                ACCOUNT, status="active", status_detail=None, flood_wait_until=None, restricted_until=None
            )
        )


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
