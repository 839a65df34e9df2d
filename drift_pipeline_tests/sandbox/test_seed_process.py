"""The demo org's process history over HTTP through PyGithub: commits reach the default branches
through reviewed PRs, the scripted deviations are there, and the pure process rules, fed with what
the API answers, find exactly what the seed's oracle says (rule, repo, subject, expected, actual)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import tomli

from drift_pipeline.core.rules.process.activity import activity_findings
from drift_pipeline.core.rules.process.common import Context
from drift_pipeline.core.rules.process.records import (
    ActivityCommit,
    ChangedFile,
    ProcessActivity,
    PullRequest,
    RepoProcess,
    Review,
)
from drift_pipeline.core.standards.process_expectations import build_expectations
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.seed import SeedReport, seed_org
from drift_pipeline.sandbox.seed.catalogue import BRANCH_PATTERN, UNKNOWN_TEAM
from drift_pipeline.sources.gitutil import git_text
from drift_pipeline_tests.sandbox.conftest import github_client

ACTIVITY_RULES = {
    "review_bypassed",
    "pr_too_large",
    "pr_missing_issue_reference",
    "branch_name_violated",
    "ticket_reference_missing",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo")
    report = seed_org(root, org="acme", repos=12, days=14)
    with GitHubSandbox(root) as gh:
        yield report, gh, github_client(gh.url)


def _head_config(report: SeedReport, repo: str) -> dict[str, Any]:
    r = report.repo(repo)
    text = git_text(Path(report.state_dir) / "repos" / "acme" / f"{repo}.git", "show", f"HEAD:{r.config_file}")
    return tomli.loads(text)


def _pull_record(pr: Any) -> PullRequest:
    return PullRequest(
        number=pr.number,
        title=pr.title,
        body=pr.body or "",
        head_branch=pr.head.ref,
        author=pr.user.login,
        merged_by=pr.merged_by.login if pr.merged_by else None,
        merged_at=pr.merged_at,
        reviews=tuple(Review(r.user.login, r.state, r.submitted_at) for r in pr.get_reviews()),
        files=tuple(ChangedFile(f.filename, f.additions, f.deletions) for f in pr.get_files()),
        additions=pr.additions,
        deletions=pr.deletions,
        url=pr.html_url,
    )


def _activity(report: SeedReport, g: Any, repo_name: str) -> dict[Any, list[ActivityCommit]]:
    """The window's default-branch commits of one repo by day, each with the merged PR that brought it."""
    repo = g.get_repo(f"acme/{repo_name}")
    since = datetime.combine(report.start_date, time(0), tzinfo=UTC)
    until = datetime.combine(report.end_date + timedelta(days=1), time(0), tzinfo=UTC)
    by_day: dict[Any, list[ActivityCommit]] = defaultdict(list)
    for c in reversed(list(repo.get_commits(since=since, until=until))):
        merged = [p for p in c.get_pulls() if p.merged_at is not None]
        pr = _pull_record(repo.get_pull(merged[0].number)) if merged else None
        by_day[c.commit.committer.date.date()].append(
            ActivityCommit(
                c.sha,
                c.commit.message,
                c.author.login if c.author else None,
                c.committer.login if c.committer else None,
                c.html_url,
                len(c.parents) > 1,
                pr,
            )
        )
    return by_day


def test_rules_fed_over_http_find_exactly_the_oracles_activity_findings(demo):
    report, _, g = demo
    assert report.process_activity and report.pull_requests >= 20
    found = []
    for r in report.repos:
        if not r.in_scope:
            continue
        exp = build_expectations(_head_config(report, r.name), r.tier or "internal")
        for day, commits in _activity(report, g, r.name).items():
            ctx = Context(day, RepoProcess("acme", r.name, False), exp)
            activity_findings(ctx, ProcessActivity(r.default_branch, tuple(commits)))
            found += [f for f in ctx.out if f.rule in ACTIVITY_RULES]
            bad = {f.repo for f in ctx.out if f.rule == "commit_convention_violated"}
            assert bad <= {"inventory-service"}  # its non-conventional messages, already in the oracle
    got = sorted((f.scan_date, f.repo, f.rule, f.subject) for f in found)
    want = sorted((f.day, f.repo, f.rule, f.subject) for f in report.process_activity)
    assert got == want
    by_key = {(f.repo, f.rule, f.subject): f for f in found}
    for o in report.process_activity:
        details = by_key[(o.repo, o.rule, o.subject)].details
        assert {k: details["expected"][k] for k in o.expected} == o.expected
        if isinstance(o.actual, dict):
            actual = {k: v for k, v in o.actual.items() if k != "actor"}
            assert {k: details["actual"][k] for k in actual} == actual
            if "actor" in o.actual:
                assert details["actor"] == o.actual["actor"]
        else:
            assert details["actual"] == o.actual


