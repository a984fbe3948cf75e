"""The ledger reads and the tick's statements use their indexes (PostgreSQL EXPLAIN over a seeded database).

The very statements the code runs are compiled (not retyped) and explained twice: with the values bound,
as a first execution is planned, and as a forced generic plan, as PostgreSQL may plan a statement asyncpg
has prepared and run many times (then no parameter value is known: a partial index must still be provable).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

from invite_service.db import Database
from invite_service.limits.ledger import last_action_query, live_rows_query
from invite_service.limits.redis import CLOCK_SLACK
from invite_service.models import InviteTask, Lane, RateLimitLedger
from invite_service.models.enums import LaneStatus, Platform, TaskAction, TaskStatus
from invite_service.stores.schedule import claim_due_statement, reactivate_lanes_statement
from tests.conftest import fresh_postgres

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ACCOUNTS = [f"acct-{i:04d}" for i in range(200)]
LEDGER_DAYS = 30  # history as if nothing were pruned: the reads must not depend on retention
ROWS_PER_ACCOUNT = 100  # 20,000 ledger rows
# 10,000 tasks, 1,000 of them running (20 due now) with 4 lanes each: 4,000 lanes, 40 waiting out a cooldown.
TASKS, RUNNING, DUE, LANES_PER_TASK = 10_000, 1000, 20, 4

Node = tuple[str, str | None, str | None]  # node type, index name, relation


def _seed_rows() -> tuple[list[dict[str, Any]], list[InviteTask], list[Lane]]:
    step = timedelta(days=LEDGER_DAYS) / ROWS_PER_ACCOUNT
    ledger = [
        {
            "account_id": account,
            "action": "invite" if (i + j) % 3 else "message",
            "at": NOW - timedelta(minutes=j) - i * step,
        }
        for j, account in enumerate(ACCOUNTS)
        for i in range(ROWS_PER_ACCOUNT)
    ]
    tasks, lanes = [], []
    for t in range(TASKS):
        running = t < RUNNING
        tasks.append(
            InviteTask(
                id=uuid.uuid4(),
                user_id=f"user-{t % 50}",
                name=f"plan {t}",
                platform=Platform.SANDBOX,
                action=TaskAction.INVITE,
                destination="@plans",
                status=TaskStatus.RUNNING if running else TaskStatus.COMPLETED,
                # A tick's worth due (a second apart), the rest waiting on their next run.
                next_run_at=NOW + timedelta(seconds=t - DUE) if running else None,
            )
        )
        if not running:
            continue
        for p in range(LANES_PER_TASK):
            waiting = (t * LANES_PER_TASK + p) % 100 == 0
            lanes.append(
                Lane(
                    task_id=tasks[-1].id,
                    account_id=ACCOUNTS[(t + p) % len(ACCOUNTS)],
                    position=p,
                    status=LaneStatus.COOLING_DOWN if waiting else LaneStatus.ACTIVE,
                    cooldown_until=NOW + timedelta(minutes=t % 7 - 3) if waiting else None,
                )
            )
    return ledger, tasks, lanes


async def _seed(url: str) -> None:
    db = Database(url, pool_size=1)
    try:
        ledger, tasks, lanes = _seed_rows()
        async with db.session() as s:
            s.add_all(tasks)
            await s.flush()
            s.add_all(lanes)
            await s.execute(insert(RateLimitLedger), ledger)
        async with db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def seeded() -> Iterator[str]:
    with fresh_postgres("invite_plans") as url:
        asyncio.run(_seed(url))
        yield url


def _bound(stmt: ClauseElement, dialect: Dialect) -> tuple[str, list[Any]]:
    """The statement's SQL for asyncpg (``$n`` placeholders) and its values, converted by the columns'
    own bind processors exactly as an execution would convert them."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    values = []
    for name in compiled.positiontup or []:
        bind = compiled.binds[name if name in compiled.binds else name.rsplit("_", 1)[0]]  # an expanded IN
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        value = params[name]
        values.append(process(value) if process is not None and value is not None else value)
    return compiled.string, values


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    raw = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + raw.replace("'", "''") + "'"


async def _explain(url: str, stmt: ClauseElement, *, generic: bool) -> Any:
    db = Database(url, pool_size=1)
    try:
        sql, values = _bound(stmt, db.engine.dialect)
        async with db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            async with raw.transaction():  # EXPLAIN without ANALYZE changes nothing
                if generic:
                    await raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                    await raw.execute(f"PREPARE plan_probe AS {sql}")
                    args = ", ".join(_literal(v) for v in values)
                    plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE plan_probe({args})")
                    await raw.execute("DEALLOCATE plan_probe")
                else:
                    plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *values)
    finally:
        await db.dispose()
    return json.loads(plan) if isinstance(plan, str) else plan  # SQLAlchemy's codec may have decoded it


def _plan(url: str, stmt: ClauseElement, *, generic: bool) -> list[Node]:
    """Every node of the statement's plan: (type, index, table)."""
    plan = asyncio.run(_explain(url, stmt, generic=generic))
    nodes: list[Node] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append((node["Node Type"], node.get("Index Name"), node.get("Relation Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return nodes


def _uses(nodes: list[Node], index: str, table: str) -> None:
    scans = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    assert any(kind in scans and name == index for kind, name, _ in nodes), nodes
    assert not any(kind == "Seq Scan" and relation == table for kind, _, relation in nodes), nodes


PACING = [
    pytest.param(last_action_query(ACCOUNTS[17], NOW - timedelta(seconds=30)), id="pacing-bounded"),
    pytest.param(last_action_query(ACCOUNTS[17]), id="pacing-unbounded"),
]


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("stmt", PACING)
def test_pacing_reads_the_latest_row_by_account_and_time(
    seeded: str, stmt: ClauseElement, generic: bool
) -> None:
    _uses(_plan(seeded, stmt, generic=generic), "ix_rate_limit_ledger_account_at", "rate_limit_ledger")


def test_the_redis_rebuild_reads_only_the_live_window_by_time(seeded: str) -> None:
    # Run once per start, so planned with its value (never generic); a day + slack of 30 days of history.
    stmt = live_rows_query(NOW - timedelta(days=1) - CLOCK_SLACK)
    _uses(_plan(seeded, stmt, generic=False), "ix_rate_limit_ledger_at", "rate_limit_ledger")


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_the_tick_reactivates_lanes_by_the_cooldown_index(seeded: str, generic: bool) -> None:
    nodes = _plan(seeded, reactivate_lanes_statement(NOW), generic=generic)
    _uses(nodes, "ix_lanes_cooldown", "lanes")


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_the_tick_claims_due_tasks_by_the_due_index(seeded: str, generic: bool) -> None:
    stmt = claim_due_statement(NOW, NOW + timedelta(seconds=30), 500, postgresql=True)
    nodes = _plan(seeded, stmt, generic=generic)
    _uses(nodes, "ix_invite_tasks_due", "invite_tasks")  # the page: due tasks only
    _uses(nodes, "pk_invite_tasks", "invite_tasks")  # its update: by id, not a join against every task
