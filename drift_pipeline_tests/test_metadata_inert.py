"""The Dagster UI renders markdown metadata: the previews of findings, rows and planned filings
hold what watched repos wrote (commit subjects in messages, paths, config values, repo names from
the API) and must render inert there too: no link, image, raw HTML, comment or mention."""

from __future__ import annotations

from typing import Any

import pytest

from drift_pipeline.defs.assets.metadata import findings_metadata, md_table
from drift_pipeline_tests.issues.test_inert import HOSTILE, HOSTILE_IDS, hazards


def _finding(text: str) -> dict[str, Any]:
    return {
        "repo": text,
        "project": text,
        "category": "process",
        "severity": "warning",
        "rule": "commit_convention_violation",
        "message": f"commit 0123abc subject {text!s} does not match",
    }


@pytest.mark.parametrize("text", HOSTILE, ids=HOSTILE_IDS)
def test_findings_preview_is_inert(text):
    meta = findings_metadata([_finding(text), _finding("plain")])
    markdown = str(meta["preview"].value)
    assert hazards(markdown) == []
    assert markdown.count("\n") >= 3  # header, rule, two rows: the table is still a table


@pytest.mark.parametrize("text", HOSTILE, ids=HOSTILE_IDS)
def test_any_md_table_cell_is_inert(text):
    markdown = str(md_table(("repo", "path", "count"), [(text, text, 3)]).value)
    assert hazards(markdown) == []
    assert markdown.splitlines()[2].endswith("| 3 |")  # numbers stay plain
