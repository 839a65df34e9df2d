"""Filing a day's findings as GitHub issues on the sandbox, through the real Dagster job."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues.client import SecretInBody
from drift_pipeline.issues.filing import IssueFiler, findings_of_day
from drift_pipeline.issues.render import group_findings, parse_markers, render
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.issues.conftest import (
    DAY1,
    DAY2,
    REPOS,
    TOKEN,
    code_finding,
    day_rows,
    issues_of,
    run_job,
    write_findings,
)
from drift_pipeline_tests.sandbox.conftest import github_client


def ledger_rows(db: Path) -> list[dict]:
    with DriftStore(db) as store:
        return store.rows("SELECT * FROM filed_issues ORDER BY recorded_at")


def test_a_day_files_one_issue_per_repo_and_category_and_a_second_run_files_nothing(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, day_rows(DAY1))
    result = run_job(sandbox, db, DAY1)
    assert result.success
    assert result.output_for_node("file_drift_issues_op") == {"created": 4}
    for repo in REPOS:
        [code] = issues_of(gh, repo, "drift:code")
        [process] = issues_of(gh, repo, "drift:process")
        assert code.title == "[drift:code] Configuration changes detected"
        assert process.title == "[drift:process] Process violations detected"
        assert [lab.name for lab in code.labels] == ["drift:code"] and code.assignees == []
        sha = code_finding(DAY1, repo)["commit_sha"]
        assert '-tier = "production"\n+tier = "prototype"' in code.body and "```diff" in code.body
        assert f"[{sha[:7]}](https://github.example/acme/{repo}/commit/{sha}) by Dev One" in code.body
        assert RULES["check_toml_changed"].fix in code.body and "Scan date: 2026-03-05" in code.body
        assert "- Expected: `2`\n- Actual: `0`" in process.body
        [marker] = parse_markers(code.body)
        assert code.body.endswith(" -->") and len(marker.pop("sig")) == 64  # signed, last in the body
        assert marker == {
            "category": "code",
            "fingerprints": [code_finding(DAY1, repo)["fingerprint"]],
            "scan_date": "2026-03-05",
        }
        label = gh.get_repo(f"acme/{repo}").get_label("drift:code")
        assert (label.color, label.description) == ("1d76db", "Configuration drift found by drift-pipeline")
    rows = ledger_rows(db)
    assert sorted((r["repo"], r["category"], r["action"]) for r in rows) == sorted(
        (repo, cat, "created") for repo in REPOS for cat in ("code", "process")
    )
    assert {r["url"] for r in rows} == {i.html_url for repo in REPOS for i in issues_of(gh, repo)}

    posts_before = _posts(sandbox)
    again = run_job(sandbox, db, DAY1)
    assert again.success and again.output_for_node("file_drift_issues_op") == {"already_filed": 4}
    assert _posts(sandbox) == posts_before
    assert sum(len(issues_of(gh, r)) for r in REPOS) == 4


def _posts(sandbox) -> int:
    return sum(n for key, n in sandbox.request_counts()["by_route"].items() if key.startswith("POST"))


def test_a_crash_between_create_and_record_then_a_retry_leaves_exactly_one_issue(sandbox, gh, tmp_path):
    """The crash is real: after the create call, a second process takes the DuckDB file, so the
    record cannot be written (StoreBusy). The retry finds the marker and records the issue."""
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, "svc")])
    locker: list[subprocess.Popen] = []

    def take_the_file(number: int) -> None:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
                str(db),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        locker.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ok"

    store = DriftStore(db, lock_timeout=0.5)
    try:
        groups = group_findings(findings_of_day(store, DAY1))
        filer = IssueFiler(github_client(sandbox.url), store, RULES, after_create=take_the_file)
        report = filer.file_day(DAY1, groups)
    finally:
        for proc in locker:
            proc.kill()
            proc.wait()
        store.close()
    assert list(report.failures) == ["acme/svc code"]
    assert "StoreBusy" in report.failures["acme/svc code"]
    assert len(issues_of(gh, "svc")) == 1  # created on GitHub, not recorded
    assert ledger_rows(db) == []

    retry = run_job(sandbox, db, DAY1)
    assert retry.success and retry.output_for_node("file_drift_issues_op") == {"found": 1}
    [issue] = issues_of(gh, "svc")
    assert [(r["action"], r["number"]) for r in ledger_rows(db)] == [("found", issue.number)]


def test_identical_findings_next_day_comment_on_the_open_issue_once(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, day_rows(DAY1))
    assert run_job(sandbox, db, DAY1).success
    write_findings(db, DAY2, day_rows(DAY2))
    result = run_job(sandbox, db, DAY2)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"commented": 4}
    for repo in REPOS:
        for label in ("drift:code", "drift:process"):
            [issue] = issues_of(gh, repo, label)
            comments = [c.body for c in issue.get_comments()]
            assert len(comments) == 1 and comments[0].startswith("Still present on 2026-03-06")
    assert run_job(sandbox, db, DAY2).output_for_node("file_drift_issues_op") == {"commented": 4}
    [issue] = issues_of(gh, "svc", "drift:code")
    assert len(list(issue.get_comments())) == 1  # the marker in the comment: not posted twice
    # configurable: a new issue anyway
    assert run_job(sandbox, db, DAY2, on_repeat="new_issue").output_for_node("file_drift_issues_op") == {"created": 4}
    assert len(issues_of(gh, "svc", "drift:code")) == 2


def test_a_rematerialised_day_files_only_what_is_new(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, "svc")])
    assert run_job(sandbox, db, DAY1).success
    write_findings(db, DAY1, [code_finding(DAY1, "svc"), code_finding(DAY1, "svc", path="pkg/check.toml")])
    assert run_job(sandbox, db, DAY1).output_for_node("file_drift_issues_op") == {"created": 1}
    first, second = sorted(issues_of(gh, "svc"), key=lambda i: i.number)
    assert "pkg/check.toml" in second.body and "pkg/check.toml" not in first.body
    assert len(parse_markers(second.body)[0]["fingerprints"]) == 1


def test_a_planted_token_never_reaches_github_and_an_unmasked_body_is_refused(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    row = code_finding(DAY1, "svc", diff_extra=f"+token = \"{TOKEN}\"\n")
    row["message"] += f" (leaked {TOKEN})"
    write_findings(db, DAY1, [row])
    assert run_job(sandbox, db, DAY1).success
    [issue] = issues_of(gh, "svc")
    assert TOKEN not in issue.body and "[REDACTED]" in issue.body
    assert TOKEN not in issue.title

    store = DriftStore(db)
    filer = IssueFiler(github_client(sandbox.url), store, RULES)
    with pytest.raises(SecretInBody, match="token-like"):
        filer.write("POST", "/repos/acme/web/issues", {"title": "drift", "body": f"see {TOKEN}"})
    assert issues_of(gh, "web") == []


def test_a_secondary_limit_on_creation_is_waited_out(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, "svc")])
    sandbox.set_faults({"secondary_rate_limit": {"count": 1, "status": 403, "method": "POST", "path": "/issues$"}})
    started = time.monotonic()
    result = run_job(sandbox, db, DAY1)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"created": 1}
    assert time.monotonic() - started >= 1.0  # Retry-After: 1, waited out
    counts = sandbox.request_counts()
    assert counts["faults"] == 1 and counts["by_status"].get("403") == 1
    assert len(issues_of(gh, "svc")) == 1


def test_a_failing_repo_is_recorded_the_others_are_filed_and_the_run_fails_listing_it(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, "svc"), code_finding(DAY1, "ghost")])
    result = run_job(sandbox, db, DAY1)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None and list(user_failure.metadata) == ["acme/ghost code"]
    assert "GitHub 404" in str(user_failure.metadata["acme/ghost code"])
    assert len(issues_of(gh, "svc")) == 1
    assert sorted((r["repo"], r["action"]) for r in ledger_rows(db)) == [("ghost", "failed"), ("svc", "created")]
    again = run_job(sandbox, db, DAY1)  # a retry files only what is missing (nothing for svc)
    assert len(issues_of(gh, "svc")) == 1 and not again.success


def test_dry_run_computes_the_issues_and_writes_nothing(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, day_rows(DAY1))
    result = run_job(sandbox, db, DAY1, dry_run=True)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"would_create": 4}
    [output] = [e for e in result.all_node_events if e.is_successful_output]
    preview = output.step_output_data.metadata["would_file"].value
    assert "- `acme/svc` code: would_create **[drift:code] Configuration changes detected**" in str(preview)
    assert all(issues_of(gh, r) == [] for r in REPOS) and ledger_rows(db) == []


def test_findings_of_an_archived_or_issues_disabled_repo_go_to_the_config_repo(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, "old"), code_finding(DAY1, "quiet"), code_finding(DAY1, "svc")])
    result = run_job(sandbox, db, DAY1)
    assert result.success and result.output_for_node("file_drift_issues_op") == {"created": 3}
    routed = sorted(issues_of(gh, "drift-config"), key=lambda i: i.title)
    assert [i.title for i in routed] == [
        "[drift:code] Configuration changes detected in old",
        "[drift:code] Configuration changes detected in quiet",
    ]
    assert "Repository: `acme/old`" in routed[0].body
    assert sorted((r["repo"], r["target_repo"]) for r in ledger_rows(db)) == [
        ("old", "drift-config"),
        ("quiet", "drift-config"),
        ("svc", None),
    ]
    assert issues_of(gh, "old") == [] and len(issues_of(gh, "svc")) == 1
    again = run_job(sandbox, db, DAY1)
    assert again.output_for_node("file_drift_issues_op") == {"already_filed": 3}
    assert len(issues_of(gh, "drift-config")) == 2


def test_a_crash_before_the_continuation_comments_is_completed_by_the_retry(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    big = "+x = 1\n" * 2_500
    write_findings(db, DAY1, [code_finding(DAY1, "svc", path=f"p{i}/check.toml", diff_extra=big) for i in range(8)])

    def crash(number: int) -> None:  # the documented seam: after the create call, before anything else
        raise RuntimeError(f"process killed after creating #{number}")

    with DriftStore(db) as store:
        groups = group_findings(findings_of_day(store, DAY1))
        expected_parts = len(render(groups[0], RULES).comments)
        report = IssueFiler(github_client(sandbox.url), store, RULES, after_create=crash).file_day(DAY1, groups)
    assert expected_parts >= 1 and "RuntimeError" in report.failures["acme/svc code"]
    [issue] = issues_of(gh, "svc")
    assert list(issue.get_comments()) == []

    assert run_job(sandbox, db, DAY1).output_for_node("file_drift_issues_op") == {"found": 1}
    [issue] = issues_of(gh, "svc")
    bodies = [c.body for c in issue.get_comments()]
    assert len(bodies) == expected_parts and bodies[0].startswith(f"_Continued (2/{expected_parts + 1})")
    assert run_job(sandbox, db, DAY1).output_for_node("file_drift_issues_op") == {"already_filed": 1}
    assert len(list(issue.get_comments())) == expected_parts


def test_content_creating_requests_are_spaced_by_seconds_between_writes(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, [code_finding(DAY1, r) for r in REPOS])
    started = time.monotonic()
    result = run_job(sandbox, db, DAY1, seconds_between_writes=0.4)
    elapsed = time.monotonic() - started
    assert result.output_for_node("file_drift_issues_op") == {"created": 2}
    writes = _posts(sandbox)
    assert writes == 4  # two labels, two issues
    assert elapsed >= 3 * 0.4  # three gaps between four writes
