"""Imports into an audience on SQLite and PostgreSQL, through the HTTP API: a cp1251 CRM export becomes
contacts (full names split, consent dates parsed, tags split); a second file of the same people by
other identities merges into them; a person linked only through rows of the same file is one contact;
repeats and bad consent dates are in rejected.csv; task_id and audience_id together are a 422 and
another user's audience a 404; a Parsing Service task imports into an audience too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.imports import file_limits as limits
from invite_service.main import create_app
from invite_service.sandbox.parsing_app import ParsingSandbox
from tests.audiences.helpers import URL as AUDIENCES
from tests.audiences.helpers import new_audience
from tests.imports.conftest import new_task, rejected_rows, upload, wait_job
from tests.imports.test_parsing import SECRET, sandbox_url  # noqa: F401 - the sandbox fixture

pytestmark = pytest.mark.asyncio
IMPORT = "/api/v1/import"
HEADER = "ФИО;Телеграм;Телефон;Дата согласия;Теги\r\n"
FIRST = [
    "Иванов Иван Иванович;@Ivan_Ivanov;8 (912) 345-67-89;01.03.2025;VIP, Москва",  # row 2
    "Anna Smith;anna_smith;;2025-03-01;newsletter",  # row 3
    "Ольга Петрова;;+7 912 345 67 91;01.03.2025 10:00;",  # row 4
    "Пётр Сидоров;petr_sidorov;;31.02.2025;",  # row 5: no such date
    "Иванов Иван;ivan_ivanov;;;",  # row 6: row 2's username again
    "Борис Борисов;boris_b;;;",  # row 7: opted out
    "Глеб Глебов;gleb_g;;;a, , B,a",  # row 8
]
# The same people by other identities: Ivan by phone, Anna by username with a phone, Olga by phone
# with a username.
SECOND = [
    "Иван Иванов;;+7 912 345-67-89;02.03.2025;Клиент",
    "Anna S.;@Anna_Smith;8 912 345 67 90;;",
    "Ольга П.;olga_p;89123456791;;vip",
]


def crm(rows: list[str], header: str = HEADER) -> bytes:
    return (header + "\r\n".join(rows) + "\r\n").encode("cp1251")


async def import_into(
    client: httpx.AsyncClient, h: dict[str, str], audience_id: str, content: bytes, **form: Any
) -> dict[str, Any]:
    resp = await upload(client, h, None, content, "crm.csv", audience_id=audience_id, **form)
    assert resp.status_code == 202, resp.text
    return await wait_job(client, h, resp.json()["job_id"])


async def members(client: httpx.AsyncClient, h: dict[str, str], aid: str) -> dict[str, dict[str, Any]]:
    """The audience's contacts by primary key (every page)."""
    out: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        resp = await client.get(f"{AUDIENCES}/{aid}/contacts", params=params, headers=h)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        out.update({c["key"]: c for c in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return out


async def test_a_crm_file_makes_contacts_and_a_second_one_merges(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    audience = await new_audience(client, h)
    aid = audience["id"]
    opt_out = {"username": "boris_b", "reason": "opt_out"}
    resp = await client.post("/api/v1/suppressions", json=opt_out, headers=h)
    assert resp.status_code == 201, resp.text

    checked = await upload(client, h, None, crm(FIRST), "crm.csv", path=f"{IMPORT}/validate", audience_id=aid)
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert report["mapping"] == {
        "ФИО": "full_name",
        "Телеграм": "username",
        "Телефон": "phone",
        "Дата согласия": "consent_date",
        "Теги": "tags",
    }
    assert (report["rows"], report["invalid"], report["duplicates"], report["suppressed"]) == (7, 1, 1, 1)
    assert report["valid"] == 4
    errors = [(e["row"], e["reason"]) for e in report["errors"]]
    assert errors == [(5, "invalid_consent_date"), (7, "suppressed")]

    job = await import_into(client, h, aid, crm(FIRST))
    assert job["status"] == "completed", job
    assert (job["audience_id"], job["task_id"]) == (aid, None)
    assert (job["rows_seen"], job["rows_accepted"], job["rows_duplicate"]) == (7, 4, 1)
    assert (job["rows_invalid"], job["rows_suppressed"]) == (1, 1)
    assert job["options"]["contacts"] == {"created": 4, "merged": 0, "added": 4}
    rejected = {int(r["row"]): r for r in await rejected_rows(client, h, job["id"])}
    assert {n: r["reason"] for n, r in rejected.items()} == {
        5: "invalid_consent_date",
        6: "duplicate",
        7: "suppressed",
    }
    assert rejected[6]["duplicate_of_row"] == "2"
    assert "31.02.2025" in rejected[5]["detail"]
    assert rejected[5]["ФИО"] == "Пётр Сидоров"  # the user's own columns, for fixing and re-importing

    people = await members(client, h, aid)
    assert set(people) == {"ivan_ivanov", "anna_smith", "+79123456791", "gleb_g"}
    ivan = people["ivan_ivanov"]
    assert (ivan["first_name"], ivan["last_name"], ivan["phone"]) == ("Иван", "Иванов", "+79123456789")
    # Consent and tags are the contact's own, not template fields; the patronymic is a field.
    assert ivan["fields"] == {"middle_name": "Иванович"}
    assert ivan["consent"] == {"source": "import", "at": "2025-03-01T00:00:00Z", "note": None}
    assert ivan["tags"] == ["vip", "москва"]
    assert people["+79123456791"]["consent"]["at"] == "2025-03-01T10:00:00Z"
    assert people["anna_smith"]["tags"] == ["newsletter"]
    assert people["gleb_g"]["tags"] == ["a", "b"]
    assert people["gleb_g"]["consent"] is None
    assert (await client.get(f"{AUDIENCES}/{aid}", headers=h)).json()["contacts"] == 4

    # The same people by phone and by username: merged into them (the count stays), filling only
    # what each lacked.
    again = await import_into(client, h, aid, crm(SECOND))
    assert again["status"] == "completed", again
    assert (again["rows_accepted"], again["rows_duplicate"]) == (3, 0)
    assert again["options"]["contacts"] == {"created": 0, "merged": 3, "added": 0}
    after = await members(client, h, aid)
    assert set(after) == set(people)
    ivan = after["ivan_ivanov"]
    assert (ivan["first_name"], ivan["last_name"]) == ("Иван", "Иванов")  # kept
    assert ivan["consent"]["at"] == "2025-03-01T00:00:00Z"  # the first consent stays
    assert ivan["tags"] == ["vip", "клиент", "москва"]
    assert after["anna_smith"]["phone"] == "+79123456790"
    assert after["+79123456791"]["username"] == "olga_p"
    assert after["+79123456791"]["tags"] == ["vip"]
    assert (await client.get(f"{AUDIENCES}/{aid}", headers=h)).json()["contacts"] == 4
    resp = await client.get("/api/v1/contacts", params={"tag": "vip"}, headers=h)
    assert {c["key"] for c in resp.json()["items"]} == {"ivan_ivanov", "+79123456791"}

    # The people are already contacts: a second audience gets them as members, none created.
    other = await new_audience(client, h, name="Second list")
    third = await import_into(client, h, other["id"], crm(SECOND))
    assert third["options"]["contacts"] == {"created": 0, "merged": 3, "added": 3}
    listed = await client.get(f"{IMPORT}/jobs", params={"audience_id": aid}, headers=h)
    assert {j["id"] for j in listed.json()["items"]} == {job["id"], again["id"]}


async def test_rows_of_one_person_in_one_file_make_one_contact(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    aid = (await new_audience(client, h))["id"]
    content = (
        b"username,user_id,phone,tags,city\n"
        b"zoe_one,,+7 912 000 11 22,x,Kazan\n"  # a contact by username
        b",55500123,+79120001122,y,\n"  # row 3: another primary identity, row 2's phone
        b"zoe_two,55500123,,,Omsk\n"  # row 4: row 3's user id (its key), so a repeat of it
        b"solo_person,,,,\n"
    )
    job = await import_into(client, h, aid, content)
    assert job["status"] == "completed", job
    assert (job["rows_accepted"], job["rows_duplicate"]) == (3, 1)
    assert job["options"]["contacts"] == {"created": 2, "merged": 1, "added": 2}
    people = await members(client, h, aid)
    assert set(people) == {"zoe_one", "solo_person"}
    zoe = people["zoe_one"]
    assert (zoe["user_id"], zoe["phone"], zoe["tags"], zoe["fields"]) == (
        "55500123",
        "+79120001122",
        ["x", "y"],
        {"city": "Kazan"},
    )


async def test_exactly_one_destination_and_only_ones_own(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h, stranger = new_user(), new_user()
    task = await new_task(client, h)
    aid = (await new_audience(client, h))["id"]
    content = crm(FIRST[:1])

    both = await upload(client, h, task, content, "crm.csv", audience_id=aid)
    assert both.status_code == 422, both.text
    assert both.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in both.json()["errors"]] == [["body", "audience_id"]]
    neither = await upload(client, h, None, content, "crm.csv")
    assert neither.status_code == 422, neither.text
    assert [e["loc"] for e in neither.json()["errors"]] == [["body", "task_id"]]
    body = {"task_id": task, "audience_id": aid, "parsing_task_id": "demo-5"}
    parsing_both = await client.post(f"{IMPORT}/parsing", json=body, headers=h)
    assert parsing_both.status_code == 422, parsing_both.text
    validate = f"{IMPORT}/validate"
    validate_both = await upload(client, h, task, content, "crm.csv", path=validate, audience_id=aid)
    assert validate_both.status_code == 422, validate_both.text

    # Another user's audience is not found, and nothing is started in it.
    for resp in (
        await upload(client, stranger, None, content, "crm.csv", audience_id=aid),
        await upload(client, stranger, None, content, "crm.csv", path=validate, audience_id=aid),
        await client.post(
            f"{IMPORT}/parsing", json={"audience_id": aid, "parsing_task_id": "demo-5"}, headers=stranger
        ),
    ):
        assert resp.status_code == 404, resp.text
        assert resp.json()["code"] == "audience_not_found"
    jobs = await client.get(f"{IMPORT}/jobs", params={"audience_id": aid}, headers=stranger)
    assert jobs.json()["items"] == []
    assert (await client.get(f"{AUDIENCES}/{aid}", headers=h)).json()["contacts"] == 0


@pytest.fixture
async def parsing_client(db_url: str, sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    settings = Settings(
        database_url=db_url, parsing_url=sandbox_url, integration_token_secret=SECRET, log_level="WARNING"
    )
    database = Database(db_url, pool_size=5)
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await app.state.runner.shutdown()
    await database.dispose()


async def test_a_parsing_service_task_imports_into_an_audience(
    parsing_client: httpx.AsyncClient, new_user, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(limits, "PARSING_BACKOFF_BASE_SECONDS", 0.01)
    client, h = parsing_client, new_user()
    aid = (await new_audience(client, h))["id"]
    expected = ParsingSandbox(seed=0).expected("members-1200")

    async def run() -> dict[str, Any]:
        body = {"audience_id": aid, "parsing_task_id": "members-1200"}
        resp = await client.post(f"{IMPORT}/parsing", json=body, headers=h)
        assert resp.status_code == 202, resp.text
        return await wait_job(client, h, resp.json()["job_id"])

    job = await run()
    assert job["status"] == "completed", job
    assert (job["audience_id"], job["rows_seen"], job["rows_accepted"]) == (aid, 1200, len(expected))
    assert job["options"]["contacts"] == {"created": len(expected), "merged": 0, "added": len(expected)}
    people = await members(client, h, aid)
    assert set(people) == {str(u["user_id"]) for u in expected}
    first = people[str(expected[0]["user_id"])]
    assert (first["kind"], first["username"], first["first_name"]) == (
        "user_id",
        expected[0]["username"],
        expected[0]["first_name"],
    )
    # The same task again: every row is a known person.
    again = await run()
    assert again["options"]["contacts"] == {"created": 0, "merged": len(expected), "added": 0}
    assert len(await members(client, h, aid)) == len(expected)
