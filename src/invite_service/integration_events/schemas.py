"""The inbound event body (docs/contracts/integration-service.yaml, ``webhooks``) and our answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from invite_service.kit.inputs import InputModel, Instant, Text
from invite_service.models.enums import Platform


class Peer(InputModel):
    """Who wrote: their Telegram user id, and the username and phone when the account can see them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    user_id: Annotated[Text, Field(pattern=r"^[0-9]{1,20}$")]
    username: Annotated[Text, Field(max_length=64)] | None = None
    phone: Annotated[Text, Field(max_length=32)] | None = None


class IntegrationEventIn(InputModel):
    # Unknown fields are ignored: the Integration Service may add some before we read them.
    model_config = ConfigDict(extra="ignore")

    id: Annotated[Text, Field(min_length=1, max_length=128, description="unique per event")]
    type: Literal["message_received"]
    platform: Platform
    account_id: Annotated[Text, Field(min_length=1, max_length=128, description="the receiving account")]
    user_id: Annotated[Text, Field(min_length=1, max_length=128, description="the account's owner")]
    peer: Peer
    # Read for the opt-out keywords only; never stored or logged.
    text: Annotated[Text, Field(max_length=4096)]
    message_id: int
    date: Instant


class IntegrationEventOut(BaseModel):
    id: str
    duplicate: bool = Field(description="true: this id was received before; nothing changed")
    replied_targets: int = Field(description="targets this account contacted that the reply was matched to")
    opted_out: bool = Field(description="the reply matched an opt-out keyword; the person is suppressed")
