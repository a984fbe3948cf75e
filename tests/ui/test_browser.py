"""End to end in a real headless Chromium against the real server: frontend/e2e/walkthrough.mjs.

Screenshots of every page, at 1280 px and at 390 px, are written to test-artifacts/screenshots/.
"""

from __future__ import annotations

import httpx

from tests.ui.conftest import SCREENSHOTS, run_script


def test_ui_is_served_at_root(ui_server: str) -> None:
    page = httpx.get(f"{ui_server}/", timeout=10)
    assert page.status_code == 200
    assert '<div id="root">' in page.text
    # The API still answers problem+json under the UI's mount.
    missing = httpx.get(f"{ui_server}/api/v1/tasks", timeout=10)
    assert missing.status_code == 401


def test_walkthrough_in_chromium(ui_server: str, browser_tools: dict[str, str]) -> None:
    """Sign in, create a task (its API errors shown at the fields), paste targets (the invalid row shows its
    error), see them in the table, edit the task, delete it; a refused token returns to sign-in."""
    output = run_script("walkthrough.mjs", ui_server, browser_tools)
    assert "walkthrough: passed" in output
    shots = {p.name for p in SCREENSHOTS.glob("*.png")}
    pages = ("01-sign-in", "02-tasks-empty", "03-task-form", "06-task-page", "07-task-edit", "08-tasks-list")
    for page in pages:
        assert f"{page}-1280.png" in shots
        assert f"{page}-390.png" in shots


def test_run_task_in_chromium(ui_server: str, browser_tools: dict[str, str]) -> None:
    """A bad file is refused with its reason; a cp1251 CSV is previewed and imported with progress and its
    rejected rows; the task starts, pauses (counts hold still), resumes and completes."""
    output = run_script("run-task.mjs", ui_server, browser_tools)
    assert "run-task: passed" in output
