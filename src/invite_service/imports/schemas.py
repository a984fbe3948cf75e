"""Request and response models of the import API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.tabular import bounds
from invite_service.models.enums import ImportStatus

MAPPING_DOC = (
    'JSON object column → field, e.g. {"Ник": "username", "ФИО": "full_name", "Город": "city", '
    '"Notes": null}. '
    "Fields: username, user_id, phone, first_name, last_name, full_name (split into first and last name: "
    '"Фамилия Имя Отчество" when three words, "First Last" when two), identity (guessed per value), '
    "ignore (or null), or any other name (letters, digits, _) for a template field. Unmapped columns map "
    "by themselves (header synonyms: ФИО/Full name → full_name, Ник в Telegram → username, "
    "Почта/E-mail → email, Дата согласия → consent_date, Теги → tags). Into an audience, consent_date "
    "(or consent_at) becomes the contact's consent (2025-03-01, 01.03.2025, 01.03.2025 10:00) and tags "
    "(comma-separated) its tags."
)


class ImportOptions(BaseModel):
    """What a file import is told besides the file; kept on the job."""

    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str | None] | None = None
    dedupe: bool = True
    skip_suppressed: bool = True
    sheet: str | None = None

    @classmethod
    def from_form(
        cls, mapping: str | None, dedupe: bool, skip_suppressed: bool, sheet: str | None
    ) -> ImportOptions:
        parsed: dict[str, str | None] | None = None
        loc = ("body", "mapping")
        if mapping and mapping.strip():
            try:
                value = json.loads(mapping)
            except RecursionError as exc:  # json recurses per level; a flat object is all a mapping is
                raise InvalidInput(errors=[FieldError(loc, "is nested too deeply")]) from exc
            except ValueError as exc:
                raise InvalidInput(errors=[FieldError(loc, "is not valid JSON")]) from exc
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
            ):
                raise InvalidInput(errors=[FieldError(loc, "must be a JSON object of column → field name")])
            if len(value) > bounds.MAX_COLUMNS:
                raise InvalidInput(errors=[FieldError(loc, f"maps at most {bounds.MAX_COLUMNS} columns")])
            parsed = value
        return cls(mapping=parsed, dedupe=dedupe, skip_suppressed=skip_suppressed, sheet=sheet or None)


class ParsingImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    task_id: uuid.UUID | None = Field(default=None, description="the task to import into")
    audience_id: uuid.UUID | None = Field(
        default=None, description="instead of task_id: the audience whose contacts the rows become"
    )
    parsing_task_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    dedupe: bool = True
    skip_suppressed: bool = True


class ImportAccepted(BaseModel):
    job_id: uuid.UUID
    status: ImportStatus
    status_url: str


class RowError(BaseModel):
    row: int
    reason: str = Field(
        description="invalid_username, invalid_user_id, invalid_phone, number_too_short, no_identity, "
        "value_too_long, malformed_row, suppressed, duplicate …"
    )
    detail: str
    duplicate_of_row: int | None = Field(
        default=None,
        description="reason duplicate: the row it repeats (null: it repeats a target already in the task)",
    )


class ImportJobOut(BaseModel):
    id: uuid.UUID
    task_id: uuid.UUID | None
    audience_id: uuid.UUID | None = Field(
        default=None, description="an import into an audience (then task_id is null)"
    )
    source: str
    status: ImportStatus
    phase: Literal["reading", "merging"] | None = Field(
        description="while running: reading the rows, or merging them into the task in one transaction"
    )
    filename: str | None
    format: str | None
    options: dict[str, Any]
    rows_seen: int = Field(description="data rows read so far (blank rows are not counted)")
    rows_accepted: int = Field(description="new targets; settled when the job completes")
    rows_duplicate: int = Field(
        description="rows whose identity the task or an earlier row had; settled at the end"
    )
    rows_invalid: int
    rows_suppressed: int
    progress: float | None = Field(description="percent read, when the size is known")
    error: str | None
    error_sample: list[RowError]
    rejected_url: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ValidateOut(BaseModel):
    """What an import of the file would do, with nothing written."""

    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    has_header: bool
    columns: list[str]
    mapping: dict[str, str | None]
    rows: int
    valid: int
    invalid: int
    duplicates: int = Field(
        description="rows repeating an earlier row's identity (and the task's, with task_id)"
    )
    suppressed: int | None = Field(description="with task_id: rows on the suppression list")
    errors: list[RowError]
    preview: list[dict[str, Any]]
    remembered: bool = Field(
        default=False,
        description="true: `mapping` is the one this user last used for a file with the same header "
        "(the same normalized column list), offered again",
    )
