"""Process activity end to end: a backfill gives each day's exact activity findings, from git and PR history."""

from __future__ import annotations

import json

from drift_pipeline_tests.pipeline import test_process_settings as shared
from drift_pipeline_tests.pipeline.processfixture import DAY, EARLY, MIDDLE, START
from drift_pipeline_tests.pipeline.test_process_settings import ACTIVITY_RULES, PROCESS, resources

porg, pserver, run = shared.porg, shared.pserver, shared.run  # the same fixtures (one org per module)

REPOS = ("bare", "busy", "classic-ok", "orgrs-ok", "ruleset-ok", "weak")


def activity(pipe, day) -> list[tuple[str, str, str]]:
    rows = pipe.rows("SELECT repo, rule, subject FROM process_drift WHERE scan_date = ? ORDER BY ALL", [day])
    return [(r["repo"], r["rule"], r["subject"]) for r in rows if r["rule"] in ACTIVITY_RULES]


def test_a_backfill_gives_exact_activity_findings_per_day_and_not_observed_settings_for_past_days(run, porg):
    result = run.run(START, DAY, assets=PROCESS, resources=resources(run))
    assert result.success
    sha, pr = porg.shas, porg.prs
    initial = run.rows("SELECT repo, head_sha FROM repo_inventory WHERE scan_date = ? ORDER BY repo", [START])
    # START: every repo's first commit was pushed directly, and every repo requires two approvals
    assert activity(run, START) == [(r["repo"], "review_bypassed", r["head_sha"]) for r in initial]
    assert [r["repo"] for r in initial] == list(REPOS)
    assert activity(run, EARLY) == [("busy", "review_bypassed", sha["early_push"])]
    assert activity(run, MIDDLE) == []
    assert activity(run, DAY) == sorted(
        [
            ("busy", "review_bypassed", sha["hotfix"]),
            ("busy", "review_bypassed", f"pr#{pr['big']}"),
            ("busy", "pr_too_large", f"pr#{pr['big']}"),
            ("busy", "pr_missing_issue_reference", f"pr#{pr['big']}"),
            ("busy", "commit_convention_violated", sha["readme"]),
            ("busy", "branch_name_violated", f"pr#{pr['readme']}"),
        ]
    )
    [push] = run.rows("SELECT * FROM process_drift WHERE subject = ?", [sha["hotfix"]])
    details = json.loads(push["details"])
    assert details["actor"] == "alice" and details["actual"] == {"approvals": 0, "via": "direct push"}
    assert push["commit_url"].endswith(f"/acme/busy/commit/{sha['hotfix']}")
    [merge] = run.rows(
        "SELECT * FROM process_drift WHERE rule = 'review_bypassed' AND subject = ?", [f"pr#{pr['big']}"]
    )
    assert json.loads(merge["details"])["actual"] == {"approvals": 1, "approved_by": ["bob"]}
    [large] = run.rows("SELECT details FROM process_drift WHERE rule = 'pr_too_large'")
    assert json.loads(large["details"])["actual"] == {"files": 5, "lines": 5}

    # the day's first-parent commits: the merge commit of the clean PR, the push, two squash merges
    rows = run.rows(
        "SELECT commit_sha, direct_push, pr_number, approvals, head_branch, files, is_merge FROM process_activity "
        "WHERE scan_date = ? AND repo = 'busy' ORDER BY merged_at NULLS FIRST, commit_sha",
        [DAY],
    )
    assert {r["commit_sha"]: (r["direct_push"], r["pr_number"], r["approvals"], r["head_branch"]) for r in rows} == {
        sha["login"]: (False, pr["login"], 2, "feat/login"),
        sha["hotfix"]: (True, None, 0, None),
        sha["big"]: (False, pr["big"], 1, "feat/big"),
        sha["readme"]: (False, pr["readme"], 2, "readme-tweak"),
    }
    # settings: observed for DAY (yesterday) only; earlier days are not observed, never "compliant"
    coverage = run.rows("SELECT scan_date, observed FROM coverage ORDER BY scan_date")
    assert [(r["scan_date"], r["observed"]) for r in coverage] == [
        (START, False),
        (EARLY, False),
        (MIDDLE, False),
        (DAY, True),
    ]
    assert [r["scan_date"] for r in run.rows("SELECT DISTINCT scan_date FROM process_settings")] == [DAY]
    for day in (START, EARLY, MIDDLE):
        assert run.latest_metadata("process_settings", day)["observed"] is False
    assert run.latest_metadata("process_activity", DAY)["direct_pushes"] == 1
    # each repo's history of the range is listed once, not once a day
    routes = run.server.request_counts()["by_route"]
    assert routes["GET /repos/{owner}/{repo}/commits/{sha}/pulls"] == len(initial) + 1 + 4
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert all(checks.values())
