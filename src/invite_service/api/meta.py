"""``GET /api/v1/meta``: what this deployment serves for real and what it simulates (the UI's banner and
the task form's platforms). Contract: the profile, whether simulators are allowed, which ones are in use."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from invite_service.api.deps import CurrentUser, SettingsDep
from invite_service.statistics import reasons
from invite_service.statistics.schemas import ReasonCatalogue

router = APIRouter(tags=["meta"])


class Meta(BaseModel):
    profile: Literal["embedded", "production"]
    sandbox_allowed: bool = Field(description="simulators may serve this process (embedded, or opted in)")
    simulated: list[str] = Field(
        description='served by a simulator: any of "telegram", "sandbox", "parsing"; empty in production'
    )
    platforms: list[str] = Field(description="platforms a task may be created on")


def meta_of(settings: SettingsDep) -> Meta:
    return Meta(
        profile=settings.profile.value,
        sandbox_allowed=settings.sandbox_allowed,
        simulated=settings.simulated,
        platforms=settings.offered_platforms,
    )


@router.get("/meta", response_model=Meta)
async def get_meta(_user: CurrentUser, settings: SettingsDep) -> Meta:
    return meta_of(settings)


@router.get(
    "/meta/reasons",
    response_model=ReasonCatalogue,
    summary="Every outcome reason (error code) with its kind and a sentence in English and Russian",
)
async def get_reasons(_user: CurrentUser) -> ReasonCatalogue:
    return reasons.catalogue()
