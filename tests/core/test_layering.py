"""Layering as a test: the bottom layer imports nothing above it, and radpulse has no import cycles.

Read with the standard library's `ast` from the source files (no import is executed): module-level
imports are what Python runs when a module is loaded, so they are what makes a cycle. Imports
under `if TYPE_CHECKING:` are left out (never run). Imports inside functions are collected too:
the bottom layer may not import upward even lazily, and a function-level import that would close
a cycle if it stood at the top is reported by `cycle_dodging_imports` (a smell, not a failure).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the source folders and the package each is installed as (pyproject's package-dir)
FOLDERS = {"radpulse": "radpulse", "collectors": "radpulse.collectors", "analysis": "radpulse.analysis",
           "dashboards": "radpulse.dashboards"}
#: the layers above the bottom one
UPPER = ("radpulse.collectors", "radpulse.analysis", "radpulse.dashboards", "radpulse.cli")
#: the bottom layer: record types, errors, the database, identifiers and other leaf helpers
BOTTOM = ("radpulse.records", "radpulse.errors", "radpulse.db", "radpulse.identifiers",
          "radpulse.literature.identifiers", "radpulse.timewindow", "radpulse.safeurl")


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    top: set[str] = field(default_factory=set)  # radpulse modules imported at module level
    lazy: set[str] = field(default_factory=set)  # radpulse modules imported inside functions


def discover() -> dict[str, Module]:
    """Every radpulse module, by dotted name, from the source folders."""
    modules = {}
    for folder, package in FOLDERS.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            if "migrations" in rel.parts and "versions" in rel.parts:
                continue  # Alembic scripts are loaded by Alembic, never imported
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            modules[name] = Module(name, path, path.name == "__init__.py")
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(body: list[ast.stmt], top: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """(import statement, at module level?) in `body`, skipping `if TYPE_CHECKING:` blocks."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, top
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _imports(node.orelse, top)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.walk(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    yield child, False
        elif isinstance(node, ast.ClassDef):
            yield from _imports(node.body, top)
        else:  # if/try/with/for at module level run at import time
            for name in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, name, None)
                if isinstance(inner, list):
                    yield from _imports([n for n in inner if isinstance(n, ast.AST)], top)
            if isinstance(node, ast.ExceptHandler):
                yield from _imports(node.body, top)


def _resolve(module: Module, node: ast.Import | ast.ImportFrom, known: dict[str, Module]) -> set[str]:
    """The radpulse modules an import statement loads (with the packages above them)."""
    targets: list[str] = []
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.name.split(".")
            if not module.is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    # importing a.b.c runs a, a.b and a.b.c; but the packages above the importer itself are
    # loaded before it (a package importing its own submodules is no cycle), unless named
    own = {".".join(module.name.split(".")[:i]) for i in range(1, module.name.count(".") + 1)}
    found = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name in known and name != module.name and (name == target or name not in own):
                found.add(name)
    return found


def build_graph() -> dict[str, Module]:
    """Every radpulse module with the radpulse modules it imports, at the top and lazily."""
    modules = discover()
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for node, top in _imports(tree.body, True):
            (module.top if top else module.lazy).update(_resolve(module, node, modules))
    return modules


def in_layer(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reachable(graph: dict[str, Module], start: str, *, lazy: bool = False) -> set[str]:
    """Modules loaded (at module level) when `start` is imported; with `lazy`, also those its
    functions may import."""
    seen, todo = set(), [start]
    while todo:
        mod = graph[todo.pop()]
        for nxt in mod.top | mod.lazy if lazy else mod.top:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def import_cycles(graph: dict[str, Module]) -> list[list[str]]:
    """Strongly connected groups of modules that import each other at module level (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the module count (~150)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v].top):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def cycle_dodging_imports(graph: dict[str, Module]) -> list[tuple[str, str]]:
    """(importer, imported) function-level imports that close a cycle: the imported module leads
    back to the importer (at module level or through its own function-level imports)."""
    return sorted((m.name, target) for m in graph.values() for target in m.lazy - m.top
                  if m.name in reachable(graph, target, lazy=True))


# -- the tests -------------------------------------------------------------------------------


def test_the_graph_sees_the_known_imports():
    """The reader itself: relative imports, packages, `from pkg import module`, TYPE_CHECKING."""
    graph = build_graph()
    assert "radpulse.records" in graph["radpulse.db.store"].top
    assert "radpulse.collectors.runner" in graph["radpulse.collection"].top
    assert "radpulse.collectors.mastodon.helpers" in graph["radpulse.collectors.mastodon.collector"].top  # from .helpers
    assert "radpulse.collectors.runner" in graph["radpulse.collectors.archive"].top  # and its packages:
    assert {"radpulse.db", "radpulse.db.store"} <= graph["radpulse.collectors.runner"].top
    assert "radpulse.collectors" not in graph["radpulse.collectors.base"].top  # its own package
    assert "radpulse.config" not in graph["radpulse.collectors.base"].top  # only under TYPE_CHECKING
    assert len(graph) > 80


def test_the_bottom_layer_imports_nothing_above_it():
    graph = build_graph()
    bottom = [name for name in graph if in_layer(name, BOTTOM)]
    assert {"radpulse.records", "radpulse.errors", "radpulse.db.store", "radpulse.db.models"} <= set(bottom)
    upward = {}
    for name in bottom:
        loaded = reachable(graph, name) | graph[name].lazy  # what it loads, directly or not, and lazily
        bad = sorted(m for m in loaded if in_layer(m, UPPER))
        if bad:
            upward[name] = bad
    assert upward == {}, f"bottom-layer modules importing from {', '.join(UPPER)}: {upward}"


def test_no_import_cycles_among_radpulse_modules():
    cycles = import_cycles(build_graph())
    assert cycles == [], "modules that import each other at module level: " + "; ".join(
        " <-> ".join(group) for group in cycles)


def test_no_function_level_import_closes_a_cycle():
    """Moving an import into a function hides a cycle from Python, not from the design (the
    runner and the linker used to import each other so); fix the layering instead."""
    dodging = cycle_dodging_imports(build_graph())
    assert dodging == [], "function-level imports that close a cycle: " + "; ".join(
        f"{a} -> {b}" for a, b in dodging)


def test_the_cycle_finder_finds_a_cycle():
    graph = {name: Module(name, Path(), False) for name in ("a", "b", "c", "d")}
    graph["a"].top, graph["b"].top, graph["c"].top = {"b"}, {"c"}, {"a"}
    graph["d"].lazy = {"a"}
    graph["a"].lazy = {"d"}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert cycle_dodging_imports(graph) == [("a", "d"), ("d", "a")]  # a and d import each other lazily
    graph["d"].lazy = set()
    assert cycle_dodging_imports(graph) == []
    graph["d"].top = {"b"}
    assert cycle_dodging_imports(graph) == [("a", "d")]  # d leads back to a through b and c


if __name__ == "__main__":  # python tests/core/test_layering.py: the report
    g = build_graph()
    print("cycles:", import_cycles(g))
    print("function-level imports that dodge a cycle:")
    for importer, imported in cycle_dodging_imports(g):
        print(f"  {importer} -> {imported}")
