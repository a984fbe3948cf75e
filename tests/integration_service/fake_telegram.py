"""A fake Telethon client over an in-memory "world": real TL objects out, real ``telethon.errors`` raised.

Only the client surface the Integration Service uses is here. Every request is recorded
(``FakeTelegram.calls``) so a test can count what reached "Telegram".
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telethon import errors, functions, types

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class FakeUser:
    id: int
    username: str | None = None
    phone: str | None = None  # digits, no "+", as Telegram gives it
    premium: bool = False
    bot: bool = False
    contact: bool = False  # a contact of every account: only then does a phone resolve

    @property
    def access_hash(self) -> int:
        return self.id * 7 + 1

    def tl(self, *, is_self: bool = False) -> types.User:
        return types.User(
            id=self.id,
            is_self=is_self,
            bot=self.bot,
            premium=self.premium,
            access_hash=self.access_hash,
            username=self.username,
            phone=self.phone if (self.contact or is_self) else None,
        )


@dataclass
class FakeChat:
    id: int
    username: str | None = None
    channel: bool = True  # a supergroup/channel; False: a basic group
    members: set[int] = field(default_factory=set)

    def tl(self) -> types.Channel | types.Chat:
        if self.channel:
            return types.Channel(
                id=self.id,
                title=f"chat {self.id}",
                photo=types.ChatPhotoEmpty(),
                date=NOW,
                megagroup=True,
                access_hash=self.id * 3 + 1,
                username=self.username,
            )
        return types.Chat(
            id=self.id,
            title=f"chat {self.id}",
            photo=types.ChatPhotoEmpty(),
            participants_count=len(self.members),
            date=NOW,
            version=1,
        )


@dataclass
class Scripted:
    request: str  # the request class name, e.g. "InviteToChannelRequest"
    error: Callable[[], Exception]
    user_id: int | None = None


class World:
    """Users, chats and scripted failures; survives a restart of the service (the fake does not)."""

    def __init__(self) -> None:
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.missing: dict[
            int, tuple[bool, bool]
        ] = {}  # user -> (premium_would_allow, premium_required_for_pm)
        self.silent: set[int] = (
            set()
        )  # added, but Telegram's answer shows nothing (neither added nor missing)
        self.scripted: list[Scripted] = []
        # Users every invite of whom Telegram refuses with this error (a privacy setting, say).
        self.refuse: dict[int, Callable[[], Exception]] = {}
        self.random_ids: set[tuple[int, int]] = set()  # (sender, random_id): Telegram's own dedup
        self.messages: list[tuple[int, int, str]] = []  # (sender, peer, text)
        self.unreachable = False
        self.hold: set[str] = set()  # request names that wait in "Telegram" until release()
        self.held = 0
        self.gate: asyncio.Event | None = None
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}  # per account: the most calls "Telegram" saw at once
        self._ids = itertools.count(1000)

    async def release(self) -> None:
        """Let held requests go on (run on the server's loop)."""
        self.hold.clear()
        if self.gate is not None:
            self.gate.set()
        self.gate = None

    def user(self, id: int, username: str | None = None, **kw: Any) -> FakeUser:
        self.users[id] = FakeUser(id, username, **kw)
        return self.users[id]

    def chat(self, id: int, username: str | None = None, **kw: Any) -> FakeChat:
        self.chats[id] = FakeChat(id, username, **kw)
        return self.chats[id]

    def fail(self, request: str, error: Callable[[], Exception], *, user_id: int | None = None) -> None:
        """The next matching request raises ``error()`` (once)."""
        self.scripted.append(Scripted(request, error, user_id))

    def next_id(self) -> int:
        return next(self._ids)


@dataclass
class Call:
    account_id: str
    request: str
    args: dict[str, Any]


class FakeTelegram:
    """The client factory handed to ``create_app``; one ``FakeClient`` per account."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: list[Call] = []
        self.clients: dict[str, FakeClient] = {}

    def factory(self, account: Any, session: str) -> FakeClient:
        client = self.clients[account.id] = FakeClient(
            self, account.id, int(account.telegram_user_id), session
        )
        return client

    def count(self, request: str) -> int:
        return sum(1 for call in self.calls if call.request == request)


Handler = Callable[[Any], Awaitable[None]]


class FakeClient:
    def __init__(self, telegram: FakeTelegram, account_id: str, me: int, session: str) -> None:
        self.telegram, self.world, self.account_id, self.me, self.session = (
            telegram,
            telegram.world,
            account_id,
            me,
            session,
        )
        self.connected = False
        self.handlers: list[tuple[Handler, Any]] = []
        self.logged_out = False

    async def connect(self) -> None:
        if self.world.unreachable:
            raise ConnectionError("Telegram unreachable (fake)")
        self.connected = True

    async def disconnect(self) -> None:
        self.connected = False

    def is_connected(self) -> bool:
        return self.connected

    async def get_me(self) -> types.User:
        return self.world.users[self.me].tl(is_self=True)

    def _find(self, target: Any) -> FakeUser | FakeChat:
        if isinstance(target, int):
            if target in self.world.users:
                return self.world.users[target]
            chat_id = int(str(target).removeprefix("-100").removeprefix("-"))
            if chat_id in self.world.chats:
                return self.world.chats[chat_id]
            raise ValueError(f"Could not find the input entity for {target}")
        name = str(target).removeprefix("https://t.me/").removeprefix("t.me/").lstrip("@").lower()
        if name.startswith("+") and name[1:].isdigit():
            for user in self.world.users.values():
                if user.contact and user.phone == name[1:]:
                    return user
            raise ValueError("Cannot find any entity corresponding to the phone")
        for thing in [*self.world.users.values(), *self.world.chats.values()]:
            if thing.username and thing.username.lower() == name:
                return thing
        raise ValueError(f'No user has "{name}" as username')

    async def get_entity(self, entity: Any) -> Any:
        return self._find(entity).tl()

    async def get_input_entity(self, peer: Any) -> Any:
        found = self._find(peer)
        if isinstance(found, FakeUser):
            return types.InputPeerUser(found.id, found.access_hash)
        if found.channel:
            return types.InputPeerChannel(found.id, found.id * 3 + 1)
        return types.InputPeerChat(found.id)

    def add_event_handler(self, callback: Handler, event: Any = None) -> None:
        self.handlers.append((callback, event))

    async def log_out(self) -> bool:
        self.logged_out = True
        self.telegram.calls.append(Call(self.account_id, "LogOutRequest", {}))
        return True

    async def deliver_private_message(self, from_user: int, text: str) -> None:
        """A person writes to this account: a real ``UpdateShortMessage`` reaches the handlers."""
        update = types.UpdateShortMessage(
            id=self.world.next_id(), user_id=from_user, message=text, pts=1, pts_count=1, date=NOW, out=False
        )
        for callback, event in self.handlers:
            wanted = getattr(event, "types", None)
            if wanted is None or isinstance(update, wanted):
                await callback(update)

    # -- requests --

    async def __call__(self, request: Any) -> Any:
        name = type(request).__name__
        users = _user_ids(request)
        self.telegram.calls.append(Call(self.account_id, name, _args(request)))
        flights = self.world.in_flight
        flights[self.account_id] = flights.get(self.account_id, 0) + 1
        peak = self.world.max_in_flight
        peak[self.account_id] = max(peak.get(self.account_id, 0), flights[self.account_id])
        try:
            if name in self.world.hold:
                self.world.held += 1
                if self.world.gate is None:
                    self.world.gate = asyncio.Event()
                await self.world.gate.wait()
            return self._answer(request, name, users)
        finally:
            flights[self.account_id] -= 1

    def _answer(self, request: Any, name: str, users: list[int]) -> Any:
        for item in list(self.world.scripted):
            if item.request == name and (item.user_id is None or item.user_id in users):
                self.world.scripted.remove(item)
                raise item.error()
        if isinstance(request, functions.channels.InviteToChannelRequest):
            return self._invite(request.channel.channel_id, users, channel=True)
        if isinstance(request, functions.messages.AddChatUserRequest):
            return self._invite(request.chat_id, users, channel=False)
        if isinstance(request, functions.messages.SendMessageRequest):
            return self._send(request)
        if isinstance(request, functions.channels.GetParticipantRequest):
            chat = self.world.chats[request.channel.channel_id]
            if users[0] not in chat.members:
                raise errors.UserNotParticipantError(request=request)
            part = types.ChannelParticipant(user_id=users[0], date=NOW)
            return types.channels.ChannelParticipant(participant=part, chats=[], users=[])
        if isinstance(request, functions.messages.GetFullChatRequest):
            chat = self.world.chats[request.chat_id]
            parts = [types.ChatParticipant(user_id=u, inviter_id=self.me, date=NOW) for u in chat.members]
            full = types.ChatFull(
                id=chat.id,
                about="",
                participants=types.ChatParticipants(chat.id, parts, 1),
                notify_settings=types.PeerNotifySettings(),
            )
            return types.messages.ChatFull(full_chat=full, chats=[], users=[])
        raise NotImplementedError(name)

    def _invite(self, chat_id: int, users: list[int], *, channel: bool) -> types.messages.InvitedUsers:
        chat = self.world.chats[chat_id]
        for user_id in users:
            if user_id in self.world.refuse:
                raise self.world.refuse[user_id]()
        added, missing = [], []
        for user_id in users:
            if user_id in self.world.missing:
                allow, pm = self.world.missing[user_id]
                missing.append(
                    types.MissingInvitee(
                        user_id, premium_would_allow_invite=allow, premium_required_for_pm=pm
                    )
                )
            elif user_id not in chat.members:
                chat.members.add(user_id)
                if user_id not in self.world.silent:
                    added.append(user_id)
        peer: Any = types.PeerChannel(chat_id) if channel else types.PeerChat(chat_id)
        updates = []
        if added:
            service = types.MessageService(
                id=self.world.next_id(),
                peer_id=peer,
                date=NOW,
                out=True,
                from_id=types.PeerUser(self.me),
                action=types.MessageActionChatAddUser(users=added),
            )
            kind = types.UpdateNewChannelMessage if channel else types.UpdateNewMessage
            updates.append(kind(message=service, pts=1, pts_count=1))
        body = types.Updates(updates=updates, users=[], chats=[], date=NOW, seq=0)
        return types.messages.InvitedUsers(updates=body, missing_invitees=missing)

    def _send(self, request: Any) -> types.UpdateShortSentMessage:
        if (self.me, request.random_id) in self.world.random_ids:
            raise errors.RandomIdDuplicateError(request=request)
        self.world.random_ids.add((self.me, request.random_id))
        self.world.messages.append((self.me, request.peer.user_id, request.message))
        return types.UpdateShortSentMessage(id=self.world.next_id(), pts=1, pts_count=1, date=NOW, out=True)


def _user_ids(request: Any) -> list[int]:
    found = []
    for attr in ("users", "user_id", "peer", "participant"):
        value = getattr(request, attr, None)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, types.InputUser | types.InputPeerUser):
                found.append(item.user_id)
    return found


def _args(request: Any) -> dict[str, Any]:
    data = request.to_dict()
    data.pop("_", None)
    return data
