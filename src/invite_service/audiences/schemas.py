"""Request and response models of the audiences and contacts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from invite_service.kit.inputs import InputModel, Instant, RowId
from invite_service.models.contacts import normalize_tag
from invite_service.models.enums import Platform, TargetKind
from invite_service.targets.schemas import FIELD_NAMES, FieldInput, FieldValue, TargetIn, _check_fields

MAX_TAGS = 50
MAX_CONTACT_ROWS = 10_000


def normalize_tags(value: list[str]) -> list[str]:
    """Trimmed, lower-cased, each once (in the order given); a blank one is dropped (a stray comma)."""
    out: list[str] = []
    for raw in value:
        if not raw.strip():
            continue
        tag = normalize_tag(raw)
        if tag not in out:
            out.append(tag)
    return out


Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=MAX_TAGS)]


class AudienceIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: Platform
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)


class AudienceUpdate(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)


class AudienceOut(BaseModel):
    id: uuid.UUID
    platform: str
    name: str
    description: str | None
    contacts: int = Field(description="contacts in the audience")
    created_at: datetime
    updated_at: datetime


class ContactIn(TargetIn):
    """A bulk target row (username, user_id or phone; names; template fields) plus tags and consent."""

    tags: Tags = Field(default_factory=list)
    consent_source: str | None = Field(default=None, max_length=64)
    consent_at: Instant | None = None
    consent_note: str | None = Field(default=None, max_length=500)

    _tags = field_validator("tags")(normalize_tags)


class _DocumentedAsContactIn:
    """A row's JSON schema is ``ContactIn``'s, while the service validates each row on its own (a bad
    row is rejected with its errors, the others are added)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(ContactIn.__pydantic_core_schema__)


ContactRow = Annotated[dict[str, object], _DocumentedAsContactIn]


class AddContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[ContactRow] = Field(default_factory=list, max_length=MAX_CONTACT_ROWS)
    contact_ids: list[RowId] = Field(default_factory=list, max_length=MAX_CONTACT_ROWS)


class RejectedRow(BaseModel):
    index: int = Field(description="the row's index in contacts")
    loc: list[str | int]
    msg: str


class AddContactsOut(BaseModel):
    created: int = Field(description="new contacts")
    merged: int = Field(description="rows that matched an existing contact (its missing data filled in)")
    added: int = Field(description="contacts that joined the audience (not members before)")
    rejected: list[RejectedRow]


class RemoveContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[RowId] = Field(min_length=1, max_length=MAX_CONTACT_ROWS)


class RemoveContactsOut(BaseModel):
    removed: int


class Consent(BaseModel):
    source: str | None
    at: datetime | None
    note: str | None


class ContactOut(BaseModel):
    id: int
    platform: str
    kind: TargetKind
    key: str
    username: str | None
    user_id: str | None = Field(description="the platform's numeric user id")
    phone: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, FieldValue]
    tags: list[str]
    consent: Consent | None = Field(description="null: no consent recorded")
    created_at: datetime
    updated_at: datetime


class AudienceRef(BaseModel):
    id: uuid.UUID
    name: str


class SuppressionRef(BaseModel):
    reason: str
    source: str
    created_at: datetime


class ContactDetail(ContactOut):
    audiences: list[AudienceRef]
    suppression: SuppressionRef | None = Field(description="the opt-out entry matching the contact, if any")


class ContactUpdate(InputModel):
    """Names, fields, tags (replacing the set) and consent; the identities are fixed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    fields: dict[str, FieldInput] | None = Field(default=None, max_length=50, json_schema_extra=FIELD_NAMES)
    tags: Tags | None = None
    consent_source: str | None = Field(default=None, max_length=64)
    consent_at: Instant | None = None
    consent_note: str | None = Field(default=None, max_length=500)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldValue] | None) -> dict[str, FieldValue] | None:
        return None if value is None else _check_fields(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_tags(value)


class HistoryItem(BaseModel):
    at: datetime
    task_id: uuid.UUID
    task_name: str
    action: str = Field(description="what the engine did: invite, message, skip, ...")
    outcome: str = Field(description="how it ended: invited, messaged, failed, ...")
    error_code: str | None
    account_id: str | None
