"""The Integration Service contract (``docs/contracts/integration-service.yaml``), as the Invite Service
relies on it, checked over real HTTP on both implementations with the Invite Service's own client and
adapter.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import datetime
from typing import Any

import httpx
import pytest

from invite_service.adapters.base import OperationState, Outcome, TargetRef
from invite_service.adapters.telegram import Delivery, IntegrationClient, IntegrationError, Invitee
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.adapters.telegram.client import mint_service_token
from invite_service.adapters.telegram.types import parse_invite_response
from invite_service.models.enums import TargetKind
from tests.contract.conftest import make_client
from tests.contract.platforms import ACCOUNT, CHAT, OTHER, SECRET, USER, EventSink, Fate, Platform

K = "op-key-00000001"


def target(who: Invitee) -> TargetRef:
    return TargetRef(TargetKind.USERNAME, who.value, username=who.value)


def raw(platform: Platform) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {mint_service_token(SECRET, ttl_seconds=600)}"}
    return httpx.AsyncClient(base_url=platform.url, headers=headers)


async def until(condition: Any, timeout: float = 15) -> None:
    """Wait for a condition (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


class LosingTransport(httpx.AsyncHTTPTransport):
    """Delivers the next POST, then loses its answer (the connection drops on the way back)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose = 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and self.lose:
            self.lose -= 1
            await response.aread()
            raise httpx.ReadError("the answer was lost", request=request)
        return response


# -- the service's own answers --


async def test_health_needs_no_token_and_every_v1_call_does(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url) as anonymous:
        health = (await anonymous.get("/health")).json()
        assert health["status"] == "ok"
        # The simulator says it is one (the Invite Service's health reports it); the real one doesn't.
        assert health.get("simulated", False) is (platform.name == "sandbox")
        refused = await anonymous.get(f"/v1/users/{USER}/accounts")
        assert (refused.status_code, refused.json()["code"]) == (401, "UNAUTHORIZED")
        assert refused.headers["www-authenticate"].lower().startswith("bearer")
        lookup = await anonymous.get(f"/v1/operations/{K}")
        assert lookup.status_code == 401


async def test_accounts_are_listed_by_owner_and_an_unknown_one_is_a_404(
    platform: Platform, client: IntegrationClient
) -> None:
    accounts = await client.list_accounts(USER, "telegram")
    assert sorted(a.id for a in accounts) == [ACCOUNT, OTHER]
    assert {a.status for a in accounts} == {"active"}
    assert await client.list_accounts("nobody", "telegram") == []
    assert (await client.get_account(ACCOUNT)).status == "active"
    with pytest.raises(IntegrationError) as unknown:
        await client.get_account("no-such-account")
    assert (unknown.value.status, unknown.value.code, unknown.value.delivery) == (
        404,
        "ACCOUNT_NOT_FOUND",
        Delivery.NOT_SENT,
    )


async def test_a_bad_body_is_a_validation_error_and_nothing_acts(platform: Platform) -> None:
    async with raw(platform) as http:
        for body in (
            {"chat": CHAT, "users": []},
            {"chat": CHAT, "users": [{"user_id": "1", "username": "x"}]},
        ):
            answer = await http.post(
                f"/v1/accounts/{ACCOUNT}/invite", json=body, headers={"Idempotency-Key": K}
            )
            assert (answer.status_code, answer.json()["code"]) == (400, "VALIDATION_ERROR")
    assert await platform.platform_calls() == 0


# -- operation keys --


async def test_a_key_acts_once_and_its_lookup_holds_the_answer(
    platform: Platform, client: IntegrationClient
) -> None:
    alice = platform.person(Fate.OK)
    live = await client.invite(ACCOUNT, CHAT, [alice], key=K)
    assert live.invited == (alice,) and live.missing_invitees == ()
    async with raw(platform) as http:
        stored = (await http.get(f"/v1/operations/{K}")).json()
    assert {k: stored[k] for k in ("key", "status", "operation", "account_id")} == {
        "key": K,
        "status": "completed",
        "operation": "invite",
        "account_id": ACCOUNT,
    }
    assert stored["result"]["status"] == 200
    record = await client.operation(K)
    assert parse_invite_response(client.answer(record)) == live
    assert await client.invite(ACCOUNT, CHAT, [alice], key=K) == live  # a replay
    assert await platform.platform_calls() == 1
    assert (await client.operation("op-key-never-used")).state is OperationState.UNKNOWN_KEY


async def test_a_key_in_flight_is_in_progress_and_a_repeat_waits_for_its_answer(
    platform: Platform, client: IntegrationClient
) -> None:
    alice = platform.person(Fate.OK)
    await platform.slow(True)
    first = asyncio.create_task(client.invite(ACCOUNT, CHAT, [alice], key=K))

    async def acted() -> bool:
        return await platform.platform_calls() == 1

    await until(acted)
    assert (await client.operation(K)).state is OperationState.IN_PROGRESS
    repeat = asyncio.create_task(client.invite(ACCOUNT, CHAT, [alice], key=K))
    await platform.slow(False)
    assert await first == await repeat
    assert (await client.operation(K)).state is OperationState.COMPLETED
    assert await platform.platform_calls() == 1


async def test_a_key_reused_by_another_request_is_refused_and_uncertain(
    platform: Platform, client: IntegrationClient
) -> None:
    alice, bob = platform.person(Fate.OK), platform.person(Fate.OK, 1)
    await client.invite(ACCOUNT, CHAT, [alice], key=K)
    for account, who in ((OTHER, alice), (ACCOUNT, bob)):
        with pytest.raises(IntegrationError) as caught:
            await client.invite(account, CHAT, [who], key=K)
        assert (caught.value.status, caught.value.code) == (409, "IDEMPOTENCY_KEY_MISMATCH")
        assert caught.value.delivery is Delivery.UNCERTAIN
    assert await platform.platform_calls() == 1


async def test_an_answer_lost_after_the_platform_acted_is_found_by_the_lookup(platform: Platform) -> None:
    alice = platform.person(Fate.OK)
    async with TelegramAdapter(make_client(platform, transport=LosingTransport())) as adapter:
        sent = await adapter.send_invite(ACCOUNT, CHAT, target(alice), key=K)
        assert sent.outcome is Outcome.TRANSIENT and sent.delivery_uncertain
        found = await adapter.lookup_operation(K, target(alice))
    assert found is not None and found.state is OperationState.COMPLETED
    assert found.result is not None and found.result.outcome is Outcome.SUCCESS
    assert await platform.platform_calls() == 1


async def test_keys_survive_a_restart(platform: Platform) -> None:
    alice, bob = platform.person(Fate.OK), platform.person(Fate.OK, 1)
    async with aclosing(make_client(platform)) as client:
        invited = await client.invite(ACCOUNT, CHAT, [alice], key=K)
        sent = await client.send_message(ACCOUNT, bob, "hello", key="op-key-message")
    await platform.restart()
    async with aclosing(make_client(platform)) as client:
        assert await client.invite(ACCOUNT, CHAT, [alice], key=K) == invited
        assert await client.send_message(ACCOUNT, bob, "hello", key="op-key-message") == sent
        assert (await client.operation(K)).state is OperationState.COMPLETED
    assert await platform.platform_calls() == 0  # replayed from what was stored, not acted again


# -- what Telegram answers, as both implementations carry it --


@pytest.mark.parametrize(
    ("fate", "flags", "code"),
    [
        (Fate.MISSING, (False, False), "MISSING_INVITEE_PRIVACY"),
        (Fate.MISSING_PREMIUM_ALLOW, (True, False), "MISSING_INVITEE_PREMIUM_WOULD_ALLOW"),
        (Fate.MISSING_PREMIUM_PM, (False, True), "MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM"),
    ],
)
async def test_missing_invitees_carry_both_premium_flags_and_are_replayed(
    platform: Platform, client: IntegrationClient, fate: Fate, flags: tuple[bool, bool], code: str
) -> None:
    who = platform.person(fate)
    answers = [await client.invite(ACCOUNT, CHAT, [who], key=K) for _ in range(2)]
    assert answers[0] == answers[1] and answers[0].invited == ()
    (missing,) = answers[0].missing_invitees
    assert (missing.premium_would_allow_invite, missing.premium_required_for_pm) == flags
    async with TelegramAdapter(make_client(platform)) as adapter:
        result = await adapter.send_invite(ACCOUNT, CHAT, target(who), key=K)
    assert (result.outcome, result.error_code) == (Outcome.TARGET_REJECTED, code)
    assert await platform.platform_calls() == 1


async def test_a_current_member_is_already_a_member(platform: Platform) -> None:
    async with TelegramAdapter(make_client(platform)) as adapter:
        result = await adapter.send_invite(ACCOUNT, CHAT, target(platform.person(Fate.MEMBER)), key=K)
    assert result.outcome is Outcome.ALREADY_MEMBER


async def test_membership_is_seen_after_an_invite(platform: Platform, client: IntegrationClient) -> None:
    alice, bob = platform.person(Fate.OK), platform.person(Fate.OK, 1)
    await client.invite(ACCOUNT, CHAT, [alice], key=K)
    assert await client.is_member(ACCOUNT, CHAT, alice) is True
    assert await client.is_member(ACCOUNT, CHAT, bob) is False


async def test_a_message_is_sent_once_per_key(platform: Platform, client: IntegrationClient) -> None:
    bob = platform.person(Fate.OK, 1)
    sent = await client.send_message(ACCOUNT, bob, "hello", key=K)
    assert isinstance(sent.message_id, int)
    assert await client.send_message(ACCOUNT, bob, "hello", key=K) == sent
    assert await platform.platform_calls() == 1


async def test_a_privacy_refusal_is_sent_and_stored_as_telegram_gave_it(
    platform: Platform, client: IntegrationClient
) -> None:
    private = platform.person(Fate.PRIVACY)
    async with raw(platform) as http:
        body = {"chat": CHAT, "users": [private.to_wire()]}
        answers = [
            await http.post(f"/v1/accounts/{ACCOUNT}/invite", json=body, headers={"Idempotency-Key": K})
            for _ in range(2)
        ]
    assert [(a.status_code, a.json()["code"], a.json()["rpc_code"]) for a in answers] == [
        (403, "USER_PRIVACY_RESTRICTED", 403)
    ] * 2
    assert (await client.operation(K)).status == 403
    assert await platform.platform_calls() == 1


# (operation, Telegram's error, its class, the HTTP status, the outcome, what else the engine must know)
ROWS: list[tuple[str, str, int, int, Outcome, dict[str, Any]]] = [
    ("invite", "FLOOD_WAIT_30", 420, 420, Outcome.RETRY_AFTER, {"retry_after": 30.0}),
    ("invite", "FLOOD_PREMIUM_WAIT_5", 420, 420, Outcome.RETRY_AFTER, {"retry_after": 5.0}),
    ("message", "PEER_FLOOD", 400, 400, Outcome.ACCOUNT_RESTRICTED, {}),
    ("invite", "USER_DEACTIVATED_BAN", 401, 403, Outcome.ACCOUNT_UNAVAILABLE, {}),
    ("invite", "ACTIVE_USER_REQUIRED", 401, 403, Outcome.ACCOUNT_UNAVAILABLE, {}),
    ("invite", "BOTS_TOO_MUCH", 400, 400, Outcome.TARGET_REJECTED, {"pause_task": False}),
    ("invite", "CHANNEL_MONOFORUM_UNSUPPORTED", 400, 400, Outcome.TASK_MISCONFIGURED, {"pause_task": True}),
    ("invite", "CHAT_MEMBER_ADD_FAILED", 400, 400, Outcome.TARGET_REJECTED, {}),
    ("message", "ALLOW_PAYMENT_REQUIRED", 406, 406, Outcome.TARGET_REJECTED, {}),
    ("message", "ALLOW_PAYMENT_REQUIRED_250", 400, 400, Outcome.TARGET_REJECTED, {}),
    ("invite", "PREMIUM_ACCOUNT_REQUIRED", 403, 403, Outcome.TARGET_REJECTED, {}),
    ("invite", "USER_NOT_MUTUAL_CONTACT", 400, 400, Outcome.TARGET_REJECTED, {"message_allowed": False}),
    ("invite", "USERS_TOO_MUCH", 400, 400, Outcome.TASK_MISCONFIGURED, {"pause_task": True}),
    ("message", "RANDOM_ID_DUPLICATE", 500, 400, Outcome.SUCCESS, {}),
    ("invite", "RPC_CALL_FAIL", 500, 502, Outcome.TRANSIENT, {"delivery_uncertain": True}),
]


@pytest.mark.parametrize(
    ("operation", "error", "rpc_code", "status", "outcome", "extra"), ROWS, ids=[r[1] for r in ROWS]
)
async def test_telegram_errors_reach_the_engine_by_name_class_and_wait(
    platform: Platform,
    client: IntegrationClient,
    operation: str,
    error: str,
    rpc_code: int,
    status: int,
    outcome: Outcome,
    extra: dict[str, Any],
) -> None:
    who = platform.person(Fate.OK)
    await platform.refuse_next(operation, error, rpc_code)
    path, body = (
        ("invite", {"chat": CHAT, "users": [who.to_wire()]})
        if operation == "invite"
        else ("messages", {"peer": who.to_wire(), "text": "hello"})
    )
    async with raw(platform) as http:
        answer = await http.post(f"/v1/accounts/{ACCOUNT}/{path}", json=body, headers={"Idempotency-Key": K})
    acted = await platform.platform_calls()
    wire = answer.json()
    assert (answer.status_code, wire["code"], wire["rpc_code"]) == (status, error, rpc_code)
    assert wire["retry_after"] == extra.get("retry_after")
    # The adapter reads the stored answer exactly as it would have read the live one.
    async with TelegramAdapter(make_client(platform)) as adapter:
        if operation == "invite":
            result = await adapter.send_invite(ACCOUNT, CHAT, target(who), key=K)
        else:
            result = await adapter.send_message(ACCOUNT, target(who), "hello", key=K)
    assert result.outcome is outcome, result
    for name, value in extra.items():
        assert getattr(result, name) == value, (name, result)
    assert await platform.platform_calls() == acted  # the adapter's call was a replay


# -- replies --


async def test_a_reply_is_posted_to_the_invite_service_with_a_service_token(
    platform: Platform, sink: EventSink
) -> None:
    person = platform.person(Fate.OK)
    await platform.reply(ACCOUNT, person, "СТОП")

    async def arrived() -> bool:
        return len(sink.events) == 1

    await until(arrived)
    (event,) = sink.events
    assert {k: event[k] for k in ("type", "platform", "account_id", "user_id", "text")} == {
        "type": "message_received",
        "platform": "telegram",
        "account_id": ACCOUNT,
        "user_id": USER,
        "text": "СТОП",
    }
    assert event["peer"]["username"] == person.value
    assert event["peer"]["user_id"] is None or event["peer"]["user_id"].isdigit()
    assert isinstance(event["id"], str) and event["id"] and isinstance(event["message_id"], int)
    assert datetime.fromisoformat(event["date"]).tzinfo is not None
