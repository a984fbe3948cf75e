"""Columns → fields: headers map by themselves (English and Russian), any other column becomes a
template field with an identifier name, and an explicit ``mapping`` overrides either.

A full-name column (``ФИО``, ``Full name``, ``Имя Фамилия``, or one mapped to ``full_name``) is split
into first and last name (``split_full_name``); a few common CRM columns keep a fixed field name
(``Почта``/``E-mail`` → ``email``, ``Дата согласия`` → ``consent_date``, ``Теги`` → ``tags``) so
templates, reports and audience imports (which read consent and tags from them) can count on it.

A file whose first row is already a contact (``@name``, ``+7…``, a numeric id) has no header: its first
column is read as ``identity`` (a ``+``/punctuated number is a phone, digits a user id, else a username).
"""

# ruff: noqa: RUF001 - the Cyrillic letters in the aliases and the transliteration table are meant.
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from invite_service.errors import FieldError, InvalidInput
from invite_service.kit.tabular import bounds
from invite_service.kit.tabular.errors import NoIdentityColumn
from invite_service.kit.tabular.readers import ROW_ERROR, Reader

Purpose = Literal["targets", "suppressions"]
IDENTITY_FIELDS = ("username", "user_id", "phone")
STANDARD_FIELDS = (*IDENTITY_FIELDS, "first_name", "last_name")
IDENTITY = "identity"
IGNORE = "ignore"
FULL_NAME = "full_name"
SUPPRESSION_FIELDS = ("reason", "note")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_ALIASES: dict[str, tuple[str, ...]] = {
    "username": (
        "username", "user_name", "user", "login", "nick", "nickname", "handle", "telegram", "tg",
        "telegram_username", "tg_username", "ник", "никнейм", "логин", "юзернейм", "имя_пользователя",
        "пользователь", "телеграм", "телеграмм", "ник_в_telegram", "ник_в_телеграм", "ник_в_телеграме",
        "ник_в_телеграмм", "ник_telegram", "ник_в_tg", "ник_тг", "telegram_ник", "username_telegram",
        "телеграм_ник", "юзернейм_telegram", "юзернейм_в_telegram", "никнейм_в_telegram",
    ),
    "user_id": (
        "user_id", "userid", "id", "uid", "telegram_id", "tg_id", "telegram_user_id", "айди", "ид",
        "id_пользователя", "идентификатор",
    ),
    "phone": (
        "phone", "phone_number", "phonenumber", "telephone", "tel", "mobile", "mobile_phone", "cell",
        "msisdn", "number", "телефон", "номер", "номер_телефона", "мобильный", "моб", "тел", "сотовый",
    ),
    "first_name": ("first_name", "firstname", "first", "given_name", "name", "имя"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name", "фамилия"),
    FULL_NAME: (
        FULL_NAME, "fullname", "name_surname", "first_and_last_name", "contact_name", "фио",
        "ф_и_о", "имя_фамилия", "имя_и_фамилия", "фамилия_имя", "фамилия_имя_отчество", "полное_имя",
    ),
    IDENTITY: (IDENTITY, "contact", "контакт"),
    "reason": ("reason", "причина"),
    "note": ("note", "notes", "comment", "примечание", "комментарий"),
}  # fmt: skip
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
# Template fields whose usual CRM headers get one fixed name rather than a transliteration.
_FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e_mail", "mail", "почта", "эл_почта", "электронная_почта", "емейл", "емайл", "имейл",
        "e_mail_адрес", "адрес_почты", "email_address",
    ),
    "middle_name": ("middle_name", "middlename", "patronymic", "отчество"),
    "consent_date": (
        "consent_date", "consent", "consented_at", "opt_in_date", "дата_согласия", "согласие",
        "дата_согласия_на_рассылку", "согласие_на_рассылку",
    ),
    "tags": ("tags", "tag", "labels", "теги", "тег", "метки"),
}  # fmt: skip
_BY_SYNONYM = {alias: name for name, aliases in _FIELD_SYNONYMS.items() for alias in aliases}
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
        "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
    }
)  # fmt: skip
_LOOKS_LIKE_CONTACT = re.compile(r"^(@[A-Za-z]\w{3,31}|\+[\d\s().-]{7,}|\d{5,20}|(https?://)?t\.me/\S+)$")
_PHONE_SHAPED = re.compile(r"^[\d\s().+-]{7,}$")


