"""Bad files and bad rows, on SQLite and PostgreSQL: a clear 4xx before any job, or per-row errors."""

from __future__ import annotations

import io
import json
import random
import zipfile

import httpx
import pytest
from openpyxl import Workbook

from invite_service.kit.tabular import bounds
from tests.imports.conftest import (
    all_targets,
    import_and_wait,
    new_task,
    rejected_rows,
    target_stats,
    upload,
    wait_job,
)

pytestmark = pytest.mark.asyncio


async def jobs_of(client: httpx.AsyncClient, headers: dict[str, str], task: str) -> int:
    resp = await client.get("/api/v1/import/jobs", params={"task_id": task}, headers=headers)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["total"])


def xlsx_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["username"])
    sheet.append(["fine_user"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def zip_bomb() -> bytes:
    """A real workbook whose sheet XML is padded to 64 MiB of zeros (a few dozen KiB compressed)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                with bomb.open(item.filename, "w", force_zip64=True) as member:
                    member.write(data.replace(b"</worksheet>", b""))
                    block = b"\0" * (1024 * 1024)
                    for _ in range(64):
                        member.write(block)
                continue
            bomb.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "filename", "status", "code"),
    [
        (b"", "empty.csv", 422, "empty_file"),
        (b"\n \r\n\t\n", "blank.csv", 422, "empty_file"),
        (random.Random(7).randbytes(4096), "noise.csv", 415, "unrecognised_file"),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\x00\x01\x02",
            "cv.pdf",
            415,
            "unrecognised_file",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "old.xls", 415, "unrecognised_file"),
        (b"PK\x03\x04not really a zip", "broken.xlsx", 415, "unrecognised_file"),
        (b"city,country\nOmsk,RU\n", "no-ids.csv", 422, "no_identity_column"),
        (b'[{"username": "a_first"}, {"username": ', "cut.json", 422, "file_unreadable"),
    ],
    ids=["empty", "blank", "noise", "pdf", "xls", "broken-zip", "no-identity", "cut-json"],
)
async def test_unimportable_files_are_4xx_and_start_nothing(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user, content: bytes, filename: str, status: int, code: str
) -> None:
    h = new_user()
    task = await new_task(client, h)
    resp = await upload(client, h, task, content, filename)
    assert resp.status_code == status, resp.text
    problem = resp.json()
    assert problem["code"] == code
    assert problem["detail"]
    assert await jobs_of(client, h, task) == 0
    # validate refuses it the same way
    resp = await upload(client, h, None, content, filename, path="/api/v1/import/validate")
    assert (resp.status_code, resp.json()["code"]) == (status, code)


async def test_zip_bomb_is_refused_before_inflating(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024
    resp = await upload(client, h, task, bomb, "bomb.xlsx")
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "unsafe_file"
    assert "zip bomb" in resp.json()["detail"]
    assert (await target_stats(client, h, task))["total"] == 0


async def test_over_the_size_limit_is_413(client: httpx.AsyncClient, new_user, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings, "import_max_upload_bytes", 64 * 1024)  # INVITE_IMPORT_MAX_UPLOAD_BYTES
    monkeypatch.setattr(bounds, "MULTIPART_OVERHEAD_BYTES", 4096)
    h = new_user()
    task = await new_task(client, h)
    small = b"username\n" + b"".join(b"user_%06d\n" % i for i in range(5500))
    assert (
        64 * 1024 < len(small) < 68 * 1024
    )  # over the file limit, under the body limit: checked after parsing
    resp = await upload(client, h, task, small, "a.csv")
    assert resp.status_code == 413, resp.text
    assert resp.json()["code"] == "payload_too_large"
    big = small * 4  # over the body limit: refused from Content-Length before the body is read
    resp = await upload(client, h, task, big, "b.csv")
    assert resp.status_code == 413, resp.text
    resp = await upload(client, h, None, big, "b.csv", path="/api/v1/suppressions/import")
    assert resp.status_code == 413, resp.text
    # A chunked body (no Content-Length) is stopped while it streams in.
    boundary = "test-boundary-413"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="task_id"\r\n\r\n{task}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\n'
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )

    sent = []

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 16 * 1024):
            sent.append(start)
            yield body[start : start + 16 * 1024]

    resp = await client.post(
        "/api/v1/import/file",
        content=chunks(),
        headers={**h, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status_code == 413, resp.text
    # The server stopped reading once past the limit, long before the end of the body.
    assert len(sent) * 16 * 1024 < len(body) // 2
    assert await jobs_of(client, h, task) == 0


async def test_bad_rows_are_explained_row_by_row(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    text = (
        "username,phone,first_name,city\n"
        "good_user,,Good,Omsk\n"
        "x!,,Bad name,Perm\n"
        ",12,Short phone,Tula\n"
        "@second_good,+79123450000,Fine,Ufa\n"
        "bad-name,+79123450001,Dash,Orel\n"
        ",,Nobody,Kursk\n"
        "=cmd,,Formula,Sochi\n"
    )
    job = await import_and_wait(client, h, task, text.encode(), "rows.csv")
    assert job["status"] == "completed", job
    assert (job["rows_seen"], job["rows_accepted"], job["rows_invalid"]) == (7, 2, 5)
    sample = [(e["row"], e["reason"]) for e in job["error_sample"]]
    assert sample == [
        (3, "invalid_username"),
        (4, "invalid_phone"),
        (6, "invalid_username"),
        (7, "no_identity"),
        (8, "invalid_username"),
    ]
    assert "5-32 letters" in job["error_sample"][0]["detail"]
    rows = await rejected_rows(client, h, job["id"])
    assert [r["row"] for r in rows] == ["3", "4", "6", "7", "8"]
    assert list(rows[0]) == [
        "row",
        "reason",
        "detail",
        "duplicate_of_row",
        "username",
        "phone",
        "first_name",
        "city",
    ]
    assert (rows[1]["reason"], rows[1]["phone"], rows[1]["city"]) == ("invalid_phone", "12", "Tula")
    # A cell a spreadsheet would run as a formula is neutralised in the download.
    assert rows[4]["username"] == "'=cmd"
    assert {t["key"] for t in await all_targets(client, h, task)} == {"good_user", "second_good"}


async def test_mapping_errors_are_field_errors(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    data = b"a,b\nuser_one,x\n"
    resp = await upload(client, h, task, data, "m.csv", mapping="{not json")
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "mapping"]
    resp = await upload(client, h, task, data, "m.csv", mapping={"nope": "username"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "mapping", "nope"]
    resp = await upload(client, h, task, data, "m.csv", mapping={"a": "username", "b": "username"})
    assert resp.status_code == 422
    assert "two columns" in resp.json()["errors"][0]["msg"]
    resp = await upload(client, h, task, data, "m.csv", mapping={"a": "bad name!"})
    assert resp.status_code == 422
    resp = await upload(client, h, task, xlsx_bytes(), "m.xlsx", sheet="Missing")
    assert (resp.status_code, resp.json()["code"]) == (422, "sheet_not_found")
    assert await jobs_of(client, h, task) == 0


async def test_other_users_task_and_job_are_404(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    owner, stranger = new_user(), new_user()
    task = await new_task(client, owner)
    resp = await upload(client, stranger, task, b"username\nsomebody\n", "a.csv")
    assert resp.status_code == 404
    job = await import_and_wait(client, owner, task, b"username\nsomebody\n", "a.csv")
    for method, path in [
        ("GET", f"/api/v1/import/jobs/{job['id']}"),
        ("GET", f"/api/v1/import/jobs/{job['id']}/rejected.csv"),
        ("DELETE", f"/api/v1/import/jobs/{job['id']}"),
    ]:
        resp = await client.request(method, path, headers=stranger)
        assert resp.status_code == 404, (method, path, resp.text)
    resp = await client.post(
        "/api/v1/import/parsing", json={"task_id": task, "parsing_task_id": "demo-10"}, headers=stranger
    )
    assert resp.status_code == 404
    listed = await client.get("/api/v1/import/jobs", headers=stranger)
    assert listed.json()["total"] == 0
    # Cancelling a finished job is a conflict, not a silent success.
    resp = await client.delete(f"/api/v1/import/jobs/{job['id']}", headers=owner)
    assert (resp.status_code, resp.json()["code"]) == (409, "import_finished")
    again = await wait_job(client, owner, job["id"])
    assert again["status"] == "completed"


async def test_json_broken_half_way_fails_the_job_and_leaves_no_targets(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, new_user
) -> None:
    h = new_user()
    task = await new_task(client, h)
    await client.post(f"/api/v1/tasks/{task}/targets", json={"username": "was_here"}, headers=h)
    good = ",".join(json.dumps({"username": f"user_{i:06d}"}) for i in range(25_000))
    content = ("[" + good + ', {"username": "broken"' + "]").encode()
    job = await import_and_wait(client, h, task, content, "big.json")
    assert job["status"] == "failed", job
    assert "item 25001" in job["error"]
    # It failed half-way: chunks had been read and staged.
    assert job["rows_seen"] >= 2 * bounds.CHUNK_ROWS
    assert job["rows_accepted"] == 0
    stats = await target_stats(client, h, task)
    assert (stats["total"], stats["by_status"]["pending"]) == (1, 1)
    assert [t["key"] for t in await all_targets(client, h, task)] == ["was_here"]