def test_compliant_prs_are_reviewed_ticketed_and_close_their_issue(demo):
    report, _, g = demo
    deviant = {(f.repo, f.subject) for f in report.process_activity}
    repo = g.get_repo("acme/orders-api")
    prs = list(repo.get_pulls(state="closed", base="main"))
    assert prs and all(p.merged_at is not None for p in prs)
    for pr in prs:
        assert ("orders-api", f"pr#{pr.number}") not in deviant
        assert re.match(BRANCH_PATTERN, pr.head.ref), pr.head.ref
        closes = re.search(r"Closes #(\d+)", pr.body or "")
        assert closes, pr.body
        issue = repo.get_issue(int(closes.group(1)))
        assert issue.pull_request is None and issue.state == "closed"
        assert issue.title.startswith(pr.head.ref.split("/", 1)[1].split("-")[0] + "-")
        approvals = {r.user.login for r in pr.get_reviews() if r.state == "APPROVED"}
        assert len(approvals) == 2 and pr.user.login not in approvals
        assert repo.get_commit(pr.merge_commit_sha).get_pulls()[0].number == pr.number


def test_direct_push_is_on_a_protected_branch_without_a_pr(demo):
    report, gh, g = demo
    push = next(f for f in report.process_activity if f.repo == "orders-api")
    commit = g.get_repo("acme/orders-api").get_commit(push.subject)
    assert list(commit.get_pulls()) == [] and commit.committer.login == "alexm"
    h = {"Authorization": "token sandbox-token"}
    prot = requests.get(f"{gh.url}/repos/acme/orders-api/branches/main/protection", headers=h, timeout=10).json()
    assert prot["enforce_admins"]["enabled"] is False
    assert prot["required_pull_request_reviews"]["required_approving_review_count"] == 2


def test_compliance_through_an_org_ruleset_only_and_through_classic_only(demo):
    report, gh, _ = demo
    h = {"Authorization": "token sandbox-token"}
    assert report.repo("search-api").protection == "org"
    base = f"{gh.url}/repos/acme/search-api"
    classic = requests.get(f"{base}/branches/main/protection", headers=h, timeout=10)
    assert classic.status_code == 404 and classic.json()["message"] == "Branch not protected"
    assert requests.get(f"{base}/rulesets?includes_parents=false", headers=h, timeout=10).json() == []
    rules = requests.get(f"{base}/rules/branches/main", headers=h, timeout=10).json()
    review = [r for r in rules if r["type"] == "pull_request"]
    assert review and review[0]["ruleset_source_type"] == "Organization"
    assert review[0]["parameters"]["required_approving_review_count"] == 1
    assert "search-api" not in report.process_expectations
    gw = f"{gh.url}/repos/acme/auth-gateway"
    assert requests.get(f"{gw}/branches/main/protection", headers=h, timeout=10).status_code == 200
    assert requests.get(f"{gw}/rulesets?includes_parents=false", headers=h, timeout=10).json() == []
    assert "auth-gateway" not in report.process_expectations


def test_codeowners_naming_a_missing_team_is_an_unknown_owner(demo):
    report, gh, _ = demo
    h = {"Authorization": "token sandbox-token"}
    errors = requests.get(f"{gh.url}/repos/acme/notifications-worker/codeowners/errors", headers=h, timeout=10)
    assert errors.status_code == 200
    [err] = errors.json()["errors"]
    assert err["kind"] == "Unknown owner" and err["line"] == 3 and f"@acme/{UNKNOWN_TEAM}" in err["source"]
    assert err["suggestion"] == f"Make sure @acme/{UNKNOWN_TEAM} exists and has write access to the repository"
    assert "codeowners_invalid" in report.process_expectations["notifications-worker"]
    valid = requests.get(f"{gh.url}/repos/acme/orders-api/codeowners/errors", headers=h, timeout=10).json()
    assert valid == {"errors": []}  # @acme/orders is a team of the org
    dp = requests.get(f"{gh.url}/repos/acme/data-platform/codeowners/errors", headers=h, timeout=10).json()
    assert [e["kind"] for e in dp["errors"]] == ["Invalid owner"]  # the owner-less pattern is valid on GitHub


def test_same_seed_same_pull_requests(tmp_path: Path, demo):
    report, _, _ = demo
    again = seed_org(tmp_path, org="acme", repos=12, days=14)
    assert again.process_activity == report.process_activity
    assert [r.head_sha for r in again.repos] == [r.head_sha for r in report.repos]
