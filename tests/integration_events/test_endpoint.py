"""POST /api/v1/integration/events: a reply marks the targets this account contacted (replied_at and the
task's counter, in one transaction), a repeat id changes nothing, an opt-out reply suppresses the person,
and only a valid Integration Service token is accepted. On SQLite and PostgreSQL."""

# ruff: noqa: RUF001 - the Russian opt-out replies are meant.

from __future__ import annotations

import asyncio
import io
import time
import uuid
from typing import Any

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.observability.logging import configure_logging
from tests.integration_events.helpers import (
    EVENTS,
    SECRET,
    event,
    finished_message_task,
    post_event,
    service_headers,
    targets,
    user_headers,
)
from tests.statistics.helpers import make_task, run_to_completion

pytestmark = pytest.mark.asyncio
# The sandbox decides each person's fate from their key: fixed names make "some are messaged" certain.
FIXED_NAMES = [f"replier_{i}" for i in range(6)]


def _messaged(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(t for t in rows if t["status"] == "messaged" and t["account_id"])


async def _replied(client: httpx.AsyncClient, h: dict[str, str], tid: str) -> int:
    stats = (await client.get(f"/api/v1/tasks/{tid}/stats", headers=h)).json()
    status = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    report = (await client.get(f"/api/v1/tasks/{tid}/report", headers=h)).json()
    assert stats["replied"] == status["replied"] == report["replied"]
    return int(stats["replied"])


async def test_a_reply_marks_the_contacted_target_once_and_a_repeat_changes_nothing(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    client = events_client
    user, h = user_headers(events_settings)
    _, other_h = user_headers(events_settings)
    names = FIXED_NAMES
    tid, rows = await finished_message_task(client, h, names)
    other_tid, other_rows = await finished_message_task(client, other_h, names)
    target = _messaged(rows)

    body = event(user, target["account_id"], "Thanks, got it", username=target["username"].upper())
    first = await post_event(client, body)
    assert first.status_code == 202, first.text
    assert first.json() == {"id": body["id"], "duplicate": False, "replied_targets": 1, "opted_out": False}
    after = {t["id"]: t for t in await targets(client, h, tid)}
    assert after[target["id"]]["replied_at"] is not None
    assert after[target["id"]]["status"] == "messaged"  # replied is beside the status, not instead of it
    assert [t for t in after.values() if t["replied_at"]] == [after[target["id"]]]
    assert await _replied(client, h, tid) == 1
    # The live log shows the reply; the call statistics do not count it as a call.
    logs = (await client.get(f"/api/v1/tasks/{tid}/logs", params={"limit": 200}, headers=h)).json()["items"]
    assert [(e["action"], e["outcome"], e["target_id"]) for e in logs if e["action"] == "reply"] == [
        ("reply", "replied", target["id"])
    ]
    stats = (await client.get(f"/api/v1/tasks/{tid}/stats", headers=h)).json()
    assert "reply" not in stats["by_action"] and "replied" not in stats["by_outcome"]

    again = await post_event(client, body)
    assert again.status_code == 200, again.text
    assert again.json() == {"id": body["id"], "duplicate": True, "replied_targets": 1, "opted_out": False}
    assert await _replied(client, h, tid) == 1

    # A second message from the same person (a new event id): the first reply stays the one recorded.
    more = await post_event(
        client, event(user, target["account_id"], "one more", username=target["username"])
    )
    assert more.status_code == 202 and more.json()["replied_targets"] == 0
    assert await _replied(client, h, tid) == 1

    # Another user with the same account ids and the same people: untouched.
    assert all(t["replied_at"] is None for t in await targets(client, other_h, other_tid))
    assert await _replied(client, other_h, other_tid) == 0
    assert other_rows


async def test_a_reply_to_another_account_marks_nothing(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    user, h = user_headers(events_settings)
    tid, rows = await finished_message_task(events_client, h, FIXED_NAMES)
    target = _messaged(rows)
    resp = await post_event(events_client, event(user, "not-that-account", username=target["username"]))
    assert resp.status_code == 202 and resp.json()["replied_targets"] == 0
    assert await _replied(events_client, h, tid) == 0


async def test_the_report_has_a_replied_at_column(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    user, h = user_headers(events_settings)
    tid, rows = await finished_message_task(events_client, h, FIXED_NAMES)
    target = _messaged(rows)
    assert (
        await post_event(events_client, event(user, target["account_id"], username=target["username"]))
    ).is_success
    got = await events_client.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv"}, headers=h)
    header, line = got.text.lstrip("\ufeff").splitlines()[:2]
    assert header.split(",")[-1] == "replied_at"
    assert line.split(",")[-1].startswith("20")


@pytest.mark.parametrize("text", ["СТОП", "stop.", "Не пишите мне", "  Unsubscribe!! "])
async def test_an_opt_out_reply_suppresses_every_identity_given(
    events_client: httpx.AsyncClient, events_settings: Settings, text: str
) -> None:
    user, h = user_headers(events_settings)
    name = f"so_{uuid.uuid4().hex[:6]}"
    resp = await post_event(
        events_client, event(user, "acc-1", text, user_id="123456789", username=name, phone="+79161234567")
    )
    assert resp.status_code == 202 and resp.json()["opted_out"] is True
    listed = (await events_client.get("/api/v1/suppressions", headers=h)).json()["items"]
    assert {(e["kind"], e["key"]) for e in listed} == {
        ("user_id", "123456789"),
        ("username", name),
        ("phone", "+79161234567"),
    }
    assert {(e["reason"], e["source"], e["platform"]) for e in listed} == {
        ("reply_opt_out", "reply:acc-1", "sandbox")
    }


@pytest.mark.parametrize("text", ["stopwatch", "please don't stop", "стопка книг", "thanks"])
async def test_other_replies_suppress_nobody(
    events_client: httpx.AsyncClient, events_settings: Settings, text: str
) -> None:
    user, h = user_headers(events_settings)
    resp = await post_event(events_client, event(user, "acc-1", text, username=f"sn_{uuid.uuid4().hex[:6]}"))
    assert resp.status_code == 202 and resp.json()["opted_out"] is False
    assert (await events_client.get("/api/v1/suppressions", headers=h)).json()["items"] == []


async def test_a_suppressed_pending_target_is_skipped_never_messaged(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    client = events_client
    user, h = user_headers(events_settings)
    quitter, keeper = f"sq_{uuid.uuid4().hex[:6]}", f"sk_{uuid.uuid4().hex[:6]}"
    rows = [{"username": quitter}, {"username": keeper}]
    tid = await make_task(client, h, rows, action="message", message_template="Hi")
    # The person wrote "СТОП" to one of the user's accounts before this task reached them.
    assert (await post_event(client, event(user, "acc-9", "СТОП", username=quitter))).json()["opted_out"]
    await run_to_completion(client, h, tid)
    by_name = {t["username"]: t for t in await targets(client, h, tid)}
    assert by_name[quitter]["status"] == "skipped"
    assert by_name[quitter]["error_code"] == "suppressed"
    assert by_name[keeper]["error_code"] != "suppressed"  # the other person was reached as usual
    logs = (await client.get(f"/api/v1/tasks/{tid}/logs", params={"limit": 200}, headers=h)).json()["items"]
    sent_to = {e["target_id"] for e in logs if e["action"] == "message" and e["outcome"] == "success"}
    assert by_name[quitter]["id"] not in sent_to


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        service_headers("another-secret-of-enough-length-0123456789"),
        service_headers(now=time.time() - 3600),  # expired an hour ago
    ],
    ids=["none", "garbage", "wrong-secret", "expired"],
)
async def test_a_bad_service_token_is_a_401_problem(
    events_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    resp = await events_client.post(EVENTS, json=event("u", "a"), headers=headers)
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")


async def test_a_user_token_is_not_a_service_token(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    user_token = mint_token("integration-service", events_settings.model_copy(update={"jwt_secret": SECRET}))
    resp = await events_client.post(
        EVENTS, json=event("u", "a"), headers={"Authorization": f"Bearer {user_token}"}
    )
    assert resp.status_code == 401


async def test_without_a_shared_secret_every_event_is_refused(client: httpx.AsyncClient) -> None:
    # The default app (embedded, no INVITE_INTEGRATION_TOKEN_SECRET): no token can be valid.
    resp = await client.post(EVENTS, json=event("u", "a"), headers=service_headers())
    assert resp.status_code == 401


async def test_a_bad_body_is_a_422_with_field_errors(events_client: httpx.AsyncClient) -> None:
    body = event("u", "a")
    body["peer"]["user_id"] = "@someone"
    del body["text"]
    resp = await post_event(events_client, body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert {tuple(e["loc"]) for e in resp.json()["errors"]} == {("body", "peer", "user_id"), ("body", "text")}


async def test_a_bad_token_wins_over_a_bad_body(events_client: httpx.AsyncClient) -> None:
    resp = await events_client.post(EVENTS, content=b"{not json", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 401


async def test_no_reply_text_or_phone_reaches_the_logs(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", True, stream=out)
    try:
        user, _ = user_headers(events_settings)
        body = event(user, "acc-log", "СТОП, my secret words", phone="+79161234567")
        assert (await post_event(events_client, body)).status_code == 202
    finally:
        configure_logging("WARNING", True)
    logged = out.getvalue()
    assert body["id"] in logged  # the line is there, without what the person wrote or their number
    assert "secret words" not in logged and "9161234567" not in logged


async def test_concurrent_replies_count_once(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    """Whatever the interleaving: one event id applied once, one target counted once."""
    user, h = user_headers(events_settings)
    tid, rows = await finished_message_task(events_client, h, FIXED_NAMES)
    target = _messaged(rows)
    same = event(user, target["account_id"], "stop", username=target["username"])
    others = [event(user, target["account_id"], "hi", username=target["username"]) for _ in range(3)]
    answers = await asyncio.gather(*[post_event(events_client, b) for b in (same, same, same, *others)])
    assert sorted(a.status_code for a in answers[:3]) == [200, 200, 202]
    assert all(a.status_code == 202 for a in answers[3:])
    assert sum(a.json()["replied_targets"] for a in answers if a.status_code == 202) == 1
    assert await _replied(events_client, h, tid) == 1


async def test_ids_of_the_longest_allowed_length_are_kept(
    events_client: httpx.AsyncClient, events_settings: Settings
) -> None:
    user, h = user_headers(events_settings)
    account = "a" * 128
    body = {**event(user, account, "stop", username=f"ln_{uuid.uuid4().hex[:6]}"), "id": "e" * 128}
    resp = await post_event(events_client, body)
    assert resp.status_code == 202 and resp.json()["opted_out"], resp.text
    listed = (await events_client.get("/api/v1/suppressions", headers=h)).json()["items"]
    assert {e["source"] for e in listed} == {f"reply:{account}"}
    audit = (await events_client.get("/api/v1/audit", headers=h)).json()["items"]
    assert [(a["action"], a["detail"]["event_id"]) for a in audit] == [("integration.reply", "e" * 128)]
