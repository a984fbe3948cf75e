"""Migrations: upgrade head on an empty database, downgrade to base, and models == migrations."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from invite_service.db import make_engine
from invite_service.migrations import runner
from invite_service.models import Base
from tests.conftest import PG_ADMIN_URL, _pg_admin, require_service


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            tables = await conn.run_sync(_tables)
    finally:
        await engine.dispose()
    return diff, tables


def _partial_indexes(conn: Connection) -> dict[str, str | None]:
    """Each index's WHERE clause as the database has it (None: a full index)."""
    out: dict[str, str | None] = {}
    for table in _tables(conn):
        for index in inspect(conn).get_indexes(table):
            out[str(index["name"])] = index.get("dialect_options", {}).get("postgresql_where")
    return out


def _model_partial_indexes() -> dict[str, str]:
    return {
        str(index.name): str(where)
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if (where := index.dialect_options["postgresql"].get("where")) is not None
    }


async def _where_clauses(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_partial_indexes)
    finally:
        await engine.dispose()


def _roundtrip(url: str) -> None:
    runner.upgrade(url)
    diff, tables = asyncio.run(_inspect(url))
    assert diff == [], f"models and migrations disagree: {diff}"
    if url.startswith("postgresql"):
        # compare_metadata does not look at partial-index conditions: check them here.
        model = _model_partial_indexes()
        database = {name: where for name, where in asyncio.run(_where_clauses(url)).items() if where}
        assert model and database == {name: f"({where})" for name, where in model.items()}
    assert tables == set(Base.metadata.tables)
    runner.downgrade(url, "base")
    _, tables = asyncio.run(_inspect(url))
    assert tables == set()
    runner.upgrade(url)  # and back up again, as a deploy after a rollback would
    diff, _ = asyncio.run(_inspect(url))
    assert diff == []


def test_sqlite_upgrade_downgrade_and_agreement(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")


def test_postgres_upgrade_downgrade_and_agreement() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"invite_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        _roundtrip(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(runner.__file__).parent / "versions").glob("*.py"))
)
def test_migration_files_do_not_import_models(name: str) -> None:
    # A migration must keep meaning what it meant when written, whatever the models become.
    text = (Path(runner.__file__).parent / "versions" / name).read_text()
    assert "invite_service" not in text
