"""Request and response models of the tasks API. Unknown fields are refused (no mass assignment)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from invite_service.invite_tasks.template import TemplateError, placeholders
from invite_service.kit.inputs import Instant, RowId
from invite_service.models.enums import Platform, Priority, TaskAction, TaskStatus
from invite_service.models.identity import NormalizeError, normalize_destination
from invite_service.models.task_settings import AudienceSelection, StrictModel, TaskSettings
from invite_service.stores.counters import Counters
from invite_service.stores.waiting import WaitingOut

AccountId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.:@-]+$")]


def _check_template(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        placeholders(value)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    return value


def _check_destination(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalize_destination(value)
    except NormalizeError as exc:
        raise ValueError(str(exc)) from exc


class TaskFields(StrictModel):
    """Fields shared by create and update, each validated on its own."""

    description: str | None = Field(default=None, max_length=2000)
    destination: str | None = Field(default=None, max_length=255)
    message_template: str | None = Field(default=None, max_length=4096)
    account_ids: list[AccountId] | None = Field(default=None, max_length=100)
    settings: TaskSettings | None = None
    scheduled_at: Instant | None = None
    audiences: AudienceSelection | None = Field(
        default=None, description="audiences the task draws its targets from when it starts; null: none"
    )

    _destination = field_validator("destination")(_check_destination)
    _template = field_validator("message_template")(_check_template)

    @field_validator("account_ids")
    @classmethod
    def _unique_accounts(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("account ids must be unique")
        return value


class TaskCreate(TaskFields):
    name: str = Field(min_length=1, max_length=200)
    platform: Platform = Platform.SANDBOX
    action: TaskAction = TaskAction.INVITE
    priority: Priority = Priority.NORMAL


class TaskUpdate(TaskFields):
    """Partial update: only the fields given change. A required field may be left out, never nulled."""

    # None only as "not given" (SkipJsonSchema: the document does not offer null); an explicit null is a 422.
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    action: TaskAction | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None

    @field_validator("name", "action", "priority")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs for given values only (defaults are not validated), so None here is an explicit null.
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    platform: str
    action: str
    destination: str | None
    message_template: str | None
    status: TaskStatus
    priority: Priority
    account_ids: list[str]
    settings: dict[str, Any]
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    pause_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    counters: Counters
    progress: float = Field(description="Share of targets in a final state, 0-100")
    waiting: WaitingOut | None = Field(
        description="why nothing is sent right now and when it resumes; null when not waiting"
    )
    audiences: AudienceSelection | None = Field(default=None, description="null: the task uses no audience")


TaskSort = Literal["created_at", "-created_at", "name", "-name", "priority", "-priority", "status", "-status"]


class BulkTaskAction(StrictModel):
    action: Literal["DELETE", "SET_PRIORITY", "PAUSE", "RESUME", "CANCEL"]
    task_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    priority: Priority | None = None

    @model_validator(mode="after")
    def _priority_given(self) -> BulkTaskAction:
        if self.action == "SET_PRIORITY" and self.priority is None:
            raise ValueError("priority is required for SET_PRIORITY")
        return self


class BulkItemResult(BaseModel):
    task_id: uuid.UUID
    ok: bool
    status: int
    detail: str | None = None


class BulkTaskResult(BaseModel):
    results: list[BulkItemResult]
    succeeded: int
    failed: int


class DuplicateIn(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    include_targets: StrictBool = False  # 0 or "true" is a 422, as the document says


class FieldOut(BaseModel):
    """A template field the insert chips offer."""

    name: str
    targets: int = Field(description="How many of the task's targets have a non-empty value for it")
    standard: bool = Field(description="first_name, last_name or username (every target may have them)")


class FieldsOut(BaseModel):
    fields: list[FieldOut] = Field(description="The standard fields first, then every imported field by name")


class MessageTestIn(StrictModel):
    """``POST /tasks/{id}/test-message``: send the task's message to the user's own address."""

    to: str = Field(
        min_length=1,
        max_length=64,
        description="Where to send it: the user's own username (@name), phone (+7...) or numeric user id",
    )
    target_id: RowId | None = Field(
        default=None, description="Render for this target of the task; null: a sample with empty fields"
    )
    account_id: AccountId | None = Field(
        default=None, description="One of the task's accounts; null: the first that can send now"
    )


class MessageTestOut(BaseModel):
    rendered: str = Field(description="The text sent")
    account_id: str
    outcome: str = Field(description="The platform's answer: success, target_rejected, retry_after, ...")
    error_code: str | None
    detail: str | None
