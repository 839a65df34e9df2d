"""Materialisation metadata: the same keys every run, so the UI can plot them over time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 15) -> dg.MetadataValue:
    rows = list(rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows[:limit]:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    if not rows:
        lines.append("| " + " | ".join("–" for _ in headers) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def findings_metadata(findings: Sequence[Mapping[str, Any]]) -> dict[str, dg.MetadataValue]:
    top = Counter(f["rule"] for f in findings).most_common(10)
    return {
        "dagster/row_count": dg.MetadataValue.int(len(findings)),
        "errors": dg.MetadataValue.int(sum(f["severity"] == "error" for f in findings)),
        "warnings": dg.MetadataValue.int(sum(f["severity"] == "warning" for f in findings)),
        "repos_with_drift": dg.MetadataValue.int(len({f["repo"] for f in findings})),
        "top_rules": md_table(("rule", "findings"), top),
        "preview": md_table(("repo", "project", "rule", "message"),
                            [(f["repo"], f["project"], f["rule"], f["message"]) for f in findings]),
    }


def requests_metadata(requests: Mapping[str, int], not_modified: int) -> dict[str, dg.MetadataValue]:
    return {
        "api_requests": dg.MetadataValue.int(sum(requests.values())),
        "api_not_modified": dg.MetadataValue.int(not_modified),
        "api_requests_by_kind": dg.MetadataValue.json(dict(sorted(requests.items()))),
    }