def header_key(name: str) -> str:
    value = name.strip().lower().replace("ё", "е")
    return re.sub(r"[\s\-./]+", "_", value).strip("_@#№")


def field_name(column: str, index: int) -> str:
    """A column name as a template placeholder: ``Город`` → ``gorod``, ``Order #`` → ``order``."""
    value = re.sub(r"[^a-z0-9_]+", "_", column.strip().lower().translate(_TRANSLIT))
    value = re.sub(r"_+", "_", value).strip("_")[:64].rstrip("_")
    if not value:
        return f"column_{index}"
    return value if not value[0].isdigit() else f"f_{value}"[:64]


def classify_contact(value: str) -> str:
    """Which identity field a bare contact is (headerless files, ``identity`` columns, JSON strings)."""
    if value.startswith(("+", "00")) or (
        _PHONE_SHAPED.match(value) and not value.isdigit() and sum(c.isdigit() for c in value) >= 7
    ):
        return "phone"
    if value.isdigit():
        return "user_id"
    return "username"


def split_full_name(value: str) -> tuple[str | None, str | None, str | None]:
    """(first, last, middle) of a full name: three words or more are Russian order "Фамилия Имя
    Отчество" (the rest after the first name is the middle name); two are "Имя Фамилия" / "First Last";
    one is a first name."""
    parts = value.split()
    if len(parts) >= 3:
        return parts[1], parts[0], " ".join(parts[2:])
    if len(parts) == 2:
        return parts[0], parts[1], None
    return (parts[0] if parts else None), None, None


@dataclass(slots=True)
class Rejection:
    row: int
    reason: str
    detail: str
    raw: dict[str, Any]
    duplicate_of_row: int | None = None

    def __post_init__(self) -> None:
        # The row is kept for rejected.csv; a NUL in it would be a database error on PostgreSQL.
        self.detail = self.detail.replace(NUL, NUL_SHOWN)
        self.raw = _without_nul(self.raw)


NUL, NUL_SHOWN = "\x00", "\ufffd"


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, NUL_SHOWN)
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


