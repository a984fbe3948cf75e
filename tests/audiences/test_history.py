"""A contact's history on SQLite and PostgreSQL: every execution-log row of every target of the user
that is this contact (made from it, or keyed by one of its identities on its platform), across tasks,
newest first, in pages; other people, other platforms and other users stay out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from invite_service.db import Database
from invite_service.models import InviteTarget
from invite_service.stores import logs
from tests.audiences.helpers import add_contacts, contacts, new_audience

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def new_task(
    client: httpx.AsyncClient, h: dict[str, str], name: str, platform: str = "telegram"
) -> str:
    resp = await client.post(
        "/api/v1/tasks",
        json={"name": name, "platform": platform, "action": "message", "message_template": "Hi"},
        headers=h,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def add_targets(
    client: httpx.AsyncClient, h: dict[str, str], task_id: str, *rows: dict[str, object]
) -> None:
    resp = await client.post(f"/api/v1/tasks/{task_id}/targets/bulk", json={"targets": list(rows)}, headers=h)
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == len(rows)


async def target_id(database: Database, task_id: str, key: str) -> int:
    async with database.session() as s:
        stmt = select(InviteTarget.id).where(
            InviteTarget.task_id == uuid.UUID(task_id), InviteTarget.key == key
        )
        return int((await s.scalars(stmt)).one())


async def test_history_spans_tasks_newest_first(
    client: httpx.AsyncClient, new_user, database: Database
) -> None:  # type: ignore[no-untyped-def]
    h, other_user = new_user(), new_user()
    user = h["X-Test-User"]
    aid = (await new_audience(client, h))["id"]
    await add_contacts(client, h, aid, {"username": "history_girl", "phone": "+79123451111"})
    contact = (await contacts(client, h, aid))[0]

    autumn = await new_task(client, h, "Autumn")
    winter = await new_task(client, h, "Winter")
    elsewhere = await new_task(client, h, "Sandbox run", platform="sandbox")
    # Autumn: a target made from the contact (keyed by user id: only contact_id ties it), and a stranger.
    await add_targets(client, h, autumn, {"user_id": 88800011}, {"username": "someone_else"})
    # Winter: keyed by the contact's phone, no contact_id.
    await add_targets(client, h, winter, {"phone": "+79123451111"})
    # Same username on another platform, and the same username at another user: not this contact.
    await add_targets(client, h, elsewhere, {"username": "history_girl"})
    theirs = await new_task(client, other_user, "Theirs")
    await add_targets(client, other_user, theirs, {"username": "history_girl"})

    made = await target_id(database, autumn, "88800011")
    stranger = await target_id(database, autumn, "someone_else")
    by_phone = await target_id(database, winter, "+79123451111")
    sandbox = await target_id(database, elsewhere, "history_girl")
    foreign = await target_id(database, theirs, "history_girl")
    async with database.session() as s:
        await s.execute(update(InviteTarget).where(InviteTarget.id == made).values(contact_id=contact["id"]))
        entries = [
            (autumn, made, user, "invite", "failed", "PEER_FLOOD", T0),
            (autumn, made, user, "message", "messaged", None, T0 + timedelta(minutes=5)),
            (autumn, stranger, user, "message", "messaged", None, T0 + timedelta(minutes=6)),
            (winter, by_phone, user, "message", "skipped", "PRIVACY_RESTRICTED", T0 + timedelta(days=1)),
            (elsewhere, sandbox, user, "message", "messaged", None, T0 + timedelta(days=2)),
            (theirs, foreign, other_user["X-Test-User"], "message", "messaged", None, T0 + timedelta(days=3)),
        ]
        for task, target, owner, action, outcome, code, at in entries:
            await logs.log(
                s,
                task_id=uuid.UUID(task),
                user_id=owner,
                target_id=target,
                account_id="acc-1",
                action=action,
                outcome=outcome,
                error_code=code,
                at=at,
            )

    path = f"/api/v1/contacts/{contact['id']}/history"
    page = (await client.get(path, headers=h)).json()
    assert page["total"] == 3
    got = [(i["task_name"], i["action"], i["outcome"], i["error_code"]) for i in page["items"]]
    assert got == [
        ("Winter", "message", "skipped", "PRIVACY_RESTRICTED"),
        ("Autumn", "message", "messaged", None),
        ("Autumn", "invite", "failed", "PEER_FLOOD"),
    ]
    first = page["items"][0]
    assert (first["task_id"], first["account_id"], first["at"]) == (winter, "acc-1", "2026-11-21T12:00:00Z")

    one = (await client.get(path, params={"limit": 2}, headers=h)).json()
    rest = (await client.get(path, params={"limit": 2, "cursor": one["next_cursor"]}, headers=h)).json()
    assert [i["at"] for i in one["items"] + rest["items"]] == [i["at"] for i in page["items"]]
    assert rest["next_cursor"] is None
