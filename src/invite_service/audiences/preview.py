"""The contact policy's API (the user's policy) and the audience preview: how many people a task would
draw and how many of them the send-time rules would skip now. The counts come from the predicate
materialising inserts with (stores/task_audiences.py), so the preview's ``targets`` is what start adds."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, StrictBool, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.audiences import materialise
from invite_service.audiences.policy import channel, effective
from invite_service.errors import InvalidInput
from invite_service.invite_tasks.audiences import audience_errors, override_errors
from invite_service.models import InviteTask
from invite_service.models.contact_policy import EffectivePolicy
from invite_service.models.enums import Platform, TaskAction, first_step
from invite_service.models.task_settings import AudienceSelection, ContactPolicyOverride, StrictModel
from invite_service.stores import contact_marks, task_audiences
from invite_service.stores.tasks import get_owned


class ContactPolicyIn(StrictModel):
    message_cooldown_days: StrictInt = Field(ge=0, le=3650, description="0: no cap")
    invite_cooldown_days: StrictInt | None = Field(
        ge=0, le=3650, description="null: never invite a person to the same chat twice; 0: no cap"
    )
    require_consent: StrictBool  # 0 or "true" is a 422


class ContactPolicyOut(ContactPolicyIn):
    pass


class AudiencePreviewIn(StrictModel):
    platform: Platform
    action: TaskAction = TaskAction.MESSAGE
    destination: str | None = Field(default=None, max_length=255)
    audiences: AudienceSelection
    contact_policy: ContactPolicyOverride | None = None


class AudiencePreview(BaseModel):
    contacts: int = Field(description="distinct contacts in the included audiences")
    excluded_by_audience: int
    excluded_by_tag: int = Field(description="left out by a tag (and not already by an audience)")
    suppressed: int = Field(description="of targets: on the do-not-contact list (skipped at send time)")
    contacted_recently: int = Field(description="of targets: within the cooldown now (skipped at send time)")
    no_consent: int = Field(description="of targets: no consent while it is required (skipped at send time)")
    targets: int = Field(description="what materialising now would add to the task")
    message_cooldown_days: int
    invite_cooldown_days: int | None
    require_consent: bool


def _out(policy: EffectivePolicy) -> ContactPolicyOut:
    return ContactPolicyOut(
        message_cooldown_days=policy.message_cooldown_days,
        invite_cooldown_days=policy.invite_cooldown_days,
        require_consent=policy.require_consent,
    )


async def get_policy(session: AsyncSession, user_id: str) -> ContactPolicyOut:
    return _out(await contact_marks.policy(session, user_id))


async def put_policy(session: AsyncSession, user_id: str, body: ContactPolicyIn) -> ContactPolicyOut:
    policy = EffectivePolicy(body.message_cooldown_days, body.invite_cooldown_days, body.require_consent)
    await contact_marks.put_policy(session, user_id, policy)
    return _out(policy)


async def _preview(
    session: AsyncSession,
    draw: task_audiences.Draw,
    task_id: uuid.UUID | None,
    action: TaskAction,
    destination: str | None,
    policy: EffectivePolicy,
    now: datetime,
) -> AudiencePreview:
    step = first_step(action)
    counts = await task_audiences.counts(
        session,
        draw,
        task_id=task_id,
        channel=channel(step, destination),
        cooldown_days=policy.cooldown_days(action.invites),
        require_consent=policy.require_consent,
        now=now,
    )
    return AudiencePreview(
        contacts=counts.contacts,
        excluded_by_audience=counts.excluded_by_audience,
        excluded_by_tag=counts.excluded_by_tag,
        suppressed=counts.suppressed,
        contacted_recently=counts.contacted_recently,
        no_consent=counts.no_consent,
        targets=counts.targets,
        **_out(policy).model_dump(),
    )


async def preview(
    session: AsyncSession, user_id: str, body: AudiencePreviewIn, now: datetime
) -> AudiencePreview:
    user_policy = await contact_marks.policy(session, user_id)
    errors = await audience_errors(session, user_id, body.platform.value, body.audiences)
    errors += override_errors(user_policy, body.contact_policy, ("body", "contact_policy"))
    if errors:
        raise InvalidInput("The preview is not valid; see errors.", errors=errors)
    policy = user_policy
    if body.contact_policy is not None:
        o = body.contact_policy
        policy = user_policy.tightened(o.message_cooldown_days, o.invite_cooldown_days, o.require_consent)
    sel = body.audiences
    draw = task_audiences.Draw(user_id, body.platform.value, sel.include, sel.exclude, sel.exclude_tags)
    return await _preview(session, draw, None, body.action, body.destination, policy, now)


async def task_preview(
    session: AsyncSession, user_id: str, task_id: uuid.UUID, now: datetime
) -> AudiencePreview:
    task: InviteTask = await get_owned(session, user_id, task_id)
    policy = effective(await contact_marks.policy(session, user_id), task)
    draw = await materialise.draw_of(session, task)
    if draw is None:  # no audience: nothing to draw
        draw = task_audiences.Draw(user_id, task.platform, [])
    return await _preview(session, draw, task.id, TaskAction(task.action), task.destination, policy, now)
