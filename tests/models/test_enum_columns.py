"""Enum-typed status columns: Python reads and writes enums, the rows keep the plain strings."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from invite_service.models import InviteTask, Lane
from invite_service.models.base import Base
from invite_service.models.enums import LaneStatus, Platform, Priority, TaskAction, TaskStatus


def _task(**values: object) -> InviteTask:
    return InviteTask(
        id=uuid.uuid4(),
        user_id="u",
        name="t",
        platform=Platform.SANDBOX,
        action=TaskAction.INVITE_OR_MESSAGE,
        priority=Priority.NORMAL,
        settings={},
        **values,
    )


def test_enum_columns_store_the_plain_value_and_read_the_enum() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        task = _task(status=TaskStatus.PAUSED)
        session.add(task)
        session.flush()
        session.add(Lane(task_id=task.id, account_id="a", status="cooling_down"))
        session.commit()
        raw = session.execute(text("SELECT status, action, platform FROM invite_tasks")).one()
        assert tuple(raw) == ("paused", "invite_or_message", "sandbox")
        assert type(raw[0]) is str
        session.expunge_all()
        loaded = session.scalars(select(InviteTask)).one()
        assert loaded.status is TaskStatus.PAUSED and loaded.action is TaskAction.INVITE_OR_MESSAGE
        assert loaded.platform is Platform.SANDBOX
        lane = session.scalars(select(Lane)).one()
        assert lane.status is LaneStatus.COOLING_DOWN  # a plain string is accepted when it is a member
        assert (
            session.scalar(select(InviteTask.id).where(InviteTask.status == TaskStatus.PAUSED)) == loaded.id
        )


def test_a_value_outside_the_enum_is_refused() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(_task(status="sleeping"))
        with pytest.raises(StatementError):
            session.flush()
