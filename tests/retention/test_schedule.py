"""Both beats run the retention job at the configured interval (schedules inspected, not waited on)."""

from __future__ import annotations

from invite_service.config import Settings
from invite_service.context.runtime import Runtime
from invite_service.retention import policy
from invite_service.retention.jobspec import SWEEP_RETENTION
from invite_service.workers.celery_app import make_celery_app
from invite_service.workers.jobs import JOBS
from invite_service.workers.local import BackgroundRunner, LocalTicker


def test_the_celery_beat_schedules_the_retention_job_at_the_configured_interval() -> None:
    settings = Settings(broker_url="memory://", retention_interval_seconds=1234.0)
    app = make_celery_app(settings)
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == SWEEP_RETENTION]
    assert [e["schedule"] for e in entries] == [1234.0]
    assert SWEEP_RETENTION in app.tasks  # a worker can run what the beat sends
    assert JOBS[SWEEP_RETENTION] is policy.sweep


def test_the_default_interval_is_an_hour() -> None:
    app = make_celery_app(Settings(broker_url="memory://"))
    assert app.conf.beat_schedule["retention"]["schedule"] == 3600.0


async def test_the_embedded_ticker_runs_the_retention_job_at_the_configured_interval(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(update={"retention_interval_seconds": 321.0})
    ticker = LocalTicker(BackgroundRunner(), rt)
    assert ticker.periodic() == {SWEEP_RETENTION: 321.0}
