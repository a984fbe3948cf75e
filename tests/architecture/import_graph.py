"""The package import graph of `invite_service`, read with the standard library's `ast` (no import runs).

A node is a top-level package or module under `src/invite_service` (`execution`, `config`, ...); an edge
A → B means some module of A imports something of B. `function_level` lists imports written inside a
function or method body, the usual way to hide a cycle. `python -m tests.architecture.import_graph` prints
the figures used in the architecture issue's note.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "src" / "invite_service"
PACKAGE = "invite_service"


@dataclass(frozen=True)
class Import:
    source: str  # dotted module that imports, e.g. invite_service.execution.batch
    target: str  # dotted module imported, e.g. invite_service.config
    line: int
    in_function: bool
    type_checking: bool


@dataclass
class Graph:
    imports: list[Import] = field(default_factory=list)

    def edges(self, *, include_type_checking: bool = False) -> set[tuple[str, str]]:
        out = set()
        for imp in self.imports:
            if imp.type_checking and not include_type_checking:
                continue
            a, b = top(imp.source), top(imp.target)
            if a != b and a and b:
                out.add((a, b))
        return out

    def function_level(self) -> list[Import]:
        return [imp for imp in self.imports if imp.in_function]


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base)
        root = f"{prefix}.{node.module}" if node.module else prefix
    else:
        root = node.module or ""
    if not root.startswith(PACKAGE):
        return []
    # `from invite_service import config` imports the submodule config.
    if root == PACKAGE:
        return [f"{PACKAGE}.{alias.name}" for alias in node.names]
    return [root]


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.depth = 0
        self.type_checking = 0
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.AST) -> None:
        self.found.append(
            Import(self.module, target, getattr(node, "lineno", 0), self.depth > 0, self.type_checking > 0)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith(PACKAGE):
                self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for target in _resolve(self.module, self.is_package, node):
            self._add(target, node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if guarded:
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)


def sources() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts and "versions" in path.parts:
            continue
        yield path


def build() -> Graph:
    graph = Graph()
    for path in sources():
        visitor = _Visitor(module_name(path), path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph.imports.extend(visitor.found)
    return graph


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    nodes = sorted({n for e in edges for n in e})
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for n in nodes:
        if n not in index:
            strong(n)
    return found


def main() -> None:
    graph = build()
    edges = graph.edges()
    comps = cycles(edges)
    nodes = {n for e in edges for n in e}
    print(f"packages: {len(nodes)}  edges: {len(edges)}  cyclic components: {len(comps)}")
    for comp in comps:
        print(f"  cycle of {len(comp)}: {', '.join(comp)}")
    fl = graph.function_level()
    print(f"function-level imports: {len(fl)}")
    for imp in fl:
        print(f"  {imp.source}:{imp.line} -> {imp.target}")


if __name__ == "__main__":
    main()
