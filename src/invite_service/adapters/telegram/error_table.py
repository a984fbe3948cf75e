"""The Telegram error table: every RPC error name the invite and message paths can return, its class,
the flags the engine acts on, and where the row was checked (``source``). ``errors.py`` reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from invite_service.adapters.base import InviteResult, Outcome
from invite_service.models.enums import SuppressionReason

# Used only when the platform says "wait" without saying how long: long enough to be safe.
DEFAULT_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class TelegramError:
    """One table row: an error name, its class and the flags the engine acts on."""

    name: str
    outcome: Outcome
    description: str
    pause_task: bool = False
    suggest_suppression: SuppressionReason | None = None
    retry_by_username: bool = False
    message_allowed: bool = False
    delivery_uncertain: bool = False
    pause_if_repeated: bool = False
    # Where the row was checked: Telegram's class, then the lists that give it (see the legend below).
    source: str = ""

    def result(self, seconds: float | None = None, *, raw: str | None = None) -> InviteResult:
        detail = self.description if raw in (None, self.name) else f"{self.description} [{raw}]"
        retry_after = None
        if self.outcome is Outcome.RETRY_AFTER:
            retry_after = DEFAULT_WAIT_SECONDS if seconds is None else seconds
        return InviteResult(
            self.outcome,
            error_code=self.name,
            retry_after=retry_after,
            detail=detail,
            delivery_uncertain=self.delivery_uncertain,
            pause_task=self.pause_task,
            suggest_suppression=self.suggest_suppression,
            retry_by_username=self.retry_by_username,
            message_allowed=self.message_allowed,
            pause_if_repeated=self.pause_if_repeated,
        )


# One row: name -> (what it means for us, its source). Sources, checked for each row's Telegram class:
#   T     Telethon telethon_generator/data/errors.csv (name, class, meaning)
#   C:itc core.telegram.org/method/channels.inviteToChannel "Possible errors"
#   C:acu core.telegram.org/method/messages.addChatUser "Possible errors"
#   C:sm  core.telegram.org/method/messages.sendMessage "Possible errors"
#   C:err core.telegram.org/api/errors (the classes, FLOOD_WAIT, 5xx and the negative codes)
#   P     Pyrogram's error lists (pyrogram/errors/source/*.tsv)
#   TDLib Telegram's own client library, td_api.tl method descriptions
#   folklore: reported by client authors, in no official list; said so in the row.
Rows = Mapping[str, tuple[str, str]]


def _group(outcome: Outcome, rows: Rows, **flags: Any) -> list[TelegramError]:
    return [
        TelegramError(name, outcome, description, source=source, **flags)
        for name, (description, source) in rows.items()
    ]


_RETRY_AFTER = _group(
    Outcome.RETRY_AFTER,
    {
        "FLOOD_WAIT_X": ("the platform asks this account to wait", "420; T, C:err, C:itc, C:sm"),
        "FLOOD_PREMIUM_WAIT_X": ("the platform asks this account to wait (premium flood wait)", "420; P"),
        "SLOWMODE_WAIT_X": ("slow mode is on in this chat: wait before sending again", "420; T, P"),
        "FLOOD_TEST_PHONE_WAIT_X": ("the platform asks this test account to wait", "420; T"),
    },
)

# Telegram's 5xx (and its internal negative codes): the server may or may not have executed
# the call, so it is retried — but flagged uncertain, never re-sent blindly.
_TRANSIENT = _group(
    Outcome.TRANSIENT,
    {
        "TIMEOUT": ("the platform timed out; the call may have taken effect", "-503; T (Timeout), C:err"),
        "-500": ("platform internal error", "-500; C:err"),
        "-503": ("platform timeout; the call may have taken effect", "-503; C:err"),
        "INTERNAL": ("platform internal error", "500; C:err"),
        "RPC_CALL_FAIL": ("platform internal call failed", "500; T, C:err"),
        "RPC_MCGET_FAIL": ("platform internal storage read failed", "500; T, C:err"),
        "WORKER_BUSY_TOO_LONG_RETRY": ("platform workers are busy", "500; T"),
        "INTERDC_X_CALL_ERROR": ("platform inter-datacenter call failed", "500; T"),
        "INTERDC_X_CALL_RICH_ERROR": ("platform inter-datacenter call failed", "500; T"),
        "MEMBER_OCCUPY_PRIMARY_LOC_FAILED": ("platform internal error", "500; T"),
        "MSG_WAIT_FAILED": ("platform failed to wait for a previous call", "400; T"),
        "HISTORY_GET_FAILED": ("platform failed to read chat history", "500; T"),
        "NEED_MEMBER_INVALID": ("platform internal error", "500; T"),
        "NEED_CHAT_INVALID": ("platform internal error", "500; T"),
    },
    delivery_uncertain=True,
)

# The split between the two account classes:
# - ACCOUNT_RESTRICTED: the platform limits the account's *behaviour* for a while (spam reports,
#   PEER_FLOOD). Re-logging in does not help; time lifts it. These are what the circuit breaker counts.
# - ACCOUNT_UNAVAILABLE: the account cannot be used until its owner acts (logged out, key revoked,
#   two-factor password needed, deleted by its owner, or banned by the platform — which no wait lifts).
# Both stop the account for every task; neither ever brings in another account to replace it.
_ACCOUNT_RESTRICTED = _group(
    Outcome.ACCOUNT_RESTRICTED,
    {
        "PEER_FLOOD": (
            "the platform limits this account for spam or too many actions",
            "400; C:sm (T lists it without a class)",
        ),
        "USER_RESTRICTED": ("the account is restricted for spam reports", "403; T"),
        "USER_BANNED_IN_CHANNEL": (
            "the account is banned from sending in groups and channels",
            "400; T, C:itc, C:sm",
        ),
        "PHONE_NUMBER_BANNED": ("the account's phone number is banned", "400; T"),
        "FROZEN_METHOD_INVALID": (
            "the account is frozen by the platform",
            "420; P (Flood list), core.telegram.org/api/auth#frozen-accounts",
        ),
    },
)

_ACCOUNT_UNAVAILABLE = _group(
    Outcome.ACCOUNT_UNAVAILABLE,
    {
        "AUTH_KEY_UNREGISTERED": ("the session is not logged in", "401; T, C:err"),
        "AUTH_KEY_INVALID": ("the session key is invalid", "401; T, C:err"),
        "AUTH_KEY_DUPLICATED": ("the session is used from two places at once", "406; T"),
        "AUTH_KEY_PERM_EMPTY": ("the session has no permanent key", "401; T, C:err"),
        "SESSION_REVOKED": ("the session was terminated by the account owner", "401; T, C:err"),
        "SESSION_EXPIRED": ("the session expired", "401; T, C:err"),
        "SESSION_PASSWORD_NEEDED": ("the account needs its two-step verification password", "401; T, C:err"),
        "USER_DEACTIVATED": ("the account was deleted by its owner", "401; T, C:err"),
        # 401 like the other session errors: the account is gone, not resting; no wait brings it back.
        "USER_DEACTIVATED_BAN": (
            "the platform banned this account: it cannot be used again (its owner may appeal to Telegram)",
            "401; T, C:err",
        ),
    },
)

_ALREADY_MEMBER = _group(
    Outcome.ALREADY_MEMBER,
    {"USER_ALREADY_PARTICIPANT": ("the user is already a member of the chat", "400; T, C:acu")},
)

# A message whose random_id Telegram has seen: the first send got through, its answer was lost.
_ALREADY_DELIVERED = _group(
    Outcome.SUCCESS,
    {
        "RANDOM_ID_DUPLICATE": (
            "already delivered: the platform saw this message's random_id before",
            "500; T",
        )
    },
)

# A privacy refusal: Telegram's own client offers to send an invite link instead
# (updateGroupInvitePrivacyForbidden, C:itc), so an invite_or_message task may message a link.
_TARGET_PRIVACY = _group(
    Outcome.TARGET_REJECTED,
    {"USER_PRIVACY_RESTRICTED": ("the user's privacy settings do not allow invites", "403; T, C:itc, C:acu")},
    message_allowed=True,
)

_TARGET_REJECTED = _group(
    Outcome.TARGET_REJECTED,
    {
        # Telegram's lists say only "not a mutual contact". That on an invite it mostly means the person
        # left the chat (only a mutual contact may add them back) is client authors' experience — the
        # reading issue 13 adopts: they chose to leave, so no invite link is messaged either.
        "USER_NOT_MUTUAL_CONTACT": (
            "the user is not a mutual contact: they may have left this chat, so no invite link is sent",
            "400/403; T, C:itc, C:acu; 'left the chat': folklore",
        ),
        "USER_CHANNELS_TOO_MUCH": ("the user is in too many channels and groups", "400/403; T, C:itc"),
        "USER_KICKED": ("the user was banned from this chat by its admins", "400; T, C:itc"),
        "USER_BLOCKED": ("the user is blocked", "400; T, C:itc"),
        "USER_BOT": ("bots can only be added to channels as admins", "400; T, C:itc"),
        "BOT_GROUPS_BLOCKED": ("this bot cannot be added to groups", "400; T, C:itc, C:acu"),
        # Raised only when the invitee is a bot: the target is the cause, not the account or the chat.
        "BOTS_TOO_MUCH": ("the chat has too many bots, and this target is a bot", "400; T, C:itc, C:acu"),
        "INPUT_USER_DEACTIVATED": ("the user's account was deleted", "400; T, C:itc, C:sm"),
        "USERNAME_NOT_OCCUPIED": ("no user has this username", "400; T"),
        "USERNAME_INVALID": ("the username is invalid", "400; T"),
        "PHONE_NOT_OCCUPIED": ("no user has this phone number", "400; P"),
        "PHONE_NUMBER_INVALID": ("the phone number is invalid", "400; T"),
        "USER_IS_BOT": ("the target is a bot, which cannot be messaged this way", "400; T, C:sm"),
        "YOU_BLOCKED_USER": ("this account has blocked the user", "400; T, C:sm"),
        "PRIVACY_PREMIUM_REQUIRED": ("the user accepts messages only from premium accounts", "403; C:sm"),
        # Paid messages (Telegram Stars): the user charges for them, and a task never pays.
        "ALLOW_PAYMENT_REQUIRED": (
            "the user accepts only paid messages",
            "406; P (406 list: older layers), core.telegram.org/api/paid-messages",
        ),
        "ALLOW_PAYMENT_REQUIRED_X": (
            "the user accepts only paid messages (X Stars each)",
            "class not checked; core.telegram.org/api/paid-messages",
        ),
        "PREMIUM_ACCOUNT_REQUIRED": (
            "only a premium account may do this for this user",
            "class not checked; MadelineProto's RPCError list",
        ),
        # The rendered message itself is unusable for this target; retrying cannot help.
        "MESSAGE_EMPTY": ("the rendered message is empty", "400; T, C:sm"),
        "MESSAGE_TOO_LONG": ("the rendered message is too long", "400; T, C:sm"),
        "ENTITIES_TOO_LONG": ("the rendered message has too much formatting", "400; T, C:sm"),
    },
)

# Per target, but when it repeats for target after target the chat is the likelier cause: the task pauses.
_TARGET_ADD_FAILED = _group(
    Outcome.TARGET_REJECTED,
    {
        "CHAT_MEMBER_ADD_FAILED": (
            "the platform could not add this user to the chat",
            "400; C:itc",
        )
    },
    pause_if_repeated=True,
)

_TARGET_BLOCKED_US = _group(
    Outcome.TARGET_REJECTED,
    {"USER_IS_BLOCKED": ("the user has blocked this account", "400/403; T, C:sm")},
    suggest_suppression=SuppressionReason.BLOCKED_US,
)

# A stale or foreign id: the engine re-resolves once by username, then fails the target.
_TARGET_STALE_ID = _group(
    Outcome.TARGET_REJECTED,
    {
        "USER_ID_INVALID": ("the user id is not valid for this account", "400; T, C:itc"),
        "PEER_ID_INVALID": ("the peer id is not valid for this account", "400; T, C:acu, C:sm"),
    },
    retry_by_username=True,
)

_TASK_MISCONFIGURED = _group(
    Outcome.TASK_MISCONFIGURED,
    {
        "CHAT_ADMIN_REQUIRED": (
            "this account lacks the admin right to invite into the chat",
            "400/403; T, C:itc",
        ),
        "CHAT_ADMIN_INVITE_REQUIRED": ("this account lacks the right to invite into the chat", "403; T"),
        "CHAT_WRITE_FORBIDDEN": ("this account cannot write in the chat", "403; T, C:itc, C:sm"),
        "CHANNEL_PRIVATE": ("the chat is private or this account was removed from it", "400/406; T, C:itc"),
        "CHANNEL_INVALID": ("the destination channel is invalid", "400; T, C:itc"),
        "CHAT_INVALID": ("the destination chat is invalid", "400; T, C:itc"),
        "CHAT_ID_INVALID": ("the destination chat id is invalid", "400; T, C:acu"),
        "CHAT_RESTRICTED": ("the chat is restricted and cannot be used", "400; T"),
    },
)

# The chat itself refuses: no account of the task can do better, so the whole task pauses.
_TASK_CHAT_REFUSES = _group(
    Outcome.TASK_MISCONFIGURED,
    {
        # The 200: "Members can't be added to a channel if it has more than 200 members" (TDLib, Telegram's
        # own client library: td_api.tl addChatMembers); later members join by link.
        "USERS_TOO_MUCH": (
            "the chat is full, or the channel has reached the 200 members its admins may add "
            "(Telegram's limit: later members must join by link)",
            "400; T, C:itc, C:acu; the 200: TDLib td_api.tl addChatMembers",
        ),
        "CHANNEL_MONOFORUM_UNSUPPORTED": (
            "the destination is a channel's direct-messages forum (monoforum), which takes no invites",
            "400; C:itc",
        ),
    },
    pause_task=True,
)


def _build() -> Mapping[str, TelegramError]:
    table: dict[str, TelegramError] = {}
    for group in (
        _RETRY_AFTER,
        _TRANSIENT,
        _ACCOUNT_RESTRICTED,
        _ACCOUNT_UNAVAILABLE,
        _ALREADY_MEMBER,
        _ALREADY_DELIVERED,
        _TARGET_PRIVACY,
        _TARGET_REJECTED,
        _TARGET_ADD_FAILED,
        _TARGET_BLOCKED_US,
        _TARGET_STALE_ID,
        _TASK_MISCONFIGURED,
        _TASK_CHAT_REFUSES,
    ):
        for entry in group:
            if entry.name in table:
                raise RuntimeError(f"duplicate Telegram error {entry.name}")
            table[entry.name] = entry
    return MappingProxyType(table)


# Read-only: every known name (``X`` form) → its class. Tests enumerate it.
TELEGRAM_ERRORS: Mapping[str, TelegramError] = _build()
