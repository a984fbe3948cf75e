"""Readers and the column mapping, without a database: detection, sniffing, streaming JSON, names."""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from typing import Any

import pytest

from invite_service.kit.tabular import bounds, json_reader
from invite_service.kit.tabular.errors import FileUnreadable, NoIdentityColumn, UnrecognisedFile
from invite_service.kit.tabular.mapping import build_plan, classify_contact, field_name
from invite_service.kit.tabular.open import open_reader
from invite_service.kit.tabular.readers import unique_columns


def rows_of(content: bytes, **kwargs: Any) -> tuple[Any, list[tuple[int, dict[str, Any]]]]:
    reader = open_reader(io.BytesIO(content), **kwargs)
    return reader.info, list(reader.rows())


def test_cp1251_found_past_an_ascii_head() -> None:
    # The first 64 KiB are plain ASCII; the Cyrillic after them still decides the encoding.
    head = "".join(f"user_{i:06d};Name\r\n" for i in range(bounds.SNIFF_BYTES // 16 + 100))
    content = ("username;first_name\r\n" + head + "last_user;Ёлка\r\n").encode("cp1251")
    assert len(content) > bounds.SNIFF_BYTES
    info, rows = rows_of(content)
    assert (info.encoding, info.delimiter) == ("cp1251", ";")
    assert rows[-1][1] == {"username": "last_user", "first_name": "Ёлка"}


def test_utf16_tab_text_as_excel_saves_it() -> None:
    content = codecs.BOM_UTF16_LE + "Ник\tИмя\r\nanna_k\tАнна\r\n".encode("utf-16-le")  # noqa: RUF001
    info, rows = rows_of(content)
    assert (info.encoding, info.delimiter, info.columns) == ("utf-16", "\t", ["Ник", "Имя"])
    assert rows == [(2, {"Ник": "anna_k", "Имя": "Анна"})]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a|b|c\n1|2|3\n", "|"),
        ('name;note\n"Smith, John";"a, b, c"\n"Doe, Jane";x\n', ";"),
        ("a,b\n1,2\n", ","),
        ("only\nvalues\n", ","),
    ],
)
def test_delimiter_sniffing(text: str, delimiter: str) -> None:
    info, _rows = rows_of(text.encode())
    assert info.delimiter == delimiter


def test_row_numbers_match_the_spreadsheet() -> None:
    text = '\n\nusername,city\nfirst_one,Omsk\n\n,\nsecond_one,"Multi\nline"\nthird_one,Ufa\n'
    _info, rows = rows_of(text.encode())
    # Header on row 3; blank rows are skipped but still counted; a multi-line cell is one row.
    assert [n for n, _row in rows] == [4, 7, 8]
    assert rows[1][1] == {"username": "second_one", "city": "Multi\nline"}


def test_extra_cells_beyond_the_header_are_kept() -> None:
    _info, rows = rows_of(b"username\nsome_user,surprise\nother_user,\n")
    assert rows == [(2, {"username": "some_user", "column_2": "surprise"}), (3, {"username": "other_user"})]


class TinyReads(io.BytesIO):
    """Reads of at most 7 bytes: every boundary (mid-number, mid-string) falls on a chunk edge somewhere."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(7 if size is None or size < 0 else min(size, 7))


def test_json_array_streams_across_chunk_boundaries() -> None:
    items = [{"user_id": 10**12 + i, "nested": {"a": [1, 2]}, "name": "x" * (i % 7)} for i in range(500)]
    content = codecs.BOM_UTF8 + ("[\n  " + ",\n  ".join(json.dumps(i) for i in items) + "\n]\n").encode()
    reader = open_reader(TinyReads(content))
    info, rows = reader.info, list(reader.rows())
    assert info.format == "json"
    assert [row for _n, row in rows] == items
    assert [n for n, _row in rows] == list(range(1, 501))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[{"a": 1},]', "trailing comma"),
        (b'[{"a": 1}] extra', "more text after the array"),
        (b'[{"a": 1} {"b": 2}]', "expected ',' or ']'"),
        (b'[{"a": 1}, {"b": tru}]', "malformed in item 2"),
        (b'[{"a": 1}', "ends early"),
    ],
)
def test_malformed_json_arrays(content: bytes, message: str) -> None:
    with pytest.raises(FileUnreadable, match=message):
        rows_of(content)


def test_json_array_of_contacts_and_non_objects() -> None:
    _info, rows = rows_of(b'["@alice_w", 123456, null, [1]]')
    assert rows[:2] == [(1, {"identity": "@alice_w"}), (2, {"identity": 123456})]
    assert rows[2][1][json_reader.ROW_ERROR][0] == "malformed_row"


def test_xlsx_detection_is_by_content() -> None:
    not_a_book = io.BytesIO()
    with zipfile.ZipFile(not_a_book, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnrecognisedFile, match="not an Excel workbook"):
        open_reader(io.BytesIO(not_a_book.getvalue()))


def test_column_names_become_placeholders() -> None:
    assert field_name("Город", 1) == "gorod"
    assert field_name("Order #", 2) == "order"
    assert field_name("1st visit", 3) == "f_1st_visit"
    assert field_name("???", 4) == "column_4"
    assert field_name("Дата рождения", 5) == "data_rozhdeniya"
    assert unique_columns(["Name", "name", None, ""]) == ["Name", "name_2", "column_3", "column_4"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+7 912 345-67-89", "phone"),
        ("8 (912) 345-67-89", "phone"),
        ("0079123456789", "phone"),
        ("123456789", "user_id"),
        ("@someone", "username"),
        ("t.me/someone", "username"),
    ],
)
def test_contact_classification(value: str, kind: str) -> None:
    assert classify_contact(value) == kind


def test_russian_and_english_headers_map_and_the_rest_become_fields() -> None:
    header = "Логин,ID,Номер телефона,Имя,Фамилия,telegram_id,Город,Notes\nuser_one,1,,,,2,,\n"
    reader = open_reader(io.BytesIO(header.encode()))
    plan = build_plan(reader, None, purpose="targets")
    assert plan.described() == {
        "Логин": "username",
        "ID": "user_id",
        "Номер телефона": "phone",
        "Имя": "first_name",
        "Фамилия": "last_name",
        "telegram_id": "telegram_id",  # user_id is taken by "ID": a template field instead
        "Город": "gorod",
        "Notes": "notes",
    }
    # Suppression imports read reason/note and ignore the other columns.
    reader = open_reader(io.BytesIO("phone,причина,комментарий,extra\n+79123456789,,,\n".encode()))
    plan = build_plan(reader, None, purpose="suppressions")
    assert plan.described() == {"phone": "phone", "причина": "reason", "комментарий": "note", "extra": None}


def test_no_identity_column_names_the_columns() -> None:
    with pytest.raises(NoIdentityColumn, match="columns: city, country"):
        build_plan(open_reader(io.BytesIO(b"city,country\nOmsk,RU\n")), None, purpose="targets")
