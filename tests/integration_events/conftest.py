"""An app whose Invite Service shares the Integration Service's token secret (inbound events on)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from invite_service.config import Settings
from invite_service.db import Database
from invite_service.main import create_app
from tests.integration_events.helpers import SECRET


@pytest.fixture(scope="session")
def events_settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, log_json=True, log_level="WARNING", integration_token_secret=SECRET)


@pytest.fixture(scope="session")
def events_app(events_settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(events_settings, database=database)


@pytest.fixture
async def events_client(events_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=events_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
