"""All SQL of the suppression list; every query is scoped by the owning user."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, any_, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.kit.clock import utcnow
from invite_service.kit.pagination import SortSpec, keyset_page
from invite_service.kit.search import ESCAPE, contains_pattern
from invite_service.models import Suppression
from invite_service.models.enums import TargetKind

SORT_COLUMNS = {"created_at": Suppression.created_at, "key": Suppression.key}
# The platform column of an entry that applies to every platform (the API shows it as platform null).
# A value rather than NULL: the unique (user, platform, kind, key) constraint then also holds for it.
ALL_PLATFORMS = "*"
_IN_CHUNK = 1000  # SQLite: keys an IN list, under its bound-parameter limit


def _insert(session: AsyncSession) -> Any:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(Suppression)


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Add entries, keeping existing ones as they are (a repeat add is not an error); returns how
    many were new."""
    created = 0
    now = utcnow()
    for start in range(0, len(rows), _IN_CHUNK):
        chunk = [{**row, "created_at": now, "updated_at": now} for row in rows[start : start + _IN_CHUNK]]
        stmt = (
            _insert(session)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["user_id", "platform", "kind", "key"])
            .returning(Suppression.id)
        )
        created += len((await session.execute(stmt)).all())
    return created


# A value, or a bindparam standing for it in a statement built once (the send path's gate).
Value = str | BindParameter[str]


def applies_to(platform: Value) -> ColumnElement[bool]:
    """Entries that hold for ``platform``: its own and those for every platform."""
    return Suppression.platform.in_([platform, ALL_PLATFORMS])


async def find(session: AsyncSession, user_id: str, platform: str, kind: str, key: str) -> Suppression | None:
    stmt = select(Suppression).where(
        Suppression.user_id == user_id,
        Suppression.platform == platform,
        Suppression.kind == kind,
        Suppression.key == key,
    )
    return (await session.scalars(stmt)).one_or_none()


async def get(session: AsyncSession, user_id: str, suppression_id: int) -> Suppression | None:
    stmt = select(Suppression).where(Suppression.id == suppression_id, Suppression.user_id == user_id)
    return (await session.scalars(stmt)).one_or_none()


async def delete(session: AsyncSession, entry: Suppression) -> None:
    await session.delete(entry)
    await session.flush()


def _filtered(
    user_id: str, *, platform: str | None, kind: str | None, reason: str | None, q: str | None
) -> Select[Any]:
    stmt = select(Suppression).where(Suppression.user_id == user_id)
    if platform:
        stmt = stmt.where(applies_to(platform))
    if kind:
        stmt = stmt.where(Suppression.kind == kind)
    if reason:
        stmt = stmt.where(Suppression.reason == reason)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                Suppression.key.like(pattern, escape=ESCAPE),
                func.lower(Suppression.note).like(pattern, escape=ESCAPE),
            )
        )
    return stmt


async def list_page(
    session: AsyncSession,
    user_id: str,
    *,
    platform: str | None,
    kind: str | None,
    reason: str | None,
    q: str | None,
    sort: SortSpec,
    cursor: str | None,
    limit: int,
) -> tuple[list[Suppression], int]:
    stmt = _filtered(user_id, platform=platform, kind=kind, reason=reason, q=q)
    page = keyset_page(stmt, [SORT_COLUMNS[sort.field], Suppression.id], sort, cursor, limit)
    rows = list((await session.scalars(page)).all())
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return rows, int(total or 0)


async def export_page(
    session: AsyncSession, user_id: str, platform: str | None, after_id: int, limit: int
) -> list[Suppression]:
    stmt = _filtered(user_id, platform=platform, kind=None, reason=None, q=None)
    stmt = stmt.where(Suppression.id > after_id).order_by(Suppression.id).limit(limit)
    return list((await session.scalars(stmt)).all())


def _identity_clause(identities: Mapping[str, Value | None]) -> ColumnElement[bool] | None:
    # An empty or missing identity matches nothing (a bindparam's value is known only at execution).
    present = {kind: key for kind, key in identities.items() if isinstance(key, BindParameter) or key}
    clauses = [and_(Suppression.kind == kind, Suppression.key == key) for kind, key in present.items()]
    return or_(*clauses) if clauses else None


def matching(
    user_id: Value, platform: Value, identities: Mapping[str, Value | None]
) -> ColumnElement[bool] | None:
    """Entries of the user that match any of the identities (None: no identity to match)."""
    clause = _identity_clause(identities)
    if clause is None:
        return None
    return and_(Suppression.user_id == user_id, applies_to(platform), clause)


async def any_match(
    session: AsyncSession, user_id: str, platform: str, identities: Mapping[str, str | None]
) -> bool:
    clause = matching(user_id, platform, identities)
    if clause is None:
        return False
    return bool(await session.scalar(select(exists().where(clause))))


async def has_any(session: AsyncSession, user_id: str, platform: str) -> bool:
    stmt = select(exists().where(Suppression.user_id == user_id, applies_to(platform)))
    return bool(await session.scalar(stmt))


async def matches(
    session: AsyncSession, user_id: str, platform: str, by_kind: Mapping[str, Sequence[str]]
) -> dict[tuple[str, str], str]:
    """Which of these identities are suppressed, with the reason: one query a kind on PostgreSQL
    (``key = ANY(array)``), chunked IN lists on SQLite."""
    found: dict[tuple[str, str], str] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for kind, keys in by_kind.items():
        if not keys:
            continue
        chunks = (
            [list(keys)]
            if postgres
            else [list(keys)[i : i + _IN_CHUNK] for i in range(0, len(keys), _IN_CHUNK)]
        )
        for chunk in chunks:
            key_match = (
                Suppression.key == any_(postgresql.array(chunk)) if postgres else Suppression.key.in_(chunk)
            )
            stmt = select(Suppression.key, Suppression.reason).where(
                Suppression.user_id == user_id,
                applies_to(platform),
                Suppression.kind == kind,
                key_match,
            )
            for key, reason in await session.execute(stmt):
                found[(kind, key)] = reason
    return found


async def is_suppressed(
    session: AsyncSession,
    user_id: str,
    platform: str,
    *,
    username: str | None,
    platform_user_id: str | None,
    phone: str | None,
) -> bool:
    """Whether any of a target's identities (normalized, as targets store them) is on the owner's list."""
    identities: dict[str, str | None] = {
        TargetKind.USERNAME: username,
        TargetKind.USER_ID: platform_user_id,
        TargetKind.PHONE: phone,
    }
    return await any_match(session, user_id, platform, identities)


async def has_entries(session: AsyncSession, user_id: str, platform: str) -> bool:
    """Whether the user has any entry for the platform (imports skip matching when not)."""
    return await has_any(session, user_id, platform)


async def suppressed_among(
    session: AsyncSession, user_id: str, platform: str, by_kind: Mapping[str, set[str] | Sequence[str]]
) -> dict[tuple[str, str], str]:
    """Which of many (kind, key) identities are suppressed, with the entry's reason."""
    if not any(by_kind.values()) or not await has_any(session, user_id, platform):
        return {}
    return await matches(session, user_id, platform, {k: list(v) for k, v in by_kind.items()})
