"""Suppression list on SQLite and PostgreSQL: add, idempotent repeat, search and pages, delete, bulk
import, export, and ``is_suppressed`` — the check the engine makes before every send."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from invite_service.db import Database
from invite_service.stores.suppressions import is_suppressed, suppressed_among

pytestmark = pytest.mark.asyncio
URL = "/api/v1/suppressions"


async def add(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(URL, json={"reason": "opt_out", **body}, headers=headers)


async def test_add_is_normalized_and_idempotent(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    first = await add(client, h, username="https://t.me/Quiet_Person", note="asked by email")
    assert first.status_code == 201, first.text
    entry = first.json()
    assert (entry["kind"], entry["key"], entry["platform"], entry["source"]) == (
        "username",
        "quiet_person",
        None,  # no platform given: the entry applies to every platform
        "api",
    )
    again = await add(client, h, username="@quiet_person", reason="complaint")
    assert again.status_code == 200
    assert again.json() == entry  # unchanged: the first entry stands
    phone = await add(client, h, phone="8 (912) 345-67-89", reason="blocked_us")
    assert (phone.status_code, phone.json()["key"]) == (201, "+79123456789")
    uid = await add(client, h, user_id=42, reason="manual")
    assert (uid.json()["kind"], uid.json()["key"]) == ("user_id", "42")
    # Same identity on another platform is another entry.
    assert (await add(client, h, username="quiet_person", platform="sandbox")).status_code == 201


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"username": "ab"}, ["body", "username"]),
        ({"phone": "12"}, ["body", "phone"]),
        ({"user_id": "-5"}, ["body", "user_id"]),
        ({}, ["body"]),
        ({"username": "good_name", "phone": "+79123456789"}, ["body"]),
        ({"username": "good_name", "reason": "because"}, ["body", "reason"]),
    ],
)
async def test_invalid_entries(
    client: httpx.AsyncClient, new_user, body: dict[str, Any], loc: list[Any]
) -> None:  # type: ignore[no-untyped-def]
    resp = await client.post(URL, json={"reason": "opt_out", **body}, headers=new_user())
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["loc"] == loc


async def test_list_search_filter_pages_and_delete(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    for i in range(12):
        await add(client, h, username=f"person_{i:02d}", reason="opt_out" if i % 2 else "complaint")
    await add(client, h, phone="+79123450000", reason="manual", note="Called the office")
    page = (await client.get(URL, params={"limit": 5}, headers=h)).json()
    assert page["total"] == 13
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(URL, params=params, headers=h)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 13
    assert seen == sorted(seen, reverse=True)  # newest first by default
    assert (await client.get(URL, params={"q": "@PERSON_1"}, headers=h)).json()["total"] == 2
    assert (await client.get(URL, params={"q": "office"}, headers=h)).json()["total"] == 1
    assert (await client.get(URL, params={"reason": "complaint"}, headers=h)).json()["total"] == 6
    assert (await client.get(URL, params={"kind": "phone"}, headers=h)).json()["total"] == 1
    by_key = (await client.get(URL, params={"sort": "key", "limit": 2}, headers=h)).json()
    assert [e["key"] for e in by_key["items"]] == ["+79123450000", "person_00"]
    stranger = new_user()
    assert (await client.get(URL, headers=stranger)).json()["total"] == 0
    target = seen[0]
    assert (await client.delete(f"{URL}/{target}", headers=stranger)).status_code == 404
    assert (await client.delete(f"{URL}/{target}", headers=h)).status_code == 204
    assert (await client.delete(f"{URL}/{target}", headers=h)).status_code == 404
    assert (await client.get(URL, headers=h)).json()["total"] == 12


async def test_bulk_import_and_export_round_trip(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    await add(client, h, username="known_one")
    text = (
        "Ник;Телефон;Причина;Комментарий\n"
        "known_one;;;\n"
        "new_person;+7 912 345 11 22;complaint;wrote to support\n"
        "bad!;+79123451123;;typo beside a good phone\n"
        ";;;\n"
        "only_name;;nonsense;\n"
    ).encode("cp1251")
    resp = await client.post(
        f"{URL}/import", headers=h, files={"file": ("optout.csv", text)}, data={"reason": "opt_out"}
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert {k: out[k] for k in ("rows", "created", "existing", "invalid")} == {
        "rows": 4,
        "created": 3,
        "existing": 1,
        "invalid": 2,
    }
    assert [(e["row"], e["reason"]) for e in out["errors"]] == [
        (4, "invalid_username"),
        (6, "invalid_reason"),
    ]
    entries = {e["key"]: e for e in (await client.get(URL, params={"limit": 50}, headers=h)).json()["items"]}
    assert entries["new_person"]["reason"] == "complaint"
    assert entries["+79123451122"]["note"] == "wrote to support"
    assert entries["+79123451123"]["reason"] == "opt_out"  # the valid identity of a half-bad row is kept
    assert entries["+79123451123"]["source"] == "import"
    export = await client.get(f"{URL}/export.csv", headers=h)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert {(r["username"], r["phone"]) for r in rows} == {
        ("known_one", ""),
        ("new_person", ""),
        ("", "+79123451122"),
        ("", "+79123451123"),
    }
    # The export reads back in: for another user it recreates the same list.
    other = new_user()
    back = await client.post(f"{URL}/import", headers=other, files={"file": ("export.csv", export.content)})
    assert back.json()["created"] == 4
    assert (await client.get(URL, headers=other)).json()["total"] == 4


async def test_bulk_import_xlsx_with_several_identities_a_row(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["username", "user_id", "phone", "reason"])
    sheet.append(["multi_ids", 987654, 79123459999, "blocked_us"])
    buf = io.BytesIO()
    book.save(buf)
    resp = await client.post(f"{URL}/import", headers=h, files={"file": ("list.xlsx", buf.getvalue())})
    assert resp.json()["created"] == 3
    keys = {(e["kind"], e["key"], e["reason"]) for e in (await client.get(URL, headers=h)).json()["items"]}
    assert keys == {
        ("username", "multi_ids", "blocked_us"),
        ("user_id", "987654", "blocked_us"),
        ("phone", "+79123459999", "blocked_us"),
    }


async def test_is_suppressed_matches_any_identity(
    client: httpx.AsyncClient, new_user, database: Database
) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    user = h["X-Test-User"]
    await add(client, h, username="blocked_name", platform="telegram")
    await add(client, h, user_id="31337", platform="telegram")
    await add(client, h, phone="+79120000001", platform="telegram")
    async with database.session() as s:

        async def check(**ids: str | None) -> bool:
            full: dict[str, str | None] = {"username": None, "platform_user_id": None, "phone": None, **ids}
            return await is_suppressed(s, user, "telegram", **full)

        assert await check(username="blocked_name")
        assert await check(username="someone_else", platform_user_id="31337")
        assert await check(phone="+79120000001", username="clean_name")
        assert not await check(username="clean_name", platform_user_id="1", phone="+79120000002")
        assert not await check()
        assert not await is_suppressed(
            s, user, "sandbox", username="blocked_name", platform_user_id=None, phone=None
        )
        assert not await is_suppressed(
            s, "another-user", "telegram", username="blocked_name", platform_user_id=None, phone=None
        )
        hits = await suppressed_among(
            s,
            user,
            "telegram",
            {"username": {"blocked_name", "clean_name"}, "user_id": {"31337"}, "phone": set()},
        )
        assert hits == {("username", "blocked_name"): "opt_out", ("user_id", "31337"): "opt_out"}
