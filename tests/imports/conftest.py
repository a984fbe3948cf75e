"""Helpers for import tests: a task, an upload, waiting for a job, reading back targets."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import httpx
import pytest

from invite_service.imports import convert, pipeline, vector
from invite_service.imports import file_limits as limits
from invite_service.kit.tabular.columnar import ColumnBatch

JOB_DEADLINE_SECONDS = 90.0  # a guard against a hung job, not a timing assertion


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cancel is noticed at the next heartbeat even while a job waits; keep that wait short.
    monkeypatch.setattr(limits, "HEARTBEAT_SECONDS", 0.2)


@pytest.fixture(autouse=True)
def bulk_checked_against_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk an import test converts in bulk is converted by the per-row reference too, and
    the two must agree: the staged targets, the raw rows behind them, the rejected rows."""

    def checked(plan: Any, rows: Any, region: str, *, contacts: bool = False) -> Any:
        got = vector.convert_chunk(plan, rows, region, contacts=contacts)
        if isinstance(rows, ColumnBatch):
            ref = convert.convert_chunk(plan, rows.raw_rows(), region, contacts=contacts)
            assert [tuple(map(str, r)) for r in got[0]] == [tuple(map(str, r)) for r in ref[0]]
            assert list(got[1]) == list(ref[1])
            assert [(r.row, r.reason, r.detail, r.raw) for r in got[2]] == [
                (r.row, r.reason, r.detail, r.raw) for r in ref[2]
            ]
        return got

    monkeypatch.setattr(pipeline, "convert_chunk", checked)


async def new_task(client: httpx.AsyncClient, headers: dict[str, str], platform: str = "telegram") -> str:
    resp = await client.post(
        "/api/v1/tasks",
        json={
            "name": "Import",
            "platform": platform,
            "action": "message",
            "message_template": "Hi {first_name}",
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    task_id: str | None,
    content: bytes,
    filename: str = "audience.csv",
    *,
    path: str = "/api/v1/import/file",
    **form: Any,
) -> httpx.Response:
    data = {
        k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in form.items()
    }
    if task_id is not None:
        data["task_id"] = task_id
    return await client.post(path, headers=headers, data=data, files={"file": (filename, content)})


async def wait_job(client: httpx.AsyncClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(JOB_DEADLINE_SECONDS):
        while True:
            resp = await client.get(f"/api/v1/import/jobs/{job_id}", headers=headers)
            assert resp.status_code == 200, resp.text
            job = resp.json()
            if job["status"] != "running":
                return dict(job)
            await asyncio.sleep(0.05)


async def import_and_wait(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    task_id: str,
    content: bytes,
    filename: str,
    **form: Any,
) -> dict[str, Any]:
    resp = await upload(client, headers, task_id, content, filename, **form)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status_url"] == f"/api/v1/import/jobs/{body['job_id']}"
    return await wait_job(client, headers, body["job_id"])


async def all_targets(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        resp = await client.get(f"/api/v1/tasks/{task_id}/targets", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


async def target_stats(client: httpx.AsyncClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/tasks/{task_id}/targets/stats", headers=headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def rejected_rows(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: str
) -> list[dict[str, str]]:
    resp = await client.get(f"/api/v1/import/jobs/{job_id}/rejected.csv", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    text = resp.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))
