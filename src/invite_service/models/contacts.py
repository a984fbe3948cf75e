"""Contacts (a user's known people, one row a person and platform), their tags, audiences (named
lists of contacts) and the audiences a task includes or excludes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invite_service.kit.clock import utcnow
from invite_service.models.base import Base, BigId, JSONType, StrEnumType, TimestampMixin, UTCDateTime
from invite_service.models.enums import TargetKind


class Contact(TimestampMixin, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    # The primary identity, normalized exactly like a target's (kind + key).
    kind: Mapped[TargetKind] = mapped_column(StrEnumType(TargetKind, 16), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    # Every identity known, normalized: a later row sharing any of them merges into this contact.
    username: Mapped[str | None] = mapped_column(String(64))
    platform_user_id: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    consent_source: Mapped[str | None] = mapped_column(String(64))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("user_id", "platform", "kind", "key", name="uq_contacts_identity"),
        Index("ix_contacts_username", "user_id", "platform", "username"),
        Index("ix_contacts_platform_user_id", "user_id", "platform", "platform_user_id"),
        Index("ix_contacts_phone", "user_id", "platform", "phone"),
        Index("ix_contacts_user_created", "user_id", "created_at", "id"),
    )


class ContactTag(Base):
    __tablename__ = "contact_tags"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    # Trimmed and lower-cased, 1-64 characters.
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_contact_tags_tag", "tag", "contact_id"),)


class Audience(TimestampMixin, Base):
    __tablename__ = "audiences"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False)
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_audiences_name"),
        Index("ix_audiences_user_created", "user_id", "created_at", "id"),
    )


class AudienceMember(Base):
    __tablename__ = "audience_members"

    audience_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (Index("ix_audience_members_contact", "contact_id"),)


class TaskAudience(Base):
    """An audience a task draws targets from ("include") or leaves out ("exclude")."""

    __tablename__ = "task_audiences"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("invite_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    # RESTRICT: an audience in use by a task is not deleted from under it (the API answers 409 first).
    audience_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("audiences.id", ondelete="RESTRICT"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(8), nullable=False)


def normalize_tag(raw: str) -> str:
    """A tag as stored: trimmed and lower-cased; ``ValueError`` unless 1-64 characters remain."""
    tag = raw.strip().lower()
    if not 1 <= len(tag) <= 64:
        raise ValueError("a tag is 1-64 characters")
    return tag
