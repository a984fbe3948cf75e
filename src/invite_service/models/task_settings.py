"""The shape of ``invite_tasks.settings`` (a JSON column): caps, pacing, send window, attempts, breaker.

The API validates a task's settings with it on the way in, and the engine, the limits and the statistics
read them through it, so every default lives here once.
"""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from invite_service.kit.inputs import InputModel


class StrictModel(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Caps(StrictModel):
    """Per-account caps of this task; each may only lower the platform's cap."""

    invites_per_hour: int | None = Field(default=None, ge=1, le=100_000)
    invites_per_day: int | None = Field(default=None, ge=1, le=1_000_000)
    messages_per_hour: int | None = Field(default=None, ge=1, le=100_000)
    messages_per_day: int | None = Field(default=None, ge=1, le=1_000_000)


class SendWindow(StrictModel):
    """Days (0 = Monday) and local hours in which sends may start."""

    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6], min_length=1, max_length=7
    )
    start: time = time(9, 0)
    end: time = time(21, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA timezone such as Europe/Moscow") from exc
        return value

    @field_validator("days")
    @classmethod
    def _unique_days(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.start == self.end:
            raise ValueError("start and end must differ (a window that wraps midnight is allowed)")
        return self


class Breaker(StrictModel):
    """Pause the task when this many lanes (or this share of them) get restricted within the window."""

    restricted_lanes: int = Field(default=2, ge=1, le=1000)
    restricted_share: float = Field(default=1 / 3, gt=0, le=1)
    window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class ContactPolicyOverride(StrictModel):
    """This task's contact policy: each rule may only be stricter than the user's (``null``: the user's)."""

    message_cooldown_days: StrictInt | None = Field(default=None, ge=0, le=3650)
    invite_cooldown_days: StrictInt | None = Field(default=None, ge=0, le=3650)
    require_consent: StrictBool | None = None


def _normalize_tags(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        tag = raw.strip().lower()
        if not 1 <= len(tag) <= 64:
            raise ValueError("a tag is 1-64 characters")
        if tag not in out:
            out.append(tag)
    return out


class AudienceRules(StrictModel):
    """The part of a task's audience selection kept in its settings (the audiences are rows of their own)."""

    exclude_tags: list[str] = Field(default_factory=list, max_length=50)
    include_new_contacts: StrictBool = False

    _tags = field_validator("exclude_tags")(_normalize_tags)


class AudienceSelection(AudienceRules):
    """The audiences a task draws its targets from, and who it leaves out."""

    include: list[uuid.UUID] = Field(min_length=1, max_length=20)
    exclude: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @field_validator("include", "exclude")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _disjoint(self) -> AudienceSelection:
        if set(self.include) & set(self.exclude):
            raise ValueError("an audience cannot be both included and excluded")
        return self


class TaskSettings(StrictModel):
    caps: Caps = Field(default_factory=Caps)
    min_delay_seconds: float | None = Field(default=None, ge=0, le=86_400)
    send_window: SendWindow | None = None
    max_attempts: int = Field(default=3, ge=1, le=10)
    breaker: Breaker = Field(default_factory=Breaker)
    contact_policy: ContactPolicyOverride | None = None
    # Written from the task's ``audiences`` field; not set through ``settings``.
    audience_rules: AudienceRules | None = None
