"""Database size after a simulated 30 days of 10 accounts at the Telegram caps, with and without retention.

What one send writes is modelled on the engine (execution/outcomes.py, limits/): one ``rate_limit_ledger``
row and one ``invite_execution_logs`` row. Per account and day, around the sends: one task (an
``idempotency_keys`` row holding the created task, about 1 KB of JSON, and three ``audit_events``: create,
start, complete) and one bulk target upload (another idempotency row); one reply event
(``integration_events``) per 20 sends. Rows go in with bulk INSERTs an hour at a time (the engine itself is
not run: this measures storage, not sending); the "with" database runs ``retention.sweep`` every three
simulated hours (the default interval is one: an hourly sweep keeps at most two hours' rows less, and would
triple the bench's time), with PostgreSQL's autovacuum stood in for by a ``VACUUM ANALYZE`` once a simulated
day. The defaults apply: ledger a day + 24 h, idempotency 24 h, logs 90
days, audit 365 days, reply events 30 days.

Printed: per table the size (PostgreSQL ``pg_total_relation_size``; SQLite ``dbstat``, table + indexes) and
rows, the totals (PostgreSQL ``pg_database_size``; SQLite the file), the ratio without/with, and the bytes a
send costs per table, for the sizing formula in docs/runbook.md.

Run: ``python -m bench.retention_size`` (or ``make bench``). SQLite files and throwaway PostgreSQL databases.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, text

from bench.common import temp_postgres
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import SimulatedClock
from invite_service.migrations import runner
from invite_service.models import AuditEvent, ExecutionLog, IdempotencyKey, IntegrationEvent, RateLimitLedger
from invite_service.observability.logging import configure_logging
from invite_service.retention.policy import sweep
from invite_service.runtime import build_runtime

DAYS = 30
ACCOUNTS = 10
SENDS_PER_DAY = 50  # telegram invites_per_day
SEND_HOURS = range(9, 19)  # 5 an hour (invites_per_hour) over ten hours
REPLY_EVERY = 20
SWEEP_EVERY_HOURS = 3
START = datetime(2026, 3, 1, tzinfo=UTC)
TABLES = (
    "rate_limit_ledger",
    "invite_execution_logs",
    "audit_events",
    "idempotency_keys",
    "integration_events",
)
KEPT_DAYS = {  # the default periods (the ledger: a day + 24 h slack)
    "rate_limit_ledger": 2,
    "invite_execution_logs": 90,
    "audit_events": 365,
    "idempotency_keys": 1,
    "integration_events": 30,
}
PER_SEND = {  # rows per send, from the model above
    "rate_limit_ledger": 1.0,
    "invite_execution_logs": 1.0,
    "audit_events": 3 / SENDS_PER_DAY,
    "idempotency_keys": 2 / SENDS_PER_DAY,
    "integration_events": 1 / REPLY_EVERY,
}
TASK_RESPONSE: dict[str, Any] = {  # the shape of a created task (TaskOut), ~1 KB
    "id": "",
    "name": "Spring meetup — invites for the March cohort",
    "platform": "telegram",
    "action": "invite",
    "status": "draft",
    "priority": "normal",
    "destination": "https://t.me/Spring_Meetup",
    "account_ids": [],
    "settings": {
        "caps": {"invites_per_hour": 5, "invites_per_day": 50},
        "min_delay_seconds": 30,
        "send_window": {
            "days": [0, 1, 2, 3, 4],
            "start": "09:00",
            "end": "19:00",
            "timezone": "Europe/Moscow",
        },
        "max_attempts": 3,
        "breaker": {"window": 20, "max_errors": 5},
    },
    "message_template": "Hello {first_name}! We would be glad to see you at the Spring meetup on Friday.",
    "counters": {"pending": 50, "sent": 0, "failed": 0, "skipped": 0, "replied": 0},
    "created_at": "2026-03-01T09:00:00+00:00",
    "updated_at": "2026-03-01T09:00:00+00:00",
}


@dataclass
class Sizes:
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (bytes, rows)
    total: int = 0


def _hour_rows(day: int, hour: int, task_ids: list[uuid.UUID]) -> dict[Any, list[dict[str, Any]]]:
    rows: dict[Any, list[dict[str, Any]]] = {
        RateLimitLedger: [],
        ExecutionLog: [],
        AuditEvent: [],
        IdempotencyKey: [],
        IntegrationEvent: [],
    }
    base = START + timedelta(days=day, hours=hour)
    per_hour = SENDS_PER_DAY // len(SEND_HOURS)
    for a in range(ACCOUNTS):
        account, user, task_id = f"tg-acc-{a:03d}", f"user-{a:04d}", task_ids[a]
        if hour == SEND_HOURS[0]:  # the day's task and its upload
            for key in (f"task-{day}-{a}", f"bulk-{day}-{a}"):
                rows[IdempotencyKey].append(
                    {
                        "user_id": user,
                        "scope": "POST /tasks",
                        "key": key,
                        "request_hash": uuid.uuid4().hex * 2,
                        "status_code": 201,
                        "response": {**TASK_RESPONSE, "id": str(task_id)},
                        "created_at": base,
                    }
                )
            for action in ("task.create", "task.start"):
                rows[AuditEvent].append(_audit(user, action, task_id, base))
        if hour == SEND_HOURS[-1]:
            rows[AuditEvent].append(_audit(user, "task.complete", task_id, base + timedelta(minutes=59)))
        for i in range(per_hour):
            at = base + timedelta(minutes=12 * i, seconds=a)
            target_id = (day * SENDS_PER_DAY + (hour - SEND_HOURS[0]) * per_hour + i) * ACCOUNTS + a
            common = {"account_id": account, "action": "invite", "task_id": task_id, "target_id": target_id}
            rows[RateLimitLedger].append({**common, "at": at})
            rows[ExecutionLog].append(
                {**common, "user_id": user, "outcome": "invited", "duration_ms": 840, "at": at}
            )
            if target_id % REPLY_EVERY == 0:
                rows[IntegrationEvent].append(
                    {
                        "user_id": user,
                        "id": f"evt-{uuid.uuid4().hex}",
                        "received_at": at,
                        "replied_targets": 1,
                    }
                )
    return rows


def _audit(user: str, action: str, task_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {
        "user_id": user,
        "action": action,
        "object_type": "task",
        "object_id": str(task_id),
        "detail": {"status": "running"},
        "request_id": uuid.uuid4().hex,
        "at": at,
    }


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for table in TABLES:
            await conn.execute(f"VACUUM ANALYZE {table}")  # what autovacuum does: both
    finally:
        await conn.close()


async def _sizes(db: Database, url: str) -> Sizes:
    out = Sizes()
    async with db.session() as session:
        for table in TABLES:
            rows = int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            if db.backend == "postgresql":
                size = int(await session.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": table}) or 0)
            else:
                size = int(
                    await session.scalar(
                        text(
                            "SELECT coalesce(sum(d.pgsize), 0) FROM dbstat d"
                            " JOIN sqlite_schema s ON s.name = d.name WHERE s.tbl_name = :t"
                        ),
                        {"t": table},
                    )
                    or 0
                )
            out.tables[table] = (size, rows)
        if db.backend == "postgresql":
            out.total = int(await session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    if db.backend == "sqlite":
        out.total = Path(url.split("///", 1)[1]).stat().st_size
    return out


async def _simulate(url: str, *, retention: bool) -> Sizes:
    runner.upgrade(url)
    clock = SimulatedClock(START)
    db = Database(url, pool_size=2)
    rt = build_runtime(Settings(database_url=url, log_level="WARNING"), db, clock=clock)
    try:
        for day in range(DAYS):
            task_ids = [uuid.uuid4() for _ in range(ACCOUNTS)]
            for hour in range(24):
                batch = _hour_rows(day, hour, task_ids) if hour in SEND_HOURS else {}
                async with db.session() as session:
                    for model, rows in batch.items():
                        if rows:
                            await session.execute(insert(model), rows)
                clock.set(START + timedelta(days=day, hours=hour + 1))
                if retention and (hour + 1) % SWEEP_EVERY_HOURS == 0:
                    await sweep(rt)
            if retention and db.backend == "postgresql":
                await _vacuum(url)
        if db.backend == "postgresql":
            await _vacuum(url)  # both sides measured after a vacuum (statistics, visibility map)
        return await _sizes(db, url)
    finally:
        await rt.aclose()
        await db.dispose()


def _kib(n: float) -> str:
    return f"{n / 1024:9.1f} KiB"


def _report(without: Sizes, with_: Sizes) -> None:
    sends = DAYS * ACCOUNTS * SENDS_PER_DAY
    per_day = ACCOUNTS * SENDS_PER_DAY
    year_without = year_with = 0.0
    for table in TABLES:
        (size_a, rows_a), (size_b, rows_b) = without.tables[table], with_.tables[table]
        per_row = size_a / rows_a if rows_a else 0.0
        per_send = per_row * PER_SEND[table]
        year_without += per_send * per_day * 365
        year_with += per_send * per_day * min(365, KEPT_DAYS[table])
        print(
            f"  {table:<22} without {_kib(size_a)} {rows_a:7d} rows | with {_kib(size_b)} {rows_b:7d} rows"
            f" | {per_row:6.0f} B/row, {per_send:6.1f} B/send"
        )
    tables_a = sum(s for s, _ in without.tables.values())
    tables_b = sum(s for s, _ in with_.tables.values())
    print(
        f"  {'these tables':<22} without {_kib(tables_a)} | with {_kib(tables_b)}"
        f" | ratio without/with x{tables_a / max(tables_b, 1):.2f}"
    )
    print(
        f"  {'whole database':<22} without {_kib(without.total)} | with {_kib(with_.total)}"
        f" | ratio without/with x{without.total / max(with_.total, 1):.2f}  ({sends} sends)"
    )
    print(
        f"  {'after a year (formula)':<22} without {year_without / 2**20:6.1f} MiB"
        f" | with {year_with / 2**20:6.1f} MiB | ratio without/with x{year_without / max(year_with, 1):.2f}"
        "  (B/send x sends/day x days kept)"
    )


def _run(urls: tuple[str, str]) -> None:
    start = time.perf_counter()
    without = asyncio.run(_simulate(urls[0], retention=False))
    with_ = asyncio.run(_simulate(urls[1], retention=True))
    _report(without, with_)
    print(f"  ({time.perf_counter() - start:.1f} s)")


def main() -> None:
    configure_logging("WARNING", json_output=False)
    print(
        f"\n[retention_size] {DAYS} simulated days, {ACCOUNTS} accounts x {SENDS_PER_DAY} invites/day,"
        f" retention swept every {SWEEP_EVERY_HOURS} h vs never"
    )
    with tempfile.TemporaryDirectory() as tmp:
        print(" SQLite:")
        _run(
            (
                f"sqlite+aiosqlite:///{Path(tmp) / 'without.db'}",
                f"sqlite+aiosqlite:///{Path(tmp) / 'with.db'}",
            )
        )
    with temp_postgres() as a, temp_postgres() as b:
        print(" PostgreSQL:")
        _run((a, b))


if __name__ == "__main__":
    main()
