"""The stats' hourly rollup (statistics/hourly.py) answers exactly what grouping the log answers: the same
task, the old query (``repository.activity``) against the new path, over aligned and unaligned ranges, before
and after the rollup exists, with hours still settling; the /stats endpoint gives the same series; and a
second read rolls nothing up again."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from invite_service.models import ExecutionLog, InviteTask, TaskStatsHour
from invite_service.statistics import hourly
from invite_service.statistics import repository as repo
from invite_service.statistics.repository import ActivityRow
from invite_service.stores.replies import REPLY_ACTION
from tests.execution.harness import Harness, statements

HOUR = timedelta(hours=1)


def summed(rows: list[ActivityRow]) -> Counter[tuple[Any, ...]]:
    """Rows by group; a NULL and an empty account or error code are one (the stats never tell them apart)."""
    out: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        out[(r.hour, r.account_id or None, r.action, r.outcome, r.error_code or None)] += r.count
    return out


async def seed(
    h: Harness, task_id: uuid.UUID, base: datetime, hours: int, accounts: tuple[str, ...] = ("acc-1", "acc-2")
) -> int:
    """Log rows over ``hours`` hours from ``base`` (uneven: some hours empty), of every shape."""
    rnd = random.Random(17)
    rows: list[dict[str, Any]] = []
    for i in range(hours * 12):
        at = base + timedelta(seconds=rnd.randrange(hours * 3600))
        if (at - base) // HOUR % 5 == 3:
            continue  # an empty hour every five
        rows.append(
            {
                "task_id": task_id,
                "user_id": h.user,
                "target_id": i,
                "account_id": rnd.choice([*accounts, None]),
                "action": rnd.choice(["invite", "message", "check", REPLY_ACTION]),
                "outcome": rnd.choice(["success", "failed", "skipped", "retry_after"]),
                "error_code": rnd.choice([None, "FLOOD_WAIT", "USER_PRIVACY_RESTRICTED"]),
                "at": at,
            }
        )
    # Another user's row under the same task id is not this user's call.
    rows.append({**rows[0], "user_id": "someone-else", "target_id": None})
    async with h.rt.db.session() as s:
        await s.execute(insert(ExecutionLog), rows)
    return len(rows)


async def compare(h: Harness, task: InviteTask, start: datetime, end: datetime, now: datetime) -> None:
    async with h.rt.db.session() as s:
        old = await repo.activity(s, task.user_id, task.id, start, end)
        new = await hourly.activity(s, task, start, end, now)
    assert summed(new) == summed(old), (start, end, now)


async def test_the_rollup_answers_what_the_log_answers(h: Harness) -> None:
    task_id = await h.task(0, (await h.accounts(1)), name="rollup")
    base = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    await seed(h, task_id, base, 40)
    async with h.rt.db.session() as s:
        task = await s.get(InviteTask, task_id)
    assert task is not None
    now = base + 40 * HOUR + timedelta(minutes=5)  # the last hour is settling, not closed yet
    ranges = [
        (base - 3 * HOUR, base + 24 * HOUR),  # aligned
        (base + timedelta(minutes=17), base + 29 * HOUR + timedelta(minutes=43)),  # unaligned edges
        (base + 30 * HOUR, now + HOUR),  # up to the open hours
        (base + 39 * HOUR + timedelta(minutes=50), base + 40 * HOUR + timedelta(minutes=2)),  # settling only
        (base + 5 * HOUR + timedelta(minutes=1), base + 5 * HOUR + timedelta(minutes=59)),  # inside one hour
    ]
    for start, end in ranges:  # the first read rolls up; the rest read it
        await compare(h, task, start, end, now)
    async with h.rt.db.session() as s:
        rolled = await s.scalar(select(func.max(TaskStatsHour.hour)).where(TaskStatsHour.task_id == task_id))
    assert rolled is not None and hourly.instant(int(rolled)) < now - hourly.SETTLE

    # A row stamped just before the hour it falls in ended, committed after: that hour is still settling.
    late = {"task_id": task_id, "user_id": h.user, "action": "invite", "outcome": "success"}
    async with h.rt.db.session() as s:
        await s.execute(insert(ExecutionLog), [{**late, "at": base + 40 * HOUR - timedelta(seconds=1)}])
    later = now + 2 * HOUR  # every seeded hour is closed now
    for start, end in ranges:
        await compare(h, task, start, end, later)
    with statements(h) as seen:
        await compare(h, task, base, later, later)
    assert not [s for s in seen if s.lstrip().upper().startswith("INSERT")], "rolled up twice"


async def test_the_stats_endpoint_gives_the_sums_of_the_log(h: Harness, api: httpx.AsyncClient) -> None:
    lane = (await h.accounts(1))[0]
    task_id = await h.task(0, [lane], name="stats series")
    base = h.clock.now().replace(minute=0, second=0, microsecond=0) - 30 * HOUR
    await seed(h, task_id, base, 30, accounts=(lane, "another-account"))
    h.clock.advance(20 * 60)
    url = f"/api/v1/tasks/{task_id}/stats"
    params = {"from": (base + timedelta(minutes=10)).isoformat(), "to": h.clock.now().isoformat()}
    first = (await api.get(url, params=params)).json()
    async with h.rt.db.session() as s:
        rows = await s.scalar(select(func.count()).where(TaskStatsHour.task_id == task_id))
    assert rows, "the read rolled the closed hours up"
    again = (await api.get(url, params=params)).json()
    assert first == again
    async with h.rt.db.session() as s:
        old = await repo.activity(
            s, h.user, task_id, datetime.fromisoformat(params["from"]), datetime.fromisoformat(params["to"])
        )
    # The sums as the stats made them from the log's rows before the rollup.
    by_hour: Counter[tuple[str, str]] = Counter()
    by_outcome: Counter[str] = Counter()
    by_action: Counter[str] = Counter()
    by_error: Counter[str] = Counter()
    mine: Counter[str] = Counter()
    for r in old:
        by_hour[(hourly.instant(r.hour).isoformat().replace("+00:00", "Z"), r.outcome)] += r.count
        by_outcome[r.outcome] += r.count
        by_action[r.action] += r.count
        if r.error_code:
            by_error[r.error_code] += r.count
        if r.account_id == lane:
            mine[r.outcome] += r.count
    series = {(p["hour"], o): n for p in first["hourly"] for o, n in p["counts"].items() if n}
    assert series == dict(by_hour)
    assert all(set(p["counts"]) == set(by_outcome) for p in first["hourly"])  # every outcome, every hour
    assert first["by_outcome"] == dict(by_outcome)
    assert first["by_action"] == dict(by_action)
    assert first["by_error_code"] == dict(by_error)
    assert list(first["by_error_code"].values()) == sorted(by_error.values(), reverse=True)
    assert [a["by_outcome"] for a in first["per_account"]] == [dict(mine)]
