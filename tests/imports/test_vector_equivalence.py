# ruff: noqa: RUF001 - the look-alike letters and digits are the point: they must normalize as before.
"""The bulk (polars) import front half against the per-row reference, without a database.

Reference: ``CsvReader.rows()`` + ``convert.convert_chunk`` (a row at a time, as before). Bulk:
``CsvReader.batches()`` + ``vector.convert_chunk``. Both must give the same staged targets (in row
order), the same raw rows behind them, the same rejected rows (row, reason, detail, raw) and the same
failure (type and message) — on every CSV the import and security tests send, and on generated ones.
"""

from __future__ import annotations

import ast
import contextlib
import io
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from invite_service.errors import AppError
from invite_service.imports import convert, vector
from invite_service.imports.sources import probe
from invite_service.kit.tabular import columnar
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.readers import CsvReader
from tests.security import attack_files

Outcome = tuple[str, Any]
TESTS = Path(__file__).resolve().parents[1]


@contextmanager
def block_chars(n: int) -> Iterator[None]:
    before = columnar.BLOCK_CHARS
    columnar.BLOCK_CHARS = n
    try:
        yield
    finally:
        columnar.BLOCK_CHARS = before


def _run(
    content: bytes,
    mapping: dict[str, str | None] | None,
    region: str,
    *,
    bulk: bool,
    size: int,
    contacts: bool,
) -> Outcome:
    try:
        reader, plan = probe(io.BytesIO(content), None, mapping)
        if bulk:
            if not isinstance(reader, CsvReader):
                return ("not csv", None)
            chunks: Any = reader.batches(size)
            fn: Callable[..., Any] = vector.convert_chunk
        else:
            chunks = [list(reader.rows())]
            fn = convert.convert_chunk
        staged: list[Any] = []
        raws: list[Any] = []
        rejected: list[Any] = []
        batches = 0
        for chunk in chunks:
            batches += isinstance(chunk, ColumnBatch)
            valid, their_raws, bad = fn(plan, chunk, region, contacts=contacts)
            staged += [tuple(str(v) if i == 1 else v for i, v in enumerate(row)) for row in valid]
            raws += list(their_raws)
            rejected += [(r.row, r.reason, r.detail, r.raw, r.duplicate_of_row) for r in bad]
    except (AppError, ValueError) as exc:
        return ("error", (type(exc).__name__, str(exc)))
    return ("ok", (staged, raws, rejected))


def assert_same(
    content: bytes,
    mapping: dict[str, str | None] | None = None,
    region: str = "RU",
    *,
    size: int = 10_000,
    contacts: bool = False,
) -> None:
    reference = _run(content, mapping, region, bulk=False, size=size, contacts=contacts)
    bulk = _run(content, mapping, region, bulk=True, size=size, contacts=contacts)
    if bulk[0] == "not csv":
        return
    assert bulk == reference


