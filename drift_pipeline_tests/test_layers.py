"""The layout follows DESIGN's data flow: each room imports only the rooms below it, no module circles.

The table is ``LAYERS`` (also in ``docs/design.md``): a room of ``drift_pipeline`` and the rooms it
may import. Every import counts (lazy ones inside functions and ``TYPE_CHECKING`` ones too): a
circle hidden behind a lazy import is still a circle for the reader. ``__main__`` modules are entry
points and may import anything. Run by ``make lint``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import drift_pipeline

PACKAGE = Path(drift_pipeline.__file__).parent

CORE = {"core"}
LAYERS: dict[str, set[str]] = {
    "core": set(),  # standards, rules, redaction, errors: pure
    "sources": CORE,  # read the world (GitHub, git, AWS)
    "store": CORE,  # the DuckDB file or DuckLake, its schema, cache, lock and views
    "evidence": CORE,  # reports over the store's rows
    "scans": CORE | {"sources"},  # reads into rows
    "issues": CORE | {"sources", "store"},  # filing, the audit, markers, inert bodies
    "sandbox": CORE | {"sources"},  # the GitHub-API sandbox and its seed
    "doctor": CORE | {"sources", "store"},
    "defs": CORE | {"sources", "store", "scans", "issues", "evidence"},  # the Dagster shell
    "definitions": {"defs"},
    "demo": CORE | {"store", "sandbox", "defs", "definitions"},
    "commands": CORE | {"sources", "store", "scans", "issues", "sandbox", "doctor", "evidence", "defs", "demo"},
    "cli": CORE | {"commands"},
}
MAX_FLOORS = 8


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["drift_pipeline", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The ``drift_pipeline`` modules ``path`` imports (the longest known prefix of each name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = {p: _module_name(p, root) for p in root.rglob("*.py")}
    modules = set(files.values())
    return {m: _imports(p, root, modules) - {m} for p, m in files.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        room = _room(module)
        if module.endswith(".__main__") or room == "":
            continue
        allowed = LAYERS.get(room)
        if allowed is None:
            out.append(f"{module}: room {room!r} is not in the layer table")
            continue
        for target in sorted(targets):
            to = _room(target)
            if to and to != room and to not in allowed:
                out.append(f"{module} imports {target}: {room} may import only {sorted(allowed)}")
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def floors() -> int:
    """The longest chain of rooms in ``LAYERS`` (a room with no imports is floor 1)."""
    memo: dict[str, int] = {}

    def depth(room: str) -> int:
        if room not in memo:
            memo[room] = 1 + max((depth(r) for r in LAYERS[room]), default=0)
        return memo[room]

    return max(depth(r) for r in LAYERS)


def test_layout_when_imports_read_then_every_room_imports_only_rooms_below_it():
    graph = _graph()
    assert len(graph) > 150
    assert layer_violations(graph) == []


def test_layout_when_imports_read_then_no_module_circles():
    assert circles(_graph()) == []


def test_layer_table_when_read_then_at_most_eight_floors():
    assert floors() <= MAX_FLOORS


def test_layer_check_when_an_upward_or_circular_import_then_reported(tmp_path):
    pkg = tmp_path / "drift_pipeline"
    (pkg / "core").mkdir(parents=True)
    (pkg / "scans").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "scans" / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("def f():\n    from drift_pipeline.scans.b import g\n")
    (pkg / "scans" / "b.py").write_text("from drift_pipeline.core import a\nfrom . import c\n")
    (pkg / "scans" / "c.py").write_text("from .b import x\n")
    graph = _graph(pkg)
    assert layer_violations(graph) == ["drift_pipeline.core.a imports drift_pipeline.scans.b: core may import only []"]
    assert circles(graph) == [["drift_pipeline.core.a", "drift_pipeline.scans.b", "drift_pipeline.scans.c"]]
