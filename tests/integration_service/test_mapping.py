"""Telethon's errors and updates read the way the contract needs, without a server."""

from __future__ import annotations

from telethon import errors, types
from telethon.errors import rpcbaseerrors

from integration_service.events import incoming_private
from integration_service.mapping import random_id_for, rpc_payload
from tests.integration_service.fake_telegram import NOW


def test_names_classes_and_statuses_follow_telegram() -> None:
    cases = {
        errors.SlowModeWaitError(request=None, capture=7): (420, "SLOWMODE_WAIT_7", 420, 7),
        errors.TimeoutError(request=None): (504, "TIMEOUT", -503, None),
        rpcbaseerrors.ServerError(request=None, message="No workers running", code=-500): (
            502,
            "NO_WORKERS_RUNNING",
            -500,
            None,
        ),
        errors.ChatWriteForbiddenError(request=None): (403, "CHAT_WRITE_FORBIDDEN", 403, None),
        errors.RandomIdDuplicateError(request=None): (400, "RANDOM_ID_DUPLICATE", 500, None),
    }
    for err, (status, code, rpc_code, retry_after) in cases.items():
        got_status, body = rpc_payload(err)
        assert (got_status, body["code"], body["rpc_code"], body["retry_after"]) == (
            status,
            code,
            rpc_code,
            retry_after,
        )


def test_random_id_is_a_stable_signed_64_bit_number_per_key() -> None:
    value = random_id_for("task-1:target-2:message")
    assert value == random_id_for("task-1:target-2:message") != random_id_for("task-1:target-3:message")
    assert -(2**63) <= value < 2**63


def test_only_incoming_private_messages_from_users_are_replies() -> None:
    short = types.UpdateShortMessage(
        id=5, user_id=42, message="stop", pts=1, pts_count=1, date=NOW, out=False
    )
    assert incoming_private(short) == (42, "stop", 5, NOW)
    mine = types.UpdateShortMessage(id=6, user_id=42, message="hi", pts=1, pts_count=1, date=NOW, out=True)
    assert incoming_private(mine) is None
    new = types.UpdateNewMessage(
        message=types.Message(id=7, peer_id=types.PeerUser(42), date=NOW, message="СТОП", out=False),
        pts=1,
        pts_count=1,
    )
    assert incoming_private(new) == (42, "СТОП", 7, NOW)
    in_group = types.UpdateNewMessage(
        message=types.Message(
            id=8, peer_id=types.PeerChat(9), from_id=types.PeerUser(42), date=NOW, message="x", out=False
        ),
        pts=1,
        pts_count=1,
    )
    assert incoming_private(in_group) is None
