"""The engine harness for a test: simulated clock and messenger over the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.execution.harness import Harness, make_harness


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    harness = await make_harness(db_url)
    yield harness
    await harness.rt.db.dispose()
