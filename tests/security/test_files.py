"""Hostile import files against a real server: each is refused (or read to its real size) quickly,
with a clear problem+json, while /health keeps answering and memory stays bounded; nothing is written.

The files come from ``attack_files.py``; ``bench/attack_files.py`` measures the before/after cost.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from invite_service.kit.tabular.errors import UnsafeFile
from invite_service.kit.tabular.xlsx import check_archive
from tests.security import attack_files as attack
from tests.security.conftest import HEALTH_BOUND_SECONDS
from tests.security.server import HealthProbe, RssSampler, Server

RSS_GROWTH_BOUND = 300 * 1024 * 1024  # generous: the unbounded versions took 1.1-1.2 GB
JOB_DEADLINE_SECONDS = 60.0  # a guard against a hung job, not a timing assertion
VALIDATE = "/api/v1/import/validate"
IMPORT = "/api/v1/import/file"


@contextmanager
def guarded(server: Server) -> Iterator[HealthProbe]:
    """Runs the block with /health probed and memory sampled; both must stay bounded."""
    with HealthProbe(server.base_url) as probe, RssSampler(server.pid) as rss:
        yield probe
        while len(probe.latencies) < 2:  # at least one answer seen while the attack ran
            probe._stop.wait(0.05)
    assert probe.failures == 0
    assert probe.worst < HEALTH_BOUND_SECONDS, f"/health waited {probe.worst:.1f} s"
    assert rss.growth < RSS_GROWTH_BOUND, f"RSS grew {rss.growth / 2**20:.0f} MiB"


def send(
    c: httpx.Client, h: dict[str, str], path: str, name: str, content: bytes, **form: str
) -> httpx.Response:
    return c.post(path, headers=h, data=form, files={"file": (name, content)})


def problem(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    return body


def new_task(c: httpx.Client, h: dict[str, str]) -> str:
    resp = c.post(
        "/api/v1/tasks", headers=h, json={"name": "t", "action": "message", "message_template": "Hi"}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def nothing_written(c: httpx.Client, h: dict[str, str], task: str, *, jobs: int = 0) -> None:
    targets = c.get(f"/api/v1/tasks/{task}/targets", headers=h)
    assert targets.status_code == 200 and targets.json()["items"] == []
    listed = c.get("/api/v1/import/jobs", headers=h, params={"task_id": task})
    assert len(listed.json()["items"]) == jobs


def refused_everywhere(server: Server, name: str, content: bytes, status: int, code: str) -> dict[str, Any]:
    """Validate and import both refuse the file with ``code``; no job and no target exist after."""
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            body = problem(send(c, h, VALIDATE, name, content), status, code)
            problem(send(c, h, IMPORT, name, content, task_id=task), status, code)
        nothing_written(c, h, task)
    return body


def wait_job(c: httpx.Client, h: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/v1/import/jobs/{job_id}", headers=h).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running")


def import_job(c: httpx.Client, h: dict[str, str], task: str, name: str, content: bytes) -> dict[str, Any]:
    resp = send(c, h, IMPORT, name, content, task_id=task)
    assert resp.status_code == 202, resp.text[:500]
    return wait_job(c, h, resp.json()["job_id"])


# Finding 1: an XLSX whose <dimension> lies, and rows padded to column XFD.


def test_lying_dimension_reads_only_the_real_rows(server: Server) -> None:
    content = attack.lying_dimension_xlsx()  # A1:XFD100000 declared, three real rows
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            resp = send(c, h, VALIDATE, "lying.xlsx", content)
            assert resp.status_code == 200, resp.text
            assert (resp.json()["rows"], resp.json()["columns"]) == (2, ["username", "first_name"])
            job = import_job(c, h, task, "lying.xlsx", content)
        assert (job["status"], job["rows_accepted"]) == ("completed", 2)


def test_cells_past_the_budget_are_a_4xx_or_a_failed_job(server: Server) -> None:
    # A real empty cell in column XFD on every row: each row is 16,384 cells wide for ~80 bytes.
    content = attack.far_cells_xlsx(rows=3000)
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            body = problem(send(c, h, VALIDATE, "far.xlsx", content), 422, "too_many_cells")
            assert "cells" in body["detail"]
            # The header is fine, so the import starts; reading stops at the budget and the job fails.
            job = import_job(c, h, task, "far.xlsx", content)
        assert job["status"] == "failed"
        assert "cells" in job["error"], job["error"]
        nothing_written(c, h, task, jobs=1)


def test_large_sheet_without_a_dimension_is_refused_before_opening(server: Server) -> None:
    # openpyxl would parse the whole sheet at open time to size it, keeping an element per row.
    content = attack.unsized_rows_xlsx(2_000_000)
    body = refused_everywhere(server, "unsized.xlsx", content, 422, "unsafe_file")
    assert "<dimension>" in body["detail"]
    # A small sheet without one (some writers omit it) still reads.
    small = attack.unsized_rows_xlsx(10)
    h = server.headers()
    with server.client() as c:
        resp = send(c, h, VALIDATE, "small.xlsx", small)
        assert (resp.status_code, resp.json()["rows"]) == (200, 1), resp.text


# Finding 6: a shared-strings part that passes the zip-bomb ratio guard but inflates past the bound.


@pytest.fixture(scope="module")
def strings_xlsx() -> bytes:
    return attack.shared_strings_xlsx(80 * 2**20)  # ~3 MB compressed, ~26:1


def test_huge_shared_strings_are_refused_before_inflating(server: Server, strings_xlsx: bytes) -> None:
    body = refused_everywhere(server, "strings.xlsx", strings_xlsx, 422, "unsafe_file")
    assert "shared strings" in body["detail"] and "64 MiB" in body["detail"]


def test_shared_strings_under_a_worksheet_name_are_still_bounded() -> None:
    # openpyxl loads whatever part is declared shared strings; a worksheet-like name exempts nothing.
    content = attack.shared_strings_xlsx(70 * 2**20, part="xl/worksheets/sheet9.xml")
    with pytest.raises(UnsafeFile, match=r"sheet9\.xml"):
        check_archive(io.BytesIO(content))


# Finding 2: headers that cost per-column work on the event loop.


def test_header_of_five_million_commas_is_refused_before_splitting(server: Server) -> None:
    body = refused_everywhere(server, "commas.csv", attack.comma_header_csv(), 422, "too_many_columns")
    assert "header" in body["detail"]


def test_columns_over_the_limit_are_refused(server: Server) -> None:
    wide = (",".join(["username", *(f"c{i}" for i in range(1000))]) + "\n@alice_one\n").encode()
    body = refused_everywhere(server, "wide.csv", wide, 422, "too_many_columns")
    assert "1001 columns" in body["detail"]
    refused_everywhere(server, "same.csv", attack.same_name_columns_csv(8000), 422, "too_many_columns")


def test_a_thousand_columns_of_one_name_map_quickly(server: Server) -> None:
    # At the limit, every column normalising to the template field "a": de-duplication is linear.
    content = attack.same_name_columns_csv(999)
    h = server.headers()
    with server.client() as c, guarded(server):
        body = problem(send(c, h, VALIDATE, "same.csv", content), 422, "validation_error")
        assert "template fields" in body["detail"]


def test_ndjson_with_a_million_keys_is_a_rejected_row(server: Server) -> None:
    content = attack.ndjson_many_keys() + b'{"username":"@bob_two_x"}\n'
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            resp = send(c, h, VALIDATE, "keys.ndjson", content)
            assert resp.status_code == 200, resp.text
            out = resp.json()
            assert (out["rows"], out["valid"], out["errors"][0]["reason"]) == (2, 1, "malformed_row")
            # Under the line bound but over the column bound: still one rejected row.
            wide = ("{" + ",".join(f'"k{i}":1' for i in range(1001)) + "}\n").encode()
            job = import_job(c, h, task, "wide.ndjson", b'{"username":"@bob_two_x"}\n' + wide)
        assert (job["status"], job["rows_accepted"], job["rows_invalid"]) == ("completed", 1, 1)
        assert "1001 keys" in job["error_sample"][0]["detail"]


def test_json_keys_over_the_limit_in_the_sample_are_refused(server: Server) -> None:
    content = b"\n".join(b'{"username":"@user_%05d","k%d":1}' % (i, i) for i in range(1000)) + b"\n"
    refused_everywhere(server, "sparse.ndjson", content, 422, "too_many_columns")


# Deep JSON: in a file and in the mapping form field.


def test_deep_json_array_is_a_4xx_or_a_failed_job(server: Server) -> None:
    body = refused_everywhere(server, "deep.json", attack.deep_json_array(), 422, "file_unreadable")
    assert "nests" in body["detail"]
    # Past the sample the file is accepted, then the job fails on the deep item with the reason.
    items = b",".join(b'{"username":"@user_%05d"}' % i for i in range(1000))
    late = b"[" + items + b"," + attack.deep_json_array()[1:]
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            job = import_job(c, h, task, "late.json", late)
        assert job["status"] == "failed" and "nests item 1001" in job["error"], job["error"]
        nothing_written(c, h, task, jobs=1)


def test_deep_ndjson_line_is_a_rejected_row(server: Server) -> None:
    content = attack.deep_ndjson()
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            resp = send(c, h, VALIDATE, "deep.ndjson", content)
            assert resp.status_code == 200, resp.text
            assert (resp.json()["valid"], resp.json()["invalid"]) == (2, 1)
            assert resp.json()["errors"][0]["reason"] == "malformed_row"
            # Parsable but deeper than the bound: rejected too (later steps recurse per level).
            nested = b'{"username":"@carol_three","x":' + b"[" * 100 + b"]" * 100 + b"}\n"
            job = import_job(c, h, task, "deep.ndjson", content + nested)
        assert (job["status"], job["rows_accepted"], job["rows_invalid"]) == ("completed", 2, 2)
        assert {e["reason"] for e in job["error_sample"]} == {"malformed_row"}
        assert "nested" in job["error_sample"][0]["detail"]


def test_deep_mapping_field_is_a_field_error(server: Server) -> None:
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        with guarded(server):
            for path in (VALIDATE, IMPORT):
                resp = send(
                    c, h, path, "a.csv", attack.small_csv(), mapping=attack.deep_mapping(), task_id=task
                )
                body = problem(resp, 422, "validation_error")
                assert body["errors"][0]["loc"] == ["body", "mapping"]
                assert "nested" in body["errors"][0]["msg"]
        nothing_written(c, h, task)


# A NUL character inside a file: PostgreSQL's text and JSONB columns cannot hold one, so a cell, a template
# field or a column name carrying it must be a rejected row, never a database error (a 500, a failed job).


def _nul_files() -> dict[str, bytes]:
    ok = [{"username": "@alice_one", "city": "Omsk"}, {"username": "@bob_two", "city": "Tver"}]
    bad = [
        {"username": "@carol\u0000three", "city": "Perm"},  # in an identity
        {"username": "@dave_four", "city": "Kazan\u0000"},  # in a template field
        {"username": "@erin_five", "ci\u0000ty": "Ufa"},  # in a column name
    ]
    rows = ok + bad
    ndjson = "".join(attack.as_json(r) + "\n" for r in rows).encode()
    # Past the 64 KiB sniffed for binary data: the reader sees text, and the NUL comes later.
    padding = "".join(f"@pad_user_{i:05d},Town\n" for i in range(4000))
    csv = ("username,city\n" + padding + "@frank_six,Sa\u0000mara\n").encode()
    return {"rows.json": attack.as_json(rows).encode(), "rows.ndjson": ndjson, "rows.csv": csv}


@pytest.mark.parametrize("name", ["rows.json", "rows.ndjson", "rows.csv"])
def test_nul_characters_in_a_file_are_rejected_rows(server: Server, name: str) -> None:
    content = _nul_files()[name]
    h = server.headers()
    with server.client() as c:
        task = new_task(c, h)
        # The suppression import is for telegram only: an entry for every platform (the default) would
        # suppress the good rows of the sandbox task below.
        for path, form in ((VALIDATE, {}), ("/api/v1/suppressions/import", {"platform": "telegram"})):
            resp = send(c, h, path, name, content, **form)
            assert resp.status_code < 500, (path, resp.text[:500])
        job = import_job(c, h, task, name, content)
        assert job["status"] == "completed", job
        assert job["rows_invalid"] >= 1
        assert {e["reason"] for e in job["error_sample"]} == {"malformed_row"}
        listed = c.get(f"/api/v1/tasks/{task}/targets", headers=h, params={"limit": 500}).json()["items"]
        assert listed and not any("\u0000" in attack.as_json(t) for t in listed)
