"""The Integration Service served over real HTTP in the test process, with a fake Telethon client.

``IntegrationServer(db_url, workdir, world, secret).start()`` migrates the database, builds the app with
a fresh ``FakeTelegram`` over ``world`` (so ``.fake`` counts from zero after every start) and serves it
with uvicorn on a free port in a background thread; ``stop()`` then ``start()`` is a restart on the same
database. ``add_account`` stores an encrypted session; ``deliver`` makes a person write to an account.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from integration_service.accounts import AccountStore
from integration_service.app import create_app, utcnow
from integration_service.config import Settings
from integration_service.crypto import SessionCipher
from integration_service.db import engine_for, upgrade
from integration_service.telegram import ClientFactory
from tests.conftest import free_port
from tests.integration_service.fake_telegram import FakeTelegram, World

T = TypeVar("T")
SESSION_KEY = SessionCipher.generate_key()


def in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: callable from sync and async tests alike."""
    box: list[T] = []
    worker = threading.Thread(target=lambda: box.append(asyncio.run(coro)))
    worker.start()
    worker.join(30)
    return box[0]


class ThreadedServer:
    """uvicorn serving ``app`` on a free port in a thread with its own event loop."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def start(self, timeout: float = 20) -> None:
        self.thread.start()
        ready = threading.Event()

        def check() -> None:
            while self.thread.is_alive() and not self.server.started:
                threading.Event().wait(0.01)
            ready.set()

        threading.Thread(target=check, daemon=True).start()
        if not ready.wait(timeout) or not self.server.started:
            raise RuntimeError("the test server did not start")

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        """Run ``coro`` on the server's loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


class IntegrationServer:
    def __init__(
        self,
        db_url: str,
        workdir: Path,
        world: World,
        secret: str,
        *,
        events_url: str = "",
        session_key: str = SESSION_KEY,
        listen: bool = True,
        client_factory: ClientFactory | None = None,
        **settings: Any,
    ) -> None:
        self.db_url, self.workdir, self.world, self.secret = db_url, workdir, world, secret
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url,
            token_secret=secret,
            session_key=session_key,
            events_url=events_url,
            listen=listen,
            outbox_backoff_initial_seconds=0.05,
            outbox_backoff_max_seconds=0.2,
            outbox_poll_seconds=0.05,
            **settings,
        )
        self.fake = FakeTelegram(world)
        self.client_factory = client_factory  # None: the fake (the live test passes Telethon's)
        self._http: ThreadedServer | None = None
        upgrade(db_url)

    @property
    def url(self) -> str:
        assert self._http is not None
        return self._http.url

    def start(self) -> IntegrationServer:
        self.fake = FakeTelegram(self.world)
        app: FastAPI = create_app(self.settings, client_factory=self.client_factory or self.fake.factory)
        self.app = app  # app.state.pool / .operations / .outbox, for tests that look inside
        self._http = ThreadedServer(app)
        self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's own loop (its database engine and fake clients live there)."""
        assert self._http is not None
        return self._http.run(coro)

    def add_account(self, account_id: str, user_id: str, me: int, *, session: str = "") -> str:
        """An account of ``user_id`` logged in as the world's user ``me`` (its session stored encrypted)."""
        session = session or f"1FakeStringSession{account_id}=="

        async def create() -> str:
            engine = engine_for(self.db_url)
            try:
                store = AccountStore(engine, utcnow)
                cipher = SessionCipher(self.settings.session_key)
                return await store.create(
                    user_id=user_id,
                    label=account_id,
                    session_ciphertext=cipher.encrypt(session),
                    telegram_user_id=me,
                    account_id=account_id,
                )
            finally:
                await engine.dispose()

        return in_thread(create())

    def deliver(self, account_id: str, from_user: int, text: str) -> None:
        """A person writes ``text`` to the account (its client must be connected: ``listen``)."""
        client = self.fake.clients[account_id]
        self.run(client.deliver_private_message(from_user, text))
