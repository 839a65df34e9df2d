"""The store is one package with one public interface: ``drift_pipeline.store`` (its ``__init__``).

Product code outside ``drift_pipeline/store/`` imports the store only from there, never from the
modules behind it (``file``, ``lake``, ``schema``, ``cache``, ``lock``, ``views``), so those can be
split or renamed without touching a caller. Tests may reach behind the interface (they test the
modules). The import graph is the layer test's (every import counts, lazy ones too).
"""

from __future__ import annotations

import drift_pipeline.store as store
from drift_pipeline_tests.test_layers import _graph

INTERFACE = "drift_pipeline.store"


def interface_breaches(graph: dict[str, set[str]], interface: str = INTERFACE) -> list[str]:
    """``module imports target`` for each import of a module behind ``interface`` from outside it."""
    inside = interface + "."
    return [
        f"{module} imports {target}: import it from {interface}"
        for module, targets in sorted(graph.items())
        if module != interface and not module.startswith(inside)
        for target in sorted(targets)
        if target.startswith(inside)
    ]


def test_store_when_product_imports_read_then_only_through_its_interface():
    graph = _graph()
    assert any(t.startswith(INTERFACE + ".") for t in graph[INTERFACE])  # the interface itself reaches behind
    assert interface_breaches(graph) == []


def test_store_interface_when_imported_then_every_public_name_resolves():
    missing = [name for name in store.__all__ if not hasattr(store, name)]
    assert missing == []
    assert store.LakeStore.__mro__[1] is store.DriftStore  # one interface, two backends


def test_interface_check_when_a_module_reaches_behind_it_then_reported(tmp_path):
    pkg = tmp_path / "drift_pipeline"
    (pkg / "store").mkdir(parents=True)
    (pkg / "commands").mkdir()
    for init in (pkg, pkg / "store", pkg / "commands"):
        (init / "__init__.py").write_text("")
    (pkg / "store" / "__init__.py").write_text("from drift_pipeline.store.file import DriftStore\n")
    (pkg / "store" / "file.py").write_text("from drift_pipeline.store import lock\n")
    (pkg / "store" / "lock.py").write_text("")
    (pkg / "commands" / "ok.py").write_text("from drift_pipeline.store import DriftStore\n")
    (pkg / "commands" / "bad.py").write_text("def f():\n    from drift_pipeline.store.lock import connect\n")
    assert interface_breaches(_graph(pkg)) == [
        "drift_pipeline.commands.bad imports drift_pipeline.store.lock: import it from drift_pipeline.store"
    ]
