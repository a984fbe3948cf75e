"""A chunk of rows → staged targets in bulk (polars): ``convert.convert_chunk``'s rules, column-wise.

A CSV's plain lines come as a ``ColumnBatch`` (``kit/tabular/columnar``); ``bulk.extract`` reads them
by the plan, then each identity normalizes column-wise: the usual shapes (a plain username, an
ASCII user id of five digits or more) by a pattern, everything else (phone numbers, links, invalid
values) by the per-row function once per distinct value. ``convert.convert_chunk`` stays the
reference: tests/imports/test_vector_equivalence.py holds the two equal, row for row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import polars as pl

from invite_service.imports.contact_rows import CONSENT_FIELDS, TAGS_FIELD
from invite_service.imports.convert import Staged, normalize_error
from invite_service.imports.convert import convert_chunk as convert_rows
from invite_service.kit.tabular import bulk
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.mapping import Rejection, RowPlan
from invite_service.kit.tabular.readers import RawRow
from invite_service.models.identity import MIN_TARGET_USER_ID_DIGITS, NormalizeError, identity_values

_PLAIN_USERNAME = r"^@?[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$"
_PLAIN_USER_ID = r"^[0-9]{1,20}$"
_IDENTITIES = ("user_id", "username", "phone")  # the order ``identity_values`` checks them in
_SLOT = {"username": 2, "user_id": 3, "phone": 4}


class Raws(Sequence[dict[str, Any]]):
    """The raw row of each valid row, made only when asked for (a suppression match)."""

    def __init__(self, batch: ColumnBatch, items: list[int | dict[str, Any]]) -> None:
        self._batch = batch
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._resolve(item) for item in self._items[index]]
        return self._resolve(self._items[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._resolve(item) for item in self._items)

    def _resolve(self, item: int | dict[str, Any]) -> dict[str, Any]:
        return item if isinstance(item, dict) else self._batch.raw(item - self._batch.start)


def _one(field: str, region: str) -> Any:
    """The per-row normalizer of one identity field: [value, reason, detail]."""

    def normalize(value: str) -> list[str | None]:
        given: dict[str, str | None] = {"username": None, "user_id": None, "phone": None, field: value}
        try:
            values = identity_values(**given, default_region=region)
        except NormalizeError as exc:
            return [None, *normalize_error(exc)]
        return [values[_SLOT[field]], None, None]

    return normalize


def _no_identity(region: str) -> tuple[str, str]:
    try:
        identity_values(username=None, user_id=None, phone=None, default_region=region)
    except NormalizeError as exc:
        return normalize_error(exc)
    raise AssertionError("a row without an identity normalized")  # pragma: no cover


def _normalized(frame: pl.DataFrame, field: str, region: str) -> pl.DataFrame:
    """``field``'s normalized value, and its rejection's reason and detail, for every row."""
    values = frame[field]
    if field == "username":
        plain = values.str.contains(_PLAIN_USERNAME).fill_null(False)
        quick = values.str.strip_prefix("@").str.to_lowercase()
    elif field == "user_id":
        digits = values.str.strip_chars_start("0")
        long_enough = digits.str.len_chars() >= MIN_TARGET_USER_ID_DIGITS
        plain = (values.str.contains(_PLAIN_USER_ID) & long_enough).fill_null(False)
        quick = digits
    else:  # phone numbers: phonenumbers decides, once per distinct number
        plain = pl.repeat(False, len(values), eager=True)
        quick = values
    slow = values.zip_with(~plain, pl.repeat(None, len(values), dtype=pl.String, eager=True))
    decided = bulk.by_value(slow, frame, _one(field, region), pl.List(pl.String))
    return pl.DataFrame(
        {
            "value": quick.zip_with(plain, decided.list.get(0)),
            "reason": decided.list.get(1),
            "detail": decided.list.get(2),
        }
    )


def convert_batch(
    plan: RowPlan, batch: ColumnBatch, region: str, *, contacts: bool = False
) -> tuple[list[Staged], Sequence[dict[str, Any]], list[Rejection]]:
    """``convert_chunk`` of a batch, in bulk; a plan bulk does not read the same goes row by row."""
    refined = contacts and any(f in (*CONSENT_FIELDS, TAGS_FIELD) for f in plan.fields.values())
    if refined or not bulk.supports(plan):
        return convert_rows(plan, batch.raw_rows(), region, contacts=contacts)
    frame, rows = bulk.extract(plan, batch)
    ids = {field: _normalized(frame, field, region) for field in _IDENTITIES}
    missing, missing_detail = _no_identity(region)
    user_id, username, phone = (ids[f]["value"] for f in _IDENTITIES)
    kind = (
        pl.when(pl.col("user_id").is_not_null())
        .then(pl.lit("user_id"))
        .when(pl.col("username").is_not_null())
        .then(pl.lit("username"))
        .when(pl.col("phone").is_not_null())
        .then(pl.lit("phone"))
    )
    none = pl.col("user_id").is_null() & pl.col("username").is_null() & pl.col("phone").is_null()
    frame = frame.with_columns(
        user_id.alias("user_id"),
        username.alias("username"),
        phone.alias("phone"),
        pl.coalesce(
            "reason", *[ids[f]["reason"] for f in _IDENTITIES], pl.when(none).then(pl.lit(missing))
        ).alias("reason"),
        pl.coalesce(
            "detail", *[ids[f]["detail"] for f in _IDENTITIES], pl.when(none).then(pl.lit(missing_detail))
        ).alias("detail"),
    ).with_columns(kind.alias("kind"))
    frame = frame.with_columns(pl.coalesce("user_id", "username", "phone").alias("key"))
    good = frame.filter(pl.col("reason").is_null())
    valid: list[Staged] = good.select(
        "row_no", "kind", "key", "username", "user_id", "phone", "first_name", "last_name", "extra"
    ).rows()
    items: list[int | dict[str, Any]] = good["row_no"].to_list()
    bad = frame.filter(pl.col("reason").is_not_null()).select("row_no", "reason", "detail").rows()
    rejected = [Rejection(n, reason, detail, batch.raw(n - batch.start)) for n, reason, detail in bad]
    if rows:  # rows read by the per-row rules (a headerless first row, values right of the header)
        more, more_raws, more_rejected = convert_rows(plan, rows, region, contacts=contacts)
        merged = sorted(zip(valid + more, items + list(more_raws), strict=True), key=lambda p: p[0][0])
        valid, items = [p[0] for p in merged], [p[1] for p in merged]
        rejected = sorted(rejected + more_rejected, key=lambda r: r.row)
    return valid, Raws(batch, items), rejected


def convert_chunk(
    plan: RowPlan, rows: Iterable[RawRow] | ColumnBatch, region: str, *, contacts: bool = False
) -> tuple[list[Staged], Sequence[dict[str, Any]], list[Rejection]]:
    """A chunk's valid rows, their raw rows and its rejected rows: a ``ColumnBatch`` in bulk, any
    other rows by the per-row reference (``convert.convert_chunk``)."""
    if isinstance(rows, ColumnBatch):
        return convert_batch(plan, rows, region, contacts=contacts)
    return convert_rows(plan, rows, region, contacts=contacts)
