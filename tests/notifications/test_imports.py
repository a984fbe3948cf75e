"""import.completed and import.failed reach the user's feed (and so every subscribed endpoint)."""

from __future__ import annotations

import json

import httpx

from tests.imports.conftest import import_and_wait, new_task


async def _feed(client: httpx.AsyncClient, headers: dict[str, str], after: int) -> list[dict[str, object]]:
    answer = await client.get(f"/api/v1/notifications/events?after={after}", headers=headers)
    return list(answer.json()["items"])


async def test_a_completed_import_is_an_event_with_its_counts(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    start = (await client.get("/api/v1/notifications/events", headers=h)).json()["last_id"]
    job = await import_and_wait(client, h, task, b"username\nfirst_one\nsecond_one\n-bad-\n", "a.csv")
    assert job["status"] == "completed", job
    (event,) = await _feed(client, h, start)
    assert event["type"] == "import.completed"
    assert event["data"] == {"import_id": job["id"], "task_id": task, "accepted": 2, "rejected": 1}


async def test_a_failed_import_is_an_event_with_its_error(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    task = await new_task(client, h)
    start = (await client.get("/api/v1/notifications/events", headers=h)).json()["last_id"]
    good = ",".join(
        json.dumps({"username": f"user_{i:06d}"}) for i in range(25_000)
    )  # past what the upload probe reads
    job = await import_and_wait(
        client, h, task, ("[" + good + ', {"username": "broken"' + "]").encode(), "b.json"
    )
    assert job["status"] == "failed", job
    (event,) = await _feed(client, h, start)
    assert event["type"] == "import.failed"
    data = event["data"]
    assert isinstance(data, dict) and data["import_id"] == job["id"] and data["task_id"] == task
    assert data["error"] == job["error"]