def _test_files() -> list[bytes]:
    """Every text constant of the import, suppression, audience and security tests that reads as a
    CSV (a newline and a delimiter), as UTF-8 and, where it encodes, as cp1251."""
    out: dict[bytes, None] = {}
    for folder in ("imports", "security", "suppressions", "audiences"):
        for path in sorted((TESTS / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Constant) or not isinstance(node.value, str | bytes):
                    continue
                value = node.value
                variants = [value] if isinstance(value, bytes) else [value.encode()]
                if isinstance(value, str):
                    with contextlib.suppress(UnicodeEncodeError):
                        variants.append(value.encode("cp1251"))
                for v in variants:
                    if b"\n" in v and any(d in v for d in (b",", b";", b"\t", b"|")):
                        out[v] = None
    return list(out)


def padded(text: str, newline: str = "\n") -> str:
    """``text`` with plain rows after it when it has control characters: a file more than 1% of
    which is control characters is refused as binary before any row is read."""
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n\f") or ch == "\x7f")
    fill = newline.join(f"filler_user_{i:05d}" for i in range(controls * 10))
    return text if not controls else text + newline + fill + newline


ATTACKS = [
    attack_files.plain_csv(3_000),
    attack_files.small_csv(),
    attack_files.comma_header_csv(3_000),
    attack_files.same_name_columns_csv(300),
]
EDGES = [
    b"username,first_name\nalice_one,Alice\n\nbob_two,Bob\n,,\n",
    b"username,first_name\r\nalice_one,Alice\r\nbob_two,Bob",  # CRLF, no final newline
    b"username,first_name\nalice_one,Al\rice\nbob_two,Bob\n",  # a lone CR: the csv module's
    b'username,first_name\nalice_one,Alice\nbob_two,"B, ob"\ncarl_three,Carl\n',  # a quote later on
    b"username,city\nalice_one,Omsk,extra,more\nbob_two,Perm,,\nc,x" + b",v" * 1_100 + b"\n",
    b"@first_row_is_data\n@second_one\n12345678\n+7 912 000 11 22\n",  # headerless
    b"phone;name\n8 (912) 000-11-22;A\n+79120001122;B\n0079120001122;C\n12;D\nabc;E\n",
    b"user_id\tusername\n000123456\tx\n0\t\n\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\talice_one\n12\t\n",
    padded("username,first_name\n\x1c\x1dalice_one\xa0,\u3000\n" + "a" * 300 + ",x\n").encode(),
    padded("username,note\nalice_one,a\x00b\nbob_two," + "n" * 1_001 + "\n").encode(),
    b"Contact,Full name,middle_name\n@alice_one,Smith Anna Maria,\n+79120001122,Bob Lee,M\n123456,,\n",
    b'username,city\nhttps://t.me/alice_one?start=1,"Omsk"\nt.me/bob_two/,\xe2\x84\xaaelvin\n',
    b"username,city\n" + b"x" * 140_000 + b",big\nok_name,c\n",  # near the csv module's field limit
    b"username,city\n" + b"y" * (2 * 1024 * 1024 + 10) + b"\nok_name,c\n",  # a line over the bound
    'username;Город\nivan_one;Москва\npetr_two;"Омск"\n'.encode("cp1251"),
    "username\tname\nanna_k\tАнна\n".encode("utf-16"),
]


@pytest.mark.parametrize("content", _test_files() + ATTACKS + EDGES, ids=lambda c: f"{len(c)}b")
def test_bulk_equals_per_row_on_the_test_files(content: bytes) -> None:
    # Small blocks and chunks too (every line its own block, lines carried over), where that is cheap.
    for size in (10_000, 2) if len(content) < 20_000 else (10_000,):
        with block_chars(columnar.BLOCK_CHARS if size > 2 else 16):
            assert_same(content, size=size)
            assert_same(content, size=size, contacts=True)


def test_bulk_equals_per_row_with_mappings() -> None:
    content = b"A,B,C,D\n@alice_one,Anna,Omsk,x\n12345678,Bob,,y\n+79120001122,,Perm,\nbad!,C,D,E\n"
    for mapping in (
        {"A": "identity", "B": "first_name", "C": "city", "D": None},
        {"A": "username", "B": "full_name", "C": "city", "D": "city"},  # one field from two columns
        {"A": "phone", "B": "last_name"},
        {"A": "user_id", "C": "ignore"},
    ):
        assert_same(content, mapping)  # type: ignore[arg-type]


def test_bulk_path_really_runs_on_plain_files() -> None:
    # The comparison above is only worth something if the plain lines did go through the bulk path.
    reader, _plan = probe(io.BytesIO(attack_files.plain_csv(50)), None, None)
    assert isinstance(reader, CsvReader)
    assert all(isinstance(b, ColumnBatch) for b in reader.batches(10))


# ---- generated corpora --------------------------------------------------------------------------

_name = st.text(string.ascii_letters + string.digits + "_", min_size=0, max_size=34)
usernames = st.one_of(
    _name,
    _name.map(lambda s: "@" + s),
    _name.map(lambda s: "t.me/" + s),
    _name.map(lambda s: "https://t.me/" + s + "?start=x"),
    _name.map(str.upper),
    st.sampled_from(["\u212aelvin_user", "ａｌｉｃｅ_one", "@@double_at", "bad!", "abc_", "  pad_ded  "]),
    st.text(max_size=8),
)
phones = st.one_of(
    st.from_regex(r"\+7 ?9\d{2} ?\d{3}[ -]?\d{2}[ -]?\d{2}", fullmatch=True),
    st.from_regex(r"8 \(9\d{2}\) \d{3}-\d{2}-\d{2}", fullmatch=True),
    st.from_regex(r"00[1-9]\d{6,12}", fullmatch=True),
    st.from_regex(r"\+?\d{1,15}", fullmatch=True),
    st.text(string.digits + " +()-x", max_size=16),
)
user_ids = st.one_of(
    st.integers(0, 10**22).map(str),
    st.from_regex(r"0{0,3}\d{1,8}", fullmatch=True),
    st.sampled_from(["١٢٣٤٥٦", "１２３４５６", "-5", "12 34", "1e9"]),
)
names = st.one_of(st.text(max_size=12), st.sampled_from(["Анна", "Ёлка Смирнова Петровна", "李 小龍", " "]))
blank = st.sampled_from(["", " ", "\t", "\xa0", "\x1c", "\u3000"])
COLUMNS = {
    "username": usernames,
    "user_id": user_ids,
    "phone": phones,
    "first_name": names,
    "last_name": names,
    "ФИО": names,
    "contact": st.one_of(usernames, phones, user_ids),
    "city": st.one_of(names, st.sampled_from(['a"b', "back\\slash", "tab\there", "ctl\x01", "x\x00y"])),
    "note": names,
    "Почта": names,
}


@st.composite
def corpora(draw: st.DrawFn) -> tuple[bytes, str, int]:
    columns = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=6, unique=True))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    pool: list[list[str]] = []
    rows = draw(st.integers(0, 25))
    lines = [delimiter.join(columns)]
    for _ in range(rows):
        if pool and draw(st.booleans()) and draw(st.booleans()):
            cells = draw(st.sampled_from(pool))  # a duplicate of an earlier row
        else:
            cells = [draw(st.one_of(COLUMNS[c], blank)) for c in columns]
            cells += draw(st.lists(st.one_of(names, blank), max_size=2))  # cells past the header
            pool.append(cells)
        cells = [c.replace(delimiter, " ").replace("\n", " ").replace("\r", " ") for c in cells]
        lines.append(delimiter.join(cells))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    text = padded(text, newline)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
    return (
        text.encode(encoding, errors="replace"),
        draw(st.sampled_from(["RU", "US", "DE"])),
        draw(st.sampled_from([1, 3, 10_000])),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from([16, 64, columnar.BLOCK_CHARS]))
@example((padded("username,city\nalice_one,a\x1cb\nbob_two,\x1c\n").encode(), "RU", 1), 16)
def test_bulk_equals_per_row_on_generated_files(corpus: tuple[bytes, str, int], block: int) -> None:
    content, region, size = corpus
    with block_chars(block):
        assert_same(content, region=region, size=size)
