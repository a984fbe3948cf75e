"""Status, stats, logs and the JSON report over the app, after a real sandbox run on the embedded runner.

The acceptance checks: ``/metrics`` counts equal the task's counts by outcome; ``status`` and ``stats``
agree with the targets as the database holds them; another user's task is a 404 everywhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from invite_service.db import Database
from invite_service.models import InviteTarget
from tests.statistics.helpers import action_counts, all_logs, make_task, run_to_completion, usernames

pytestmark = pytest.mark.asyncio
FINAL = ("invited", "messaged", "already_member", "failed", "skipped", "unknown")


async def target_states(database: Database, tid: str) -> dict[str, int]:
    async with database.session() as s:
        rows = await s.execute(
            select(InviteTarget.status, func.count())
            .where(InviteTarget.task_id == uuid.UUID(tid))
            .group_by(InviteTarget.status)
        )
        return {status: int(n) for status, n in rows}


@pytest.fixture(scope="module")
async def finished(app, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One 16-target sandbox task run to completion, with /metrics scraped before and after it."""
    from invite_service.auth.jwt import mint_token

    h = {"Authorization": f"Bearer {mint_token(f'stats-{uuid.uuid4().hex[:8]}', settings)}"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tid = await make_task(client, h, usernames(16))
        before = action_counts((await client.get("/metrics")).text)
        await run_to_completion(client, h, tid)
        after = action_counts((await client.get("/metrics")).text)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    return {"tid": tid, "h": h, "delta": {k: int(v) for k, v in delta.items() if v}}


async def test_metrics_counters_equal_the_tasks_counts_by_outcome(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, finished, database: Database
) -> None:
    tid, h, delta = finished["tid"], finished["h"], finished["delta"]
    status = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    stats = (await client.get(f"/api/v1/tasks/{tid}/stats", headers=h)).json()
    logs = await all_logs(client, h, tid)
    by_log: dict[str, int] = {}
    for entry in logs:
        by_log[entry["outcome"]] = by_log.get(entry["outcome"], 0) + 1
    # Every platform call was counted once by the metrics, once in the log, once in the stats.
    assert delta == by_log == stats["by_outcome"]
    assert sum(delta.values()) >= 16
    # This run's calls all ended their target (no waits or retries), so outcomes map onto final states.
    assert set(delta) <= {"success", "already_member", "target_rejected"}, delta
    counters = status["counters"]
    assert counters["invited"] == delta.get("success", 0)
    assert counters["already_member"] == delta.get("already_member", 0)
    assert counters["failed"] == delta.get("target_rejected", 0)


async def test_status_and_stats_agree_with_the_targets(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, finished, database: Database
) -> None:
    tid, h = finished["tid"], finished["h"]
    truth = await target_states(database, tid)
    status = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    stats = (await client.get(f"/api/v1/tasks/{tid}/stats", headers=h)).json()
    for body in (status["counters"], stats["targets"]):
        assert {k: v for k, v in body.items() if v and k != "total"} == truth
        assert body["total"] == sum(truth.values()) == 16
    assert status["status"] == stats["status"] == "completed"
    assert status["progress"] == 100.0
    assert status["eta"] is None and status["estimate"] is None  # nothing left to estimate
    # Per account: all-time sends from the lanes, the range's calls from the log.
    per_account = {a["account_id"]: a for a in stats["per_account"]}
    assert sum(a["sent"] for a in per_account.values()) == sum(
        truth.get(k, 0) for k in ("invited", "messaged", "already_member")
    )
    assert sum(sum(a["by_outcome"].values()) for a in per_account.values()) == sum(
        stats["by_outcome"].values()
    )
    # The hourly series covers the range hour by hour and adds up to the same calls.
    hours = [datetime.fromisoformat(p["hour"]) for p in stats["hourly"]]
    assert hours == [hours[0] + timedelta(hours=i) for i in range(len(hours))]
    assert sum(v for p in stats["hourly"] for v in p["counts"].values()) == sum(stats["by_outcome"].values())
    codes = stats["by_error_code"]
    assert sum(codes.values()) == sum(n for o, n in stats["by_outcome"].items() if o != "success")


async def test_the_json_report_sums_up_the_run(
    client: httpx.AsyncClient, finished, database: Database
) -> None:  # type: ignore[no-untyped-def]
    tid, h = finished["tid"], finished["h"]
    report = (await client.get(f"/api/v1/tasks/{tid}/report", headers=h)).json()
    truth = await target_states(database, tid)
    assert report["status"] == "completed" and report["progress"] == 100.0
    assert report["duration_seconds"] is not None and report["duration_seconds"] >= 0
    assert sum(e["count"] for e in report["errors"]) == sum(
        truth.get(k, 0) for k in ("failed", "skipped", "unknown")
    )
    assert {e["status"] for e in report["errors"]} <= {"failed", "skipped", "unknown"}
    assert len(report["lanes"]) == 4


async def test_logs_page_newest_first_and_filter(client: httpx.AsyncClient, finished) -> None:  # type: ignore[no-untyped-def]
    tid, h = finished["tid"], finished["h"]
    newest_first = await all_logs(client, h, tid, limit=3)
    ids = [e["id"] for e in newest_first]
    instants = [datetime.fromisoformat(e["at"]) for e in newest_first]
    assert instants == sorted(instants, reverse=True) and len(ids) == len(set(ids))
    oldest_first = await all_logs(client, h, tid, limit=5, sort="at")
    assert [e["id"] for e in oldest_first] == ids[::-1]
    for field in ("outcome", "account_id", "error_code"):
        value = next(e[field] for e in newest_first if e[field])
        filtered = await all_logs(client, h, tid, **{field: value})
        assert filtered and all(e[field] == value for e in filtered)
        assert len(filtered) == sum(1 for e in newest_first if e[field] == value)
    first_at = min(datetime.fromisoformat(e["at"]) for e in newest_first)
    assert await all_logs(client, h, tid, to=first_at.isoformat()) == []
    assert len(await all_logs(client, h, tid, **{"from": first_at.isoformat()})) == len(ids)
    bad = await client.get(f"/api/v1/tasks/{tid}/logs", params={"cursor": "not-a-cursor"}, headers=h)
    assert bad.status_code == 422


async def test_stats_range_is_validated(client: httpx.AsyncClient, finished) -> None:  # type: ignore[no-untyped-def]
    tid, h = finished["tid"], finished["h"]
    url = f"/api/v1/tasks/{tid}/stats"
    backwards = await client.get(
        url, params={"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"}, headers=h
    )
    assert backwards.status_code == 422
    too_long = await client.get(
        url, params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-09T00:00:00Z"}, headers=h
    )
    assert too_long.status_code == 422 and too_long.headers["content-type"] == "application/problem+json"
    naive = await client.get(url, params={"from": "2026-03-01T00:00:00"}, headers=h)
    assert naive.status_code == 422
    empty = (
        await client.get(
            url, params={"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T03:00:00Z"}, headers=h
        )
    ).json()
    assert empty["by_outcome"] == {} and len(empty["hourly"]) == 3


async def test_a_draft_gets_an_estimate_as_if_started_now(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = await make_task(client, h, usernames(12, "draft"))
    status = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    assert status["status"] == "draft" and status["counters"]["pending"] == 12
    assert status["estimate"]["basis"] == "if_started_now"
    assert status["estimate"]["remaining"] == 12 and status["estimate"]["lanes"] == 4
    assert status["eta"] is not None
    assert len(status["lanes"]) == 4 and all(lane["available_at"] for lane in status["lanes"])
    await client.post(f"/api/v1/tasks/{tid}/cancel", headers=h)
    cancelled = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    assert cancelled["eta"] is None and cancelled["counters"]["skipped"] == 12


async def test_a_task_with_a_window_reports_it(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    window = {"days": [0, 1, 2, 3, 4, 5, 6], "start": "09:00", "end": "10:00", "timezone": "Europe/Moscow"}
    tid = await make_task(client, h, usernames(3, "win"), settings={"send_window": window})
    status = (await client.get(f"/api/v1/tasks/{tid}/status", headers=h)).json()
    opens = datetime.fromisoformat(status["send_window"]["next_open_at"])
    eta = datetime.fromisoformat(status["eta"])
    # The estimate falls inside an open hour of the window, 09:00-10:00 Moscow (06:00-07:00 UTC).
    assert eta >= opens and eta.hour == 6


@pytest.mark.parametrize(
    "path", ["status", "stats", "report", "report?format=csv", "report?format=xlsx", "logs", "events"]
)
async def test_another_users_task_is_a_404(client: httpx.AsyncClient, new_user, path: str) -> None:  # type: ignore[no-untyped-def]
    owner, other = new_user(), new_user()
    tid = await make_task(client, owner, usernames(2, "own"))
    resp = await client.get(f"/api/v1/tasks/{tid}/{path}", headers=other)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/api/v1/tasks/{uuid.uuid4()}/{path}", headers=owner)).status_code == 404
