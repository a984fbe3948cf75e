"""How long each growing table keeps its rows (``INVITE_RETENTION_*``), and the ``retention.sweep`` job.

* ``rate_limit_ledger``: the limiters count rows inside their windows (``limits.caps``: an hour and a day,
  capped by ``RateLimiter.max_window_seconds``), pacing reads the account's latest row (seconds back) and the
  Redis rebuild reads one longest window back. So rows older than the longest window + slack count for
  nothing; the slack only covers a clock that runs behind.
* ``idempotency_keys``: a replay after ``retention_idempotency_hours`` is a fresh request
  (``api/idempotency.py`` ignores an expired row whether or not the sweep has deleted it yet).
* ``invite_execution_logs``, ``audit_events``, ``integration_events``: after their period.
* ``import_files``: an ended import's upload (every end already drops it; this is the safety net), after a
  short grace. ``import_rejections`` (the user's rejected.csv) stay with the job for their own, longer period.
  A running job's rows are never touched. The staging rows are a TEMP table: gone with the import's
  connection, nothing to sweep.
* ``notification_deliveries`` (finished ones) and ``notification_events`` (with no delivery left): after
  ``retention_notification_days``; an open delivery and its event stay until it ends.

Deletes go in batches, each its own short transaction (no long locks), at most ``retention_max_batches`` a
table per run; what is left waits for the next run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.kit.faults import Boundary
from invite_service.observability.metrics import RETENTION_DELETED
from invite_service.stores import retention as store

log = structlog.get_logger(__name__)

Delete = Callable[[AsyncSession, datetime, int], Awaitable[int]]


@dataclass(frozen=True)
class Rule:
    table: str
    keep: timedelta | None  # None: kept forever
    delete: Delete


def _period(*, days: float = 0.0, hours: float = 0.0) -> timedelta | None:
    period = timedelta(days=days, hours=hours)
    return period if period > timedelta(0) else None


def idempotency_ttl(settings: Settings) -> timedelta | None:
    """How long a stored response is replayed (None: forever)."""
    return _period(hours=settings.retention_idempotency_hours)


def ledger_keep(settings: Settings, longest_window_seconds: int) -> timedelta:
    return timedelta(seconds=longest_window_seconds, hours=settings.retention_ledger_slack_hours)


def rules(settings: Settings, longest_window_seconds: int) -> list[Rule]:
    s = settings
    return [
        Rule("rate_limit_ledger", ledger_keep(s, longest_window_seconds), store.delete_ledger_before),
        Rule("idempotency_keys", idempotency_ttl(s), store.delete_idempotency_keys_before),
        Rule(
            "invite_execution_logs",
            _period(days=s.retention_execution_log_days),
            store.delete_execution_logs_before,
        ),
        Rule("audit_events", _period(days=s.retention_audit_days), store.delete_audit_events_before),
        Rule(
            "integration_events",
            _period(days=s.retention_integration_event_days),
            store.delete_integration_events_before,
        ),
        Rule(
            "import_files",
            _period(hours=s.retention_import_staging_hours),
            store.delete_import_files_ended_before,
        ),
        Rule(
            "import_rejections",
            _period(days=s.retention_import_rejection_days),
            store.delete_import_rejections_ended_before,
        ),
        # Deliveries first: an event goes only once none of its deliveries is left.
        Rule(
            "notification_deliveries",
            _period(days=s.retention_notification_days),
            store.delete_notification_deliveries_before,
        ),
        Rule(
            "notification_events",
            _period(days=s.retention_notification_days),
            store.delete_notification_events_before,
        ),
    ]


async def _drain(rt: Runtime, rule: Rule, cutoff: datetime) -> int:
    batch, total = rt.settings.retention_batch_size, 0
    for _ in range(rt.settings.retention_max_batches):
        async with rt.db.session() as session:
            deleted = await rule.delete(session, cutoff, batch)
        total += deleted
        if deleted:  # per batch: what a later failure leaves committed is counted too
            RETENTION_DELETED.labels(rule.table).inc(deleted)
        await rt.faults.hit(Boundary.AFTER_RETENTION_BATCH, table=rule.table, deleted=deleted)
        if deleted < batch:
            break
    return total


class RetentionIncomplete(RuntimeError):
    """Some table could not be swept this run (the others were); the next run tries again."""


async def sweep(rt: Runtime) -> dict[str, int]:
    """The ``retention.sweep`` job: delete what every table keeps no longer; returns the rows deleted per
    table (a table kept forever is left out). A table that fails does not stop the others."""
    now = rt.clock.now()
    counts: dict[str, int] = {}
    failed: list[str] = []
    for rule in rules(rt.settings, rt.limiter.max_window_seconds):
        if rule.keep is None:
            continue
        try:
            counts[rule.table] = await _drain(rt, rule, now - rule.keep)
        except Exception:
            log.exception("retention_table_failed", table=rule.table)
            failed.append(rule.table)
    log.info("retention_swept", **counts)
    if failed:
        raise RetentionIncomplete(f"not swept this run: {', '.join(failed)}")
    return counts
