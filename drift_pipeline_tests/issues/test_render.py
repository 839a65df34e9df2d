"""The renderer: titles, markers, size limits (split, never cut silently) and masking."""

from __future__ import annotations

from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues import render as r
from drift_pipeline_tests.issues.conftest import DAY1, TOKEN, code_finding, process_finding


def group(rows):
    [g] = r.group_findings(rows)
    return g


def test_titles_are_the_earlier_tools_per_category():
    tier = code_finding(DAY1, "svc") | {"rule": "tier_ruleset_mismatch"}
    assert r.render(group([tier]), RULES).title == "[drift:code] Tier-ruleset mismatch detected"
    assert r.render(group([code_finding(DAY1, "svc")]), RULES).title == "[drift:code] Configuration changes detected"
    assert r.render(group([process_finding(DAY1, "svc")]), RULES).title == "[drift:process] Process violations detected"
    infra = process_finding(DAY1, "svc") | {"category": "infra"}
    assert r.render(group([infra]), RULES).title == "[drift:infra] Infrastructure drift detected"


def test_a_huge_day_is_split_into_comments_under_the_limit_and_every_finding_is_somewhere():
    rows = [
        code_finding(DAY1, "svc", path=f"p{i}/check.toml", diff_extra="+x = 1\n" * 400 + f"+end{i}\n")
        for i in range(60)
    ]
    rows[0]["details"] = rows[0]["details"].replace('"diff": "', '"diff": "' + "+y\\n" * 20_000, 1)
    issue = r.render(group(rows), RULES)
    assert issue.comments, "a 60-finding day with big diffs needs continuation comments"
    pages = [issue.body, *issue.comments]
    assert all(len(p) < r.MAX_BODY for p in pages)
    text = "".join(pages)
    assert all(f"+end{i}" in text for i in range(1, 60))
    assert "_Diff cut: " in text  # the capped diff says so
    assert all(f"p{i}/check.toml" in issue.body for i in range(60))  # the summary lists every finding
    assert issue.comments[0].startswith(f"_Continued (2/{len(pages)})")
    assert r.parse_markers(issue.body)[0]["fingerprints"] == sorted(x["fingerprint"] for x in rows)


def test_every_text_is_masked():
    row = code_finding(DAY1, "svc", diff_extra=f"+token = {TOKEN}\n")
    row["message"] = f"leaked {TOKEN}"
    issue = r.render(group([row]), RULES)
    assert TOKEN not in issue.body and issue.body.count("[REDACTED]") >= 2


def test_markers_round_trip_and_malformed_ones_are_ignored():
    m = r.marker(DAY1, "code", ["b", "a"])
    assert r.parse_markers(f"x\n{m}\n") == [{"category": "code", "fingerprints": ["a", "b"], "scan_date": "2026-03-05"}]
    assert r.parse_markers("<!-- drift-pipeline: {not json} -->") == []
    assert r.parse_markers(m, r.REPEAT_MARKER) == []
