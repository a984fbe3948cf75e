"""The merge of an import into an audience: staged rows → contacts, their tags, the audience's members.

Set-based SQL in the job's one merge transaction (``pipeline.merge``), on SQLite and PostgreSQL alike:

1. a row repeating an earlier row's identity is dropped from the staging (it is listed in rejected.csv
   first, as for a task);
2. each row is matched to the user's oldest contact on the platform that provably is the same person:
   it shares the primary identity or any of username / user id / phone (the merge rule);
3. rows that match none become contacts: those that no earlier unmatched row shares an identity with
   (``INSERT … SELECT … ON CONFLICT DO NOTHING``), then 2 again, so a later row of the same person in
   the same file merges into the contact its earlier row made; repeated until every row has its contact;
4. each contact gets what it lacks from its rows (identities, names, template fields, consent; its own
   values are kept) in one ``UPDATE``;
5. the rows' tags go into ``contact_tags`` and their contacts into ``audience_members`` (both
   ``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    CursorResult,
    Index,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from invite_service.imports.contact_rows import CONSENT_KEY, TAGS_KEY
from invite_service.models import AudienceMember, Contact, ContactTag

CONSENT_SOURCE = "import"
# Each round settles at least the earliest unmatched row; a file needs as many rounds as its longest
# chain of rows linked only through each other (in practice one or two). The bound is a safety net.
MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class ContactCounts:
    rows: int  # staged rows left after dropping repeats: each is a contact created or merged into
    created: int
    added: int  # contacts that joined the audience

    @property
    def merged(self) -> int:
        return self.rows - self.created


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class _Sql:
    """The JSON and time expressions that differ between the two databases."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        self.insert = postgresql.insert if self.postgres else sqlite.insert

    def consent(self, extra: Any) -> ColumnElement[Any]:
        """The row's consent time (staged as naive UTC text, ``contact_rows.STAGED_FORMAT``)."""
        if self.postgres:
            text_value = extra.op("->>")(literal_column(f"'{CONSENT_KEY}'"))
            return func.timezone(literal_column("'UTC'"), text_value.cast(TIMESTAMP()))
        # SQLite's DATETIME columns hold exactly this text.
        return func.json_extract(extra, literal_column(f"'$.\"{CONSENT_KEY}\"'"))

    def fields(self, extra: Any) -> ColumnElement[Any]:
        """The row's template fields: its staged JSON without the consent and tags keys."""
        if self.postgres:
            return cast(
                ColumnElement[Any],
                extra.op("-")(literal_column(f"'{CONSENT_KEY}'")).op("-")(literal_column(f"'{TAGS_KEY}'")),
            )
        paths: list[ColumnElement[Any]] = [
            literal_column(f"'$.\"{key}\"'") for key in (CONSENT_KEY, TAGS_KEY)
        ]
        return func.json_remove(extra, *paths)

    def fill_fields(self, new: ColumnElement[Any], have: Any) -> ColumnElement[Any]:
        """``have`` with the keys of ``new`` it lacks (its own values win)."""
        if self.postgres:
            return cast(ColumnElement[Any], func.coalesce(new, literal_column("'{}'::jsonb")).op("||")(have))
        return func.json_patch(func.coalesce(new, "{}"), have)

    def tags(self, extra: Any) -> Any:
        if self.postgres:
            return func.jsonb_array_elements_text(
                extra.op("->")(literal_column(f"'{TAGS_KEY}'"))
            ).table_valued("value")
        return func.json_each(extra, literal_column(f"'$.\"{TAGS_KEY}\"'")).table_valued("value")


async def merge_contacts(
    session: AsyncSession,
    stage: Table,
    *,
    user_id: str,
    platform: str,
    audience_id: uuid.UUID,
    now: datetime,
) -> ContactCounts:
    """Everything an audience import writes (after ``report_duplicates`` listed the repeats)."""
    sql = _Sql(session.get_bind().dialect.name)
    firsts = select(func.min(stage.c.row_no)).group_by(stage.c.kind, stage.c.key)
    await session.execute(delete(stage).where(stage.c.row_no.not_in(firsts)))
    await _index(session, stage, ("username", "platform_user_id", "phone"), "i")
    rows = int(await session.scalar(select(func.count()).select_from(stage)) or 0)
    created = 0
    for _round in range(MAX_ROUNDS):
        await _match(session, stage, user_id, platform)
        if not await session.scalar(select(exists().where(stage.c.contact_id.is_(None)))):
            break
        created += await _create(session, stage, sql, user_id=user_id, platform=platform, now=now)
    else:  # pragma: no cover - each round settles a row at least
        raise RuntimeError("contact merge did not settle")
    await _index(session, stage, ("contact_id",), "c")
    await _fill(session, stage, sql, user_id, now)
    tags = sql.tags(stage.c.extra)
    # Each INSERT … SELECT has a WHERE: SQLite would read its ON CONFLICT as a join's ON otherwise.
    tagged = (
        select(stage.c.contact_id, tags.c.value)
        .select_from(stage)
        .join(tags, true())
        .where(stage.c.contact_id.is_not(None))
        .distinct()
    )
    await session.execute(
        sql.insert(ContactTag).from_select(["contact_id", "tag"], tagged).on_conflict_do_nothing()
    )
    members = (
        select(
            literal(audience_id, type_=AudienceMember.audience_id.type),
            stage.c.contact_id,
            literal(now, type_=AudienceMember.added_at.type),
        )
        .where(stage.c.contact_id.is_not(None))
        .distinct()
    )
    result = await session.execute(
        sql.insert(AudienceMember)
        .from_select(["audience_id", "contact_id", "added_at"], members)
        .on_conflict_do_nothing()
    )
    return ContactCounts(rows=rows, created=created, added=_rowcount(result))


