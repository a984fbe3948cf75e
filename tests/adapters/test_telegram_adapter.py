"""The Telegram adapter against a real ``invite-service sandbox-integration`` server over real HTTP.

One server process for the module; every test resets it through ``/admin`` and makes its own accounts.
Faults are injected per test (RPC errors, 5xx, 429, latency, dropped connections); the server's call
counts and ledger show what actually reached the simulated platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from invite_service.adapters.base import AccountStatus, MissingInviteeReason, Outcome, TargetRef
from invite_service.adapters.telegram import (
    IntegrationAuthError,
    IntegrationClient,
    RetryPolicy,
    mint_service_token,
)
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.adapters.telegram.errors import (
    MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM,
    MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
    MISSING_INVITEE_PRIVACY,
)
from invite_service.models.enums import SuppressionReason, TargetKind
from invite_service.sandbox import TargetFate, target_fate
from invite_service.sandbox.integration_app import demo_config
from tests.conftest import free_port
from tests.sandbox.integration_server import SandboxServer

SECRET = "telegram-adapter-test-secret-" + "q" * 32
SEED = 11
USER = "user-1"
ACCOUNT, OTHER = "acc-1", "acc-2"
CHAT = "@club"
ATTEMPTS = 3
TIMEOUT = 0.5


def key_with(fate: TargetFate, skip: int = 0) -> str:
    """A username whose simulated fate (a pure function of seed and key) is ``fate``."""
    found = (f"user{n:05d}" for n in range(20_000) if target_fate(demo_config(SEED), f"user{n:05d}") is fate)
    for _ in range(skip):
        next(found)
    return next(found)


def by_username(key: str, **extra: Any) -> TargetRef:
    return TargetRef(TargetKind.USERNAME, key, username=key, **extra)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = SandboxServer(SECRET, tmp_path_factory.mktemp("sandbox"), seed=SEED)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def admin(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {mint_service_token(SECRET, ttl_seconds=600)}"}
    async with httpx.AsyncClient(base_url=server_url, headers=headers) as client:
        (await client.post("/admin/reset", params={"keep_accounts": "false"})).raise_for_status()
        for account in (ACCOUNT, OTHER):
            body = {"account_id": account, "user_id": USER, "label": account}
            (await client.post("/admin/accounts", json=body)).raise_for_status()
        yield client


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def adapter(
    server_url: str, admin: httpx.AsyncClient, sleeps: Sleeps
) -> AsyncIterator[TelegramAdapter]:
    client = IntegrationClient(
        server_url, SECRET, timeout=TIMEOUT, retry=RetryPolicy(max_attempts=ATTEMPTS), sleep=sleeps
    )
    async with TelegramAdapter(client) as adapter:
        yield adapter


async def inject(admin: httpx.AsyncClient, path: str, **body: Any) -> None:
    (await admin.post(f"/admin/faults/{path}", json=body)).raise_for_status()


async def calls(admin: httpx.AsyncClient, operation: str) -> int:
    return int((await admin.get("/admin/state")).json()["calls"].get(operation, 0))


async def ledger(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await admin.get("/admin/ledger")).json()["entries"])


async def test_invite_message_and_membership_succeed(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    alice, bob = by_username(key_with(TargetFate.OK)), by_username(key_with(TargetFate.OK, skip=1))
    result = await adapter.send_invite(ACCOUNT, CHAT, alice, key="tg-key-01")
    assert result.outcome is Outcome.SUCCESS and result.charged and not result.delivery_uncertain
    assert (await adapter.send_message(OTHER, bob, "hello", key="tg-key-02")).outcome is Outcome.SUCCESS
    assert await adapter.check_membership(ACCOUNT, CHAT, alice) is True
    assert await adapter.check_membership(ACCOUNT, CHAT, bob) is False
    entries = await ledger(admin)
    assert [(e["account_id"], e["action"], e["target"]) for e in entries] == [
        (ACCOUNT, "invite", alice.key),
        (OTHER, "message", bob.key),
    ]


async def test_accounts_and_their_status(adapter: TelegramAdapter, admin: httpx.AsyncClient) -> None:
    (await admin.post(f"/admin/accounts/{OTHER}/revoke")).raise_for_status()
    accounts = {a.id: a for a in await adapter.initialize_accounts(USER)}
    assert set(accounts) == {ACCOUNT, OTHER}
    assert accounts[ACCOUNT].status is AccountStatus.ACTIVE
    assert accounts[OTHER].status is AccountStatus.UNAVAILABLE and not accounts[OTHER].usable
    assert await adapter.initialize_accounts("someone-else") == []
    assert (await adapter.check_rate_limits(ACCOUNT)).cooldown_until is None


@pytest.mark.parametrize(
    ("fault", "outcome", "code", "checks"),
    [
        ({"name": "FLOOD_WAIT", "seconds": 42}, Outcome.RETRY_AFTER, "FLOOD_WAIT_X", {"retry_after": 42.0}),
        (
            {"name": "SLOWMODE_WAIT_X", "seconds": 7},
            Outcome.RETRY_AFTER,
            "SLOWMODE_WAIT_X",
            {"retry_after": 7.0},
        ),
        ({"name": "PEER_FLOOD"}, Outcome.ACCOUNT_RESTRICTED, "PEER_FLOOD", {}),
        ({"name": "USER_BANNED_IN_CHANNEL"}, Outcome.ACCOUNT_RESTRICTED, "USER_BANNED_IN_CHANNEL", {}),
        ({"name": "SESSION_REVOKED"}, Outcome.ACCOUNT_UNAVAILABLE, "SESSION_REVOKED", {}),
        ({"name": "USER_KICKED"}, Outcome.TARGET_REJECTED, "USER_KICKED", {}),
        ({"name": "USER_ALREADY_PARTICIPANT"}, Outcome.ALREADY_MEMBER, "USER_ALREADY_PARTICIPANT", {}),
        (
            {"name": "CHAT_ADMIN_REQUIRED"},
            Outcome.TASK_MISCONFIGURED,
            "CHAT_ADMIN_REQUIRED",
            {"pause_task": False},
        ),
        ({"name": "USERS_TOO_MUCH"}, Outcome.TASK_MISCONFIGURED, "USERS_TOO_MUCH", {"pause_task": True}),
        ({"name": "RPC_CALL_FAIL"}, Outcome.TRANSIENT, "RPC_CALL_FAIL", {"delivery_uncertain": True}),
        # Not in the table: the contract's rpc_code (401, Telegram's session class) makes the account
        # unusable, instead of an unknown name failing target after target.
        ({"name": "ACTIVE_USER_REQUIRED"}, Outcome.ACCOUNT_UNAVAILABLE, "ACTIVE_USER_REQUIRED", {}),
        ({"name": "USER_DEACTIVATED_BAN"}, Outcome.ACCOUNT_UNAVAILABLE, "USER_DEACTIVATED_BAN", {}),
        ({"name": "BOTS_TOO_MUCH"}, Outcome.TARGET_REJECTED, "BOTS_TOO_MUCH", {"message_allowed": False}),
        (
            {"name": "CHANNEL_MONOFORUM_UNSUPPORTED"},
            Outcome.TASK_MISCONFIGURED,
            "CHANNEL_MONOFORUM_UNSUPPORTED",
            {"pause_task": True},
        ),
        (
            {"name": "CHAT_MEMBER_ADD_FAILED"},
            Outcome.TARGET_REJECTED,
            "CHAT_MEMBER_ADD_FAILED",
            {"pause_if_repeated": True},
        ),
        (
            {"name": "USER_NOT_MUTUAL_CONTACT"},
            Outcome.TARGET_REJECTED,
            "USER_NOT_MUTUAL_CONTACT",
            {"message_allowed": False},
        ),
    ],
)
async def test_platform_errors_map_to_their_class_without_retries(
    adapter: TelegramAdapter,
    admin: httpx.AsyncClient,
    fault: dict[str, Any],
    outcome: Outcome,
    code: str,
    checks: dict[str, Any],
) -> None:
    # RPC_CALL_FAIL arrives as a 502, so it is retried: inject it for every attempt.
    count = ATTEMPTS if outcome is Outcome.TRANSIENT else 1
    await inject(admin, "rpc", count=count, account_id=ACCOUNT, **fault)
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key_with(TargetFate.OK)), key="tg-key-03")
    assert (result.outcome, result.error_code) == (outcome, code)
    for name, value in checks.items():
        assert getattr(result, name) == value
    assert await calls(admin, "invite") == count
    assert await ledger(admin) == []


async def test_random_id_duplicate_on_a_message_is_a_delivery(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    # Telegram's 500 class (502 on the wire, so the client tries again with the same key): still, the
    # platform says it has this message already — a success, never a failure to send it again.
    await inject(admin, "rpc", name="RANDOM_ID_DUPLICATE", count=ATTEMPTS, account_id=ACCOUNT)
    result = await adapter.send_message(ACCOUNT, by_username(key_with(TargetFate.OK)), "hi", key="tg-key-rid")
    assert (result.outcome, result.error_code) == (Outcome.SUCCESS, "RANDOM_ID_DUPLICATE")
    assert result.ok and not result.delivery_uncertain


async def test_target_fates_map_to_rejections_and_already_member(adapter: TelegramAdapter) -> None:
    privacy = await adapter.send_invite(
        ACCOUNT, CHAT, by_username(key_with(TargetFate.PRIVACY)), key="tg-key-04"
    )
    assert (privacy.outcome, privacy.error_code, privacy.message_allowed) == (
        Outcome.TARGET_REJECTED,
        "USER_PRIVACY_RESTRICTED",
        True,
    )
    gone = await adapter.send_invite(
        ACCOUNT, CHAT, by_username(key_with(TargetFate.DELETED)), key="tg-key-05"
    )
    assert (gone.outcome, gone.error_code) == (Outcome.TARGET_REJECTED, "INPUT_USER_DEACTIVATED")
    blocked = await adapter.send_message(
        ACCOUNT, by_username(key_with(TargetFate.BLOCKED)), "hi", key="tg-key-06"
    )
    assert blocked.error_code == "USER_IS_BLOCKED"
    assert blocked.suggest_suppression is SuppressionReason.BLOCKED_US
    member = await adapter.send_invite(
        OTHER, CHAT, by_username(key_with(TargetFate.ALREADY_MEMBER)), key="tg-key-07"
    )
    assert member.outcome is Outcome.ALREADY_MEMBER and member.ok


@pytest.mark.parametrize(
    ("fate", "reason", "code", "message_allowed"),
    [
        (TargetFate.MISSING, MissingInviteeReason.PRIVACY, MISSING_INVITEE_PRIVACY, True),
        (
            TargetFate.MISSING_PREMIUM_ALLOW,
            MissingInviteeReason.PREMIUM_WOULD_ALLOW_INVITE,
            MISSING_INVITEE_PREMIUM_WOULD_ALLOW,
            True,
        ),
        (
            TargetFate.MISSING_PREMIUM_PM,
            MissingInviteeReason.PREMIUM_REQUIRED_FOR_PM,
            MISSING_INVITEE_PREMIUM_REQUIRED_FOR_PM,
            False,
        ),
    ],
)
async def test_missing_invitees_three_ways(
    adapter: TelegramAdapter,
    admin: httpx.AsyncClient,
    fate: TargetFate,
    reason: MissingInviteeReason,
    code: str,
    message_allowed: bool,
) -> None:
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key_with(fate)), key="tg-key-08")
    assert (result.outcome, result.error_code) == (Outcome.TARGET_REJECTED, code)
    assert result.missing_invitee is reason and result.message_allowed is message_allowed
    # The call "succeeded" on the platform: it is in the ledger and charged.
    assert result.charged and [e["result"] for e in await ledger(admin)] == ["missing_invitee"]


async def test_a_stale_id_is_re_resolved_once_by_username(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    key = key_with(TargetFate.OK)
    await inject(admin, "rpc", name="USER_ID_INVALID", count=1)
    result = await adapter.send_invite(
        ACCOUNT, CHAT, by_username(key, platform_user_id="5550001"), key="tg-key-09"
    )
    assert result.outcome is Outcome.SUCCESS and not result.retry_by_username
    assert await calls(admin, "invite") == 2
    assert [e["target"] for e in await ledger(admin)] == [key]


async def test_a_stale_id_without_a_username_fails_after_one_call(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    await inject(admin, "rpc", name="PEER_ID_INVALID", count=2)
    result = await adapter.send_invite(
        ACCOUNT,
        CHAT,
        TargetRef(TargetKind.USER_ID, "5550002", platform_user_id="5550002"),
        key="tg-key-stale",
    )
    assert (result.outcome, result.error_code) == (Outcome.TARGET_REJECTED, "PEER_ID_INVALID")
    assert not result.retry_by_username
    assert await calls(admin, "invite") == 1


async def test_5xx_is_retried_then_transient_and_uncertain(
    adapter: TelegramAdapter, admin: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    await inject(admin, "http", kind="http", status=503, count=ATTEMPTS)
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key_with(TargetFate.OK)), key="tg-key-10")
    assert (result.outcome, result.error_code) == (Outcome.TRANSIENT, "UNAVAILABLE")
    assert result.delivery_uncertain and result.charged
    assert await calls(admin, "invite") == ATTEMPTS and len(sleeps.calls) == ATTEMPTS - 1
    assert adapter.client.counters.unavailable == 1


async def test_5xx_below_the_retry_budget_succeeds(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    await inject(admin, "http", kind="http", status=500, count=ATTEMPTS - 1)
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key_with(TargetFate.OK)), key="tg-key-11")
    assert result.outcome is Outcome.SUCCESS
    assert await calls(admin, "invite") == ATTEMPTS and adapter.client.counters.retries == ATTEMPTS - 1
    assert len(await ledger(admin)) == 1


@pytest.mark.parametrize("kind", ["http", "drop"])
async def test_an_answer_lost_after_the_platform_acted_is_replayed_not_repeated(
    adapter: TelegramAdapter, admin: httpx.AsyncClient, kind: str
) -> None:
    key = key_with(TargetFate.OK)
    await inject(admin, "http", kind=kind, status=502, stage="after", count=1)
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key), key="tg-key-12")
    assert result.outcome is Outcome.SUCCESS
    assert await calls(admin, "invite") == 2
    # The Idempotency-Key made the retry a replay: the platform acted exactly once.
    assert [e["target"] for e in await ledger(admin)] == [key]


async def test_429_honours_retry_after_then_succeeds(
    adapter: TelegramAdapter, admin: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    await inject(admin, "http", kind="throttle", retry_after=1.5, count=ATTEMPTS - 1)
    result = await adapter.send_message(
        ACCOUNT, by_username(key_with(TargetFate.OK)), "hello", key="tg-key-13"
    )
    assert result.outcome is Outcome.SUCCESS
    assert sleeps.calls == [1.5] * (ATTEMPTS - 1)
    assert await calls(admin, "send_message") == ATTEMPTS


async def test_429_exhausted_is_a_wait_that_is_not_charged(
    adapter: TelegramAdapter, admin: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    await inject(admin, "http", kind="throttle", retry_after=2, count=ATTEMPTS)
    result = await adapter.send_message(
        ACCOUNT, by_username(key_with(TargetFate.OK)), "hello", key="tg-key-14"
    )
    assert (result.outcome, result.error_code, result.retry_after) == (
        Outcome.RETRY_AFTER,
        "INTEGRATION_THROTTLED",
        2.0,
    )
    assert not result.charged and not result.delivery_uncertain
    assert sleeps.calls == [2.0] * (ATTEMPTS - 1)
    assert await ledger(admin) == []


async def test_a_timeout_is_transient_and_uncertain_and_membership_resolves_it(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    target = by_username(key_with(TargetFate.OK))
    (await admin.post("/admin/faults/latency", params={"seconds": 5})).raise_for_status()
    result = await adapter.send_invite(ACCOUNT, CHAT, target, key="tg-key-15")
    assert (result.outcome, result.error_code) == (Outcome.TRANSIENT, "INTEGRATION_TIMEOUT")
    assert result.delivery_uncertain and result.charged
    # The platform acted before the (late) answer: the engine's membership check finds the member.
    assert await adapter.check_membership(ACCOUNT, CHAT, target) is True
    assert len(await ledger(admin)) == 1


async def test_dropped_connections_are_retried_then_uncertain(
    adapter: TelegramAdapter, admin: httpx.AsyncClient
) -> None:
    await inject(admin, "http", kind="drop", count=ATTEMPTS)
    result = await adapter.send_invite(ACCOUNT, CHAT, by_username(key_with(TargetFate.OK)), key="tg-key-16")
    assert (result.outcome, result.error_code) == (Outcome.TRANSIENT, "INTEGRATION_CONNECTION_LOST")
    assert result.delivery_uncertain
    assert await calls(admin, "invite") == ATTEMPTS and await ledger(admin) == []


async def test_an_unreachable_service_is_not_sent_and_not_charged(sleeps: Sleeps) -> None:
    client = IntegrationClient(
        f"http://127.0.0.1:{free_port()}", SECRET, retry=RetryPolicy(max_attempts=2), sleep=sleeps
    )
    async with TelegramAdapter(client) as adapter:
        result = await adapter.send_invite(ACCOUNT, CHAT, by_username("alice_a"), key="tg-key-17")
        assert (result.outcome, result.error_code, result.charged) == (Outcome.TRANSIENT, "NOT_SENT", False)
        assert await adapter.check_membership(ACCOUNT, CHAT, by_username("alice_a")) is None
    assert client.counters.attempts == 4


async def test_a_wrong_token_is_an_auth_error_never_retried(
    server_url: str, admin: httpx.AsyncClient
) -> None:
    client = IntegrationClient(
        server_url, "another-secret-" + "z" * 32, retry=RetryPolicy(max_attempts=ATTEMPTS)
    )
    async with TelegramAdapter(client) as adapter:
        with pytest.raises(IntegrationAuthError):
            await client.get_account(ACCOUNT)
        result = await adapter.send_invite(ACCOUNT, CHAT, by_username("alice_a"), key="tg-key-18")
    assert (result.outcome, result.error_code) == (Outcome.TASK_MISCONFIGURED, "INTEGRATION_AUTH_FAILED")
    assert not result.charged
    assert (
        client.counters.attempts == 2 and client.counters.retries == 0 and client.counters.auth_failures == 2
    )
    assert await calls(admin, "invite") == 0


async def test_other_4xx_are_not_retried(adapter: TelegramAdapter, admin: httpx.AsyncClient) -> None:
    unknown = await adapter.send_invite("no-such-account", CHAT, by_username("alice_a"), key="tg-key-19")
    assert (unknown.outcome, unknown.error_code, unknown.charged) == (
        Outcome.ACCOUNT_UNAVAILABLE,
        "ACCOUNT_NOT_FOUND",
        False,
    )
    # A phone the contract rejects: the service's own 400, nothing reached the platform.
    invalid = await adapter.send_invite(
        ACCOUNT, CHAT, TargetRef(TargetKind.PHONE, "12", phone="12"), key="tg-key-20"
    )
    assert (invalid.outcome, invalid.error_code, invalid.charged) == (
        Outcome.TRANSIENT,
        "VALIDATION_ERROR",
        False,
    )
    assert adapter.client.counters.retries == 0 and adapter.client.counters.attempts == 2
