"""The service's own small database: accounts (encrypted sessions), operation keys, the reply outbox.

SQLite by default, PostgreSQL by URL (``postgresql+asyncpg://``); Alembic migrations live in
``integration_service/migrations`` with their own version table, so the service may share a
PostgreSQL database with the Invite Service without the two migration chains meeting.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from invite_service.db import make_engine

VERSION_TABLE = "integration_alembic_version"

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(128), nullable=False, index=True),  # the owner (an Invite Service user)
    Column("platform", String(16), nullable=False, default="telegram"),
    Column("label", String(128), nullable=False),
    Column("telegram_user_id", String(20)),
    Column("username", String(64)),
    Column("is_premium", Boolean, nullable=False, default=False),
    Column("phone_hint", String(2)),  # the last two digits only: enough to tell accounts apart
    Column("session_ciphertext", LargeBinary),  # Fernet(StringSession); NULL once logged out
    Column("status", String(16), nullable=False, default="active"),
    Column("status_detail", String(256)),
    Column("flood_wait_until", DateTime(timezone=True)),
    Column("restricted_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

operations = Table(
    "operations",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("fingerprint", String(256), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # in_progress | completed
    Column("result_status", Integer),
    Column("result_body", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), index=True),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", String(128), primary_key=True),  # the event id: "<account_id>:<message_id>"
    Column("account_id", String(64), nullable=False),
    Column("body", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
)


def engine_for(url: str) -> AsyncEngine:
    return make_engine(url, pool_size=5)


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
