"""Modules that fit in a head (#22): every product module at most 420 lines, every function at most 60.

A function may be longer when its docstring says why, in a line starting ``Long because`` (one
linear step, such as a table written out as a literal). Counted over ``ast``: a module's lines are
its physical lines; a function's run from its first decorator to its last line, nested functions
included. ``ALLOWED`` lists what exceeds a limit today, with today's count: a count may only go
down, and an entry that fits again must be deleted, so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import drift_pipeline

PACKAGE = Path(drift_pipeline.__file__).parent
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 60
REASON = "Long because"

# What exceeds a limit today, "path" (a module) or "path::qualified.name" (a function) -> lines.
ALLOWED: dict[str, int] = {}  # empty since 2026-12-07: keep it so


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function with its qualified name (``Class.method``, ``outer.inner``)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((prefix + node.name, node))
            found += _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            found += _functions(node, f"{prefix}{node.name}.")
        else:
            found += _functions(node, prefix)
    return found


def _has_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON) for line in doc.splitlines())


def oversized(root: Path = PACKAGE) -> dict[str, int]:
    """Each module over ``MAX_MODULE_LINES`` and each function over ``MAX_FUNCTION_LINES`` without a reason."""
    out: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            out[rel] = lines
        for name, node in _functions(ast.parse(text)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            size = (node.end_lineno or node.lineno) - first + 1
            if size > MAX_FUNCTION_LINES and not _has_reason(node):
                out[f"{rel}::{name}"] = size
    return out


def _report(found: dict[str, int]) -> str:
    return "\n".join(f"{lines:5d}  {key}" for key, lines in sorted(found.items(), key=lambda kv: -kv[1]))


def test_product_when_measured_then_nothing_over_the_limits_beyond_the_allow_list():
    found = oversized()
    print("\nover the limits today:\n" + _report(found))
    grown = {k: v for k, v in found.items() if v > ALLOWED.get(k, 0)}
    assert grown == {}, "over the limits (split by concern, or state why in 'Long because'):\n" + _report(grown)


def test_allow_list_when_an_entry_fits_or_shrank_then_it_must_shrink_too():
    found = oversized()
    stale = {k: v for k, v in ALLOWED.items() if found.get(k, 0) < v}
    assert stale == {}, "lower or delete these ALLOWED entries (now: " + repr({k: found.get(k) for k in stale}) + ")"


def test_limits_when_a_long_module_or_function_then_reported_unless_it_states_a_reason(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    (tmp_path / "big.py").write_text("\n" * 421)
    (tmp_path / "funcs.py").write_text(
        "class C:\n    @staticmethod\n    def long():\n"
        + body.replace("    ", "        ")
        + "def fits():\n"
        + body[: -len("    x59 = 59\n")]
        + 'def stated():\n    """Build the table.\n\n    Long because it is one literal.\n    """\n'
        + body
    )
    assert oversized(tmp_path) == {"big.py": 421, "funcs.py::C.long": 62}
