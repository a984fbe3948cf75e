"""Request bodies of the contract (``UserRef`` is exactly one identity)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Platform = Literal["telegram", "sandbox"]


class UserRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    username: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, pattern=r"^\+\d{6,15}$")

    @model_validator(mode="after")
    def _exactly_one(self) -> UserRef:
        if sum(v is not None for v in (self.user_id, self.username, self.phone)) != 1:
            raise ValueError("give exactly one of user_id, username, phone")
        return self

    def wire(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat: str = Field(min_length=1)
    users: list[UserRef] = Field(min_length=1, max_length=200)


class MessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    peer: UserRef
    text: str = Field(min_length=1, max_length=4096)
