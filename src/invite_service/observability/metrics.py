"""Prometheus metrics: domain counters, scrape-time gauges from the database, and their exposition.

Labels are low-cardinality by construction: platform, action, outcome and small fixed kinds. No user,
task or account id is ever a label (a label value per task would grow the series without bound).

Where the numbers come from:
* counters and histograms are incremented by the code that does the work (``record_outcome`` from
  ``execution.outcomes.record``, after its transaction commits, so the metrics agree with the log);
* ``invite_tasks{status}``, ``invite_lanes{state}`` and ``invite_running_task_max_idle_seconds``
  are read from the database when Prometheus scrapes the API (``ScrapeGauges``), cached for a few
  seconds so that several scrapers cost one set of small indexed queries.

Processes: the API exposes ``/metrics`` itself. Celery workers are preforked children, so with
``PROMETHEUS_MULTIPROC_DIR`` set (before the first import of prometheus_client) every child writes
its samples to files in that directory and ``serve_worker_metrics`` — started once in the worker's
main process — aggregates them on its own port.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from invite_service.adapters.base import Outcome
from invite_service.models.enums import LaneStatus, Platform, TaskStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from invite_service.adapters.base import InviteResult

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# No ``*_created`` series: they double the exposition and Prometheus' functions do not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
ACTIONS = ("invite", "message")
UNKNOWN_OUTCOME = "unknown"  # a call whose result we never learned (timeout after sending)
RESTRICTION_KINDS = ("flood_wait", "restricted", "unavailable")
IMPORT_RESULTS = ("accepted", "duplicate", "rejected")
OTHER = "other"  # any label value outside the known set, so a surprise can never add series

TASKS_CREATED = Counter("invite_tasks_created_total", "Invite tasks created.")
ACTIONS_TOTAL = Counter(
    "invite_actions_total",
    "Platform calls (invites and messages) by their outcome.",
    ["platform", "action", "outcome"],
)
ACTION_DURATION = Histogram(
    "invite_action_duration_seconds",
    "Duration of one platform call, as the engine measured it.",
    ["platform", "action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
FLOOD_WAIT = Histogram(
    "invite_flood_wait_seconds",
    "Waits (FLOOD_WAIT and kin) the platform imposed on an account.",
    buckets=(1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 86_400),
)
RESTRICTIONS = Counter(
    "invite_account_restrictions_total",
    "Account-wide holds the platform imposed: a wait, a restriction (PEER_FLOOD, spam), a dead session.",
    ["kind"],
)
IMPORT_ROWS = Counter("invite_import_rows_total", "Audience import rows by result.", ["result"])
RETENTION_DELETED = Counter(
    "invite_retention_deleted_total", "Rows deleted by the retention job, per table.", ["table"]
)


def _bounded(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else OTHER


_OUTCOMES = (*[o.value for o in Outcome], UNKNOWN_OUTCOME)
_PLATFORMS = tuple(p.value for p in Platform)


def _initialise() -> None:
    """Create every known series at zero, so ``rate()`` and ``increase()`` see the first event."""
    for platform in _PLATFORMS:
        for action in ACTIONS:
            ACTION_DURATION.labels(platform, action)
            for outcome in _OUTCOMES:
                ACTIONS_TOTAL.labels(platform, action, outcome)
    for kind in RESTRICTION_KINDS:
        RESTRICTIONS.labels(kind)
    for result in IMPORT_RESULTS:
        IMPORT_ROWS.labels(result)


_initialise()

# -- recording after commit: the metrics count what the database kept --------------------------

_OUTBOX = "metrics_outbox"


def after_commit(session: AsyncSession | Session, apply: Callable[[], None]) -> None:
    """Run ``apply`` once ``session`` commits; dropped on rollback (like ``kit.progress.defer_event``)."""
    session.info.setdefault(_OUTBOX, []).append(apply)


@sa_event.listens_for(Session, "after_commit")
def _apply_outbox(session: Session) -> None:
    for apply in session.info.pop(_OUTBOX, []):
        apply()


@sa_event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


_RESTRICTION_OF = {
    Outcome.RETRY_AFTER: "flood_wait",
    Outcome.ACCOUNT_RESTRICTED: "restricted",
    Outcome.ACCOUNT_UNAVAILABLE: "unavailable",
}


def record_outcome(
    session: AsyncSession | Session,
    platform: str,
    action: str,
    result: InviteResult,
    uncertain: bool,
    duration_ms: int,
) -> None:
    """Count one platform call once the transaction that records it commits."""
    plat, act = _bounded(platform, _PLATFORMS), _bounded(action, ACTIONS)
    outcome = UNKNOWN_OUTCOME if uncertain else result.outcome.value
    restriction = None if uncertain else _RESTRICTION_OF.get(result.outcome)

    def apply() -> None:
        ACTIONS_TOTAL.labels(plat, act, outcome).inc()
        ACTION_DURATION.labels(plat, act).observe(max(0, duration_ms) / 1000)
        if restriction is not None:
            RESTRICTIONS.labels(restriction).inc()
        if restriction == "flood_wait" and result.retry_after is not None:
            FLOOD_WAIT.observe(result.retry_after)

    after_commit(session, apply)


def count_import_rows(*, accepted: int, duplicate: int, rejected: int) -> None:
    for result, n in (("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)):
        if n > 0:
            IMPORT_ROWS.labels(result).inc(n)


# -- gauges computed at scrape time -------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSnapshot:
    """What the database says right now (one row of numbers, not a row per task)."""

    tasks: dict[str, int] = field(default_factory=dict)
    lanes: dict[str, int] = field(default_factory=dict)
    # The longest time any running task that is due (not waiting for its window, a cooldown or a
    # cap) has gone without an execution log entry; 0 when there is none.
    max_idle_seconds: float = 0.0


GaugeLoader = Callable[[], Awaitable[GaugeSnapshot]]


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: GaugeSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily("invite_tasks", "Invite tasks by status.", labels=["status"])
        for status in TaskStatus:
            tasks.add_metric([status.value], self._snapshot.tasks.get(status.value, 0))
        yield tasks
        lanes = GaugeMetricFamily("invite_lanes", "Lanes of running tasks by state.", labels=["state"])
        for state in LaneStatus:
            lanes.add_metric([state.value], self._snapshot.lanes.get(state.value, 0))
        yield lanes
        yield GaugeMetricFamily(
            "invite_running_task_max_idle_seconds",
            "Longest time a due running task has made no platform call.",
            value=self._snapshot.max_idle_seconds,
        )


class ScrapeGauges:
    """Keeps the snapshot for ``ttl`` seconds, so that several scrapers (HA Prometheus pairs, a
    curious operator) cost one set of queries."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._snapshot: GaugeSnapshot | None = None
        self._loaded_at = 0.0

    async def get(self, load: GaugeLoader) -> GaugeSnapshot:
        if self._snapshot is None or time.monotonic() - self._loaded_at >= self.ttl:
            self._snapshot = await load()
            self._loaded_at = time.monotonic()
        return self._snapshot


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every process's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        return registry
    return REGISTRY


async def render(gauges: ScrapeGauges | None = None, load: GaugeLoader | None = None) -> bytes:
    """The text exposition: the process's metrics, then the database gauges when a loader is given."""
    body = generate_latest(process_registry())
    if gauges is not None and load is not None:
        snapshot_registry = CollectorRegistry(auto_describe=False)
        snapshot_registry.register(_SnapshotCollector(await gauges.get(load)))
        body += generate_latest(snapshot_registry)
    return body


def serve_worker_metrics(port: int, addr: str = "0.0.0.0", *, clean: bool = True) -> None:  # noqa: S104 - scraped from the host network
    """Serve a Celery worker host's metrics on ``port``; call it once in the worker's MAIN process.

    Connect it to Celery's ``worker_init`` signal (not ``worker_process_init``, which runs in every
    child and would fight over the port). With ``PROMETHEUS_MULTIPROC_DIR`` set the children write
    their samples to files there and this server sums them per scrape; ``clean`` empties the
    directory first, because files left by a previous run would be added to this run's counters.
    Without the variable it serves this process's own registry.
    """
    from prometheus_client import start_http_server

    directory = os.environ.get(MULTIPROC_ENV)
    if directory and clean:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    start_http_server(port, addr, registry=process_registry())
