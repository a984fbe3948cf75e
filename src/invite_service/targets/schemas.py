"""Request and response models of the targets API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from invite_service.kit.inputs import InputModel, RowId
from invite_service.models.enums import TargetKind, TargetStatus

FieldValue = str | int | float | bool | None
FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# What the document says of the template fields (the validator below enforces it, for the bulk rows too).
FieldInput = Annotated[str, Field(max_length=1000)] | int | float | bool | None
FIELD_NAMES: JsonDict = {"propertyNames": {"pattern": FIELD_NAME}}
BULK_ROWS_CEILING = 100_000


def _check_fields(value: dict[str, FieldValue]) -> dict[str, FieldValue]:
    import re

    for name, item in value.items():
        if not re.match(FIELD_NAME, name):
            raise ValueError(f"field name {name[:70]!r} must be letters, digits or _ (max 64)")
        if isinstance(item, str) and len(item) > 1000:
            raise ValueError(f"field {name!r} is longer than 1000 characters")
    return value


class TargetIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str | None = Field(default=None, max_length=64)
    user_id: str | int | None = Field(default=None)
    phone: str | None = Field(default=None, max_length=32)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    fields: dict[str, FieldInput] = Field(default_factory=dict, max_length=50, json_schema_extra=FIELD_NAMES)

    _fields = field_validator("fields")(_check_fields)

    @field_validator("user_id")
    @classmethod
    def _user_id_len(cls, value: str | int | None) -> str | int | None:
        if value is not None and len(str(value)) > 20:
            raise ValueError("user_id is longer than 20 digits")
        return value


class TargetUpdate(InputModel):
    """Names and template fields; the identity is fixed (delete and add to change it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    fields: dict[str, FieldInput] | None = Field(default=None, max_length=50, json_schema_extra=FIELD_NAMES)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldValue] | None) -> dict[str, FieldValue] | None:
        return None if value is None else _check_fields(value)


class TargetOut(BaseModel):
    id: int
    task_id: uuid.UUID
    kind: TargetKind
    key: str
    username: str | None
    user_id: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, FieldValue]
    source: str
    status: TargetStatus
    attempts: int
    account_id: str | None
    error_code: str | None
    error_detail: str | None
    next_attempt_at: datetime | None
    processed_at: datetime | None
    replied_at: datetime | None = Field(default=None, description="the person's first reply, if any")
    created_at: datetime
    updated_at: datetime


class _DocumentedAsTargetIn:
    """A bulk row's JSON schema is ``TargetIn``'s (so OpenAPI and Swagger show its fields), while the
    row itself is validated later, one by one, by the service (a bad row is reported, not fatal)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TargetIn.__pydantic_core_schema__)


BulkTargetRow = Annotated[dict[str, object], _DocumentedAsTargetIn]


class BulkTargetsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Rows are validated one by one (a bad row is reported, not fatal), so they arrive as raw objects;
    # their documented schema is TargetIn's (BulkTargetRow).
    # The service refuses more than INVITE_MAX_BULK_TARGETS; this ceiling (ten times the default) stops
    # validation early, before it copies millions of tiny rows (16 MiB of `{},` is 5.6 million, 400 MB).
    targets: list[BulkTargetRow] = Field(
        min_length=1,
        max_length=BULK_ROWS_CEILING,
        description="one object a target: a username, user_id or phone (at least one), optional first_name, "
        "last_name and template fields; each row is checked on its own and reported in results",
    )
    all_or_nothing: bool = False


class BulkRowResult(BaseModel):
    index: int
    result: Literal["created", "duplicate", "invalid"]
    id: int | None = None
    key: str | None = None
    errors: list[dict[str, object]] = Field(default_factory=list)


class BulkTargetsOut(BaseModel):
    created: int
    duplicates: int
    invalid: int
    results: list[BulkRowResult]


class TargetFilter(InputModel):
    model_config = ConfigDict(extra="forbid")

    status: list[TargetStatus] = Field(default_factory=list)
    kind: TargetKind | None = None


class BulkActionIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["delete", "reset_to_pending", "skip"]
    ids: Annotated[list[RowId], Field(max_length=10_000)] | None = None
    filter: TargetFilter | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> BulkActionIn:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give exactly one of ids or filter")
        return self


class BulkActionOut(BaseModel):
    action: str
    affected: int


class TargetStats(BaseModel):
    total: int
    by_status: dict[TargetStatus, int]
    by_kind: dict[TargetKind, int]
