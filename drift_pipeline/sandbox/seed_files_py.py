"""File contents of the demo org's Python repos: pyproject.toml, ruff.toml, sources.

Pure functions of their arguments, like :mod:`drift_pipeline.sandbox.seed_files` (whose dumpers
they use); :data:`PY_SNIPPETS` are the functions the background history adds one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

from drift_pipeline.sandbox.seed_files import dump_toml


def pyproject(name: str, version: str, description: str, deps: list[str]) -> str:
    lines = [
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "{description}"',
        'requires-python = ">=3.11"',
        "dependencies = [",
        *[f'    "{d}",' for d in deps],
        "]",
        "",
        "[project.optional-dependencies]",
        'dev = ["pytest>=8.2", "ruff>=0.5.5", "vulture>=2.11"]',
        "",
        "[build-system]",
        'requires = ["hatchling"]',
        'build-backend = "hatchling.build"',
    ]
    return "\n".join(lines) + "\n"


def ruff_toml(
    *, line_length: int = 100, select: Sequence[str] = ("E", "F", "I", "UP", "B"), ignore: Sequence[str] = ("E501",)
) -> str:
    return dump_toml(
        {
            "line-length": line_length,
            "target-version": "py311",
            "lint": {"select": list(select), "ignore": list(ignore), "per-file-ignores": {"tests/**": ["S101"]}},
        }
    )


def python_sources(package: str, entity: str) -> dict[str, str]:
    return {
        f"src/{package}/__init__.py": f'"""{package.replace("_", " ")}."""\n\n__version__ = "0.1.0"\n',
        f"src/{package}/{entity}.py": (
            "from __future__ import annotations\n\n"
            "from dataclasses import dataclass\n"
            "from datetime import datetime, timezone\n\n\n"
            "@dataclass(frozen=True)\n"
            f"class {entity.title().replace('_', '')}:\n"
            "    id: str\n"
            "    amount_cents: int\n"
            "    created_at: datetime\n\n\n"
            f"def new_{entity}(id: str, amount_cents: int) -> {entity.title().replace('_', '')}:\n"
            "    if amount_cents < 0:\n"
            '        raise ValueError("amount must not be negative")\n'
            f"    return {entity.title().replace('_', '')}(id, amount_cents, datetime.now(timezone.utc))\n"
        ),
        f"tests/test_{entity}.py": (
            "import pytest\n\n"
            f"from {package}.{entity} import new_{entity}\n\n\n"
            "def test_negative_amount_is_rejected():\n"
            "    with pytest.raises(ValueError):\n"
            f'        new_{entity}("x", -1)\n'
        ),
    }


PY_SNIPPETS = [
    (
        "format_amount",
        "def format_amount(cents: int, currency: str = \"GBP\") -> str:\n"
        "    return f\"{cents / 100:.2f} {currency}\"\n",
    ),
    (
        "is_expired",
        "def is_expired(expires_at: datetime, now: datetime | None = None) -> bool:\n"
        "    return expires_at <= (now or datetime.now(timezone.utc))\n",
    ),
    (
        "chunked",
        "def chunked(items: list, size: int) -> list[list]:\n"
        "    return [items[i:i + size] for i in range(0, len(items), size)]\n",
    ),
    ("retry_delay", "def retry_delay(attempt: int) -> float:\n    return min(30.0, 0.25 * 2 ** attempt)\n"),
]
