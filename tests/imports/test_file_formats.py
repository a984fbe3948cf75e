"""File imports on SQLite and PostgreSQL: each format the tests write lands with the right rows and fields."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from invite_service.kit.tabular import bounds
from tests.imports.conftest import all_targets, import_and_wait, new_task, rejected_rows, target_stats

pytestmark = pytest.mark.asyncio


def by_key(targets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in targets}


async def test_cp1251_semicolon_russian_headers(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    text = (
        "Ник;Имя;Фамилия;Телефон;Город\r\n"
        "@ivan_petrov;Иван;Петров;+7 912 345-67-89;Москва\r\n"
        "olga_smirnova;Ольга;Смирнова;;Тверь\r\n"
        ";Без;Ника;8 (912) 000-11-22;Омск\r\n"
    )
    job = await import_and_wait(client, h, task, text.encode("cp1251"), "люди.csv")
    assert job["status"] == "completed", job
    assert job["format"] == "csv"
    assert (job["options"]["encoding"], job["options"]["delimiter"]) == ("cp1251", ";")
    assert job["options"]["resolved_mapping"] == {
        "Ник": "username",
        "Имя": "first_name",
        "Фамилия": "last_name",
        "Телефон": "phone",
        "Город": "gorod",
    }
    assert (job["rows_seen"], job["rows_accepted"], job["rows_invalid"]) == (3, 3, 0)
    targets = by_key(await all_targets(client, h, task))
    ivan = targets["ivan_petrov"]
    assert (ivan["first_name"], ivan["last_name"], ivan["phone"]) == ("Иван", "Петров", "+79123456789")
    assert ivan["fields"] == {"gorod": "Москва"}
    assert targets["olga_smirnova"]["fields"] == {"gorod": "Тверь"}
    # No username: keyed by the phone, normalized from the Russian trunk-prefix form.
    assert targets["+79120001122"]["kind"] == "phone"
    assert targets["+79120001122"]["first_name"] == "Без"
    assert [t["source"] for t in targets.values()] == ["file"] * 3


async def test_utf8_bom_and_tsv(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    bom = "\ufeffusername,first_name,city\nanna_k,Анна,Казань\nboris_b,Борис,Сочи\n".encode()
    job = await import_and_wait(client, h, task, bom, "bom.csv")
    assert job["status"] == "completed", job
    assert (job["options"]["encoding"], job["options"]["delimiter"]) == ("utf-8", ",")
    # The BOM is not part of the first header name: "username" was recognised.
    assert job["options"]["resolved_mapping"]["username"] == "username"
    tsv = b"telegram_id\tName\tScore\n100001\tVera\t7\n100002\tGleb\t9\n"
    job = await import_and_wait(client, h, task, tsv, "people.tsv")
    assert job["status"] == "completed", job
    assert job["options"]["delimiter"] == "\t"
    targets = by_key(await all_targets(client, h, task))
    assert targets["anna_k"]["first_name"] == "Анна"
    assert targets["anna_k"]["fields"] == {"city": "Казань"}
    assert targets["100001"]["kind"] == "user_id"
    assert (targets["100002"]["first_name"], targets["100002"]["fields"]) == ("Gleb", {"score": "9"})
    assert (await target_stats(client, h, task))["total"] == 4


async def test_quoted_fields_with_line_breaks(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    text = (
        "username,first_name,note\n"
        'multi_line,"Anna\nMaria","line one\nline two, with a comma"\n'
        'plain_user,Bob,"said ""hi"""\n'
    )
    job = await import_and_wait(client, h, task, text.encode(), "quoted.csv")
    assert job["status"] == "completed", job
    assert (job["rows_seen"], job["rows_accepted"]) == (2, 2)
    targets = by_key(await all_targets(client, h, task))
    assert targets["multi_line"]["first_name"] == "Anna\nMaria"
    assert targets["multi_line"]["fields"] == {"note": "line one\nline two, with a comma"}
    assert targets["plain_user"]["fields"] == {"note": 'said "hi"'}


async def test_xlsx_named_second_sheet(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["username", "first_name"])
    first.append(["not_this_one", "Wrong"])
    second = book.create_sheet("Audience")
    second.append(["Логин", "Телефон", "Имя", "Visits"])
    second.append(["kira_l", 79123456780, "Kira", 3])
    second.append([None, None, None, None])  # a blank row is skipped, not counted
    second.append(["lev_n", None, "Lev", 12.5])
    buf = io.BytesIO()
    book.save(buf)
    job = await import_and_wait(client, h, task, buf.getvalue(), "book.xlsx", sheet="Audience")
    assert job["status"] == "completed", job
    assert (job["format"], job["options"]["sheet"]) == ("xlsx", "Audience")
    assert (job["rows_seen"], job["rows_accepted"]) == (2, 2)
    targets = by_key(await all_targets(client, h, task))
    assert set(targets) == {"kira_l", "lev_n"}
    # A phone stored as a number keeps its digits (no ".0") and normalizes.
    assert targets["kira_l"]["phone"] == "+79123456780"
    assert targets["kira_l"]["fields"] == {"visits": 3}
    assert targets["lev_n"]["fields"] == {"visits": 12.5}
    # Without a sheet the first one is read.
    other = await new_task(client, h)
    job = await import_and_wait(client, h, other, buf.getvalue(), "book.xlsx")
    assert [t["key"] for t in await all_targets(client, h, other)] == ["not_this_one"]


