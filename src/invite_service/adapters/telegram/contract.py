"""The request bodies of the Integration Service contract (``docs/contracts/integration-service.yaml``), as
its servers validate them: the sandbox server here and the reference service (``integration_service``) share
them, so both refuse the same bodies (``additionalProperties: false``; a ``UserRef`` is exactly one identity).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


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

    def key(self) -> str:
        """The one identity given, as a plain key (``@`` dropped from a username)."""
        return self.user_id or self.phone or (self.username or "").lstrip("@")

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
