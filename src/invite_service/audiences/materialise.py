"""Materialising a task's audiences into targets: on start, when a scheduled task starts, and on resume
for a task that takes in new contacts. One INSERT … SELECT (stores/task_audiences.py), never a loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.models import InviteTask
from invite_service.models.task_settings import AudienceRules, TaskSettings
from invite_service.stores import task_audiences
from invite_service.stores.task_audiences import Draw


def rules(task: InviteTask) -> AudienceRules:
    return TaskSettings.model_validate(task.settings).audience_rules or AudienceRules()


async def draw_of(session: AsyncSession, task: InviteTask) -> Draw | None:
    """Who the saved task draws (None: it uses no audience)."""
    selection = (await task_audiences.selections(session, [task.id])).get(task.id)
    if selection is None or not selection.include:
        return None
    return Draw(task.user_id, task.platform, selection.include, selection.exclude, rules(task).exclude_tags)


async def materialise(session: AsyncSession, task: InviteTask, now: datetime) -> int:
    """Add the audiences' contacts the task does not have yet; returns how many targets were added."""
    draw = await draw_of(session, task)
    if draw is None:
        return 0
    return await task_audiences.materialise(session, task.id, draw, now)


def takes_new_contacts(task: InviteTask) -> bool:
    return rules(task).include_new_contacts
