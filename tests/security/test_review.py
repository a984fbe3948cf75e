"""docs/security.md is the security review; every test it names as proof must exist.

The document names a file (``tests/auth/test_jwt.py``), a test in a file (``tests/x.py::test_y``) or,
after one of those, more tests of the last file named (``::test_z``). A renamed or deleted test
makes this fail, so the document cannot go on citing proof that is gone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REVIEW = ROOT / "docs" / "security.md"
_REF = re.compile(r"`(tests/[\w/]+\.py)?(::\w+)?")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _cited() -> list[tuple[str, str | None]]:
    cited: list[tuple[str, str | None]] = []
    current: str | None = None
    for path, name in _REF.findall(REVIEW.read_text()):
        current = path or current
        if current is not None and (path or name):
            cited.append((current, name[2:] if name else None))
    return cited


def test_every_test_the_review_cites_exists() -> None:
    cited = _cited()
    # The parser really read the tables: every `::name` in the document was attributed to a file.
    assert sum(1 for _, name in cited if name) == REVIEW.read_text().count("`::") + REVIEW.read_text().count(
        ".py::"
    )
    missing = []
    for path, name in cited:
        file = ROOT / path
        if not file.is_file():
            missing.append(path)
        elif name is not None and name not in _tests_in(file):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/security.md cites tests that do not exist: {missing}"
