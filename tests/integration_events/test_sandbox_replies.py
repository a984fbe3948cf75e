"""The sandbox Integration server's ``POST /admin/replies``: a simulated person replies, and the server
posts the event with a service token over real HTTP to a running Invite Service, which records it.
And the poster's retry rule: a 5xx is retried, a 4xx never."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from invite_service.adapters.telegram.client import SERVICE_AUDIENCE
from invite_service.config import Settings
from invite_service.kit.service_http import RetryPolicy, mint_service_token
from invite_service.sandbox import TelegramSimulator
from invite_service.sandbox.events import EventPoster
from invite_service.sandbox.integration_app import create_integration_app, demo_config
from invite_service.sandbox.model import target_user_id
from tests.integration_events.helpers import SECRET, user_headers
from tests.statistics.helpers import live_server

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def invite_url(events_app) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with live_server(events_app) as url:
        yield url


def _sandbox(events_url: str | None) -> tuple[httpx.AsyncClient, TelegramSimulator]:
    simulator = TelegramSimulator(demo_config(0, None))
    app = create_integration_app(simulator, SECRET, events_url=events_url)
    token = mint_service_token(SECRET, audience=SERVICE_AUDIENCE)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {token}"},
    )
    return client, simulator


async def test_a_simulated_reply_reaches_the_invite_service_and_opts_out(
    invite_url: str, events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    user, h = user_headers(events_settings)
    admin, simulator = _sandbox(f"{invite_url}/api/v1/integration/events")
    async with admin:
        added = await admin.post(
            "/admin/accounts", json={"account_id": f"acc-{uuid.uuid4().hex[:6]}", "user_id": user}
        )
        assert added.status_code == 201, added.text
        account = added.json()["id"]
        body = {"account_id": account, "peer": {"username": "quiet_person"}, "text": "СТОП"}
        first = await admin.post("/admin/replies", json=body)
        assert first.status_code == 202, first.text
        assert first.json() == {
            "id": f"{account}:1",
            "duplicate": False,
            "replied_targets": 0,
            "opted_out": True,
        }
        second = await admin.post("/admin/replies", json={**body, "text": "hello again"})
        assert second.status_code == 202 and second.json()["id"] == f"{account}:2"
        assert second.json()["opted_out"] is False
    listed = (await events_client.get("/api/v1/suppressions", headers=h)).json()["items"]
    expected_id = str(target_user_id(simulator.config, "quiet_person"))
    assert {(e["kind"], e["key"], e["reason"]) for e in listed} == {
        ("username", "quiet_person", "reply_opt_out"),
        ("user_id", expected_id, "reply_opt_out"),
    }
    assert {e["platform"] for e in listed} == {"telegram"}


async def test_replies_need_an_events_url_and_a_known_account() -> None:
    admin, _ = _sandbox(None)
    async with admin:
        body = {"account_id": "nobody", "peer": {"user_id": "42"}, "text": "stop"}
        assert (await admin.post("/admin/replies", json=body)).status_code == 409
    admin, _ = _sandbox("http://127.0.0.1:9/never")
    async with admin:
        assert (await admin.post("/admin/replies", json=body)).status_code == 404


async def _no_wait(_seconds: float) -> None:
    return None


@pytest.mark.parametrize(("answers", "status", "calls"), [([503, 502, 202], 202, 3), ([401, 202], 401, 1)])
async def test_the_poster_retries_a_5xx_never_a_4xx(answers: list[int], status: int, calls: int) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answers[len(seen) - 1], json={})

    poster = EventPoster(
        "http://invite/api/v1/integration/events",
        SECRET,
        policy=RetryPolicy(max_attempts=4, backoff_initial=0, jitter=0),
        transport=httpx.MockTransport(answer),
    )
    assert (await poster.post({"id": "a:1"})).status_code == status
    assert len(seen) == calls
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in seen)
