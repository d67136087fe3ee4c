"""The package floors, checked from the source: a package imports only floors below it, no
modules import each other in a circle, and the conversation core (``flows``) reaches no
database or platform library.

Every ``import`` counts, also those inside functions and under ``TYPE_CHECKING``: an upward
import that happens late is still an upward import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Lowest first. ``console`` (the operator console) is the floor under ``bot``.
FLOORS = ("core", "nlu", "flows", "broadcast", "console", "bot")

#: What the conversation core may import from the ground floor: configuration types only.
#: From the ground floor ``flows`` reads configuration types and the pure masking of numbers
#: (``core.privacy``: text in, text out; no database).
FLOWS_MAY_USE_FROM_CORE = {"core.config", "core.channels", "core.privacy"}
#: Libraries of databases and platforms: never imported by ``flows``.
FLOWS_NEVER = {"sqlalchemy", "alembic", "asyncpg", "aiosqlite", "psycopg", "apscheduler",
               "aiohttp", "telegram", "requests", "gtts", "uvloop"}

Graph = dict[str, set[str]]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    found = {}
    for pkg in packages:
        base = root / pkg
        if base.is_dir():
            for path in sorted(base.rglob("*.py")):
                found[_module_name(root, path)] = path
    return found


def import_graph(root: Path, packages: Sequence[str]) -> tuple[Graph, dict[str, set[str]]]:
    """(module → project modules it imports, module → outside top-level names it imports)."""
    modules = _modules(root, packages)
    graph: Graph = {m: set() for m in modules}
    outside: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_pkg else name.split(".")[:-1]
                    here = here[:len(here) - (node.level - 1)]
                    base = ".".join([*here, base] if base else here)
                # "from a.b import c" imports the module a.b.c when there is one, else a.b.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                top = target.split(".")[0]
                if top in packages:
                    while target not in modules and "." in target:
                        target = target.rsplit(".", 1)[0]
                    if target != name:
                        graph[name].add(target)
                else:
                    outside[name].add(top)
    return graph, outside


def upward_imports(graph: Mapping[str, set[str]], floors: Sequence[str]) -> list[str]:
    rank = {floor: i for i, floor in enumerate(floors)}
    return sorted(f"{m} imports {t}" for m, targets in graph.items() for t in targets
                  if rank[t.split(".")[0]] > rank[m.split(".")[0]])


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a circle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# ---------------------------------------------------------------------- this project


def test_no_package_imports_a_floor_above_it() -> None:
    graph, _ = import_graph(ROOT, FLOORS)
    assert {m.split(".")[0] for m in graph} >= {"core", "nlu", "flows", "broadcast", "bot"}
    assert upward_imports(graph, FLOORS) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph, _ = import_graph(ROOT, FLOORS)
    assert cycles(graph) == []


def test_the_conversation_core_reaches_no_database_platform_or_higher_floor() -> None:
    graph, outside = import_graph(ROOT, FLOORS)
    flows = [m for m in graph if m.split(".")[0] == "flows"]
    assert flows
    for m in flows:
        project = {t for t in graph[m] if t.split(".")[0] != "flows"}
        assert {t for t in project if t.split(".")[0] != "nlu"} <= FLOWS_MAY_USE_FROM_CORE, m
        assert outside[m] & FLOWS_NEVER == set(), m


# ---------------------------------------------------------------------- the checker itself


def _write(root: Path, files: Mapping[str, str]) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)


def test_the_checker_finds_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, {
        "low/__init__.py": "",
        "low/a.py": "from low import b\n",
        "low/b.py": "def f() -> None:\n    from . import a\n",  # a late, relative import
        "low/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import high.x\n",
        "high/__init__.py": "",
        "high/x.py": "from low.a import thing\nimport sqlalchemy\n",
    })
    graph, outside = import_graph(tmp_path, ("low", "high"))
    assert upward_imports(graph, ("low", "high")) == ["low.c imports high.x"]
    assert cycles(graph) == [["low.a", "low.b"]]
    assert graph["high.x"] == {"low.a"} and outside["high.x"] == {"sqlalchemy"}


def test_the_checker_is_quiet_on_clean_floors(tmp_path: Path) -> None:
    _write(tmp_path, {
        "low/__init__.py": "from low.a import thing\n",
        "low/a.py": "thing = 1\n",
        "high/__init__.py": "from low import a\nfrom low.a import thing\n",
    })
    graph, _ = import_graph(tmp_path, ("low", "high"))
    assert upward_imports(graph, ("low", "high")) == [] and cycles(graph) == []
