"""The real server serving the built UI, for the browser tests (Debian's Chromium via playwright-core).

Locally a missing Chromium, Node or UI build skips these tests with the reason;
with ``CI=true`` it fails them.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CI
from tests.e2e.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
UI_INDEX = ROOT / "src" / "invite_service" / "ui" / "index.html"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _require(ok: bool, message: str) -> None:
    if ok:
        return
    if CI:
        hint = ".ci/run installs chromium, `make ui` builds the UI"
        pytest.fail(f"{message}; CI=true requires it ({hint})", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_tools() -> dict[str, str]:
    node = shutil.which("node")
    _require(node is not None, "node is not installed")
    _require(Path(CHROMIUM).exists(), f"Chromium is not at {CHROMIUM} (apt-get install -y chromium)")
    _require(UI_INDEX.exists(), f"the UI is not built ({UI_INDEX} is missing; run `make ui`)")
    _require(
        (FRONTEND / "node_modules" / "playwright-core").is_dir(),
        "frontend/node_modules is missing (run `make ui`)",
    )
    assert node is not None
    return {"node": node, "chromium": CHROMIUM}


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """`invite-service serve --migrate` on a free port with these settings, stopped after the block."""
    proc, base = start_server(env, log)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_script(script: str, base: str, tools: dict[str, str], /, **args: str) -> str:
    """Run ``frontend/e2e/<script>`` in Chromium against ``base`` (``args`` become ``--key value``); it
    fails the test unless the script exits 0. Returns what it printed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    extra = [item for key, value in args.items() for item in (f"--{key}", value)]
    run = subprocess.run(
        [
            tools["node"],
            str(FRONTEND / "e2e" / script),
            "--base",
            base,
            "--chromium",
            tools["chromium"],
            "--shots",
            str(SCREENSHOTS),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"{script} failed:\n{output[-6000:]}"
    return output


@pytest.fixture(scope="session")
def ui_server(browser_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`invite-service serve --migrate` on a free port with a brand-new SQLite file, as `make run` does."""
    tmp = tmp_path_factory.mktemp("ui-server")
    with serving({"INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'ui.db'}"}, tmp / "server.log") as base:
        yield base
