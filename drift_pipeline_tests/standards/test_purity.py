"""The core stays pure (standards, rules, redaction, errors): no Dagster, GitHub, AWS, subprocess or environment."""

from __future__ import annotations

import ast
from pathlib import Path

import drift_pipeline.core as core

FORBIDDEN_MODULES = {
    "subprocess",
    "dagster",
    "github",
    "boto3",
    "botocore",
    "requests",
    "urllib.request",
    "drift_pipeline.sources.gitutil",
    "drift_pipeline.sources",
    "drift_pipeline.scans",
    "drift_pipeline.store",
    "drift_pipeline.issues",
    "drift_pipeline.defs",
    "duckdb",
    "os.environ",
    "os.getenv",
}
FORBIDDEN_ATTRS = {("os", "environ"), ("os", "getenv"), ("os", "system"), ("os", "popen")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        bad = [n for n in names if any(n == m or n.startswith(m + ".") for m in FORBIDDEN_MODULES)]
        if bad:
            out.append(f"{path.name}:{node.lineno} imports {bad[0]}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                out.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return out


def test_core_modules_when_parsed_then_import_nothing_impure():
    folder = Path(core.__file__).parent
    files = sorted(folder.rglob("*.py"))
    assert len(files) >= 30
    problems = [v for f in files for v in _violations(f)]
    assert problems == []


def test_purity_check_when_module_impure_then_reported(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os\nimport subprocess\nfrom drift_pipeline.sources.gitutil import git\nx = os.environ['A']\n"
        "from os import getenv\n"
    )
    assert len(_violations(bad)) == 4
