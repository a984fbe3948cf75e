from __future__ import annotations

import pytest

from invite_service.models.enums import TargetKind
from invite_service.models.identity import (
    NormalizeError,
    normalize_destination,
    normalize_identity,
    normalize_phone,
    normalize_user_id,
    normalize_username,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Durov_Fan", "durov_fan"),
        ("durov_fan", "durov_fan"),
        ("https://t.me/Durov_Fan", "durov_fan"),
        ("t.me/durov_fan/", "durov_fan"),
        ("http://telegram.me/durov_fan?start=1", "durov_fan"),
        ("  @abcde  ", "abcde"),
    ],
)
def test_username_forms(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize(
    "raw", ["abc", "a" * 33, "1abcde", "abc de", "abcde_", "@", "ab-cde", "имя_пользователя"]
)
def test_username_rejects_what_telegram_would(raw: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_username(raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+7 (912) 345-67-89", "RU", "+79123456789"),
        ("8 912 345 67 89", "RU", "+79123456789"),
        ("0049 30 901820", "RU", "+4930901820"),
        ("(202) 555-0143", "US", "+12025550143"),
    ],
)
def test_phone_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["12345", "not a phone", "+7 000", ""])
def test_phone_rejects_invalid(raw: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_phone(raw, "RU")


def test_user_id() -> None:
    assert normalize_user_id(" 0012345 ") == "12345"
    assert normalize_user_id(777) == "777"
    for bad in ["-5", "0", "12a", "1" * 21]:
        with pytest.raises(NormalizeError):
            normalize_user_id(bad)


def test_identity_prefers_user_id_then_username_then_phone() -> None:
    ident = normalize_identity(
        username="@Some_User", user_id="424242", phone="+79123456789", default_region="RU"
    )
    assert (ident.kind, ident.key) == (TargetKind.USER_ID, "424242")
    assert (ident.username, ident.phone) == ("some_user", "+79123456789")
    ident = normalize_identity(username="Some_User", user_id=None, phone=None, default_region="RU")
    assert (ident.kind, ident.key) == (TargetKind.USERNAME, "some_user")
    ident = normalize_identity(username=None, user_id="", phone="89123456789", default_region="RU")
    assert (ident.kind, ident.key) == (TargetKind.PHONE, "+79123456789")
    with pytest.raises(NormalizeError, match="needs a username"):
        normalize_identity(username=None, user_id=None, phone=None, default_region="RU")
    with pytest.raises(NormalizeError, match=r"^phone:"):
        normalize_identity(username="good_name", user_id=None, phone="123", default_region="RU")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@MyGroup", "@mygroup"),
        ("https://t.me/MyGroup", "@mygroup"),
        ("https://t.me/+AbCdEfGhIjKl", "+AbCdEfGhIjKl"),
        ("t.me/joinchat/AbCdEfGhIjKl", "+AbCdEfGhIjKl"),
        ("-1001234567890", "-1001234567890"),
    ],
)
def test_destination_forms(raw: str, expected: str) -> None:
    assert normalize_destination(raw) == expected


@pytest.mark.parametrize("raw", ["", "@ab", "https://example.com/x", "t.me/+x"])
def test_destination_rejects(raw: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_destination(raw)
