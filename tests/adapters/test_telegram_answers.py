"""How the Telegram adapter reads answers that need more than the error table: Telegram's error class
(the contract's ``rpc_code``) for names it does not know, and an invite answered with no change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from invite_service.adapters.base import Outcome, TargetRef
from invite_service.adapters.telegram.adapter import NO_CHANGE_CODE, TelegramAdapter, result_from_rpc_error
from invite_service.adapters.telegram.errors import classify
from invite_service.adapters.telegram.types import IntegrationError, InviteResponse, error_body
from invite_service.models.enums import TargetKind

pytestmark = pytest.mark.asyncio
TARGET = TargetRef(TargetKind.USERNAME, "alice", username="alice")


def test_rpc_code_is_read_from_the_error_body() -> None:
    body = {"code": "active_user_required", "retry_after": None, "detail": None, "rpc_code": 401}
    parsed = error_body(httpx.Response(403, json=body))
    assert (parsed.code, parsed.rpc_code) == ("ACTIVE_USER_REQUIRED", 401)
    # Absent, or not an integer: the name and the HTTP status decide as before.
    assert error_body(httpx.Response(403, json={"code": "X"})).rpc_code is None
    assert error_body(httpx.Response(403, json={"code": "X", "rpc_code": True})).rpc_code is None
    assert error_body(httpx.Response(502, text="<html>")).code == "HTTP_502"


async def test_an_unknown_name_of_telegrams_401_class_makes_the_account_unusable() -> None:
    session = result_from_rpc_error("SOME_NEW_SESSION_ERROR", status=403, rpc_code=401)
    assert session.outcome is Outcome.ACCOUNT_UNAVAILABLE and session.stops_account
    assert session.error_code == "SOME_NEW_SESSION_ERROR"
    # Without the class the same name is an unknown error: retried once, then failing the target.
    assert result_from_rpc_error("SOME_NEW_SESSION_ERROR", status=403).outcome is Outcome.TRANSIENT
    assert result_from_rpc_error("SOME_NEW_WAIT", rpc_code=420, seconds=9).retry_after == 9
    # A name the table knows keeps its row whatever class is sent with it.
    assert result_from_rpc_error("USER_KICKED", rpc_code=401).outcome is Outcome.TARGET_REJECTED
    assert classify("SOME_NEW_SESSION_ERROR").outcome is Outcome.TRANSIENT


class _Client:
    """Only what send_invite and check_membership use: the invite answers with no change."""

    def __init__(self, member: bool | None) -> None:
        self.member = member
        self.membership_checks = 0

    async def invite(self, account_id: str, chat: str, users: Any, *, key: str) -> InviteResponse:
        return InviteResponse(chat, (), ())

    async def is_member(self, account_id: str, chat: str, user: Any) -> bool:
        self.membership_checks += 1
        if self.member is None:
            raise IntegrationError(503, "UNAVAILABLE")
        return self.member


@pytest.mark.parametrize(
    ("member", "outcome", "uncertain"),
    [
        (True, Outcome.ALREADY_MEMBER, False),
        # Not a member, or nobody can tell: in doubt (the engine ends it `unknown`, never re-sends).
        (False, Outcome.TRANSIENT, True),
        (None, Outcome.TRANSIENT, True),
    ],
)
async def test_an_invite_with_no_change_is_confirmed_by_a_membership_check(
    member: bool | None, outcome: Outcome, uncertain: bool
) -> None:
    client = _Client(member)
    adapter = TelegramAdapter(client)  # type: ignore[arg-type]
    result = await adapter.send_invite("acc", "@chat", TARGET, key="k-1")
    assert client.membership_checks == 1
    assert (result.outcome, result.delivery_uncertain) == (outcome, uncertain)
    if uncertain:
        assert result.error_code == NO_CHANGE_CODE and result.charged
