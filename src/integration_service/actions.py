"""The platform calls behind the contract's routes: invite, message, membership, the account's own view.

Each returns ``(status, body)``; a Telegram refusal is an answer too (``rpc_payload``), and what it
says about the account (a wait, a restriction, a dead session) is written to the account row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from telethon import functions, types, utils
from telethon.errors import RPCError, UserNotParticipantError

from integration_service.accounts import AccountStore
from integration_service.mapping import added_user_ids, random_id_for, rpc_payload, sent_message
from integration_service.operations import NotSent, Payload, error
from integration_service.telegram import ClientPool, TelegramClientLike, Unusable


class Refused(Exception):
    """A refusal of this service before Telegram was asked about the request itself."""

    def __init__(self, payload: Payload) -> None:
        super().__init__(payload[1]["code"])
        self.payload = payload


class Actions:
    def __init__(self, pool: ClientPool, store: AccountStore) -> None:
        self.pool, self.store = pool, store

    async def _run(
        self, account_id: str, work: Callable[[TelegramClientLike], Awaitable[Payload]]
    ) -> Payload:
        try:
            return await self.pool.call(account_id, work)
        except Refused as exc:
            return exc.payload
        except RPCError as err:
            status, body = rpc_payload(err)
            await self.store.note_error(account_id, body["code"], body["rpc_code"], body["retry_after"])
            if body["rpc_code"] == 401:  # the session is dead: drop its client, later calls say so
                await self.pool.forget(account_id)
            return status, body

    async def invite(self, account_id: str, chat: str, users: list[dict[str, str]]) -> Payload:
        async def work(client: TelegramClientLike) -> Payload:
            entity = await resolve_chat(client, chat)
            peers = [await resolve_user(client, ref) for ref in users]
            ids = [utils.get_peer_id(peer) for peer in peers]
            missing: dict[int, Any] = {}
            added: set[int] = set()
            if isinstance(entity, types.Channel):
                request = functions.channels.InviteToChannelRequest(
                    channel=utils.get_input_channel(entity), users=[utils.get_input_user(p) for p in peers]
                )
                results = [await client(request)]
            else:  # a basic group takes one user per call; an error ends the call, earlier adds stay
                results = []
                for peer in peers:
                    results.append(
                        await client(
                            functions.messages.AddChatUserRequest(
                                chat_id=entity.id, user_id=utils.get_input_user(peer), fwd_limit=0
                            )
                        )
                    )
            for result in results:
                updates = getattr(result, "updates", result)
                for item in getattr(result, "missing_invitees", None) or []:
                    missing[item.user_id] = item
                added |= added_user_ids(updates)
            # Listed as invited only when Telegram visibly added them; a user neither added nor
            # missing is left out, and the Invite Service confirms by a membership check.
            invited = [
                ref for ref, uid in zip(users, ids, strict=True) if uid in added and uid not in missing
            ]
            missing_wire = [
                {
                    "user": ref,
                    "user_id": uid,
                    "premium_would_allow_invite": bool(missing[uid].premium_would_allow_invite),
                    "premium_required_for_pm": bool(missing[uid].premium_required_for_pm),
                }
                for ref, uid in zip(users, ids, strict=True)
                if uid in missing
            ]
            return 200, {"chat": chat, "invited": invited, "missing_invitees": missing_wire}

        return await self._run(account_id, work)

    async def send_message(self, account_id: str, peer: dict[str, str], text: str, key: str) -> Payload:
        async def work(client: TelegramClientLike) -> Payload:
            input_peer = await resolve_user(client, peer)
            result = await client(
                functions.messages.SendMessageRequest(
                    peer=input_peer, message=text, random_id=random_id_for(key), no_webpage=True
                )
            )
            sent = sent_message(result)
            if sent is None:
                return error(502, "INTERNAL", "Telegram's answer named no message")
            message_id, date = sent
            when = date if isinstance(date, datetime) else datetime.now(UTC)
            return 200, {"message_id": message_id, "date": when.isoformat()}

        return await self._run(account_id, work)

    async def is_member(self, account_id: str, chat: str, user: str) -> Payload:
        ref = user_ref(user)

        async def work(client: TelegramClientLike) -> Payload:
            entity = await resolve_chat(client, chat)
            peer = await resolve_user(client, ref)
            if isinstance(entity, types.Channel):
                try:
                    await client(
                        functions.channels.GetParticipantRequest(
                            channel=utils.get_input_channel(entity), participant=peer
                        )
                    )
                except UserNotParticipantError:
                    return 200, {"member": False}
                return 200, {"member": True}
            full = await client(functions.messages.GetFullChatRequest(chat_id=entity.id))
            participants = getattr(full.full_chat.participants, "participants", None) or []
            wanted = utils.get_peer_id(peer)
            return 200, {"member": any(p.user_id == wanted for p in participants)}

        return await self._run(account_id, work)

    async def connect_all(self) -> int:
        """Connect every active account, so replies arrive. Each makes one request (``get_me``):
        Telegram starts pushing updates to a connection once it has been used."""
        connected = 0
        for row in await self.store.list():
            if row.status == "unavailable" or row.session_ciphertext is None:
                continue
            try:
                await self.refresh_me(row.id)
            except (NotSent, Unusable):
                continue  # stays for later: the next call connects it
            connected += 1
        return connected

    async def refresh_me(self, account_id: str) -> None:
        """Username and Premium from ``get_me`` (once per account per process)."""

        async def work(client: TelegramClientLike) -> Payload:
            me = await client.get_me()
            if me is not None:
                await self.store.set(
                    account_id,
                    username=getattr(me, "username", None),
                    is_premium=bool(getattr(me, "premium", False)),
                    telegram_user_id=str(me.id),
                )
            return 200, {}

        await self._run(account_id, work)


def user_ref(value: str) -> dict[str, str]:
    """The membership path's ``{user}``: digits = id, ``+`` = phone, else a username (``@`` ignored)."""
    if value.isdigit():
        return {"user_id": value}
    if value.startswith("+"):
        return {"phone": value}
    return {"username": value.lstrip("@")}


async def resolve_chat(client: TelegramClientLike, chat: str) -> Any:
    target: Any = int(chat) if chat.lstrip("-").isdigit() else chat
    try:
        return await client.get_entity(target)
    except ValueError as exc:
        # Invite links (t.me/+…) are not resolved: this service never joins chats on anyone's behalf.
        raise Refused(_invalid("CHANNEL_INVALID", "the chat cannot be resolved by this account")) from exc


async def resolve_user(client: TelegramClientLike, ref: dict[str, str]) -> Any:
    """An ``InputPeerUser``. A numeric id needs an access hash the account already has (it has seen
    the user); a phone resolves only for the account's contacts — contacts are never imported."""
    if "user_id" in ref:
        target: Any = int(ref["user_id"])
        refusal = _invalid("USER_ID_INVALID", "the account has not seen this user id")
    elif "phone" in ref:
        target = ref["phone"]
        refusal = _invalid("USER_ID_INVALID", "a phone number resolves only for the account's contacts")
    else:
        target = ref["username"]
        refusal = _invalid("USERNAME_NOT_OCCUPIED", "no user has this username")
    try:
        peer = await client.get_input_entity(target)
    except ValueError as exc:
        raise Refused(refusal) from exc
    if not isinstance(peer, types.InputPeerUser):
        raise Refused(_invalid("USER_ID_INVALID", "the identity names a chat or channel, not a user"))
    return peer


def _invalid(code: str, detail: str) -> Payload:
    return 400, {"code": code, "retry_after": None, "detail": detail, "rpc_code": 400}
