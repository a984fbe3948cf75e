"""Telethon's errors and TL objects in the contract's words.

Telethon raises one class per Telegram error, and the class's ``message`` attribute is its *category*
(``FLOOD``, ``BAD_REQUEST``), not the error's name; the name is recovered from Telethon's own tables
(``rpc_errors_dict`` for fixed names, ``rpc_errors_re`` for ones with a number, e.g. ``FLOOD_WAIT_(\\d+)``).
An error Telethon does not know is raised as its base class with the name in ``message``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from telethon import types
from telethon.errors import RPCError
from telethon.errors.rpcerrorlist import rpc_errors_dict, rpc_errors_re

from integration_service.operations import Payload

# Some classes are listed twice ("TIMEOUT" and "Timeout"): the upper-case spelling is Telegram's.
_NAMES: dict[type, str] = {cls: name.upper() for name, cls in rpc_errors_dict.items()}
_PATTERNS: dict[type, str] = {cls: pattern for pattern, cls in rpc_errors_re}
_NUMBER = re.compile(r"\(\\d\+\)")
# Telegram's error class -> the contract's HTTP status (401 is the service token's alone).
_STATUS = {400: 400, 401: 403, 403: 403, 406: 406, 420: 420, 500: 502, -500: 502, 503: 504, -503: 504}


def captured(err: RPCError) -> int | None:
    """The number a pattern error carries (FLOOD_WAIT_30 -> 30): Telethon's own ``__reduce__`` holds it."""
    if type(err) not in _PATTERNS:
        return None
    args = err.__reduce__()[1]
    value = args[1] if isinstance(args, tuple) and len(args) > 1 else None
    return int(value) if isinstance(value, int) else None


def error_name(err: RPCError) -> str:
    cls = type(err)
    if cls in _NAMES:
        return _NAMES[cls]
    if cls in _PATTERNS:
        return _NUMBER.sub(str(captured(err) or 0), _PATTERNS[cls], count=1)
    return str(err.message or "RPC_ERROR").upper().replace(" ", "_")


def error_class(err: RPCError) -> int:
    code = err.code if isinstance(err.code, int) else 500
    return -503 if error_name(err) == "TIMEOUT" and code in (503, -503) else code


def rpc_payload(err: RPCError) -> Payload:
    """``{code, retry_after, detail, rpc_code}`` and its HTTP status, as the sandbox sends them."""
    name, rpc_code = error_name(err), error_class(err)
    status = _STATUS.get(rpc_code, 502)
    if name == "RANDOM_ID_DUPLICATE":
        # Telegram files it under 500, but it is a definite answer (this random_id was delivered
        # before), not a failure to retry: sent as 400 with rpc_code 500.
        status = 400
    retry_after = captured(err) if rpc_code == 420 else None
    return status, {"code": name, "retry_after": retry_after, "detail": None, "rpc_code": rpc_code}


def random_id_for(key: str) -> int:
    """A signed 64-bit ``random_id`` from the operation key: Telegram drops a resend of the same id."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)


def added_user_ids(updates: Any) -> set[int]:
    """The users an invite visibly added: service messages "X added Y" and participant updates."""
    found: set[int] = set()
    for update in getattr(updates, "updates", None) or []:
        message = getattr(update, "message", None)
        action = getattr(message, "action", None)
        if isinstance(action, types.MessageActionChatAddUser):
            found.update(action.users)
        if isinstance(update, types.UpdateChatParticipantAdd):
            found.add(update.user_id)
        if isinstance(update, types.UpdateChannelParticipant) and update.new_participant is not None:
            found.add(update.user_id)
    return found


def sent_message(result: Any) -> tuple[int, Any] | None:
    """(message id, date) of a ``messages.sendMessage`` answer."""
    if isinstance(result, types.UpdateShortSentMessage):
        return result.id, result.date
    for update in getattr(result, "updates", None) or []:
        message = getattr(update, "message", None)
        if isinstance(update, types.UpdateNewMessage | types.UpdateNewChannelMessage) and message is not None:
            return int(message.id), message.date
    for update in getattr(result, "updates", None) or []:
        if isinstance(update, types.UpdateMessageID):
            return int(update.id), None
    return None
