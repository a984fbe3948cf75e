"""The name splitter and the CRM header synonyms, without a database."""

from __future__ import annotations

import pytest

from invite_service.kit.tabular.mapping import _auto_field, split_full_name
from invite_service.models.identity import NormalizeError, NumberTooShort, identity_values


@pytest.mark.parametrize(
    ("full", "split"),
    [
        ("Иванов Иван Иванович", ("Иван", "Иванов", "Иванович")),  # Фамилия Имя Отчество
        ("Мамедов Рашид Алиевич оглы", ("Рашид", "Мамедов", "Алиевич оглы")),
        ("Ольга Петрова", ("Ольга", "Петрова", None)),  # Имя Фамилия
        ("John  Smith", ("John", "Smith", None)),
        ("Cher", ("Cher", None, None)),
        ("   ", (None, None, None)),
    ],
)
def test_full_names_split(full: str, split: tuple[str | None, str | None, str | None]) -> None:
    assert split_full_name(full) == split


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("ФИО", "full_name"),
        ("Full name", "full_name"),
        ("Имя Фамилия", "full_name"),
        ("Ник в Telegram", "username"),
        ("Телеграм", "username"),
        ("Telegram username", "username"),
        ("Почта", "email"),
        ("E-mail", "email"),
        ("Email", "email"),
        ("Дата согласия", "consent_date"),
        ("Отчество", "middle_name"),
        ("Город", "gorod"),  # any other column: a template field named after it
    ],
)
def test_crm_headers_map_by_themselves(header: str, field: str) -> None:
    assert _auto_field(header, 1, "targets", taken=set()) == field


def test_suppression_files_do_not_take_names_or_template_fields() -> None:
    assert _auto_field("ФИО", 1, "suppressions", taken=set()) is None
    assert _auto_field("Почта", 1, "suppressions", taken=set()) is None


@pytest.mark.parametrize("short", ["1", "42", "4242", "0001234"])
def test_a_short_user_id_is_too_short(short: str) -> None:
    with pytest.raises(NumberTooShort, match="neither a user id nor a phone"):
        identity_values(username=None, user_id=short, phone=None, default_region="RU")


def test_five_digits_are_a_user_id_and_phones_keep_their_rules() -> None:
    assert identity_values(username=None, user_id="12345", phone=None, default_region="RU")[:2] == (
        "user_id",
        "12345",
    )
    for local in ("8 (912) 345-67-89", "+7 912 345 67 89", "9123456789"):
        assert identity_values(username=None, user_id=None, phone=local, default_region="RU")[1] == (
            "+79123456789"
        )
    with pytest.raises(NormalizeError) as caught:
        identity_values(username=None, user_id=None, phone="123", default_region="RU")
    assert not isinstance(caught.value, NumberTooShort)  # a short phone is an invalid phone
