"""The layering holds: the package import graph is acyclic, and import-linter refuses a forbidden import."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.architecture.import_graph import ROOT, build, cycles

REPO = ROOT.parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_package_import_graph_has_no_cycle() -> None:
    edges = build().edges(include_type_checking=True)
    assert len({node for edge in edges for node in edge}) > 15  # the walk really saw the packages
    assert cycles(edges) == []


def test_the_walk_finds_a_cycle_when_there_is_one() -> None:
    # The checker itself: a planted two-package loop is reported.
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def test_no_import_hides_inside_a_function_outside_the_command_line() -> None:
    # cli.py imports each command's dependencies lazily, for start-up cost (commented there).
    hidden = [f"{imp.source}:{imp.line} -> {imp.target}" for imp in build().function_level()]
    assert [h for h in hidden if not h.startswith("invite_service.cli:")] == []


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_linter_keeps_the_tree_and_refuses_an_import_that_points_up(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(REPO / "src", tree / "src", ignore=shutil.ignore_patterns("ui", "__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    # A store reaching up into the engine, the kind of shortcut that made the old cycle.
    store = tree / "src" / "invite_service" / "stores" / "targets.py"
    store.write_text(store.read_text() + "\nfrom invite_service.execution import policy  # noqa\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "invite_service.stores is not allowed to import invite_service.execution" in broken.stdout


BACKEND_URLS = {"redis_url", "broker_url", "integration_url", "parsing_url"}
# Which implementation serves an interface is runtime.py's decision alone. api/health.py reads the same
# settings for another reason: to probe every backend that is configured, whichever implementation uses it.
MAY_BRANCH = {"invite_service/runtime.py", "invite_service/api/health.py"}


def _branches_on_url(test: ast.expr) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in BACKEND_URLS for node in ast.walk(test))


def test_only_the_composition_root_chooses_an_implementation_by_url() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).as_posix()
        if rel in MAY_BRANCH or rel.startswith("invite_service/config/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.If | ast.IfExp | ast.While) and _branches_on_url(node.test):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
