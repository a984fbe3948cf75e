"""/docs and /redoc without internet (frontend/e2e/docs-offline.mjs): in Chromium, with every request to a
host other than the service aborted, Swagger UI lists the operations and ReDoc renders the document; the
script also fails if either page so much as asks another host (a CDN script, a font, a logo)."""

from __future__ import annotations

from tests.ui.conftest import run_script


def test_docs_and_redoc_render_offline(ui_server: str, browser_tools: dict[str, str]) -> None:
    output = run_script("docs-offline.mjs", ui_server, browser_tools)
    assert "docs-offline: passed" in output, output[-4000:]
