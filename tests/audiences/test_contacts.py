"""Contacts on SQLite and PostgreSQL: rows added to an audience are normalized like targets, merge
into one contact when they share an identity, carry tags and consent; lists filter by q / tag / field;
members are removed; a contact reads back with its audiences and opt-out; another user's is a 404."""

from __future__ import annotations

import httpx
import pytest

from tests.audiences.helpers import URL, add_contacts, contacts, new_audience

pytestmark = pytest.mark.asyncio
CONTACTS = "/api/v1/contacts"


async def test_rows_merge_into_one_contact(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    audience = await new_audience(client, h)
    aid = audience["id"]
    first = await add_contacts(
        client, h, aid, {"username": "@Anna_Smith", "first_name": "Anna", "fields": {"city": "Kazan"}}
    )
    assert (first["created"], first["merged"], first["added"], first["rejected"]) == (1, 0, 1, [])
    # The same person by username again, now with a phone: merges, fills the phone, keeps the city.
    again = await add_contacts(
        client,
        h,
        aid,
        {
            "username": "anna_smith",
            "phone": "8 (912) 345-67-89",
            "last_name": "Smith",
            "fields": {"city": "Omsk", "plan": "pro"},
        },
    )
    assert (again["created"], again["merged"], again["added"]) == (0, 1, 0)
    # And by phone alone (with a user id it did not have): still the same person.
    by_phone = await add_contacts(client, h, aid, {"phone": "+79123456789", "user_id": 5550001})
    assert (by_phone["created"], by_phone["merged"]) == (0, 1)

    items = await contacts(client, h, aid)
    assert len(items) == 1
    anna = items[0]
    assert (anna["kind"], anna["key"], anna["username"], anna["phone"], anna["user_id"]) == (
        "username",
        "anna_smith",
        "anna_smith",
        "+79123456789",
        "5550001",
    )
    assert (anna["first_name"], anna["last_name"]) == ("Anna", "Smith")
    assert anna["fields"] == {"city": "Kazan", "plan": "pro"}  # filled, not overwritten
    assert (await client.get(f"{URL}/{aid}", headers=h)).json()["contacts"] == 1

    # The same rows in one request: the second merges into the first.
    batch = await add_contacts(
        client, h, aid, {"username": "boris_petrov"}, {"username": "Boris_Petrov", "user_id": "777001"}
    )
    assert (batch["created"], batch["merged"], batch["added"]) == (1, 1, 1)


async def test_bad_rows_are_rejected_and_write_nothing(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    aid = (await new_audience(client, h))["id"]
    out = await add_contacts(
        client,
        h,
        aid,
        {"username": "ab"},
        {"phone": "12345"},
        {"first_name": "No identity"},
        {"username": "good_person", "tags": [""]},
        {"username": "fine_person", "consent_at": "2026-01-01T00:00:00"},
        {"username": "kept_person"},
        contact_ids=[999999999],
    )
    assert (out["created"], out["added"]) == (1, 1)
    rejected = {(r["index"], tuple(r["loc"])) for r in out["rejected"]}
    assert rejected == {
        (0, ("contacts", 0, "username")),
        (1, ("contacts", 1, "phone")),
        (2, ("contacts", 2)),
        (3, ("contacts", 3, "tags", 0)),
        (4, ("contacts", 4, "consent_at")),
        (0, ("contact_ids", 0)),
    }
    assert [c["username"] for c in await contacts(client, h, aid)] == ["kept_person"]


async def test_tags_consent_filters_and_remove(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    aid = (await new_audience(client, h))["id"]
    out = await add_contacts(
        client,
        h,
        aid,
        {
            "username": "vip_client",
            "first_name": "Vera",
            "tags": [" VIP ", "Moscow", "vip"],
            "fields": {"city": "Moscow"},
            "consent_source": "web form",
            "consent_at": "2026-11-01T10:00:00+03:00",
            "consent_note": "newsletter checkbox",
        },
        {"username": "plain_client", "first_name": "Pavel", "fields": {"city": "Tver"}},
        {"phone": "+79161234567", "first_name": "Olga", "tags": ["moscow"]},
    )
    assert out["created"] == 3
    vip = (await contacts(client, h, aid, tag="vip"))[0]
    assert vip["tags"] == ["moscow", "vip"]
    assert vip["consent"] == {
        "source": "web form",
        "at": "2026-11-01T07:00:00Z",
        "note": "newsletter checkbox",
    }
    assert {c["first_name"] for c in await contacts(client, h, aid, tag="MOSCOW")} == {"Vera", "Olga"}
    assert [c["first_name"] for c in await contacts(client, h, aid, q="pav")] == ["Pavel"]
    assert [c["first_name"] for c in await contacts(client, h, aid, q="916123")] == ["Olga"]
    assert [c["first_name"] for c in await contacts(client, h, aid, field="city", value="Tver")] == ["Pavel"]
    plain = next(c for c in await contacts(client, h, aid) if c["first_name"] == "Pavel")
    assert plain["consent"] is None and plain["tags"] == []

    # A second audience takes existing contacts by id; /contacts filters by audience.
    other = (await new_audience(client, h, "Moscow only"))["id"]
    by_id = await add_contacts(client, h, other, contact_ids=[vip["id"], vip["id"]])
    assert (by_id["created"], by_id["merged"], by_id["added"]) == (0, 0, 1)
    in_other = (await client.get(CONTACTS, params={"audience_id": other}, headers=h)).json()
    assert [c["id"] for c in in_other["items"]] == [vip["id"]]

    removed = await client.post(
        f"{URL}/{aid}/contacts/remove", json={"contact_ids": [vip["id"], plain["id"]]}, headers=h
    )
    assert removed.json() == {"removed": 2}
    assert [c["first_name"] for c in await contacts(client, h, aid)] == ["Olga"]
    # Removing from an audience keeps the contact (it is still in the other one).
    assert (await client.get(f"{CONTACTS}/{vip['id']}", headers=h)).status_code == 200
    all_mine = (await client.get(CONTACTS, headers=h)).json()
    assert all_mine["total"] == 3


async def test_contact_detail_patch_and_isolation(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h, stranger = new_user(), new_user()
    aid = (await new_audience(client, h, "Detail"))["id"]
    await add_contacts(client, h, aid, {"username": "opted_out_guy", "user_id": 4242421})
    contact = (await contacts(client, h, aid))[0]
    sup = await client.post(
        "/api/v1/suppressions",
        json={"user_id": 4242421, "reason": "opt_out", "platform": "telegram"},
        headers=h,
    )
    assert sup.status_code == 201, sup.text

    detail = (await client.get(f"{CONTACTS}/{contact['id']}", headers=h)).json()
    assert detail["audiences"] == [{"id": aid, "name": "Detail"}]
    assert (detail["suppression"]["reason"], detail["suppression"]["source"]) == ("opt_out", "api")

    patched = await client.patch(
        f"{CONTACTS}/{contact['id']}",
        json={
            "first_name": "Gus",
            "tags": ["Former"],
            "fields": {"note": "=1+1"},
            "consent_at": "2026-12-01T00:00:00Z",
        },
        headers=h,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["first_name"], body["tags"], body["fields"]) == ("Gus", ["former"], {"note": "=1+1"})
    assert body["consent"]["at"] == "2026-12-01T00:00:00Z"
    assert body["username"] == "opted_out_guy"  # identities are fixed

    path = f"{CONTACTS}/{contact['id']}"
    assert (await client.get(path, headers=stranger)).status_code == 404
    assert (await client.patch(path, json={"first_name": "X"}, headers=stranger)).status_code == 404
    assert (await client.get(f"{path}/history", headers=stranger)).status_code == 404
    assert (await client.get(CONTACTS, headers=stranger)).json()["items"] == []
    # Another user's contact cannot be added to one's own audience by id either.
    mine = (await new_audience(client, stranger, "Theirs"))["id"]
    taken = await add_contacts(client, stranger, mine, contact_ids=[contact["id"]])
    assert (taken["added"], len(taken["rejected"])) == (0, 1)
    missing = await client.get(f"{CONTACTS}/999999999", headers=h)
    assert (missing.status_code, missing.json()["code"]) == (404, "contact_not_found")


async def test_export_csv(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    h = new_user()
    aid = (await new_audience(client, h, "Export"))["id"]
    await add_contacts(
        client,
        h,
        aid,
        {
            "username": "first_person",
            "first_name": '=HYPERLINK("x")',
            "tags": ["a", "b"],
            "fields": {"city": "Kazan"},
        },
        {
            "phone": "+79123450000",
            "consent_source": "import",
            "consent_at": "2026-10-10T00:00:00Z",
            "fields": {"plan": "pro"},
        },
    )
    resp = await client.get(f"{URL}/{aid}/export.csv", headers=h)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    text = resp.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == [
        "platform",
        "kind",
        "username",
        "user_id",
        "phone",
        "first_name",
        "last_name",
        "tags",
        "consent_source",
        "consent_at",
        "consent_note",
        "created_at",
        "city",
        "plan",
    ]
    first, second = rows
    assert (first["username"], first["tags"], first["city"], first["plan"]) == (
        "first_person",
        "a,b",
        "Kazan",
        "",
    )
    assert first["first_name"] == '\'=HYPERLINK("x")'  # formula neutralised
    assert (second["kind"], second["phone"], second["consent_source"]) == ("phone", "'+79123450000", "import")
    assert second["consent_at"].startswith("2026-10-10T00:00:00")


async def test_many_rows_merge_across_chunks(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    aid = (await new_audience(client, h, "Big"))["id"]
    people = [{"username": f"person_{i:05d}", "tags": ["bulk"]} for i in range(1000)]
    # The same people again further down, by username with a phone: each merges (many chunks later).
    again = [{"username": f"Person_{i:05d}", "phone": f"+7912{i:07d}"} for i in range(1000)]
    out = await add_contacts(client, h, aid, *people, *again)
    assert (out["created"], out["merged"], out["added"], out["rejected"]) == (1000, 1000, 1000, [])
    page = (await client.get(f"{URL}/{aid}/contacts", params={"q": "person_00042"}, headers=h)).json()
    assert page["total"] == 1
    assert (page["items"][0]["phone"], page["items"][0]["tags"]) == ("+79120000042", ["bulk"])
    assert (await client.get(f"{URL}/{aid}/contacts", params={"tag": "bulk"}, headers=h)).json()[
        "total"
    ] == 1000