@dataclass(slots=True)
class Extracted:
    """A row's values by field, before identity normalization."""

    username: str | None = None
    user_id: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    reason: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _scalar(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class RowPlan:
    """How every column of a file is read; ``fields`` maps column → field (absent = ignored)."""

    fields: dict[str, str]
    purpose: Purpose
    dynamic: bool = False  # JSON: keys first seen after the sample are mapped when met
    _extras: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._known = _KNOWN[self.purpose]
        self._extras = {f for f in self.fields.values() if f not in self._known}
        self._taken = set(self.fields.values())
        self._suffixes: dict[str, int] = {}

    def _field_for(self, column: str) -> str | None:
        if column in self.fields or not self.dynamic:
            return self.fields.get(column)
        if len(self.fields) >= bounds.MAX_COLUMNS:
            return IGNORE  # keys past the bound are not remembered: the plan stays bounded
        name = _auto_field(column, len(self.fields) + 1, self.purpose, taken=self._taken)
        if name is not None and name not in self._known:
            name = _unique(name, self._extras, self._suffixes)
            if len(self._extras) >= bounds.MAX_EXTRA_FIELDS:
                name = None
            else:
                self._extras.add(name)
        self.fields[column] = name or IGNORE
        self._taken.add(self.fields[column])
        return self.fields[column]

    def extract(self, number: int, raw: dict[str, Any]) -> Extracted | Rejection | None:
        """The row's values by field, a rejection, or None for a blank row (skipped, not counted)."""
        marker = raw.get(ROW_ERROR)
        if isinstance(marker, tuple):  # set by a reader; a column of that name in a file is just data
            rest = {k: v for k, v in raw.items() if k != ROW_ERROR}
            return Rejection(number, str(marker[0]), str(marker[1]), rest)
        out = Extracted()
        contact = full_name = None
        blank = True
        # Once a row, a million rows a file: one lookup tells a known field (and its limit) apart.
        fields, text_limits = self.fields, _LIMITS[self.purpose]
        for column, value in raw.items():
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    continue
                if NUL in value:  # no column of ours can store it (PostgreSQL text refuses NUL)
                    return Rejection(number, "malformed_row", f"{column}: holds a NUL character", raw)
            elif value is None:
                continue
            blank = False
            name = fields.get(column)
            if name is None:
                if NUL in column:  # a JSON key: it would be remembered in the job's mapping
                    return Rejection(number, "malformed_row", "a column name holds a NUL character", raw)
                name = self._field_for(column)
            if name is None or name == IGNORE:
                continue
            limit = text_limits.get(name)
            if limit is not None:
                text = value if value.__class__ is str else str(value)
                if len(text) > limit:
                    detail = f"{column}: longer than {limit} characters"
                    return Rejection(number, "value_too_long", detail, raw)
                if name == IDENTITY:
                    contact = text
                elif name == FULL_NAME:
                    full_name = text
                else:
                    setattr(out, name, text)
            else:
                if value.__class__ is not str:
                    value = _scalar(value)
                if isinstance(value, str) and len(value) > bounds.MAX_FIELD_VALUE_CHARS:
                    detail = f"{column}: longer than {bounds.MAX_FIELD_VALUE_CHARS} characters"
                    return Rejection(number, "value_too_long", detail, raw)
                out.extra[name] = value
        if blank:
            return None
        if full_name is not None:
            first, last, middle = split_full_name(full_name)
            # A first_name or last_name column of its own wins over the split.
            out.first_name = out.first_name or first
            out.last_name = out.last_name or last
            if middle and "middle_name" not in out.extra and len(self._extras) < bounds.MAX_EXTRA_FIELDS:
                out.extra["middle_name"] = middle
        if contact is not None:
            kind = classify_contact(contact)
            if getattr(out, kind) is None:
                setattr(out, kind, contact)
        return out

    def described(self) -> dict[str, str | None]:
        return {column: (None if name == IGNORE else name) for column, name in self.fields.items()}


# Fields with a meaning; any other name is a template field (targets) — "note" is one for targets.
_KNOWN: dict[Purpose, frozenset[str]] = {
    "targets": frozenset((*STANDARD_FIELDS, FULL_NAME, IDENTITY, IGNORE)),
    "suppressions": frozenset((*STANDARD_FIELDS, IDENTITY, IGNORE, *SUPPRESSION_FIELDS)),
}
_TEXT_LIMITS = {
    "username": 200,
    "user_id": 64,
    "phone": 64,
    IDENTITY: 200,
    "first_name": bounds.MAX_NAME_CHARS,
    "last_name": bounds.MAX_NAME_CHARS,
    FULL_NAME: 3 * bounds.MAX_NAME_CHARS,
    "reason": 32,
    "note": 500,
}
# The text limit of each field with a meaning (IGNORE never reaches a limit).
_LIMITS: dict[Purpose, dict[str, int]] = {
    purpose: {name: _TEXT_LIMITS[name] for name in known if name != IGNORE}
    for purpose, known in _KNOWN.items()
}


def _unique(name: str, taken: set[str], next_suffix: dict[str, int]) -> str:
    """``name``, or ``name_N`` (cut to 64) for the first N free; ``next_suffix`` remembers where each
    name's search ended, so n columns with one name cost n steps, not n²/2."""
    if name not in taken:
        return name
    n = next_suffix.get(name, 2)
    while True:
        suffix = f"_{n}"
        candidate = name[: 64 - len(suffix)] + suffix
        n += 1
        if candidate not in taken:
            next_suffix[name] = n
            return candidate


def _auto_field(column: str, index: int, purpose: Purpose, *, taken: set[str]) -> str | None:
    key = header_key(column)
    known = _BY_ALIAS.get(key)
    if purpose == "targets" and known in SUPPRESSION_FIELDS:
        known = None
    if purpose == "suppressions" and known == FULL_NAME:
        known = None
    if known is not None and known not in taken:
        return known
    if purpose != "targets":
        return None
    return _BY_SYNONYM.get(key) or field_name(column, index)


def _explicit(
    columns: list[str], mapping: Mapping[str, str | None], purpose: Purpose, strict_columns: bool
) -> dict[str, str]:
    allowed = (
        *STANDARD_FIELDS,
        IDENTITY,
        *(SUPPRESSION_FIELDS if purpose == "suppressions" else (FULL_NAME,)),
    )
    errors: list[FieldError] = []
    out: dict[str, str] = {}
    present, mapped = set(columns), set()
    for column, target in mapping.items():
        loc = ("body", "mapping", column)
        if strict_columns and column not in present:
            shown = ", ".join(columns[:30])
            errors.append(FieldError(loc, f"no such column; the file has: {shown}"))
            continue
        if target in (None, "", IGNORE):
            out[column] = IGNORE
        elif target in allowed:
            if target in mapped:
                errors.append(FieldError(loc, f"{target} is mapped from two columns"))
            mapped.add(target)
            out[column] = target
        elif purpose == "targets" and _FIELD_NAME.match(target):
            out[column] = target
        else:
            hint = "" if purpose == "suppressions" else ", ignore, or a field name (letters, digits, _)"
            errors.append(FieldError(loc, f"must be one of {', '.join(allowed)}{hint}"))
    if errors:
        raise InvalidInput("The mapping does not fit the file.", errors=errors)
    return out


def _headerless(reader: Reader, mapping: Mapping[str, str | None] | None, purpose: Purpose) -> bool:
    """A first row that is a contact and no header naming an identity (or the mapping) is data."""
    first = str(reader.header_cells[0]).strip() if reader.header_cells else ""
    if not _LOOKS_LIKE_CONTACT.match(first):
        return False
    if mapping and all(column in reader.info.columns for column in mapping):
        return False  # the mapping names the first row's cells: they are a header
    return not _maps_identity(_auto(reader.info.columns, {}, purpose))


def build_plan(reader: Reader, mapping: Mapping[str, str | None] | None, *, purpose: Purpose) -> RowPlan:
    """The plan for ``reader``'s columns; may decide the file has no header (``set_headerless``)."""
    tabular = reader.info.format in ("csv", "xlsx")
    if tabular and _headerless(reader, mapping, purpose):
        reader.set_headerless()
    fields = _explicit(reader.info.columns, mapping or {}, purpose, strict_columns=tabular)
    if not reader.info.has_header and not _maps_identity(fields):
        fields.setdefault(reader.info.columns[0], IDENTITY)
    fields = _auto(reader.info.columns, fields, purpose)
    if not _maps_identity(fields) and (tabular or reader.info.columns):
        shown = ", ".join(reader.info.columns[:30]) or "none"
        raise NoIdentityColumn(
            f"No username, user_id or phone column found (columns: {shown}). Name a column "
            'username, user_id or phone (or ник, телефон…), or pass mapping, e.g. {"Contact": "username"}.'
        )
    extras = [f for f in fields.values() if f not in _KNOWN[purpose]]
    if len(extras) > bounds.MAX_EXTRA_FIELDS:
        raise InvalidInput(
            f"The file has {len(extras)} other columns; a target holds at most {bounds.MAX_EXTRA_FIELDS} "
            "template fields. Map the ones you do not need to ignore.",
            errors=[FieldError(("body", "mapping"), "too many template fields")],
        )
    return RowPlan(fields=fields, purpose=purpose, dynamic=not tabular)


def _auto(columns: list[str], fields: dict[str, str], purpose: Purpose) -> dict[str, str]:
    out = dict(fields)
    taken = set(out.values())
    suffixes: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if column in out:
            continue
        name = _auto_field(column, index, purpose, taken=taken)
        if name is None:
            out[column] = IGNORE
            continue
        if name not in _KNOWN[purpose]:
            name = _unique(name, taken, suffixes)
        out[column] = name
        taken.add(name)
    return out


def _maps_identity(fields: Mapping[str, str]) -> bool:
    return any(f in (*IDENTITY_FIELDS, IDENTITY) for f in fields.values())
