"""``RowPlan.extract`` for a whole ``ColumnBatch`` at once (polars): the same fields, the same blank
rows skipped, the same rejections (reason and detail) as the per-row function, which stays the
reference (tests/imports/test_vector_equivalence.py holds the two equal).

Each rule of the row loop becomes a column expression: a row's first rejected cell (in column order)
is the first non-null of the per-column rejections (``coalesce``); the template fields' JSON is built
by concatenating the encoded pairs of the non-blank cells. The few values a rule cannot decide in
bulk (a full name's split, a bare contact's kind, a value JSON must escape) are decided by the
per-row helper once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

import polars as pl

from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.columnar import ColumnBatch
from invite_service.kit.tabular.mapping import (
    _KNOWN,
    _LIMITS,
    FULL_NAME,
    IDENTITY,
    IGNORE,
    NUL,
    RowPlan,
    classify_contact,
    split_full_name,
)

# What ``str.strip`` strips: Python's whitespace, which polars' default (Unicode White_Space) is not
# (it keeps the information separators U+001C-U+001F).
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
FIELDS = ("username", "user_id", "phone", "first_name", "last_name")
_JSON_ESCAPED = r'[\x00-\x1f"\\]'


def supports(plan: RowPlan) -> bool:
    """Whether a plan reads the same in bulk: fixed columns, each field from one column at most."""
    if plan.dynamic or plan.purpose != "targets":
        return False
    named = [name for name in plan.fields.values() if name != IGNORE]
    return len(named) == len(set(named))


def by_value(
    column: pl.Expr | pl.Series, frame: pl.DataFrame, fn: Callable[[str], Any], dtype: Any = pl.String
) -> pl.Series:
    """``fn`` of each row's value of ``column``, called once per distinct non-null value."""
    values = frame.select(column.alias("v")).to_series() if isinstance(column, pl.Expr) else column
    distinct = values.drop_nulls().unique().to_list()
    results = [fn(v) for v in distinct]
    return values.replace_strict(distinct, results, default=None, return_dtype=dtype)


def _json_text(values: pl.Series) -> pl.Series:
    """``encode_basestring`` of each value: quoted as it is unless JSON must escape something."""
    escaped = values.str.contains(_JSON_ESCAPED).fill_null(False)
    out = pl.DataFrame({"v": values}).select(pl.lit('"') + pl.col("v") + pl.lit('"')).to_series()
    if not escaped.any():
        return out
    special = values.filter(escaped)
    return out.scatter(escaped.arg_true(), by_value(special, pl.DataFrame(), encode_basestring))


def extract(plan: RowPlan, batch: ColumnBatch) -> tuple[pl.DataFrame, list[tuple[int, dict[str, Any]]]]:
    """The batch's non-blank lines as ``row_no``, ``reason``/``detail`` (null unless rejected), the
    fields of ``FIELDS`` and ``extra`` (JSON text); and the rows it leaves to ``plan.extract``."""
    cells, rows = batch.cells()
    limits = _LIMITS[plan.purpose]
    known = _KNOWN[plan.purpose]
    exprs: list[pl.Expr] = [pl.col("row_no")]
    blanks, reasons, details = [], [], []
    values: dict[str, pl.Expr] = {}
    extras: list[tuple[str, str]] = []  # (field, cell column) in column order
    for j, column in enumerate(batch.columns):
        cell = pl.col(f"c{j}").str.strip_chars(PY_WHITESPACE)
        cell = pl.when(cell.str.len_bytes() > 0).then(cell)
        name = plan.fields.get(column) or IGNORE
        exprs.append(cell.alias(f"v{j}"))
        present = pl.col(f"v{j}").is_not_null()
        blanks.append(present)
        nul = pl.col(f"v{j}").str.contains(NUL, literal=True)
        long, limit = pl.lit(False), None
        if name != IGNORE:
            limit = limits.get(name, bounds.MAX_FIELD_VALUE_CHARS if name not in known else None)
            if limit is not None:
                long = pl.col(f"v{j}").str.len_chars() > limit
            if name in known:
                values[name] = pl.col(f"v{j}")
            else:
                extras.append((name, f"v{j}"))
        # The row loop checks a cell for NUL first, then its length; the first bad cell decides.
        reasons.append(
            pl.when(nul)
            .then(pl.lit("malformed_row"))
            .when(long)
            .then(pl.lit("value_too_long"))
            .otherwise(None)
        )
        details.append(
            pl.when(nul)
            .then(pl.lit(f"{column}: holds a NUL character"))
            .when(long)
            .then(pl.lit(f"{column}: longer than {limit} characters"))
            .otherwise(None)
        )
    frame = cells.select(exprs)
    frame = frame.with_columns(
        pl.any_horizontal(blanks).alias("present") if blanks else pl.lit(False).alias("present"),
        pl.coalesce(reasons).alias("reason") if reasons else pl.lit(None, pl.String).alias("reason"),
        pl.coalesce(details).alias("detail") if details else pl.lit(None, pl.String).alias("detail"),
    ).filter(pl.col("present"))
    fields = {f: (values[f] if f in values else pl.lit(None, pl.String)) for f in FIELDS}
    pieces = [
        pl.when(pl.col(cell).is_not_null()).then(pl.lit(encode_basestring(name) + ":") + pl.col(f"j_{cell}"))
        for name, cell in extras
    ]
    frame = frame.with_columns([pl.Series(f"j_{cell}", _json_text(frame[cell])) for _name, cell in extras])
    if FULL_NAME in values:
        split = by_value(values[FULL_NAME], frame, lambda v: list(split_full_name(v)), pl.List(pl.String))
        frame = frame.with_columns(split.alias("split"))
        fields["first_name"] = pl.coalesce(fields["first_name"], pl.col("split").list.get(0))
        fields["last_name"] = pl.coalesce(fields["last_name"], pl.col("split").list.get(1))
        middle = pl.col("split").list.get(2)
        has_middle = [cell for name, cell in extras if name == "middle_name"]
        if len(plan._extras) < bounds.MAX_EXTRA_FIELDS:
            free = pl.col(has_middle[0]).is_null() if has_middle else pl.lit(True)
            text = by_value(middle, frame, lambda v: '"middle_name":' + encode_basestring(v))
            frame = frame.with_columns(text.alias("j_middle"))
            pieces.append(pl.when(free & (middle.str.len_bytes() > 0)).then(pl.col("j_middle")))
    if IDENTITY in values:
        kind = by_value(values[IDENTITY], frame, classify_contact)
        frame = frame.with_columns(kind.alias("contact_kind"))
        for name in ("username", "user_id", "phone"):
            mine = pl.when(pl.col("contact_kind") == name).then(values[IDENTITY])
            fields[name] = pl.coalesce(fields[name], mine)
    extra = (
        pl.lit("{") + pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("") + pl.lit("}")
        if pieces
        else pl.lit("{}")
    )
    out = frame.select(
        "row_no", "reason", "detail", *[e.alias(f) for f, e in fields.items()], extra.alias("extra")
    )
    return out, rows
