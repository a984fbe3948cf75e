"""Fixtures for the attack suite: one real server per database backend, shared by the module's tests.

Tests that need a fresh process (a memory ceiling, a stalled pool) start their own with ``serve``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.server import Server, serve

# Bounds the attack tests check. Generous on purpose: they prove the service keeps answering and stays
# bounded, on a busy 2-core CI box, not how fast it is (bench/ measures that).
HEALTH_BOUND_SECONDS = 2.0


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running ``invite-service serve`` on this backend's database (the whole module shares it)."""
    with serve(db_url, tmp_path_factory.mktemp("server")) as srv:
        yield srv


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
