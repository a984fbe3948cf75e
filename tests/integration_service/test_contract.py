"""The Telethon-backed Integration Service over real HTTP, driven by the Invite Service's own
``IntegrationClient``; Telegram is a fake client returning real Telethon TL objects and errors."""

from __future__ import annotations

import httpx
import pytest
from telethon import errors
from telethon.errors import rpcbaseerrors

from integration_service.mapping import random_id_for
from invite_service.adapters.base import Outcome, TargetRef
from invite_service.adapters.telegram import IntegrationClient, IntegrationError, Invitee
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.adapters.telegram.client import mint_service_token
from invite_service.models.enums import TargetKind
from tests.integration_service.server import IntegrationServer
from tests.integration_service.support import (
    ACCOUNT,
    ALICE,
    BASIC,
    BOB,
    CAROL,
    CHAT,
    DAVE,
    ME,
    USER,
    by_id,
    raw,
    reset_account,
    wire,
)


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
    server.run(reset_account(server))


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
        server.run(reset_account(server))
