"""Where an import's rows go: a task's targets or an audience's contacts (exactly one of them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.errors import FieldError, InvalidInput
from invite_service.imports.errors import AudienceNotFound
from invite_service.stores import audiences
from invite_service.stores.tasks import get_owned


@dataclass(frozen=True)
class Destination:
    platform: str  # decides the suppression entries that apply, as a task's platform does
    task_id: uuid.UUID | None = None
    audience_id: uuid.UUID | None = None

    def ids(self) -> dict[str, str]:
        """For audit entries and notifications."""
        if self.audience_id is not None:
            return {"audience_id": str(self.audience_id)}
        return {"task_id": str(self.task_id)}


def check_one(task_id: uuid.UUID | None, audience_id: uuid.UUID | None, *, required: bool = True) -> None:
    """A 422 with a field error unless exactly one is given (or, not ``required``, at most one)."""
    if task_id is not None and audience_id is not None:
        error = FieldError(("body", "audience_id"), "give task_id or audience_id, not both")
        raise InvalidInput("An import goes into a task or an audience.", errors=[error])
    if required and task_id is None and audience_id is None:
        error = FieldError(("body", "task_id"), "give task_id or audience_id")
        raise InvalidInput("An import goes into a task or an audience.", errors=[error])


async def resolve(
    session: AsyncSession, user_id: str, task_id: uuid.UUID | None, audience_id: uuid.UUID | None
) -> Destination:
    """The user's task or audience (another user's is a 404 like a missing one)."""
    if audience_id is not None:
        audience = await audiences.get(session, user_id, audience_id)
        if audience is None:
            raise AudienceNotFound(f"No audience {audience_id}")
        return Destination(platform=audience.platform, audience_id=audience.id)
    assert task_id is not None
    task = await get_owned(session, user_id, task_id)
    return Destination(platform=task.platform, task_id=task.id)
