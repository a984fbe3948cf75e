"""Celery on RabbitMQ (DESIGN §5): three priority queues, at-least-once delivery, thin jobs.

``invite-service worker`` consumes all three queues (named ``<INVITE_QUEUE_PREFIX>invite-high`` …);
``invite-service beat`` runs the ticker, ``recover``, the imports' orphan sweep and retention. Jobs are
idempotent, so redelivery after a crash is harmless.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from kombu import Exchange, Queue
from prometheus_client import multiprocess

from invite_service.config import Settings, get_settings
from invite_service.context.jobs import MESSAGE_PRIORITY, Job, JobQueue, queue_names
from invite_service.execution.jobspec import RECOVER, TICK
from invite_service.imports.file_limits import ORPHAN_SWEEP_SECONDS
from invite_service.imports.jobspec import SWEEP_IMPORTS
from invite_service.models.enums import Priority
from invite_service.notifications.jobspec import SWEEP_DELIVERIES
from invite_service.observability.metrics import serve_worker_metrics
from invite_service.retention.jobspec import SWEEP_RETENTION
from invite_service.workers.jobs import JOBS, run_job
from invite_service.workers.loop import RuntimeBuilder, WorkerProcess

MAX_PRIORITY = 10
# A custom conf key: the prefix the app's queues were declared with (CeleryJobQueue routes by it).
PREFIX_KEY = "invite_queue_prefix"


def _queues(prefix: str) -> list[Queue]:
    # Durable exchange and queues (kombu's default, stated here because it matters): with persistent
    # messages, a queued batch survives a broker restart.
    exchange = Exchange("invite", type="direct", durable=True)
    return [
        Queue(
            name,
            exchange,
            routing_key=name,
            durable=True,
            queue_arguments={"x-max-priority": MAX_PRIORITY},
        )
        for name in queue_names(prefix).values()
    ]


def worker_queues(settings: Settings) -> str:
    """The ``-Q`` argument a worker of this deployment consumes: all three prefixed queues."""
    return ",".join(queue_names(settings.queue_prefix).values())


def make_celery_app(settings: Settings, *, build_runtime: RuntimeBuilder | None = None) -> Celery:
    """The Celery app for this broker and queue prefix. ``build_runtime`` makes a worker process's
    runtime on its first job; an app without it only publishes (the API process)."""
    app = Celery("invite_service", broker=settings.broker_url)
    queues = queue_names(settings.queue_prefix)
    high = {"queue": queues[Priority.HIGH], "routing_key": queues[Priority.HIGH]}
    low = {"queue": queues[Priority.LOW], "routing_key": queues[Priority.LOW]}
    app.conf.update(
        task_queues=_queues(settings.queue_prefix),
        task_default_queue=queues[Priority.NORMAL],
        task_default_exchange="invite",
        task_default_routing_key=queues[Priority.NORMAL],
        task_queue_max_priority=MAX_PRIORITY,
        task_default_priority=MESSAGE_PRIORITY[Priority.NORMAL],
        task_default_delivery_mode="persistent",  # delivery_mode 2: written to disk on durable queues
        task_acks_late=True,  # a job is acknowledged when done: a crash redelivers it
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A broker blip must not kill an in-flight send (which would leave it to recovery and the
        # outcome lookup). Its message is redelivered after the reconnect, and running the batch again
        # is harmless: every engine write is conditional (a target is sent only from `reserved` by its
        # own account; outcomes are fenced by the target's operation key).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        beat_schedule={
            "tick": {"task": TICK, "schedule": settings.tick_seconds, "options": high},
            "recover": {"task": RECOVER, "schedule": settings.recover_seconds, "options": high},
            # Imports whose worker died are sent again (imports/runner.py: sweep).
            "import-sweep": {"task": SWEEP_IMPORTS, "schedule": ORPHAN_SWEEP_SECONDS, "options": high},
            # Old rows of the growing tables, in short batches (retention/policy.py); not urgent.
            "retention": {
                "task": SWEEP_RETENTION,
                "schedule": settings.retention_interval_seconds,
                "options": low,
            },
            # Notification deliveries that are due: retries, and any whose own job was lost.
            "notification-sweep": {
                "task": SWEEP_DELIVERIES,
                "schedule": settings.notifications_sweep_seconds,
                "options": high,
            },
        },
        # Remote control (`celery inspect`, `control shutdown`) and events ride exchanges of their own;
        # prefixed too, so a command for one deployment on a shared vhost never reaches another's workers.
        control_exchange=f"{settings.queue_prefix}celery",
        event_exchange=f"{settings.queue_prefix}celeryev",
        **{PREFIX_KEY: settings.queue_prefix},
    )
    process = WorkerProcess(build_runtime)
    _register_jobs(app, process)
    _connect_process_signals(process)
    return app


def _register_jobs(app: Celery, process: WorkerProcess) -> None:
    def make(name: str) -> None:
        async def run(kwargs: dict[str, Any]) -> None:
            await run_job(await process.runtime(), name, kwargs)

        def job(**kwargs: Any) -> None:
            process.run(run(kwargs))

        job.__name__ = job.__qualname__ = name.replace(".", "_")
        # shared=False: the job belongs to this app only (a shared task would be added to every app made
        # later in the process, ahead of that app's own, and run on the first app's runtime).
        app.task(name=name, bind=False, shared=False)(job)

    for name in JOBS:
        make(name)


def _connect_process_signals(process: WorkerProcess) -> None:
    # Celery's signals are process-wide; each app connects its own process state (weak=False keeps the
    # closures alive as long as the app's process object).
    def init(**_: Any) -> None:
        process.init()

    def shutdown(pid: int | None = None, **_: Any) -> None:
        process.shutdown()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(pid or os.getpid())

    worker_process_init.connect(init, weak=False)
    worker_process_shutdown.connect(shutdown, weak=False)


class CeleryJobQueue(JobQueue):
    def __init__(self, app: Celery) -> None:
        self._app = app
        self._prefix: str = app.conf[PREFIX_KEY]

    def send(self, job: Job) -> None:
        queue = job.queue(self._prefix)
        self._app.send_task(
            job.name,
            kwargs=job.kwargs,
            queue=queue,
            routing_key=queue,
            priority=MESSAGE_PRIORITY[job.priority],
            countdown=job.countdown or None,
        )


@worker_init.connect
def _init_worker(**_: Any) -> None:
    # The main process serves the metrics of every child (prometheus multiprocess mode).
    settings = get_settings()
    if settings.worker_metrics_port:
        serve_worker_metrics(settings.worker_metrics_port)
