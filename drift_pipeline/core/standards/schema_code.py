"""The ``[code]`` section of the strict config schema: linting, types, unused code, coverage,
security, naming and quality tools (check-my-toolkit's keys; removed ones such as ruff ``format``,
``code.formatting.prettier`` and ``code.tests`` are not here, so they are reported as unknown).
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.core.standards.specs import (
    GLOBS,
    PERCENT,
    STRS,
    AnyValue,
    ArrayOf,
    Bool,
    Enum,
    Int,
    KeyPath,
    ListOf,
    MapOf,
    OneOf,
    Report,
    Str,
    Table,
    tool,
)

_SEVERITY = Enum("off", "warn", "error")
_ESLINT_RULE = OneOf(
    _SEVERITY,
    Table(fields={"severity": _SEVERITY}, required=("severity",), extra=AnyValue()),
    expected='"off", "warn", "error" or an inline table {severity = "...", <options>} '
    "(array-form rule values are not supported)",
)

_CASE = Enum("kebab-case", "snake_case", "camelCase", "PascalCase")


class _NamingRules(ArrayOf):
    def check(self, value: Any, path: KeyPath, out: Report) -> None:
        super().check(value, path, out)
        if not isinstance(value, list):
            return
        owner: dict[str, int] = {}
        for i, rule in enumerate(value):
            if not isinstance(rule, dict) or not isinstance(rule.get("extensions"), list):
                continue
            for ext in rule["extensions"]:
                if isinstance(ext, str) and ext in owner and owner[ext] != i:
                    out.append(
                        ((*path, i, "extensions"), f"extension {ext!r} already has a naming rule (rules[{owner[ext]}])")
                    )
                elif isinstance(ext, str):
                    owner[ext] = i


CODE = Table(
    fields={
        "linting": Table(
            fields={
                "eslint": tool(
                    {
                        "files": GLOBS,
                        "ignore": GLOBS,
                        "max-warnings": Int(0),
                        "rules": MapOf(_ESLINT_RULE, expected="a table of rule name -> severity or inline table"),
                    },
                    enabled_default=True,
                ),
                "ruff": tool(
                    {
                        "line-length": Int(1),
                        "lint": Table(fields={"select": STRS, "ignore": STRS}),
                    },
                    enabled_default=True,
                ),
            }
        ),
        "types": Table(
            fields={
                "tsc": tool(
                    {
                        "require": Table(
                            fields={
                                k: Bool()
                                for k in (
                                    "strict",
                                    "noImplicitAny",
                                    "strictNullChecks",
                                    "noUnusedLocals",
                                    "noUnusedParameters",
                                    "noImplicitReturns",
                                    "noFallthroughCasesInSwitch",
                                    "esModuleInterop",
                                    "skipLibCheck",
                                    "forceConsistentCasingInFileNames",
                                )
                            }
                        )
                    }
                ),
                "ty": tool(),
            }
        ),
        "unused": Table(fields={"knip": tool(), "vulture": tool()}),
        "coverage_run": tool(
            {
                "min_threshold": PERCENT,
                "runner": Enum("vitest", "jest", "pytest", "auto"),
                "command": Str(),
            },
            {"min_threshold": 80, "runner": "auto"},
        ),
        "security": Table(
            fields={
                "secrets": tool(
                    {"scan_mode": Enum("branch", "files", "staged", "full"), "base_branch": Str()},
                    {"scan_mode": "branch", "base_branch": "main"},
                ),
                "pnpmaudit": tool({"exclude_dev": Bool()}, {"exclude_dev": True}),
                "pipaudit": tool(),
            }
        ),
        "naming": tool(
            {
                "rules": _NamingRules(
                    Table(
                        fields={
                            "extensions": ListOf(Str(), unique=True, min_items=1),
                            "file_case": _CASE,
                            "folder_case": _CASE,
                            "exclude": GLOBS,
                            "allow_dynamic_routes": Bool(),
                        },
                        required=("extensions", "file_case", "folder_case"),
                    )
                )
            }
        ),
        "quality": Table(
            fields={
                "disable-comments": tool(
                    {"patterns": STRS, "extensions": ListOf(Str(), unique=True), "exclude": GLOBS}
                ),
            }
        ),
    }
)
