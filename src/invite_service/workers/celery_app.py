"""Celery on RabbitMQ (DESIGN §5): three priority queues, at-least-once delivery, thin jobs.

``invite-service worker`` consumes all three queues; ``invite-service beat`` runs the ticker
and ``recover``. Jobs are idempotent, so redelivery after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from kombu import Exchange, Queue

from invite_service.config import Settings, get_settings
from invite_service.execution.jobspec import RECOVER, TICK
from invite_service.models.enums import Priority
from invite_service.workers import loop
from invite_service.workers.enqueue import MESSAGE_PRIORITY, QUEUES, Job, JobQueue

MAX_PRIORITY = 10


def _queues() -> list[Queue]:
    exchange = Exchange("invite", type="direct")
    return [
        Queue(name, exchange, routing_key=name, queue_arguments={"x-max-priority": MAX_PRIORITY})
        for name in QUEUES.values()
    ]


_apps: dict[str, Celery] = {}


def celery_for(settings: Settings) -> Celery:
    """The Celery app for this broker (one per process and broker URL)."""
    app = _apps.get(settings.broker_url)
    if app is None:
        app = _apps[settings.broker_url] = _make_app(settings)
    return app


def _make_app(settings: Settings) -> Celery:
    app = Celery("invite_service", broker=settings.broker_url)
    app.conf.update(
        task_queues=_queues(),
        task_default_queue=QUEUES[Priority.NORMAL],
        task_default_exchange="invite",
        task_default_routing_key=QUEUES[Priority.NORMAL],
        task_queue_max_priority=MAX_PRIORITY,
        task_default_priority=MESSAGE_PRIORITY[Priority.NORMAL],
        task_acks_late=True,  # a job is acknowledged when done: a crash redelivers it
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        beat_schedule={
            "tick": {"task": TICK, "schedule": settings.tick_seconds, "options": {"queue": "invite-high"}},
            "recover": {
                "task": RECOVER,
                "schedule": settings.recover_seconds,
                "options": {"queue": "invite-high"},
            },
        },
    )
    _register_jobs(app)
    return app


def _register_jobs(app: Celery) -> None:
    from invite_service.workers.jobs import JOBS, run_job

    def make(name: str) -> None:
        async def run(kwargs: dict[str, Any]) -> None:
            await run_job(await loop.runtime(), name, kwargs)

        def job(**kwargs: Any) -> None:
            loop.run(run(kwargs))

        job.__name__ = job.__qualname__ = name.replace(".", "_")
        app.task(name=name, bind=False)(job)

    for name in JOBS:
        make(name)


class CeleryJobQueue(JobQueue):
    def __init__(self, app: Celery) -> None:
        self._app = app

    def send(self, job: Job) -> None:
        self._app.send_task(
            job.name,
            kwargs=job.kwargs,
            queue=job.queue,
            routing_key=job.queue,
            priority=MESSAGE_PRIORITY[job.priority],
            countdown=job.countdown or None,
        )


@worker_init.connect
def _init_worker(**_: Any) -> None:
    # The main process serves the metrics of every child (prometheus multiprocess mode).
    settings = get_settings()
    if settings.worker_metrics_port:
        from invite_service.observability.metrics import serve_worker_metrics

        serve_worker_metrics(settings.worker_metrics_port)


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    loop.init_process()


@worker_process_shutdown.connect
def _shutdown_process(pid: int | None = None, **_: Any) -> None:
    loop.shutdown()
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def app_from_env() -> Celery:
    return celery_for(get_settings())