async def test_json_array_and_ndjson(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    items: list[Any] = [
        {"username": "json_one", "first_name": "Ann", "tags": ["a", "b"], "vip": True},
        {"user_id": 777000, "last_name": "Seven"},
        "@json_two",
    ]
    job = await import_and_wait(client, h, task, json.dumps(items).encode(), "list.json")
    assert job["status"] == "completed", job
    assert (job["format"], job["rows_accepted"]) == ("json", 3)
    lines = '{"username": "nd_one", "city": "Perm"}\n\n{"phone": "+79123456701"}\nnot json at all\n'
    job = await import_and_wait(client, h, task, lines.encode(), "feed.ndjson")
    assert job["status"] == "completed", job
    assert (job["format"], job["rows_seen"], job["rows_accepted"], job["rows_invalid"]) == ("ndjson", 3, 2, 1)
    assert job["error_sample"][0]["row"] == 4
    assert job["error_sample"][0]["reason"] == "malformed_row"
    targets = by_key(await all_targets(client, h, task))
    assert targets["json_one"]["fields"] == {"tags": '["a","b"]', "vip": True}
    assert (targets["777000"]["kind"], targets["777000"]["last_name"]) == ("user_id", "Seven")
    assert targets["json_two"]["kind"] == "username"
    assert targets["nd_one"]["fields"] == {"city": "Perm"}
    assert targets["+79123456701"]["kind"] == "phone"


async def test_format_comes_from_content_not_extension(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    job = await import_and_wait(client, h, task, b"username\nnamed_wrong\n", "really-csv.xlsx")
    assert (job["status"], job["format"]) == ("completed", "csv")
    job = await import_and_wait(client, h, task, b'[{"username": "json_as_txt"}]', "data.txt")
    assert (job["status"], job["format"]) == ("completed", "json")
    assert {t["key"] for t in await all_targets(client, h, task)} == {"named_wrong", "json_as_txt"}


async def test_headerless_list_and_explicit_mapping(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    job = await import_and_wait(client, h, task, b"@first_guy\n+7 912 345 00 01\n424242\n", "list.txt")
    assert job["status"] == "completed", job
    assert job["options"]["has_header"] is False
    targets = by_key(await all_targets(client, h, task))
    assert {k: t["kind"] for k, t in targets.items()} == {
        "first_guy": "username",
        "+79123450001": "phone",
        "424242": "user_id",
    }
    # The mapping validate shows for such a file imports it the same way.
    again = await new_task(client, h)
    job = await import_and_wait(
        client, h, again, b"@first_guy\n424242\n", "list.txt", mapping={"column_1": "identity"}
    )
    assert (job["status"], job["rows_accepted"]) == ("completed", 2), job
    mapped = await new_task(client, h)
    text = "Contact;Who;Skip me\nmapped_user;Dana;secret\n"
    job = await import_and_wait(
        client,
        h,
        mapped,
        text.encode(),
        "m.csv",
        mapping={"Contact": "username", "Who": "first_name", "Skip me": None},
    )
    assert job["status"] == "completed", job
    [target] = await all_targets(client, h, mapped)
    assert (target["key"], target["first_name"], target["fields"]) == ("mapped_user", "Dana", {})


@pytest.mark.parametrize("chunk_rows", [3, 4])
async def test_chunk_edges_lose_no_row(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, monkeypatch, chunk_rows: int
) -> None:
    # A text file's chunk is read as it is normalized: a chunk of blank rows is not the end, and a file
    # whose rows fill its chunks exactly ends with an empty one (8 rows: 3+3+2 and 4+4+0).
    monkeypatch.setattr(bounds, "CHUNK_ROWS", chunk_rows)
    h = new_user()
    task = await new_task(client, h)
    lines = ["edge_one", " ", " ", " ", "edge_two", "bad!", "edge_one", "edge_three"]
    job = await import_and_wait(client, h, task, ("username\n" + "\n".join(lines) + "\n").encode(), "e.csv")
    assert job["status"] == "completed", job
    counts = tuple(job[f"rows_{k}"] for k in ("seen", "accepted", "duplicate", "invalid"))
    assert counts == (5, 3, 1, 1)
    assert {t["key"] for t in await all_targets(client, h, task)} == {"edge_one", "edge_two", "edge_three"}
    assert [(r["row"], r["reason"]) for r in await rejected_rows(client, h, job["id"])] == [
        ("7", "invalid_username"),
        ("8", "duplicate"),
    ]
