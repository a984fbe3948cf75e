"""Job publishing without a broker: queue names carry the deployment's prefix; a failed publish
after a commit is kept and logged, never raised (the commit cannot be undone)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from invite_service.config import Settings
from invite_service.context.jobs import Job, JobQueue, defer, session_info, unpublished
from invite_service.db import Database
from invite_service.models.enums import Priority
from invite_service.workers.celery_app import CeleryJobQueue, make_celery_app, worker_queues
from invite_service.workers.jobs import JOBS
from tests.conftest import AMQP_URL


def test_every_queue_name_carries_the_prefix() -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    settings = Settings(broker_url=AMQP_URL, queue_prefix=prefix)
    app = make_celery_app(settings)
    names = [f"{prefix}invite-{p}" for p in ("high", "normal", "low")]
    assert [q.name for q in app.conf.task_queues] == names
    assert all(q.durable for q in app.conf.task_queues)
    assert worker_queues(settings) == ",".join(names)
    # Every beat entry names its (prefixed) queue: the engine's and the notification sweeps on high,
    # retention (bulk deletes, never urgent) on low.
    queue_of = {name: entry["options"]["queue"] for name, entry in app.conf.beat_schedule.items()}
    assert queue_of.pop("retention") == names[2]
    assert set(queue_of.values()) == {names[0]}
    assert app.conf.task_default_queue == names[1]
    assert app.conf.task_default_delivery_mode == "persistent"
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
    sent: list[dict[str, object]] = []
    app.send_task = lambda name, **kw: sent.append(kw)
    queue = CeleryJobQueue(app)
    for priority in Priority:
        queue.send(Job("system.ping", {"key": "x"}, priority=priority))
    assert [(kw["queue"], kw["routing_key"]) for kw in sent] == [
        (f"{prefix}invite-{p.value}",) * 2 for p in Priority
    ]
    # Another prefix on the same broker is another app with its own queues.
    other = make_celery_app(Settings(broker_url=AMQP_URL, queue_prefix="other-"))
    assert {q.name for q in other.conf.task_queues} == {f"other-invite-{p.value}" for p in Priority}
    # Remote control too: `celery control shutdown` for one deployment never reaches the other's workers.
    assert (other.conf.control_exchange, app.conf.control_exchange) == ("other-celery", f"{prefix}celery")


class _BrokerDown(JobQueue):
    def send(self, job: Job) -> None:
        raise ConnectionRefusedError("broker down")


async def test_a_job_that_cannot_be_published_is_kept_not_raised(sqlite_url: str) -> None:
    db = Database(sqlite_url).with_session_info(**session_info(_BrokerDown()))
    try:
        job = Job("execution.dispatch", {"task_id": "t"}, priority=Priority.HIGH)
        async with db.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            defer(session, job)
            await session.commit()  # committed: the failed publish must not turn into an error here
            assert unpublished(session) == [job]
    finally:
        await db.dispose()


def test_each_app_runs_its_own_jobs() -> None:
    """Two apps in one process (tests, a CLI beside a worker) each run jobs on their own runtime: a job
    registered by the first must not take the name of the second's (Celery's shared tasks would)."""
    first = make_celery_app(Settings(broker_url="memory://", queue_prefix="first-"))
    second = make_celery_app(Settings(broker_url="memory://", queue_prefix="second-"))
    for name in JOBS:
        assert first.tasks[name].run is not second.tasks[name].run, name
    # A third app sees only its own jobs again, not those of the two before it.
    third = make_celery_app(Settings(broker_url="memory://", queue_prefix="third-"))
    assert {third.tasks[name].run for name in JOBS}.isdisjoint({second.tasks[name].run for name in JOBS})
