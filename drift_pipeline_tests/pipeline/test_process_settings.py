"""Process settings end to end: seeded sandbox org over HTTP -> real Dagster runs -> real DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drift_pipeline.core.rules.process.common import ACTIVITY_RULES as _ACTIVITY_RULES
from drift_pipeline.defs.assets.findings import drift_findings
from drift_pipeline.defs.assets.inventory import repo_inventory
from drift_pipeline.defs.assets.process import process_drift, process_observations
from drift_pipeline.defs.resources import DriftStoreResource, GitHubResource, ScanScopeResource
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.processfixture import (
    APP_TOKEN,
    CLASSIC_TOKEN,
    DAY,
    EARLY,
    ProcessOrg,
    build_process_org,
)

PROCESS = [repo_inventory, process_observations, process_drift, drift_findings]
SETTINGS_RULES = {
    "bare": {
        "branch_protection_missing",
        "tag_protection_missing",
        "codeowners_missing",
        "forbidden_file_present",
        "required_file_missing",
        "required_workflow_missing",
        "hooks_missing",
    },
    "weak": {
        "required_reviews_too_low",
        "stale_reviews_not_dismissed",
        "code_owner_review_not_required",
        "status_checks_missing",
        "branches_not_up_to_date",
        "signed_commits_not_required",
        "admins_not_enforced",
        "bypass_actor_mismatch",
        "codeowners_invalid",
        "codeowners_rule_mismatch",
        "required_workflow_missing",
    },
}
ACTIVITY_RULES = set(_ACTIVITY_RULES)


@pytest.fixture(scope="module")
def porg(tmp_path_factory: pytest.TempPathFactory) -> ProcessOrg:
    return build_process_org(tmp_path_factory.mktemp("process-org"))


@pytest.fixture(scope="module")
def pserver(porg: ProcessOrg) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(porg.state.root) as server:
        yield server


@pytest.fixture
def run(pserver: GitHubSandbox, tmp_path: Path) -> Pipeline:
    pserver.clear_faults()
    pserver.reset_counts()
    pserver.reset_rate_limits()
    return Pipeline(pserver, tmp_path / "drift.duckdb")


def resources(pipe: Pipeline, token: str = "sandbox-token") -> dict:
    return {
        "github": GitHubResource(
            api_url=pipe.server.url,
            token=token,
            backoff_seconds=0,
            max_rate_limit_wait_seconds=5,
            seconds_between_writes=0,
        ),
        "scope": ScanScopeResource(orgs="acme"),
        "store": DriftStoreResource(database=str(pipe.db_path)),
    }


def by_repo(pipe: Pipeline, day, rules: set[str] | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for repo, _, rule in pipe.findings(day, "process_drift"):
        if rules is None or rule in rules:
            out.setdefault(repo, set()).add(rule)
    return out


def test_every_settings_rule_fires_on_its_case_and_compliant_repos_yield_nothing(run):
    result = run.run(DAY, assets=PROCESS, resources=resources(run))
    assert result.success
    settings = by_repo(run, DAY, None)
    settings = {repo: rules - ACTIVITY_RULES for repo, rules in settings.items() if rules - ACTIVITY_RULES}
    # compliant through a repo ruleset, classic protection and an org ruleset: nothing at all
    assert settings == SETTINGS_RULES
    [missing] = run.rows("SELECT * FROM process_drift WHERE repo = 'bare' AND rule = 'branch_protection_missing'")
    details = json.loads(missing["details"])
    assert details["actual"] is None
    assert details["expected"]["value"]["required_reviews"] == 2
    assert details["expected"]["value"]["require_status_checks"] == ["ci/test"]
    [low] = run.rows("SELECT * FROM process_drift WHERE repo = 'weak' AND rule = 'required_reviews_too_low'")
    assert json.loads(low["details"])["expected"] == {"branch": "main", "value": 2}
    assert json.loads(low["details"])["actual"] == 1
    [source] = json.loads(low["details"])["sources"]
    assert source.startswith("ruleset weak-main/")
    [checks] = run.rows("SELECT * FROM process_drift WHERE repo = 'weak' AND rule = 'status_checks_missing'")
    assert json.loads(checks["details"])["expected"]["value"] == ["ci/test"]
    assert json.loads(checks["details"])["actual"] == ["lint"]
    [bypass] = run.rows("SELECT * FROM process_drift WHERE repo = 'weak' AND rule = 'bypass_actor_mismatch'")
    unexpected = json.loads(bypass["details"])["actual"]["unexpected"]
    assert unexpected == [{"actor_type": "RepositoryRole", "actor_id": 5, "bypass_mode": "always"}]
    # where each expected setting was satisfied is recorded, per source kind
    satisfied = {
        (r["repo"], r["setting"]): json.loads(r["source"])
        for r in run.rows("SELECT * FROM process_settings WHERE scan_date = ? AND rule IS NOT NULL", [DAY])
        if r["state"] == "ok"
    }
    assert satisfied[("classic-ok", "required_reviews")] == ["classic protection"]
    assert satisfied[("orgrs-ok", "required_reviews")][0].startswith("org ruleset org-main/")
    assert satisfied[("ruleset-ok", "required_reviews")][0].startswith("ruleset main/")
    assert run.rows("SELECT observed, reason FROM coverage WHERE scan_date = ?", [DAY]) == [
        {"observed": True, "reason": None}
    ]
    # process findings flow into drift_findings
    assert run.findings(DAY, "drift_findings") == run.findings(DAY, "process_drift")
    checks_passed = {
        (c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()
    }
    assert (
        checks_passed[("process_settings", "no_repo_failed")] and checks_passed[("process_drift", "findings_conform")]
    )
    meta = run.latest_metadata("process_settings", DAY)
    assert meta["observed"] is True and meta["repos_read"] == 6 and meta["repos_failed"] == 0
    assert meta["api_requests"] > 0
    drift_meta = run.latest_metadata("process_drift", DAY)
    assert drift_meta["findings_by_rule"]["bypass_actor_mismatch"] == 1


@pytest.mark.parametrize(("token", "status"), [(APP_TOKEN, 403), (CLASSIC_TOKEN, 404)])
def test_a_token_without_admin_rights_yields_not_evaluated_never_a_false_violation(run, token, status):
    assert run.run(DAY, assets=PROCESS, resources=resources(run, token)).success
    found = by_repo(run, DAY)
    # classic-ok is protected only classically, which this token may not read (App: 403, classic: 404)
    assert found["classic-ok"] == {"process_not_evaluated"}
    rows = run.rows("SELECT details FROM process_drift WHERE repo = 'classic-ok'")
    unread = [json.loads(r["details"])["not_readable"] for r in rows]
    assert all(n and n[0]["setting"] == "classic_protection" and n[0]["status"] == status for n in unread)
    assert {json.loads(r["details"])["rule"] for r in rows} >= {"required_reviews_too_low", "admins_not_enforced"}
    # compliant through rulesets (readable without admin rights): at most "not evaluated", never a violation
    for repo in ("ruleset-ok", "orgrs-ok"):
        assert found.get(repo, set()) <= {"process_not_evaluated"}, repo
    # the violations of the other repos are still seen: GET /branches says bare is not protected at all
    assert found["bare"] >= SETTINGS_RULES["bare"]
    [classic] = run.rows(
        "SELECT * FROM process_settings WHERE repo = 'classic-ok' AND setting = 'classic_protection' AND scan_date = ?",
        [DAY],
    )
    assert classic["readable"] is False and classic["state"] == "not_readable"


def test_a_second_scan_of_unchanged_settings_makes_only_conditional_requests(run):
    assert run.run(DAY, assets=PROCESS, resources=resources(run)).success
    before = run.rows("SELECT * EXCLUDE (scan_date) FROM process_settings ORDER BY ALL")
    run.server.reset_counts()
    assert run.run(DAY, assets=[process_observations], resources=resources(run)).success
    counts = run.server.request_counts()
    assert counts["not_modified"] > 0
    charged = counts["total"] - counts["not_modified"]
    assert charged <= 6, counts  # at most one rate-limited request per unchanged repo (6 repos)
    routes = counts["by_route"]
    assert "GET /repos/{owner}/{repo}/git/trees/{sha}" not in routes  # trees and blobs: sha cache
    assert "GET /repos/{owner}/{repo}/git/blobs/{sha}" not in routes
    assert run.rows("SELECT * EXCLUDE (scan_date) FROM process_settings ORDER BY ALL") == before
    meta = run.latest_metadata("process_settings", DAY)
    assert meta["api_not_modified"] == counts["not_modified"]


def test_a_past_day_is_not_observed_no_settings_rows_or_findings(run):
    assert run.run(EARLY, assets=PROCESS, resources=resources(run)).success
    [cov] = run.rows("SELECT * FROM coverage WHERE scan_date = ?", [EARLY])
    assert cov["domain"] == "process_settings" and cov["observed"] is False and "live-only" in cov["reason"]
    assert run.rows("SELECT * FROM process_settings WHERE scan_date = ?", [EARLY]) == []
    found = by_repo(run, EARLY)
    assert found == {"busy": {"review_bypassed"}}  # the day's direct push: activity is history
    meta = run.latest_metadata("process_settings", EARLY)
    assert meta["observed"] is False and "live-only" in meta["not_observed_reason"]
    assert run.latest_metadata("process_drift", EARLY)["settings_observed"] is False


def test_a_repo_whose_settings_call_keeps_failing_is_reported_and_the_others_scanned(run):
    run.server.set_faults(fail_path={"pattern": r"^/repos/acme/weak/rules/", "status": 502})
    result = run.run(DAY, assets=PROCESS, resources=resources(run), raise_on_error=False)
    [failed] = run.rows("SELECT * FROM process_scan_status WHERE mode = 'failed'")
    assert failed["repo"] == "weak" and "502" in failed["error"] and failed["error"].startswith("weak: ")
    found = by_repo(run, DAY)
    assert "weak" not in found  # no half judgement of a repo that could not be read
    assert found["bare"] >= SETTINGS_RULES["bare"]
    [check] = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "no_repo_failed" and c.asset_key.to_user_string() == "process_settings"
    ]
    assert not check.passed and "weak" in json.dumps(check.metadata["at_fault"].value)


def test_rerunning_a_day_changes_nothing(run):
    assert run.run(DAY, assets=PROCESS, resources=resources(run)).success
    tables = ("process_settings", "process_activity", "process_drift", "coverage", "drift_findings")
    snap = {t: run.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    assert run.run(DAY, assets=PROCESS, resources=resources(run)).success
    assert {t: run.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == snap
