"""Log redaction masks phone numbers and leaves ids whole: a UUID with a run of digits between its dashes
is not a phone, and an id damaged in the logs cannot be correlated with anything."""

from __future__ import annotations

import random
import uuid

import pytest

from invite_service.observability.logging import redact_text

N = 100_000


def _ids(rng: random.Random) -> list[str]:
    out = []
    for _ in range(N):
        u = uuid.UUID(int=rng.getrandbits(128), version=4)
        out += [str(u), u.hex]
    return out


def test_random_uuids_and_hex_ids_are_never_altered() -> None:
    rng = random.Random(20261202)
    damaged = [i for i in _ids(rng) if redact_text(i) != i]
    assert not damaged, damaged[:10]


def test_ids_inside_log_text_are_left_whole_and_phones_beside_them_still_masked() -> None:
    rng = random.Random(7)
    for _ in range(N // 10):
        u = uuid.UUID(int=rng.getrandbits(128), version=4)
        for text in (
            f"task_id={u} started",
            f"GET /api/v1/tasks/{u}/start",
            f'{{"request_id": "{u.hex}", "task": "{str(u).upper()}"}}',
            f"urn:uuid:{u}",
        ):
            assert redact_text(text) == text
        assert redact_text(f"task {u} target +7 916 123-45-67") == f"task {u} target [redacted-phone]"


@pytest.mark.parametrize(
    "uid",
    [
        # UUIDs whose middle groups are all digits: the shape that used to be read as a phone.
        "942753ee-1234-5678-9012-58bf00c1d2e3",
        "00000000-0000-0000-0000-000000000000",
        "12345678-1234-1234-1234-123456789012",
        "a1b2c3d4-5678-4901-8234-567890123456",
    ],
)
def test_digit_heavy_uuids_are_left_alone(uid: str) -> None:
    assert redact_text(uid) == uid
    assert redact_text(f"id {uid}, next") == f"id {uid}, next"


@pytest.mark.parametrize(
    "phone", ["+7 916 123-45-67", "89161234567", "(916) 123-45-67", "+79161234567", "8-916-123-45-67"]
)
def test_phones_are_still_masked(phone: str) -> None:
    assert "[redacted-phone]" in redact_text(f"call {phone} now")
    assert "[redacted-phone]" in redact_text(f"phone={phone}")