async def _index(session: AsyncSession, stage: Table, columns: tuple[str, ...], tag: str) -> None:
    """Index the staging for the lookups that follow (it is a heap until now). PostgreSQL gets the
    table's statistics too: autovacuum never analyzes a temporary table, and without them (or with
    stale ones: ``contact_id`` all NULL before the rounds) it scans instead. SQLite without statistics
    takes an equality on an indexed column as selective, which these lookups are."""
    conn = await session.connection()
    for n, column in enumerate(columns):
        # Named after the staging table (unique to the job), within PostgreSQL's 63 characters.
        index = Index(f"ix_{stage.name}_{tag}{n}", stage.c[column])
        await conn.run_sync(index.create)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ANALYZE {stage.name}"))


async def _match(session: AsyncSession, stage: Table, user_id: str, platform: str) -> None:
    """Each unmatched row's oldest contact sharing an identity, by joins (``UPDATE … FROM``): a
    correlated lookup a row is planned from the contacts' statistics, which predate this transaction's
    inserts on PostgreSQL (a scan of the user's contacts a row, once the first round made them)."""
    s = stage.alias("s")
    mine = (Contact.user_id == user_id, Contact.platform == platform)
    same = [
        and_(Contact.kind == s.c.kind, Contact.key == s.c.key),
        Contact.username == s.c.username,
        Contact.platform_user_id == s.c.platform_user_id,
        Contact.phone == s.c.phone,
    ]
    pairs = union_all(
        *(
            select(s.c.row_no, Contact.id.label("id"))
            .join(Contact, and_(*mine, on))
            .where(s.c.contact_id.is_(None))
            for on in same
        )
    ).subquery("pairs")
    oldest = (
        select(pairs.c.row_no, func.min(pairs.c.id).label("id")).group_by(pairs.c.row_no).subquery("oldest")
    )
    await session.execute(
        update(stage).where(stage.c.row_no == oldest.c.row_no).values(contact_id=oldest.c.id)
    )


async def _create(
    session: AsyncSession, stage: Table, sql: _Sql, *, user_id: str, platform: str, now: datetime
) -> int:
    """Contacts from the unmatched rows no earlier unmatched row shares an identity with; how many."""
    row, earlier = stage.alias("row"), stage.alias("earlier")
    # One EXISTS an identity, each an index lookup (SQLite scans for an OR inside one EXISTS).
    linked = or_(
        *(
            exists().where(
                earlier.c[name] == row.c[name],
                earlier.c.contact_id.is_(None),
                earlier.c.row_no < row.c.row_no,
            )
            for name in ("username", "platform_user_id", "phone")
        )
    )
    consent = sql.consent(row.c.extra)
    src = (
        select(
            literal(user_id, type_=Contact.user_id.type),
            literal(platform, type_=Contact.platform.type),
            row.c.kind,
            row.c.key,
            row.c.username,
            row.c.platform_user_id,
            row.c.phone,
            row.c.first_name,
            row.c.last_name,
            sql.fields(row.c.extra),
            consent,
            case((consent.is_not(None), literal(CONSENT_SOURCE, type_=String())), else_=None),
            literal(now, type_=Contact.created_at.type),
            literal(now, type_=Contact.updated_at.type),
        )
        .where(row.c.contact_id.is_(None), ~linked)
        .order_by(row.c.row_no)
    )
    columns = [
        "user_id",
        "platform",
        "kind",
        "key",
        "username",
        "platform_user_id",
        "phone",
        "first_name",
        "last_name",
        "fields",
        "consent_at",
        "consent_source",
        "created_at",
        "updated_at",
    ]
    stmt = sql.insert(Contact).from_select(columns, src).on_conflict_do_nothing()
    return _rowcount(await session.execute(stmt))


async def _fill(session: AsyncSession, stage: Table, sql: _Sql, user_id: str, now: datetime) -> None:
    """Each contact of the file gets what it lacks from its rows, earliest row first."""
    s = stage.alias("s")

    def first(value: ColumnElement[Any]) -> Any:
        return (
            select(value)
            .where(s.c.contact_id == Contact.id, value.is_not(None))
            .order_by(s.c.row_no)
            .limit(1)
            .scalar_subquery()
        )

    consent = first(sql.consent(s.c.extra))
    fields = first(sql.fields(s.c.extra))
    values: dict[str, Any] = {
        name: func.coalesce(getattr(Contact, name), first(s.c[name]))
        for name in ("username", "platform_user_id", "phone", "first_name", "last_name")
    }
    values["fields"] = sql.fill_fields(fields, Contact.fields)
    values["consent_at"] = func.coalesce(Contact.consent_at, consent)
    values["consent_source"] = _fill_source(consent)
    values["updated_at"] = now
    stmt = (
        update(Contact)
        .where(Contact.user_id == user_id, Contact.id.in_(select(stage.c.contact_id)))
        .values(**values)
    )
    await session.execute(stmt)


def _fill_source(consent: Any) -> ColumnElement[Any]:
    return case(
        (and_(Contact.consent_at.is_(None), consent.is_not(None)), literal(CONSENT_SOURCE, type_=String())),
        else_=Contact.consent_source,
    )
