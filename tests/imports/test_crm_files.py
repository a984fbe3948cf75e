"""Real-looking CRM exports (cp1251, ``;``, Russian headers, local phone formats, repeated rows) on
SQLite and PostgreSQL: full names split, header synonyms mapped, duplicates listed with the row they
repeat, the user's columns back in the CSV and XLSX report, the last mapping offered again for the same
header, and bare numbers taken as user ids only when long enough."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl

from tests.imports.conftest import all_targets, import_and_wait, new_task, rejected_rows, upload

HEADER = "ФИО;Телефон;Ник в Telegram;Почта;Дата согласия;CRM ID;Комментарий\r\n"
ROWS = [
    "Иванов Иван Иванович;8 (912) 345-67-89;;ivanov@example.ru;01.02.2024;A-1;=1+2",  # row 2
    "Anna Smith;+7 912 345 67 90;@Anna_Smith;anna@example.com;2024-03-05;A-2;",  # row 3
    "Ольга Петрова;9123456791;olga_petrova;;;A-3;+позвонить",  # row 4
    "Иванов Иван;+7 912 345 67 89;;ivan2@example.ru;;A-4;",  # row 5: row 2's phone
    "Anna S.;;anna_smith;;;A-5;",  # row 6: row 3's username
]


def crm_file(rows: list[str] = ROWS, header: str = HEADER) -> bytes:
    return (header + "\r\n".join(rows) + "\r\n").encode("cp1251")


def by_key(targets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in targets}


async def validate(
    client: httpx.AsyncClient, h: dict[str, str], task: str | None, content: bytes, **form: Any
) -> dict[str, Any]:
    resp = await upload(client, h, task, content, "crm.csv", path="/api/v1/import/validate", **form)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_a_cp1251_crm_export_is_understood(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    checked = await validate(client, h, task, crm_file())
    assert (checked["encoding"], checked["delimiter"]) == ("cp1251", ";")
    # The synonyms map by themselves; e-mail and consent date are kept as named fields.
    assert checked["mapping"] == {
        "ФИО": "full_name",
        "Телефон": "phone",
        "Ник в Telegram": "username",
        "Почта": "email",
        "Дата согласия": "consent_date",
        "CRM ID": "crm_id",
        "Комментарий": "kommentariy",
    }
    assert checked["remembered"] is False
    assert (checked["rows"], checked["valid"], checked["duplicates"], checked["invalid"]) == (5, 3, 2, 0)

    job = await import_and_wait(client, h, task, crm_file(), "crm.csv")
    assert job["status"] == "completed", job
    assert (job["rows_seen"], job["rows_accepted"], job["rows_duplicate"]) == (5, 3, 2)
    targets = by_key(await all_targets(client, h, task))
    assert set(targets) == {"+79123456789", "anna_smith", "olga_petrova"}
    ivanov = targets["+79123456789"]
    # Three words: Russian order, surname first; the patronymic is kept as a field.
    assert (ivanov["first_name"], ivanov["last_name"]) == ("Иван", "Иванов")
    assert ivanov["fields"] == {
        "email": "ivanov@example.ru",
        "consent_date": "01.02.2024",
        "crm_id": "A-1",
        "kommentariy": "=1+2",
        "middle_name": "Иванович",
    }
    # Two words: first name first (English and Russian alike).
    anna = targets["anna_smith"]
    assert (anna["first_name"], anna["last_name"], anna["phone"]) == ("Anna", "Smith", "+79123456790")
    olga = targets["olga_petrova"]
    assert (olga["first_name"], olga["last_name"], olga["phone"]) == ("Ольга", "Петрова", "+79123456791")

    # The skipped duplicates are listed with the row they repeat.
    rejected = {r["row"]: r for r in await rejected_rows(client, h, job["id"])}
    assert {row: (r["reason"], r["duplicate_of_row"]) for row, r in rejected.items()} == {
        "5": ("duplicate", "2"),
        "6": ("duplicate", "3"),
    }
    assert rejected["5"]["detail"] == "phone +79123456789 repeats row 2"

    # The same file again: every row repeats a target already in the task (no row to point at).
    again = await import_and_wait(client, h, task, crm_file(), "crm.csv")
    assert (again["rows_accepted"], again["rows_duplicate"]) == (0, 5)
    listed = {r["row"]: r for r in await rejected_rows(client, h, again["id"])}
    assert listed["2"]["duplicate_of_row"] == ""
    assert listed["2"]["detail"].endswith("already in the task")
    assert listed["5"]["duplicate_of_row"] == "2"


async def test_the_report_keeps_the_users_columns(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    job = await import_and_wait(client, h, task, crm_file(), "crm.csv")
    assert job["status"] == "completed", job
    fields = ["full_name", "email", "consent_date", "crm_id", "kommentariy", "middle_name"]

    resp = await client.get(f"/api/v1/tasks/{task}/report", params={"format": "csv"}, headers=h)
    assert resp.status_code == 200, resp.text
    reader = csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig")))
    header = list(reader.fieldnames or [])
    # After the standard columns, in the file's column order (full_name is split, not a field).
    assert header[-5:] == [f for f in fields if f != "full_name"]
    assert header.index("replied_at") < header.index("email")
    rows = {r["key"]: r for r in reader}
    ivanov = rows["'+79123456789"]  # the key is a phone: neutralised like any "+" cell
    assert (ivanov["email"], ivanov["consent_date"], ivanov["crm_id"]) == (
        "ivanov@example.ru",
        "01.02.2024",
        "A-1",
    )
    assert rows["olga_petrova"]["email"] == ""  # a field the target lacks is an empty cell
    # CSV keeps formula neutralisation (docs/api.md "Downloads and formulas").
    assert ivanov["kommentariy"] == "'=1+2"
    assert ivanov["phone"] == "'+79123456789"
    assert rows["olga_petrova"]["kommentariy"] == "'+позвонить"

    resp = await client.get(f"/api/v1/tasks/{task}/report", params={"format": "xlsx"}, headers=h)
    assert resp.status_code == 200, resp.text
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content))["Targets"]
    names = [c.value for c in sheet[1]]
    assert names[-5:] == header[-5:]
    cells = {row[names.index("key")].value: row for row in sheet.iter_rows(min_row=2)}
    row = cells["+79123456789"]
    for column, value in (
        ("email", "ivanov@example.ru"),
        ("consent_date", "01.02.2024"),
        ("kommentariy", "=1+2"),
        ("phone", "+79123456789"),
        ("middle_name", "Иванович"),
    ):
        cell = row[names.index(column)]
        # Typed string cells, as written: no apostrophe, never a formula.
        assert (cell.data_type, cell.value) == ("s", value), column
    assert cells["olga_petrova"][names.index("kommentariy")].value == "+позвонить"


async def test_the_last_mapping_is_offered_for_the_same_header(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    mine = {"CRM ID": "crm_ref", "Комментарий": None}
    job = await import_and_wait(client, h, task, crm_file(), "crm.csv", mapping=mine)
    assert job["status"] == "completed", job

    # Another export with the same header (spelled in another case and spacing), other rows.
    header = "фио; ТЕЛЕФОН ;Ник в Telegram;Почта;Дата согласия;CRM ID;Комментарий\r\n"
    second = crm_file(["Сидоров Пётр;+7 912 345 67 99;;;;B-1;звонил"], header)
    offered = await validate(client, h, None, second)
    assert offered["remembered"] is True
    assert offered["mapping"]["CRM ID"] == "crm_ref"
    assert offered["mapping"]["Комментарий"] is None
    assert offered["mapping"]["фио"] == "full_name"
    assert offered["preview"][0]["fields"] == {"crm_ref": "B-1"}

    # A mapping given with the request is used as given, not the remembered one.
    given = await validate(client, h, None, second, mapping={"CRM ID": "crm_id"})
    assert (given["remembered"], given["mapping"]["CRM ID"]) == (False, "crm_id")
    # A different header is not offered it.
    other = await validate(client, h, None, crm_file(["Сидоров Пётр;+7 912 345 67 99"], "ФИО;Телефон\r\n"))
    assert other["remembered"] is False
    assert other["mapping"] == {"ФИО": "full_name", "Телефон": "phone"}
    # Nor is another user.
    stranger = await validate(client, new_user(), None, second)
    assert (stranger["remembered"], stranger["mapping"]["CRM ID"]) == (False, "crm_id")

    # The next finished import of that header is what is remembered next.
    job = await import_and_wait(client, h, task, second, "crm.csv", mapping={"CRM ID": "crm_key"})
    assert job["status"] == "completed", job
    assert (await validate(client, h, None, second))["mapping"]["CRM ID"] == "crm_key"


async def test_bare_numbers_need_five_digits(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    text = "Контакт\n123456789\n4242\n+7 912 345 67 89\n8 912 345-67-80\n@short_ok_name\n"
    job = await import_and_wait(client, h, task, text.encode(), "paste.csv")
    assert job["status"] == "completed", job
    targets = by_key(await all_targets(client, h, task))
    assert {k: t["kind"] for k, t in targets.items()} == {
        "123456789": "user_id",
        "+79123456789": "phone",
        "+79123456780": "phone",
        "short_ok_name": "username",
    }
    [short] = await rejected_rows(client, h, job["id"])
    assert (short["row"], short["reason"]) == ("3", "number_too_short")
    assert short["detail"].startswith("a number this short is neither a user id nor a phone")

    # The same rule for targets added through the API (the paste box sends numbers as user_id).
    rows = [{"user_id": "4242"}, {"user_id": 987654321}, {"user_id": "12345"}]
    resp = await client.post(f"/api/v1/tasks/{task}/targets/bulk", json={"targets": rows}, headers=h)
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["result"] for r in results] == ["invalid", "created", "created"]
    [error] = results[0]["errors"]
    assert (error["loc"], error["type"]) == (["body", "targets", 0, "user_id"], "number_too_short")
    assert "neither a user id nor a phone" in error["msg"]
    resp = await client.post(f"/api/v1/tasks/{task}/targets", json={"user_id": 77}, headers=h)
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["type"] == "number_too_short"
