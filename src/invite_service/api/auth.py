"""Token minting for the embedded profile only (the route is not mounted elsewhere)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from invite_service.api.deps import SettingsDep
from invite_service.api.params import UNREADABLE_BODY
from invite_service.auth.jwt import mint_token
from invite_service.kit.inputs import InputModel

router = APIRouter(prefix="/auth", tags=["auth"])


class DevLoginIn(InputModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: str


@router.post("/dev-login", response_model=TokenOut, responses=UNREADABLE_BODY)
async def dev_login(body: DevLoginIn, settings: SettingsDep) -> TokenOut:
    token = mint_token(body.user, settings)
    return TokenOut(access_token=token, expires_in=settings.dev_token_ttl_seconds, user=body.user)
