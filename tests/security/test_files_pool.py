"""No request holds a database connection while a file is parsed, and a cancelled job's reader stops.

An app with the smallest pool (1 connection + 1 overflow on PostgreSQL) has two validates parked in the
middle of their files at once; another user's request still gets a connection.
"""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from invite_service.auth.jwt import mint_token
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.imports import validate as validate_module
from invite_service.imports.sources import FileSource
from invite_service.kit.tabular.mapping import RowPlan
from invite_service.kit.tabular.readers import FileInfo, RawRow
from invite_service.main import create_app
from tests.security import attack_files as attack

HELD = 2  # validates parked mid-file at once: every connection of a pool of 1 + 1 overflow


async def test_a_validate_parked_mid_file_holds_no_connection(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL only: it is the backend with a bounded pool (SQLite's engine has none to exhaust).
    # Two validates are stopped inside their first chunk's conversion (a fault point, not a race), on a
    # pool of one connection plus one overflow. If either still held its connection, the two would hold
    # the whole pool and another user's read would wait for the pool's timeout and fail.
    parked = threading.Semaphore(0)
    release = threading.Event()
    real_convert = validate_module.convert_chunk
    entered = 0

    def convert_and_park(*args: Any, **kwargs: Any) -> Any:
        nonlocal entered
        entered += 1  # each call runs in its own worker thread; the count only gates the first HELD
        if entered <= HELD:
            parked.release()
            assert release.wait(120), "the test never released the parked validate"
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(validate_module, "convert_chunk", convert_and_park)
    settings = Settings(database_url=postgres_url, log_json=True, log_level="WARNING")
    db = Database(postgres_url, pool_size=1)
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    owner, other = (f"pool-{uuid.uuid4().hex[:10]}" for _ in range(2))
    h_owner, h_other = ({"Authorization": f"Bearer {mint_token(u, settings)}"} for u in (owner, other))
    body = {"name": "t", "action": "message", "message_template": "Hi"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as c:
            task = (await c.post("/api/v1/tasks", headers=h_owner, json=body)).json()["id"]
            theirs = (await c.post("/api/v1/tasks", headers=h_other, json=body)).json()["id"]
            content = attack.plain_csv(2_000)
            validates = [
                asyncio.create_task(
                    c.post(
                        "/api/v1/import/validate",
                        headers=h_owner,
                        data={"task_id": task},
                        files={"file": ("big.csv", content)},
                    )
                )
                for _ in range(HELD)
            ]
            for _ in range(HELD):
                assert await asyncio.to_thread(parked.acquire, True, 120), "a validate never reached its rows"
            try:
                read = await asyncio.wait_for(c.get(f"/api/v1/tasks/{theirs}", headers=h_other), 120)
                assert read.status_code == 200, read.text
                assert not any(v.done() for v in validates)  # the read was served while both were parked
            finally:
                release.set()
            results = await asyncio.gather(*validates)
        assert [r.status_code for r in results] == [200] * HELD, [r.text[:300] for r in results]
        assert all(r.json()["rows"] == 2_000 for r in results)
    finally:
        release.set()
        await db.dispose()


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
