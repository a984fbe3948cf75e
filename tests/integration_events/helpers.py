"""Helpers for the inbound events tests: an app that accepts service tokens, events, a finished task."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.sandbox.events import mint_integration_token
from tests.statistics.helpers import make_task, run_to_completion

SECRET = "replies-test-shared-secret-0123456789abcdef"
_ids = itertools.count(1)
EVENTS = "/api/v1/integration/events"


def user_headers(settings: Settings) -> tuple[str, dict[str, str]]:
    user = f"reply-{uuid.uuid4().hex[:10]}"
    return user, {"Authorization": f"Bearer {mint_token(user, settings)}"}


def service_headers(secret: str = SECRET, **over: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_integration_token(secret, **over)}"}


def event(owner: str, account_id: str, text: str = "thanks!", **peer: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "id": f"{account_id}:{uuid.uuid4().hex[:8]}:{n}",
        "type": "message_received",
        "platform": "sandbox",
        "account_id": account_id,
        "user_id": owner,
        "peer": {
            "user_id": peer.pop("user_id", str(900_000_000 + n)),
            "username": None,
            "phone": None,
            **peer,
        },
        "text": text,
        "message_id": n,
        "date": datetime.now(UTC).isoformat(),
    }


async def post_event(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(EVENTS, json=body, headers=service_headers())


async def finished_message_task(
    client: httpx.AsyncClient, h: dict[str, str], usernames: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    """A sandbox message task over these usernames run to completion, with its targets."""
    rows = [{"username": u} for u in usernames]
    tid = await make_task(client, h, rows, action="message", message_template="Hello {first_name}")
    await run_to_completion(client, h, tid)
    return tid, await targets(client, h, tid)


async def targets(client: httpx.AsyncClient, h: dict[str, str], tid: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/tasks/{tid}/targets", params={"limit": 200}, headers=h)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])
