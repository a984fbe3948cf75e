"""Request and response models of the suppression list API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invite_service.kit.inputs import InputModel
from invite_service.models.enums import Platform, SuppressionReason, TargetKind


class SuppressionIn(InputModel):
    """Exactly one identity (normalized like targets) and why it may not be contacted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: Platform | None = Field(
        default=None, description="the one platform the entry applies to; null (the default): every platform"
    )
    username: str | None = Field(default=None, max_length=64)
    user_id: str | int | None = Field(default=None)
    phone: str | None = Field(default=None, max_length=32)
    reason: SuppressionReason
    note: str | None = Field(default=None, max_length=500)
    source: Literal["ui", "api"] = Field(
        default="api", description='who added it: the web UI sends "ui", other clients leave "api"'
    )

    @model_validator(mode="after")
    def _one_identity(self) -> SuppressionIn:
        given = [v for v in (self.username, self.user_id, self.phone) if v not in (None, "")]
        if len(given) != 1:
            raise ValueError("give exactly one of username, user_id or phone")
        if self.user_id is not None and len(str(self.user_id)) > 20:
            raise ValueError("user_id is longer than 20 digits")
        return self


class SuppressionOut(BaseModel):
    id: int
    platform: str | None = Field(description="null: the entry applies to every platform")
    kind: TargetKind
    key: str
    reason: SuppressionReason
    source: str = Field(description='"ui", "api", "import", or "reply:<account id>" (an opt-out reply)')
    note: str | None
    created_at: datetime


class SuppressionImportOut(BaseModel):
    rows: int = Field(description="data rows read")
    created: int = Field(description="new entries (a row with several identities adds one each)")
    existing: int = Field(description="identities the list already had")
    invalid: int = Field(description="rows with no valid identity or an unknown reason")
    errors: list[dict[str, object]] = Field(description="the first invalid rows: row, reason, detail")
