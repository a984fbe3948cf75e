"""Import API: ``/api/v1/import`` — files and Parsing Service tasks as import jobs, and validate.

An import answers 202 with the job. The job row (with a file's bytes) commits before the response,
and its ``imports.run`` job is published to the job queue by that commit: a worker runs it (the
in-process runner when embedded), so the API process holds no import work of its own.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from invite_service.api.deps import CurrentUser, DatabaseDep, SessionDep, SettingsDep, UploadRoute
from invite_service.api.idempotency import idempotent
from invite_service.api.params import UNREADABLE_BODY
from invite_service.imports import rejected, service
from invite_service.imports.repository import SORT_COLUMNS
from invite_service.imports.schemas import (
    MAPPING_DOC,
    ImportAccepted,
    ImportJobOut,
    ImportOptions,
    ParsingImportIn,
    ValidateOut,
)
from invite_service.imports.validate import validate_file
from invite_service.kit.inputs import Text
from invite_service.kit.pagination import MAX_LIMIT, Page, SortSpec
from invite_service.models import ImportJob
from invite_service.models.enums import ImportStatus

router = APIRouter(prefix="/import", tags=["import"], route_class=UploadRoute)
FileField = Annotated[
    UploadFile, File(description="CSV/TSV (UTF-8, UTF-8 BOM, cp1251), XLSX, JSON array or NDJSON")
]
MappingField = Annotated[str | None, Form(description=MAPPING_DOC)]
SheetField = Annotated[
    str | None, Form(max_length=100, description="XLSX: the sheet to read (default: the first)")
]
DedupeField = Annotated[
    bool,
    Form(
        description="kept for compatibility: duplicates are always skipped, counted, and listed in "
        "rejected.csv (reason duplicate, with duplicate_of_row)"
    ),
]
AudienceField = Annotated[
    uuid.UUID | None,
    Form(
        description="instead of task_id: the audience whose contacts the rows become (consent and tags "
        "columns read too; exactly one of task_id / audience_id)"
    ),
]
SkipField = Annotated[
    bool, Form(description="true: suppressed identities are left out; false: imported, skipped at send time")
]


def _accepted(job: ImportJob) -> ImportAccepted:
    job_id = job.id
    return ImportAccepted(
        job_id=job_id, status=ImportStatus.RUNNING, status_url=f"{service.API_PREFIX}/{job_id}"
    )


@router.post("/file", status_code=202, response_model=ImportAccepted, responses=UNREADABLE_BODY)
async def import_file(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    file: FileField,
    task_id: Annotated[uuid.UUID | None, Form(description="the task to import into")] = None,
    audience_id: AudienceField = None,
    mapping: MappingField = None,
    dedupe: DedupeField = True,
    skip_suppressed: SkipField = True,
    sheet: SheetField = None,
) -> ImportAccepted:
    options = ImportOptions.from_form(mapping, dedupe, skip_suppressed, sheet)
    job = await service.start_file_import(session, settings, user, (task_id, audience_id), file, options)
    return _accepted(job)


@router.post("/parsing", status_code=202, response_model=ImportAccepted, responses=UNREADABLE_BODY)
async def import_parsing(
    body: ParsingImportIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    async def start() -> ImportAccepted:
        # Only a first request starts a job; a replay returns the stored answer.
        return _accepted(await service.start_parsing_import(session, user, body))

    return await idempotent(session, settings, user, "POST /import/parsing", key, body, 202, start)


@router.post("/validate", response_model=ValidateOut, responses=UNREADABLE_BODY)
async def validate(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    file: FileField,
    task_id: Annotated[
        uuid.UUID | None, Form(description="also count the task's duplicates and suppressed")
    ] = None,
    audience_id: Annotated[
        uuid.UUID | None,
        Form(description="instead of task_id: read the file as an audience import would (consent, tags)"),
    ] = None,
    mapping: MappingField = None,
    dedupe: DedupeField = True,
    skip_suppressed: SkipField = True,
    sheet: SheetField = None,
) -> ValidateOut:
    options = ImportOptions.from_form(mapping, dedupe, skip_suppressed, sheet)
    return await validate_file(session, settings, user, file, options, (task_id, audience_id))


@router.get("/jobs", response_model=Page[ImportJobOut])
async def list_jobs(
    user: CurrentUser,
    session: SessionDep,
    task_id: uuid.UUID | None = None,
    audience_id: uuid.UUID | None = None,
    sort: Annotated[Text, Query(description="created_at; '-' for descending")] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[Text | None, Query(max_length=1000)] = None,
) -> Page[ImportJobOut]:
    sort_spec = SortSpec.parse(sort, list(SORT_COLUMNS))
    return await service.list_jobs(session, user, task_id, sort_spec, cursor, limit, audience_id)


@router.get("/jobs/{job_id:uuid}", response_model=ImportJobOut)
async def get_job(job_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ImportJobOut:
    return await service.get_job(session, user, job_id)


@router.delete("/jobs/{job_id:uuid}", response_model=ImportJobOut)
async def cancel_job(job_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ImportJobOut:
    return await service.cancel(session, user, job_id)


@router.get("/jobs/{job_id:uuid}/rejected.csv", response_class=StreamingResponse)
async def rejected_rows(
    job_id: uuid.UUID, user: CurrentUser, session: SessionDep, database: DatabaseDep, settings: SettingsDep
) -> StreamingResponse:
    columns = await service.report_columns(session, settings, user, job_id)
    return StreamingResponse(
        rejected.rejected_csv(database, job_id, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-rejected.csv"'},
    )
