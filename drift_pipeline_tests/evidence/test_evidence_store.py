"""`drift evidence` on a small real DuckDB store written through DriftStore: each verdict, the drift issue
that reported a change, hostile strings kept inert in HTML and CSV, and the exit codes of bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from drift_pipeline.cli import main as drift
from drift_pipeline.evidence import build, collect, to_html
from drift_pipeline.store import DriftStore

ORG = "acme"
DAY = date(2026, 3, 2)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://x","open")'
SHA = {name: (c * 40) for name, c in (("ok", "a"), ("push", "b"), ("bypass", "c"), ("thin", "d"), ("quiet", "e"))}


def _commit(key: str, **extra: Any) -> dict[str, Any]:
    row = {
        "repo": "svc",
        "commit_sha": SHA[key],
        "commit_url": f"https://github.example/acme/svc/commit/{SHA[key]}",
        "subject": f"change {key}",
        "author": "dev",
        "committer": "dev",
        "is_merge": False,
        "direct_push": False,
        "approvals": 0,
        "approved_by": [],
    }
    return row | extra


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "drift.duckdb"
    pr = {"direct_push": False, "pr_url": "https://github.example/acme/svc/pull/{n}", "merged_by": "lead"}
    activity = [
        _commit("ok", **pr, pr_number=1, approvals=2, approved_by=["r1", "r2"]),
        _commit("push", direct_push=True, author=HOSTILE, committer=HOSTILE, commit_url="javascript:alert(1)"),
        _commit("bypass", **pr, pr_number=2, approvals=1, approved_by=["r1"]),
        _commit("thin", **pr, pr_number=3, approvals=0, repo="lax", author=FORMULA),
        _commit("quiet", direct_push=True, repo="lax"),
    ]
    finding = {
        "repo": "svc",
        "project": ".",
        "category": "process",
        "rule": "review_bypassed",
        "severity": "error",
        "message": "bypassed",
        "subject": "pr#2",
        "details": {"actor": "lead"},
        "fingerprint": "fp-bypass",
    }
    push_finding = finding | {"subject": SHA["push"], "details": {"actor": HOSTILE}, "fingerprint": "fp-push"}
    with DriftStore(path) as db:
        db.replace_day(
            DAY,
            ORG,
            {
                "repo_inventory": [
                    {"repo": "svc", "tier": "production", "team": HOSTILE, "in_scope": True},
                    {"repo": "lax", "tier": "prototype", "team": "labs", "in_scope": True},
                ],
                "process_activity": [
                    r | {"pr_url": r["pr_url"].format(n=r["pr_number"])} if r.get("pr_url") else r for r in activity
                ],
                "process_scan_status": [
                    {"repo": "svc", "mode": "full", "activity_read": True, "expected": {"required_reviews": 2}},
                    {"repo": "lax", "mode": "full", "activity_read": True, "expected": {}},
                ],
                "drift_findings": [finding, push_finding],
            },
            coverage={"domain": "process_settings", "observed": False, "reason": HOSTILE},
        )
        db.write(
            lambda con: con.execute(
                "INSERT INTO filed_issues (scan_date, org, repo, category, action, number, url, fingerprints) "
                "VALUES (?, ?, 'svc', 'process', 'created', 7, 'https://github.example/acme/svc/issues/7', ?)",
                [DAY, ORG, json.dumps(["fp-bypass"])],
            )
        )
    return path


def test_each_verdict_and_the_issue_that_reported_the_bypass(store: Path) -> None:
    with DriftStore(store, read_only=True) as db:
        report = build(collect(db.rows, ORG, DAY, DAY))
    got = {(c.repo, c.commit_sha[0]): c for c in report.changes}
    assert got[("svc", "a")].verdict == "reviewed"
    assert got[("svc", "b")].verdict == f"bypass by {HOSTILE}"
    assert got[("svc", "c")].verdict == "bypass by lead"
    assert (got[("svc", "c")].issue_number, got[("svc", "c")].issue_url) == (
        7,
        "https://github.example/acme/svc/issues/7",
    )
    assert got[("svc", "b")].issue_number is None  # its finding was never filed
    assert got[("lax", "d")].verdict == "under-reviewed"  # no review required, none given: still no review
    assert got[("lax", "e")].verdict == "direct push"
    assert [(g.name, g.changes, g.reviewed) for g in report.by_tier] == [("production", 3, 1), ("prototype", 2, 0)]
    assert report.settings_observed_days == [] and report.settings_not_observed[0]["days"] == 1
    assert report.activity_not_recorded == []
    with DriftStore(store, read_only=True) as db:
        later = build(collect(db.rows, ORG, DAY, DAY + timedelta(days=2)))
    assert [(s["from"], s["to"], s["days"]) for s in later.activity_not_recorded] == [
        (DAY + timedelta(days=1), DAY + timedelta(days=2), 2)
    ]
    assert later.settings_not_observed[0]["days"] == 3 and len(later.changes) == 5


def test_html_keeps_every_store_string_inert(store: Path) -> None:
    with DriftStore(store, read_only=True) as db:
        page = to_html(build(collect(db.rows, ORG, DAY, DAY)), source=HOSTILE)
    assert "<script" not in page and "<img" not in page and 'href="javascript' not in page
    assert html_escaped(HOSTILE) in page
    assert '<a href="https://github.example/acme/svc/issues/7" rel="noreferrer noopener">#7</a>' in page
    assert "bbbbbbb</td>" in page  # the commit whose URL is not http(s) is shown, not linked


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_csv_defuses_formulas(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert drift(["evidence", "--org", ORG, "--from", str(DAY), "--to", str(DAY), "--db", str(store), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 5 and rows[-1]["verdict"] == "reviewed"  # exceptions first
    assert {r["actor"] for r in rows if r["commit_sha"] == SHA["push"]} == {HOSTILE}
    (thin,) = [r for r in rows if r["commit_sha"] == SHA["thin"]]
    assert thin["author"] == "'" + FORMULA  # a spreadsheet shows it as text, never runs it


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--from", "2026-3-2", "--to", "2026-03-02"], 2, "--from '2026-3-2': expected a date YYYY-MM-DD"),
        (["--from", "2026-03-02", "--to", "2026-02-30"], 2, "--to '2026-02-30': expected a date"),
        (["--from", "2026-03-03", "--to", "2026-03-02"], 2, "is after --to"),
        (["--from", "2026-03-02", "--to", "2026-03-02", "--json", "--csv"], 2, "choose one output format"),
        (["--from", "2026-03-02", "--to", "2026-03-02", "--tier", "gold"], 2, "'gold' is not one of"),
        (["--from", "2026-03-02", "--to", "2026-03-02", "--html", "x.txt"], 2, "must end in .html"),
        (["--from", "2026-03-02", "--to", "2026-03-02", "--repo", "nope"], 2, "--repo 'nope': no such repo"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, says: str
) -> None:
    assert drift(["evidence", "--org", ORG, "--db", str(store), *args]) == code
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_an_unknown_org_exits_2_naming_the_orgs_there(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert drift(["evidence", "--org", "other", "--from", "2026-03-02", "--to", "2026-03-02", "--db", str(store)]) == 2
    assert "--org 'other': " in (err := capsys.readouterr().err) and "['acme']" in err


def test_org_and_repo_in_another_case_give_the_report_of_the_stored_names(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub names ignore case: ``--org ACME --repo SVC`` is acme's svc, reported as the store spells it."""
    span = ["--from", str(DAY), "--to", str(DAY), "--db", str(store)]
    outputs = {}
    for org, repo in (("acme", "svc"), ("ACME", "SVC"), ("Acme", "Svc")):
        for form in ("--json", "--csv"):
            assert drift(["evidence", "--org", org, "--repo", repo, *span, form]) == 0, capsys.readouterr().err
            outputs[org, form] = capsys.readouterr().out
    lower = json.loads(outputs["acme", "--json"])
    assert lower["org"] == ORG and {c["repo"] for c in lower["changes"]} == {"svc"}
    for org in ("ACME", "Acme"):
        assert json.loads(outputs[org, "--json"]) == lower
        assert outputs[org, "--csv"] == outputs["acme", "--csv"]
    assert drift(["evidence", "--org", "ACME", "--repo", "SVC", "--repo", "svc", *span, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == lower  # two spellings of one repo are one repo
    assert drift(["evidence", "--org", "ACME", "--repo", "NOPE", *span]) == 2
    assert "--repo 'NOPE': no such repo of acme in the store" in capsys.readouterr().err


def test_a_missing_cut_or_foreign_store_exits_3(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    span = ["--org", ORG, "--from", "2026-03-02", "--to", "2026-03-02"]
    assert drift(["evidence", *span, "--db", str(tmp_path / "absent.duckdb")]) == 3
    assert "does not exist" in capsys.readouterr().err
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(store.read_bytes()[:5000])
    assert drift(["evidence", *span, "--db", str(cut)]) == 3
    assert str(cut) in (err := capsys.readouterr().err) and "Traceback" not in err
    foreign = tmp_path / "foreign.duckdb"
    import duckdb

    duckdb.connect(str(foreign)).close()
    assert drift(["evidence", *span, "--db", str(foreign)]) == 3
    assert "has no table process_activity" in capsys.readouterr().err
