"""A 1,000,000-row CSV on PostgreSQL: progress is visible while it runs, and every row lands."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.imports.conftest import new_task, target_stats, upload

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.postgres_only]
ROWS = 1_000_000


def million_rows() -> bytes:
    header = b"username,first_name,city\n"
    # Every 100,000th row repeats an earlier one, every 250,000th is invalid: both are counted.
    lines = []
    for i in range(ROWS):
        if i and i % 100_000 == 0:
            lines.append(b"member_%07d,Again,Omsk\n" % (i - 1))
        elif i % 250_000 == 1:
            lines.append(b"x!,Broken,Omsk\n")
        else:
            lines.append(b"member_%07d,Name%d,Omsk\n" % (i, i % 1000))
    return header + b"".join(lines)


async def test_million_rows_with_visible_progress(client: httpx.AsyncClient, new_user, db_url: str) -> None:  # type: ignore[no-untyped-def]
    if not db_url.startswith("postgresql"):
        pytest.skip("the million-row import runs on PostgreSQL")
    h = new_user()
    task = await new_task(client, h)
    content = million_rows()
    resp = await upload(client, h, task, content, "million.csv")
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    progress_seen: list[tuple[int, float | None]] = []
    async with asyncio.timeout(600):  # a guard against a hang on a loaded machine, not a timing check
        while True:
            job = (await client.get(f"/api/v1/import/jobs/{job_id}", headers=h)).json()
            if job["status"] != "running":
                break
            progress_seen.append((job["rows_seen"], job["progress"]))
            await asyncio.sleep(0.1)
    assert job["status"] == "completed", job
    # While it ran, the job showed rows read so far: some, not all, and growing.
    partial = [(seen, pct) for seen, pct in progress_seen if 0 < seen < ROWS]
    assert len({seen for seen, _pct in partial}) >= 2, progress_seen[:20]
    assert all(pct is not None and 0 < pct < 100 for _seen, pct in partial)
    assert [seen for seen, _pct in progress_seen] == sorted(seen for seen, _pct in progress_seen)
    invalid = 4
    duplicates = 9
    assert (job["rows_seen"], job["rows_invalid"], job["rows_duplicate"]) == (ROWS, invalid, duplicates)
    assert job["rows_accepted"] == ROWS - invalid - duplicates
    stats = await target_stats(client, h, task)
    assert (stats["total"], stats["by_status"]["pending"]) == (job["rows_accepted"],) * 2
