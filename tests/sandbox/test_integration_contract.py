"""The operation-key contract (``docs/contracts/integration-service.yaml``: "Idempotency" and
``GET /v1/operations/{key}``) where only the sandbox server can drive it: faults injected inside the server
(an answer lost after the platform acted, a call refused before its key was recorded), the platform's own
audit of repeated calls, and a SIGKILL mid-call followed by a restart from its ``--state-file``.

What both implementations must do alike (the sandbox and the Telethon-backed Integration Service) is in
``tests/contract``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from invite_service.adapters.base import OperationState, Outcome, TargetRef
from invite_service.adapters.telegram import (
    Delivery,
    IntegrationClient,
    IntegrationError,
    IntegrationUnavailable,
    Invitee,
    RetryPolicy,
)
from invite_service.adapters.telegram.adapter import TelegramAdapter
from invite_service.adapters.telegram.types import parse_invite_response
from invite_service.models.enums import TargetKind
from invite_service.sandbox import TargetFate, target_fate
from invite_service.sandbox.integration_app import demo_config
from tests.sandbox.integration_server import (
    SandboxServer,
    add_accounts,
    inject,
    ledger,
    platform_calls,
    prepare,
    until,
)

SECRET = "integration-contract-test-secret-" + "k" * 32
SEED = 13
USER = "user-1"
ACCOUNT, OTHER = "acc-1", "acc-2"
CHAT = "@club"
K = "op-key-00000001"


def user_with(fate: TargetFate, skip: int = 0) -> str:
    """A username whose simulated fate (a pure function of seed and name) is ``fate``."""
    found = (f"user{n:05d}" for n in range(20_000) if target_fate(demo_config(SEED), f"user{n:05d}") is fate)
    for _ in range(skip):
        next(found)
    return next(found)


ALICE, BOB = user_with(TargetFate.OK), user_with(TargetFate.OK, skip=1)


def who(name: str) -> Invitee:
    return Invitee.of(TargetKind.USERNAME, name)


def target(name: str) -> TargetRef:
    return TargetRef(TargetKind.USERNAME, name, username=name)


async def _skip(_seconds: float) -> None:
    return None


def make_client(url: str, attempts: int = 3, timeout: float = 10) -> IntegrationClient:
    return IntegrationClient(
        url, SECRET, timeout=timeout, retry=RetryPolicy(max_attempts=attempts), sleep=_skip
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    workdir = tmp_path_factory.mktemp("integration-contract")
    running = SandboxServer(SECRET, workdir, seed=SEED, state_file=workdir / "operations.jsonl")
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def admin(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with server.admin() as client:
        await prepare(client, USER, (ACCOUNT, OTHER))
        yield client


@pytest.fixture
async def client(server: SandboxServer, admin: httpx.AsyncClient) -> AsyncIterator[IntegrationClient]:
    integration = make_client(server.url)
    yield integration
    await integration.aclose()


@pytest.mark.parametrize("kind", ["http", "drop"])
async def test_an_answer_lost_after_the_platform_acted_is_found_by_the_lookup(
    server: SandboxServer, admin: httpx.AsyncClient, kind: str
) -> None:
    await inject(admin, "http", kind=kind, status=502, stage="after", operation="invite")
    async with TelegramAdapter(make_client(server.url, attempts=1)) as adapter:
        sent = await adapter.send_invite(ACCOUNT, CHAT, target(ALICE), key=K)
        assert sent.outcome is Outcome.TRANSIENT and sent.delivery_uncertain
        found = await adapter.lookup_operation(K, target(ALICE))
    assert found is not None and found.state is OperationState.COMPLETED
    assert found.result is not None and found.result.outcome is Outcome.SUCCESS
    assert await platform_calls(admin) == [(ACCOUNT, ALICE, "added")]


async def test_a_call_that_failed_before_the_key_was_recorded_is_unknown_and_may_be_sent_again(
    server: SandboxServer, admin: httpx.AsyncClient
) -> None:
    # Armed for Bob only: Alice's call (another key) passes untouched.
    await inject(admin, "http", kind="http", status=503, stage="before", target=f"@{BOB.upper()}")
    async with TelegramAdapter(make_client(server.url, attempts=1)) as adapter:
        assert (await adapter.send_invite(ACCOUNT, CHAT, target(ALICE), key="op-key-alice")).ok
        failed = await adapter.send_invite(ACCOUNT, CHAT, target(BOB), key=K)
        assert failed.delivery_uncertain  # the client alone cannot tell…
        unknown = await adapter.lookup_operation(K, target(BOB))
        assert unknown is not None and unknown.state is OperationState.UNKNOWN_KEY  # …the lookup proves it
        assert (await adapter.send_invite(ACCOUNT, CHAT, target(BOB), key=K)).ok
        assert (await adapter.send_invite(ACCOUNT, CHAT, target(BOB), key=K)).ok  # a replay
    assert await platform_calls(admin) == [(ACCOUNT, ALICE, "added"), (ACCOUNT, BOB, "added")]


async def test_refusals_and_missing_invitees_are_stored_and_replayed_as_they_were(
    client: IntegrationClient, admin: httpx.AsyncClient
) -> None:
    private, missing = user_with(TargetFate.PRIVACY), user_with(TargetFate.MISSING)
    refusals = []
    for _ in range(2):
        with pytest.raises(IntegrationError) as caught:
            await client.invite(ACCOUNT, CHAT, [who(private)], key="op-key-private")
        refusals.append((caught.value.status, caught.value.code, caught.value.delivery))
    assert refusals == [(403, "USER_PRIVACY_RESTRICTED", Delivery.SENT)] * 2
    left_out = [await client.invite(ACCOUNT, CHAT, [who(missing)], key="op-key-missing") for _ in range(2)]
    assert left_out[0] == left_out[1] and left_out[0].invited == () and len(left_out[0].missing_invitees) == 1
    stored = await client.operation("op-key-private")
    assert (stored.status, stored.body["code"]) == (403, "USER_PRIVACY_RESTRICTED")
    assert parse_invite_response(client.answer(await client.operation("op-key-missing"))) == left_out[0]
    assert await platform_calls(admin) == [
        (ACCOUNT, private, "USER_PRIVACY_RESTRICTED"),
        (ACCOUNT, missing, "missing_invitee"),
    ]
    assert (await ledger(admin))["repeated_calls"] == 0
    # What the audit catches and double_sends cannot: the same refused target asked under a new key.
    with pytest.raises(IntegrationError):
        await client.invite(OTHER, CHAT, [who(private)], key="op-key-private-again")
    audit = await ledger(admin)
    assert (audit["double_sends"], audit["repeated_calls"]) == (0, 1)
    assert audit["repeated"] == [{"action": "invite", "chat": CHAT, "target": private, "seqs": [1, 3]}]


async def test_reset_forgets_the_keys(client: IntegrationClient, admin: httpx.AsyncClient) -> None:
    await client.invite(ACCOUNT, CHAT, [who(ALICE)], key=K)
    await prepare(admin, USER, (ACCOUNT,))
    assert (await client.operation(K)).state is OperationState.UNKNOWN_KEY


async def test_keys_survive_a_restart_and_a_crash_mid_call_stays_uncertain(tmp_path: Path) -> None:
    server = SandboxServer(SECRET, tmp_path, seed=SEED, state_file=tmp_path / "state" / "ops.jsonl")
    server.start()
    try:
        async with server.admin() as admin, TelegramAdapter(make_client(server.url, attempts=1)) as first:
            client = first.client
            await prepare(admin, USER, (ACCOUNT,))
            invited = await client.invite(ACCOUNT, CHAT, [who(ALICE)], key=K)
            sent = await client.send_message(ACCOUNT, who(BOB), "hello", key="op-key-message")
            (await admin.post("/admin/faults/latency", params={"seconds": 30})).raise_for_status()
            cut = asyncio.create_task(client.invite(ACCOUNT, CHAT, [who(BOB)], key="op-key-cut"))

            async def acted() -> bool:
                return len(await platform_calls(admin)) == 3

            await until(acted)
            server.stop(signal.SIGKILL)  # a crash while the platform's answer is on its way
            with pytest.raises(IntegrationUnavailable) as lost:
                await cut
            assert lost.value.delivery is Delivery.UNCERTAIN
        server.start()
        async with server.admin() as admin, TelegramAdapter(make_client(server.url)) as adapter:
            client = adapter.client
            await add_accounts(admin, USER, (ACCOUNT,))  # the simulated platform itself restarts empty
            assert await client.invite(ACCOUNT, CHAT, [who(ALICE)], key=K) == invited
            assert await client.send_message(ACCOUNT, who(BOB), "hello", key="op-key-message") == sent
            assert await platform_calls(admin) == []  # replayed from the file, not acted again
            assert (await client.operation(K)).state is OperationState.COMPLETED
            interrupted = await client.operation("op-key-cut")
            assert (interrupted.state, interrupted.operation, interrupted.status) == (
                OperationState.COMPLETED,
                "invite",
                502,
            )
            assert interrupted.body["code"] == "OPERATION_INTERRUPTED"
            found = await adapter.lookup_operation("op-key-cut", target(BOB))
            assert found is not None and found.result is not None
            assert found.result.outcome is Outcome.TRANSIENT and found.result.delivery_uncertain
            with pytest.raises(IntegrationUnavailable):  # the key never acts again
                await client.invite(ACCOUNT, CHAT, [who(BOB)], key="op-key-cut")
            assert await platform_calls(admin) == []
    finally:
        server.stop()
