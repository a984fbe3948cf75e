"""The execution log counted per task and closed hour: what ``/stats`` reads instead of the log."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.models.base import Base

# The log's NULL account and error code are stored as '' so the primary key (every column a group)
# can be upserted: NULLs are never equal in a unique key. The stats treat '' and NULL alike.
NONE = ""


class TaskStatsHour(Base):
    """Log rows of one task in one closed hour, counted by account, action, outcome and error code.

    Filled at read time (statistics/rollup.py) for hours the log can no longer change, so the send path
    writes nothing more; a row is never updated, only inserted once (an upsert that skips duplicates).
    """

    __tablename__ = "task_stats_hourly"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # hours since 1970 (UTC)
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    error_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
