"""Statistics API: status, stats, report, logs, events; and ``/metrics`` for Prometheus.

Another user's task is a 404 on every route (``OwnedTask``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST

from invite_service.api.deps import DatabaseDep, OwnedTask, RuntimeDep, SessionDep, read_only
from invite_service.api.streams import EventStreamResponse, StreamSlots
from invite_service.errors import problem_responses
from invite_service.kit.inputs import Instant, Text
from invite_service.kit.pagination import MAX_LIMIT, SortSpec
from invite_service.observability import metrics
from invite_service.statistics import events, service
from invite_service.statistics import task_report as report_files
from invite_service.statistics.repository import LogFilters
from invite_service.statistics.schemas import LogPage, ReportOut, TaskStatsOut, TaskStatusOut


async def _bind_task(task_id: uuid.UUID) -> None:
    structlog.contextvars.bind_contextvars(task_id=str(task_id))


router = APIRouter(prefix="/tasks/{task_id:uuid}", tags=["statistics"], dependencies=[Depends(_bind_task)])
metrics_router = APIRouter(tags=["metrics"])
_gauges = metrics.ScrapeGauges()

# One event of the stream: before OpenAPI 3.2's itemSchema, a text/event-stream `schema` describes each event.
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "snapshot, progress, status or end"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "the event as JSON",
        },
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
    "required": ["event", "data"],
}

From = Annotated[Instant | None, Query(alias="from", description="start, inclusive (with a time zone)")]
To = Annotated[Instant | None, Query(alias="to", description="end, exclusive (with a time zone)")]


@router.get("/status", response_model=TaskStatusOut, summary="State, progress, counters and an ETA")
@read_only
async def task_status(task: OwnedTask, session: SessionDep, rt: RuntimeDep) -> TaskStatusOut:
    return await service.task_status(session, rt, task)


@router.get(
    "/stats",
    response_model=TaskStatsOut,
    summary="Targets by state; calls by outcome, error code, account and hour over a range",
    description="The range defaults to the 24 hours up to the task's latest activity; at most 7 days.",
)
@read_only  # its one write, the hourly rollup's INSERT … SELECT, is a single idempotent statement
async def task_stats(
    task: OwnedTask, session: SessionDep, rt: RuntimeDep, start: From = None, end: To = None
) -> TaskStatsOut:
    return await service.task_stats(session, task, rt.clock.now(), start, end)


_DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            report_files.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "JSON, or with `format=csv|xlsx` a download with a row per target",
    }
}


@router.get("/report", response_model=ReportOut, responses=_DOWNLOADS, summary="The task's report")
@read_only
async def task_report(
    task: OwnedTask,
    session: SessionDep,
    db: DatabaseDep,
    rt: RuntimeDep,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
    lang: Annotated[
        Literal["en", "ru"], Query(description="language of the downloads' `reason` column")
    ] = "en",
) -> ReportOut | Response:
    if fmt == "csv":
        return StreamingResponse(
            report_files.csv_stream(db, task.user_id, task.id, lang),
            media_type=report_files.CSV_MEDIA_TYPE,
            headers=_attachment(report_files.filename(task.id, "csv")),
        )
    summary = await service.task_report(session, task, rt.clock.now())
    if fmt == "xlsx":
        return StreamingResponse(
            report_files.xlsx_stream(db, task.user_id, task.id, summary, lang),
            media_type=report_files.XLSX_MEDIA_TYPE,
            headers=_attachment(report_files.filename(task.id, "xlsx")),
        )
    return summary


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/logs", response_model=LogPage, summary="The execution log, newest first, in keyset pages")
@read_only
async def task_logs(
    task: OwnedTask,
    session: SessionDep,
    start: From = None,
    end: To = None,
    outcome: Annotated[Text | None, Query(max_length=32)] = None,
    account_id: Annotated[Text | None, Query(max_length=128)] = None,
    error_code: Annotated[Text | None, Query(max_length=64)] = None,
    sort: Annotated[Text, Query(description="at (oldest first) or -at (newest first)")] = "-at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> LogPage:
    filters = LogFilters(outcome, account_id, error_code, start, end)
    spec = SortSpec.parse(sort, service.LOG_SORTS)
    return await service.task_logs(session, task, filters, spec, cursor, limit)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": SSE_EVENT}}},
        **problem_responses(429),
    },
    summary="Server-Sent Events: snapshot, progress, status, heartbeats, end",
)
async def task_events(
    task: OwnedTask, db: DatabaseDep, rt: RuntimeDep, request: Request
) -> StreamingResponse:
    slots: StreamSlots = request.app.state.event_streams
    release = slots.acquire(task.user_id)  # 429 over INVITE_MAX_EVENT_STREAMS_PER_USER
    return EventStreamResponse(
        events.stream(db, rt, task.id),
        on_close=release,
        media_type="text/event-stream",
        # No caching, and no buffering by nginx (the gateway), or events would arrive in bursts.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@metrics_router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(db: DatabaseDep, rt: RuntimeDep) -> Response:
    body = await metrics.render(_gauges, lambda: service.gauges(db, rt.clock.now()))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
