"""The weekly audit over the sandbox: one summary issue per org and week, stored as history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from drift_pipeline.defs.issues import drift_audit, weekly_audit_schedule
from drift_pipeline.defs.resources import ScanScopeResource
from drift_pipeline.issues.audit import AUDIT_MARKER
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.issues.conftest import issues_of, resources
from drift_pipeline_tests.sandbox.conftest import github_client

MONDAY = "2026-03-09T03:00:00+00:00"


def seed(gh, db: Path) -> None:
    svc, web = gh.get_repo("acme/svc"), gh.get_repo("acme/web")
    for i in range(4):
        svc.create_issue(f"code {i}", labels=["drift:code"])
    for i in range(3):
        svc.create_issue(f"process {i}", labels=["drift:process"])
    svc.create_issue("closed", labels=["drift:code"]).edit(state="closed")
    svc.create_issue("not drift", labels=["bug"])
    for i in range(5):
        web.create_issue(f"web {i}", labels=["drift:infra"])  # exactly the threshold: not above it
    with DriftStore(db) as store:
        store.replace_day(
            date(2026, 3, 8),
            "acme",
            {"repo_inventory": [{"repo": "svc", "team": "payments", "tier": "production"}, {"repo": "web"}]},
        )


def audit(sandbox, db: Path, *, orgs: str = "acme", **config) -> dg.ExecuteInProcessResult:
    return drift_audit.execute_in_process(
        resources={**resources(sandbox, db), "scope": ScanScopeResource(orgs=orgs)},
        run_config={"ops": {"drift_audit_op": {"config": {"at": MONDAY, **config}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )


def test_the_audit_opens_one_summary_listing_exactly_the_repos_above_the_threshold_once_a_week(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    seed(gh, db)
    assert audit(sandbox, db).output_for_node("drift_audit_op") == {"acme": "created"}
    [summary] = issues_of(gh, "drift-config", "drift:audit")
    assert summary.title == "[drift:audit] 1 repo(s) above 5 open drift issues (2026-W11)"
    assert "| `acme/svc` | payments | production | 4 | 3 | 0 | " in summary.body
    assert "acme/web" not in summary.body

    assert audit(sandbox, db).output_for_node("drift_audit_op") == {"acme": "already_done"}
    assert len(issues_of(gh, "drift-config")) == 1
    with DriftStore(db) as store:
        history = store.rows("SELECT week, action, number, repos FROM audit_reports ORDER BY run_at, action")
    assert sorted((h["week"], h["action"], h["number"]) for h in history) == [
        ("2026-W11", "already_done", summary.number),
        ("2026-W11", "created", summary.number),
    ]
    [created] = [h for h in history if h["action"] == "created"]
    assert "svc" in created["repos"] and '"web"' not in created["repos"]


def test_an_org_configured_in_another_case_is_audited_and_recorded_as_github_spells_it(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    seed(gh, db)
    assert audit(sandbox, db, orgs="ACME,Acme").output_for_node("drift_audit_op") == {"acme": "created"}
    assert audit(sandbox, db, orgs="acme").output_for_node("drift_audit_op") == {"acme": "already_done"}
    [summary] = issues_of(gh, "drift-config", "drift:audit")
    assert "| `acme/svc` | payments | production | 4 | 3 | 0 | " in summary.body
    with DriftStore(db) as store:
        assert {r["org"] for r in store.rows("SELECT org FROM audit_reports")} == {"acme"}


def test_a_lost_audit_record_still_opens_no_second_summary(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    seed(gh, db)
    assert audit(sandbox, db, threshold=4).output_for_node("drift_audit_op") == {"acme": "created"}
    other = tmp_path / "other.duckdb"  # a store without the record: the marker in drift-config decides
    assert audit(sandbox, other, threshold=4).output_for_node("drift_audit_op") == {"acme": "found"}
    [summary] = issues_of(gh, "drift-config", "drift:audit")
    assert "acme/web" in summary.body and "acme/svc" in summary.body


def test_a_summary_marker_copied_by_another_user_does_not_silence_the_weeks_audit(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    seed(gh, db)
    state = SandboxState.open(sandbox.app.store.root)
    state.add_user("mallory")
    state.add_token("mallory-token", login="mallory", admin=False, kind="classic")
    state.save()
    mallory = github_client(sandbox.url, token="mallory-token")
    forged = f'<!-- {AUDIT_MARKER}: {{"org": "acme", "week": "2026-W11"}} -->'
    mallory.get_repo("acme/drift-config").create_issue("nothing to see", body=forged, labels=["drift:audit"])
    assert audit(sandbox, db).output_for_node("drift_audit_op") == {"acme": "created"}
    ours = [i for i in issues_of(gh, "drift-config", "drift:audit") if i.user.login != "mallory"]
    assert [i.title for i in ours] == ["[drift:audit] 1 repo(s) above 5 open drift issues (2026-W11)"]
    other = tmp_path / "other.duckdb"  # without the record, only our own summary is found
    assert audit(sandbox, other).output_for_node("drift_audit_op") == {"acme": "found"}
    assert len(issues_of(gh, "drift-config", "drift:audit")) == 2


def test_the_schedule_ticks_monday_three_oclock_london_with_the_week_as_run_key():
    tick = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)  # 03:00 BST, the first Monday of summer time
    request = weekly_audit_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert isinstance(request, dg.RunRequest) and request.run_key == "audit:2026-W14"
    assert weekly_audit_schedule.cron_schedule == "0 3 * * 1"
    assert weekly_audit_schedule.execution_timezone == "Europe/London"
