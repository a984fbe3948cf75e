"""Audiences in a real Chromium (frontend/e2e/audiences.mjs): an audience created and filled from a file
(tags and consent columns) through the import wizard, the contacts filtered by a tag and a field, a task
that includes it with the live count in the form, the start dialog's audience preview, the task running
from the materialised audience, and a contact's page.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.conftest import run_script, serving


@pytest.fixture(scope="module")
def audiences_server(
    browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-audiences")
    env = {"INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}"}
    with serving(env, tmp / "server.log") as base:
        yield base


def test_audiences_in_chromium(audiences_server: str, browser_tools: dict[str, str]) -> None:
    output = run_script("audiences.mjs", audiences_server, browser_tools, user="audiences-operator")
    assert "audiences: passed" in output
