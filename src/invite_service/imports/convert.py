"""Rows → staged targets: extract by the plan, normalize identities, reject with a reason per row."""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any

from invite_service.imports.contact_rows import BadContactValue, refine
from invite_service.kit.tabular.mapping import Extracted, Rejection, RowPlan
from invite_service.kit.tabular.readers import RawRow
from invite_service.models.identity import NormalizeError, NumberTooShort, identity_values

# (row number, kind, key, username, platform user id, phone, first name, last name, extra JSON):
# the staging table's columns, in order.
Staged = tuple[int, str, str, str | None, str | None, str | None, str | None, str | None, str]
STAGED_COLUMNS = (
    "row_no",
    "kind",
    "key",
    "username",
    "platform_user_id",
    "phone",
    "first_name",
    "last_name",
    "extra",
)
# One encoder for every row: ``json.dumps`` with options builds a new encoder a call.
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def extra_json(extra: dict[str, Any]) -> str:
    """Template fields as JSON; text-only fields (every CSV row) skip the general encoder."""
    try:
        return (
            "{"
            + ",".join([encode_basestring(k) + ":" + encode_basestring(v) for k, v in extra.items()])
            + "}"
        )
    except TypeError:  # a number or a boolean (XLSX, JSON): not text
        return _json(extra)


_REASONS = {"username": "invalid_username", "user_id": "invalid_user_id", "phone": "invalid_phone"}


def normalize_error(exc: NormalizeError) -> tuple[str, str]:
    """(reason, detail) of a row whose identity does not normalize."""
    text = str(exc)
    field, _, message = text.partition(": ")
    if isinstance(exc, NumberTooShort):
        return "number_too_short", message
    if field in _REASONS and message:
        return _REASONS[field], message
    return "no_identity", text


def to_staged(number: int, values: Extracted, region: str) -> Staged:
    kind, key, username, user_id, phone = identity_values(
        username=values.username, user_id=values.user_id, phone=values.phone, default_region=region
    )
    extra = extra_json(values.extra) if values.extra else "{}"
    return (number, kind, key, username, user_id, phone, values.first_name, values.last_name, extra)


def convert_chunk(
    plan: RowPlan, rows: Iterable[RawRow], region: str, *, contacts: bool = False
) -> tuple[list[Staged], list[dict[str, Any]], list[Rejection]]:
    """Valid rows, the raw values of each (for a later suppression rejection), and rejected rows;
    ``contacts``: an audience's rows, whose consent and tags are read too (``contact_rows``).

    Two parallel lists, not pairs: a pair holding a dict stays in the garbage collector's care, and a
    chunk's worth of them living that long cost a tenth more CPU in full collections."""
    valid: list[Staged] = []
    raws: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    for number, raw in rows:
        values = plan.extract(number, raw)
        if values is None:
            continue
        if isinstance(values, Rejection):
            rejected.append(values)
            continue
        try:
            if contacts:
                refine(values)
            valid.append(to_staged(number, values, region))
        except NormalizeError as exc:
            reason, detail = normalize_error(exc)
            rejected.append(Rejection(number, reason, detail, raw))
        except BadContactValue as exc:
            rejected.append(Rejection(number, exc.reason, exc.detail, raw))
        else:
            raws.append(raw)
    return valid, raws, rejected
