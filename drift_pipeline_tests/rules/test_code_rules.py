"""rules.code on plain records: no git, no HTTP, no Dagster."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from drift_pipeline.core.rules.code import (
    CommitRef,
    ProblemState,
    ProjectState,
    RepoCode,
    TrackedState,
    evaluate,
    unified_diff,
)
from drift_pipeline.core.rules.findings import RULES, contract_violations

DAY = date(2026, 5, 4)
T = datetime(2026, 5, 4, 10, tzinfo=UTC)


def tracked(
    path: str, sha: str, kind: str = "config", tool: str | None = None, content: str | None = None, project: str = "."
) -> TrackedState:
    return TrackedState(path, project, kind, tool, sha, content if content is not None else f"{path} {sha}\n")


def repo(*files: TrackedState, projects=(), problems=(), commits=None, still_present=frozenset()) -> RepoCode:
    return RepoCode(
        "acme",
        "web",
        "head1",
        "http://x/commit/head1",
        {f.path: f for f in files},
        tuple(projects),
        tuple(problems),
        commits or {},
        frozenset(still_present),
    )


@pytest.mark.parametrize(
    "kind, tool, change, rule",
    [
        ("config", None, "changed", "check_toml_changed"),
        ("config", None, "added", "check_toml_added"),
        ("config", None, "removed", "check_toml_removed"),
        ("dependency", "eslint", "changed", "dependency_changed"),
        ("dependency", "tsc", "removed", "dependency_changed"),
        ("workflow", None, "added", "workflow_changed"),
        ("metadata", None, "changed", "metadata_changed"),
    ],
)
def test_each_kind_of_change_gives_its_rule(kind, tool, change, rule):
    old = tracked("f", "a", kind, tool)
    new = tracked("f", "b", kind, tool)
    before = repo(old) if change != "added" else repo(tracked("other", "z"))
    today = repo(new) if change != "removed" else repo(tracked("other", "z"))
    if change == "added":
        today = repo(tracked("other", "z"), new)
    [finding] = [f for f in evaluate(DAY, {"web": today}, {"web": before}) if "other" not in f.subject]
    assert (finding.rule, finding.details["change"], finding.details["tool"]) == (rule, change, tool)
    assert finding.category == "code" and finding.severity == RULES[rule].severity
    assert contract_violations(finding.row()) == []


def test_unchanged_files_give_nothing_and_no_baseline_gives_only_standing_findings():
    same = repo(tracked("check.toml", "a"), projects=[ProjectState("pkg", "python", None)])
    assert evaluate(DAY, {"web": same}, {"web": same}) == evaluate(DAY, {"web": same}, None)
    assert [f.rule for f in evaluate(DAY, {"web": same}, None)] == ["project_without_standards"]


def test_a_repo_new_in_scope_reports_only_its_configs_as_added():
    today = repo(tracked("check.toml", "a"), tracked("eslint.config.js", "b", "dependency", "eslint"))
    findings = evaluate(DAY, {"web": today}, {})
    assert [(f.rule, f.details["path"]) for f in findings] == [("check_toml_added", "check.toml")]


def test_a_file_no_longer_tracked_but_still_present_is_not_removed():
    before = repo(tracked("check.toml", "a"), tracked(".eslintrc.json", "b", "dependency", "eslint"))
    today = repo(tracked("check.toml", "c"), still_present={".eslintrc.json"})
    assert [f.rule for f in evaluate(DAY, {"web": today}, {"web": before})] == ["check_toml_changed"]


def test_change_names_every_commit_newest_first_and_links_the_newest():
    commits = (
        CommitRef("c2", "http://x/commit/c2", "bob", T, "second"),
        CommitRef("c1", "http://x/commit/c1", "alice", T, "first"),
    )
    [finding] = evaluate(
        DAY,
        {"web": repo(tracked("check.toml", "b"), commits={"check.toml": commits})},
        {"web": repo(tracked("check.toml", "a"))},
    )
    assert finding.commit_sha == "c2" and finding.commit_url == "http://x/commit/c2"
    assert [c["sha"] for c in finding.details["commits"]] == ["c2", "c1"]
    assert finding.message == "standards config check.toml changed in c2 by bob (+1 more commit)"


def test_the_same_standing_problem_keeps_its_fingerprint_and_each_change_gets_a_new_one():
    problem = ProblemState(".", "check.toml", "code.linting.ruff.format", 3, "unknown key", "invalid_config", "error")
    day1 = evaluate(DAY, {"web": repo(tracked("check.toml", "a"), problems=[problem])}, None)
    day2 = evaluate(date(2026, 5, 5), {"web": repo(tracked("check.toml", "a"), problems=[problem])}, None)
    assert [f.fingerprint for f in day1] == [f.fingerprint for f in day2]
    change_a = evaluate(DAY, {"web": repo(tracked("check.toml", "b"))}, {"web": repo(tracked("check.toml", "a"))})
    change_b = evaluate(DAY, {"web": repo(tracked("check.toml", "c"))}, {"web": repo(tracked("check.toml", "b"))})
    assert change_a[0].fingerprint != change_b[0].fingerprint


def test_problems_of_one_key_are_one_finding_with_the_worst_severity():
    problems = [
        ProblemState(".", "check.toml", "process", 4, "bad A", "invalid_config", "warning"),
        ProblemState(".", "check.toml", "process", 9, "bad B", "invalid_config", "error"),
    ]
    [finding] = evaluate(DAY, {"web": repo(problems=problems)}, None)
    assert finding.severity == "error" and finding.message == "check.toml:4: bad A (and 1 more)"
    assert [p["line"] for p in finding.details["problems"]] == [4, 9]


def test_diffs_of_secret_files_are_withheld_and_long_diffs_capped():
    assert unified_diff(".env", "A=1\n", "A=2\n") == ("", True, False)
    assert unified_diff("config/server.pem", "x", "y")[1] is True
    diff, withheld, truncated = unified_diff("big.json", "", "".join(f"{i}\n" for i in range(500)), max_lines=50)
    assert not withheld and truncated and diff.count("\n") == 51 and "more diff lines not shown" in diff


def test_diff_of_a_new_file_is_against_dev_null():
    diff, _, _ = unified_diff("check.toml", None, "[code]\n")
    assert diff.startswith("--- /dev/null\n+++ b/check.toml\n")


SECRETS = {
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "aws_key_id": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    "password": "hunter2" + "-correct-horse",
    "slack": "xoxb-" + "123456789012-abcdefghijkl",
    "pem_body": "MIIEowIBAAKCAQEA7" + "bq98sKfEXAMPLEbody",
}
LEAKY_CONFIG = f"""export default [
  {{ rules: {{ 'no-console': 'error' }} }},
];
// token {SECRETS["github"]}
// aws_access_key_id = {SECRETS["aws_key_id"]}
// aws_secret_access_key = {SECRETS["aws_secret"]}
const password = "{SECRETS["password"]}";
const slack = "{SECRETS["slack"]}";
/*
-----BEGIN RSA PRIVATE KEY-----
{SECRETS["pem_body"]}
-----END RSA PRIVATE KEY-----
*/
"""


@pytest.mark.parametrize(
    "old, new", [(None, LEAKY_CONFIG), ("export default [];\n", LEAKY_CONFIG), (LEAKY_CONFIG, "export default [];\n")]
)
def test_secrets_in_a_diff_of_an_ordinary_file_never_reach_the_finding(old, new):
    files_before = (tracked("eslint.config.js", "a", "dependency", "eslint", old),) if old else ()
    commits = (CommitRef("c1", None, "bob", T, f"chore: rotate {SECRETS['github']}"),)
    today = repo(
        tracked("check.toml", "k"),
        tracked("eslint.config.js", "b", "dependency", "eslint", new),
        commits={"eslint.config.js": commits},
    )
    before = repo(tracked("check.toml", "k"), *files_before)
    [finding] = evaluate(DAY, {"web": today}, {"web": before})
    stored = json.dumps(finding.row(), default=str)
    assert finding.rule == "dependency_changed" and "[REDACTED]" in finding.details["diff"]
    assert "no-console" in finding.details["diff"]  # the rest of the diff is kept
    for kind, secret in SECRETS.items():
        assert secret not in stored, kind


def test_a_secret_named_file_is_still_withheld_whole():
    [finding] = evaluate(
        DAY,
        {"web": repo(tracked("check.toml", "k"), tracked(".env.production", "b", "dependency", "dotenv", "API=1\n"))},
        {"web": repo(tracked("check.toml", "k"), tracked(".env.production", "a", "dependency", "dotenv", "API=0\n"))},
    )
    assert finding.details["diff_withheld"] is True and finding.details["diff"] == ""
