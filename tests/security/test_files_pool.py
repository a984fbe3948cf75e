"""No request holds a database connection while a file is parsed, and a cancelled job's reader stops.

A server with the smallest pool (1 connection + 1 overflow on PostgreSQL) validates several large
files against a task at once; another user's requests still get a connection and answer promptly.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from invite_service.imports.sources import FileSource
from invite_service.kit.tabular.mapping import RowPlan
from invite_service.kit.tabular.readers import FileInfo, RawRow
from tests.security import attack_files as attack
from tests.security.conftest import HEALTH_BOUND_SECONDS
from tests.security.server import serve

PARALLEL_VALIDATES = 3
ROWS = 60_000  # several seconds of parsing each, with the others running


def test_validates_parsing_files_leave_the_pool_to_others(db_url: str, workdir: Path) -> None:
    content = attack.plain_csv(ROWS)
    with serve(db_url, workdir, database_pool_size="1") as srv, srv.client(timeout=120) as c:
        owner, other = srv.headers(), srv.headers()
        created = c.post(
            "/api/v1/tasks", headers=owner, json={"name": "t", "action": "message", "message_template": "Hi"}
        )
        theirs = c.post(
            "/api/v1/tasks", headers=other, json={"name": "o", "action": "message", "message_template": "Hi"}
        ).json()["id"]
        task = created.json()["id"]
        results: list[httpx.Response] = []

        def validate() -> None:
            with srv.client(timeout=120) as own:
                results.append(
                    own.post(
                        "/api/v1/import/validate",
                        headers=owner,
                        data={"task_id": task},
                        files={"file": ("big.csv", content)},
                    )
                )

        threads = [threading.Thread(target=validate) for _ in range(PARALLEL_VALIDATES)]
        for t in threads:
            t.start()
        latencies: list[float] = []
        # Another user's reads, each needing a connection, while the files are being parsed.
        while any(t.is_alive() for t in threads):
            start = time.monotonic()
            resp = c.get(f"/api/v1/tasks/{theirs}", headers=other)
            latencies.append(time.monotonic() - start)
            assert resp.status_code == 200, resp.text
            time.sleep(0.05)
        for t in threads:
            t.join()
        assert [r.status_code for r in results] == [200] * PARALLEL_VALIDATES, [r.text[:300] for r in results]
        assert all(r.json()["rows"] == ROWS for r in results)
        assert len(latencies) >= 3  # the reads did overlap the parsing
        assert max(latencies) < HEALTH_BOUND_SECONDS, f"a read waited {max(latencies):.1f} s for the pool"


class _EndlessReader:
    """A reader whose rows never end, counting how many were read."""

    def __init__(self) -> None:
        self.info = FileInfo(format="csv", columns=["username"])
        self.header_cells: list[Any] = ["username"]
        self.read = 0

    def set_headerless(self) -> None:
        pass

    def rows(self) -> Iterator[RawRow]:
        while True:
            self.read += 1
            yield self.read, {"username": f"user_{self.read:07d}"}

    def bytes_read(self) -> int:
        return 0


async def test_a_closed_file_source_stops_reading_between_rows() -> None:
    # A job's chunk is read in a worker thread that a cancel cannot interrupt: closing the source (what
    # the runner does when the job is cancelled or fails) makes the reading stop at the next row.
    reader = _EndlessReader()
    source = FileSource(reader, RowPlan(fields={"username": "username"}, purpose="targets"), io.BytesIO())
    chunk = await anext(aiter(source.chunks()))
    rows = iter(chunk)
    assert [next(rows)[0] for _ in range(3)] == [1, 2, 3]
    await source.aclose()
    assert list(rows) == []
    assert reader.read <= 4
