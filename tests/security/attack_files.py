"""Hostile import files, built in memory: each is small to send and expensive to read naively.

Shared by ``tests/security/test_files*.py`` and ``bench/attack_files.py`` (which sends the full-size
versions to measure the before/after cost).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import zipfile

from openpyxl import Workbook

XFD = 16_384  # Excel's last column


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(xlsx: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = replace.get(item.filename) or src.read(item.filename)
            dst.writestr(item.filename, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def lying_dimension_xlsx(ref: str = "A1:XFD100000", last_row: int = 100_000) -> bytes:
    """Three real rows in a sheet whose ``<dimension>`` claims ``ref`` (16,384 by 100,000 cells), and an
    empty row element numbered ``last_row`` (openpyxl then yields every row up to it, each as wide as
    the dimension says)."""
    xlsx = _workbook([["username", "first_name"], ["@alice_one", "Alice"], ["@bob_two", "Bob"]])
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    lied = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref.encode() + b'"', sheet)
    assert lied != sheet
    lied = lied.replace(b"</sheetData>", b'<row r="%d"/></sheetData>' % last_row)
    return _rewrite(xlsx, {"xl/worksheets/sheet1.xml": lied})


def far_cells_xlsx(rows: int) -> bytes:
    """No lie: every row has a real (empty) cell in column XFD, so each row reads 16,384 wide."""
    xlsx = _workbook([["username"], ["@alice_one"]])
    body = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>@user_%07d</t></is></c><c r="XFD%d"/></row>'
        % (i, i, i, i)
        for i in range(3, rows + 3)
    )
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    # An honest dimension: the sheet really is that wide.
    sheet = re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:XFD%d"/>' % (rows + 2), sheet)
    sheet = sheet.replace(b"</sheetData>", body + b"</sheetData>")
    return _rewrite(xlsx, {"xl/worksheets/sheet1.xml": sheet})


_SST_OVERRIDE = (
    b'<Override PartName="/%s" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def unsized_rows_xlsx(rows: int) -> bytes:
    """A sheet with no ``<dimension>`` and ``rows`` empty row elements (6 bytes of XML each)."""
    xlsx = _workbook([["username"], ["@alice_one"]])
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = re.sub(rb"<dimension [^>]*/>", b"", sheet)
    # Varied row numbers keep the part under the zip-bomb ratio guard.
    body = b"".join(b'<row r="%d"/>' % i for i in range(3, rows + 3))
    return _rewrite(
        xlsx, {"xl/worksheets/sheet1.xml": sheet.replace(b"</sheetData>", body + b"</sheetData>")}
    )


def shared_strings_xlsx(target_bytes: int, part: str = "xl/sharedStrings.xml") -> bytes:
    """A workbook whose shared-strings part inflates to about ``target_bytes``.

    The strings are varied enough (random hex in each) that the part compresses ~30:1, under the
    zip-bomb ratio guard, so only a bound on the part itself refuses it. ``part`` names the part
    (openpyxl finds shared strings by their declared content type, whatever the name).
    """
    xlsx = _workbook([["username"], ["@alice_one"]])
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml" and b"sharedStrings" not in data:
                data = data.replace(b"</Types>", _SST_OVERRIDE % part.encode() + b"</Types>")
            if item.filename != part:
                dst.writestr(item.filename, data)
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(info, "w", force_zip64=True) as part:
            part.write(head)
            written = len(head)
            filler = b"contact-note-" * 6
            while written < target_bytes:
                noise = os.urandom(4096).hex().encode()
                block = b"".join(
                    b"<si><t>" + noise[i : i + 4] + filler + b"</t></si>" for i in range(0, len(noise), 4)
                )
                part.write(block)
                written += len(block)
            part.write(b"</sst>")
    return out.getvalue()


def comma_header_csv(commas: int = 5_000_000) -> bytes:
    """A header line of ``commas`` empty columns after ``username``, then one contact."""
    return b"username" + b"," * commas + b"\n@alice_one\n"


def same_name_columns_csv(columns: int = 8_000) -> bytes:
    """``username`` and ``columns`` headers that all normalise to the template field ``a``."""
    marks = "!?#$%&*+=~"
    names: list[str] = []
    for length in itertools.count(1):
        for combo in itertools.product(marks, repeat=length):
            names.append("a" + "".join(combo))
            if len(names) == columns:
                header = ",".join(["username", *names])
                return (header + "\n@alice_one" + "," * columns + "\n").encode()
    raise AssertionError("unreachable")


def ndjson_many_keys(keys: int = 1_000_000) -> bytes:
    """One NDJSON object with ``keys`` distinct keys."""
    body = ",".join(f'"k{i}":1' for i in range(keys))
    return b'{"username":"@alice_one",' + body.encode() + b"}\n"


def deep_json_array(depth: int = 100_000) -> bytes:
    return b"[" + b"[" * depth + b"]" * depth + b"]"


def deep_ndjson(depth: int = 100_000) -> bytes:
    """A good line, a line nested ``depth`` deep, another good line."""
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"username":"@alice_one"}\n' + deep + b'\n{"username":"@bob_two_x"}\n'


def deep_mapping(depth: int = 100_000) -> str:
    return '{"a":' * depth + '"x"' + "}" * depth


def plain_csv(rows: int, prefix: str = "member") -> bytes:
    return b"username,first_name\n" + b"".join(
        b"@%s_%07d,Name%d\n" % (prefix.encode(), i, i) for i in range(rows)
    )


def small_csv() -> bytes:
    return b"username,first_name\n@alice_one,Alice\n@bob_two,Bob\n"


def as_json(value: object) -> str:
    return json.dumps(value)
