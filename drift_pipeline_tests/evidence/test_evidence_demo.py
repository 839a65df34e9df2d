"""`drift evidence` and `change_evidence` over the demo's 60 days: counts equal plain SQL on the store,
the scripted exceptions are listed with their actors, unobserved settings days say so, the HTML renders
in headless Chromium, and the asset materialises in a real Dagster run."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import numpy
import pytest

from drift_pipeline.cli import main as drift
from drift_pipeline.defs.assets.evidence import change_evidence
from drift_pipeline.defs.resources import DriftStoreResource
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.evidence.conftest import Demo
from drift_pipeline_tests.ui_browser import CHROMIUM, render, text_nodes

ORG = "acme"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "evidence"

# one change per merged PR and per commit without one: the plain-SQL definition the report must match
CHANGES = """
    WITH a AS (
        SELECT scan_date, repo, commit_sha, pr_number, coalesce(approvals, 0) AS approvals,
               CASE WHEN pr_number IS NULL THEN commit_sha ELSE 'pr#' || pr_number END AS subject
        FROM process_activity WHERE org = ? AND scan_date BETWEEN ? AND ?
    ),
    c AS (SELECT repo, subject, any_value(scan_date) AS day, any_value(pr_number) AS pr,
                 max(approvals) AS approvals FROM a GROUP BY repo, subject)
    SELECT c.repo, i.tier, c.subject, c.pr, c.approvals,
           TRY_CAST(json_extract(s.expected, '$.required_reviews') AS INTEGER) AS required
    FROM c
    LEFT JOIN repo_inventory i ON i.org = ? AND i.scan_date = c.day AND i.repo = c.repo
    LEFT JOIN process_scan_status s ON s.org = ? AND s.scan_date = c.day AND s.repo = c.repo
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = drift(["evidence", *args])
    out, err = capsys.readouterr()
    return code, out, err


def evidence_json(capsys: pytest.CaptureFixture[str], demo: Demo, *extra: str) -> dict[str, Any]:
    code, out, err = run(
        capsys, "--org", ORG, "--from", str(demo.start), "--to", str(demo.end), "--db", str(demo.db), "--json", *extra
    )
    assert code == 0, err
    return json.loads(out)


def sql(demo: Demo, query: str, params: list[Any]) -> list[dict[str, Any]]:
    with DriftStore(demo.db, read_only=True) as store:
        return store.rows(query, params)


def test_the_counts_equal_plain_queries_on_the_store(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    report = evidence_json(capsys, demo)
    rows = sql(demo, CHANGES, [ORG, demo.start, demo.end, ORG, ORG])
    bypassed = {
        (r["repo"], r["subject"])
        for r in sql(
            demo,
            "SELECT repo, subject FROM drift_findings WHERE org = ? AND rule = 'review_bypassed' "
            "AND scan_date BETWEEN ? AND ?",
            [ORG, demo.start, demo.end],
        )
    }
    assert len(rows) > 40  # the demo's history is there: the comparison below means something
    reviewed = [r for r in rows if r["pr"] is not None and r["approvals"] >= max(r["required"] or 0, 1)]
    assert report["totals"]["changes"] == len(rows) == len(report["changes"])
    assert report["totals"]["reviewed"] == len(reviewed)
    assert report["totals"]["exceptions"] == len(rows) - len(reviewed) == len(report["exceptions"])
    assert report["totals"]["bypasses"] == len(bypassed) == 2
    for key, groups in (("repo", report["by_repo"]), ("tier", report["by_tier"])):
        expected = {}
        for r in rows:
            name = r[key] or "(no tier)"
            n, ok = expected.get(name, (0, 0))
            expected[name] = (n + 1, ok + (r in reviewed))
        assert {g["name"]: (g["changes"], g["reviewed"]) for g in groups} == expected, key
        for g in groups:
            assert g["share_reviewed"] == round(g["reviewed"] / g["changes"], 4)
            assert len(g["exceptions"]) == g["changes"] - g["reviewed"]
    unscanned = sql(
        demo,
        "SELECT scan_date FROM trend_coverage WHERE org = ? AND domain = 'process_activity' AND NOT observed",
        [ORG],
    )
    assert report["coverage"]["activity_not_recorded"] == [] == unscanned  # every day of the demo was scanned
    weeks = report["weeks"]
    assert sum(w["changes"] for w in weeks) == len(rows)
    assert sum(w["exceptions"] for w in weeks) == len(rows) - len(reviewed)


def _scripted(demo: Demo, repo: str) -> dict[str, Any]:
    return next(c for c in demo.seed["process_activity"] if c["repo"] == repo and c["rule"] == "review_bypassed")


def test_the_scripted_direct_push_and_under_reviewed_merge_are_listed_with_their_actors(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    report = evidence_json(capsys, demo, "--tier", "production")
    push, merge = _scripted(demo, "orders-api"), _scripted(demo, "payments-service")
    by_id = {c["id"]: c for c in report["exceptions"]}
    direct = by_id[f"orders-api@{push['subject'][:7]}"]
    assert (direct["commit_sha"], direct["pr_number"], direct["day"]) == (push["subject"], None, push["day"])
    assert direct["author"] == direct["actor"] == push["actual"]["actor"]
    assert direct["verdict"] == f"bypass by {push['actual']['actor']}"
    assert direct["required"] == push["expected"]["approvals"] and direct["approvals"] == 0
    under = by_id[f"payments-service#{merge['subject'].removeprefix('pr#')}"]
    assert under["approvals"] == merge["actual"]["approvals"] < under["required"] == merge["expected"]["approvals"]
    assert under["approved_by"] == merge["actual"]["approved_by"]
    assert under["merged_by"] and under["verdict"] == f"bypass by {under['merged_by']}" == f"bypass by {under['actor']}"
    assert {c["tier"] for c in report["changes"]} == {"production"}
    assert set(by_id) == {direct["id"], under["id"]}  # the demo's only review exceptions
    code, out, _ = run(capsys, "--org", ORG, "--from", push["day"], "--to", push["day"], "--db", str(demo.db), "--csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert {r["id"] for r in table[:2]} == {direct["id"], under["id"]}  # exceptions first
    assert all(r["verdict"] == "reviewed" for r in table[2:])


def test_a_day_without_settings_observation_is_reported_as_not_observed(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    unobserved = [
        r["scan_date"]
        for r in sql(
            demo,
            "SELECT scan_date FROM coverage WHERE org = ? AND domain = 'process_settings' AND NOT observed",
            [ORG],
        )
    ]
    day = date.fromisoformat(_scripted(demo, "orders-api")["day"])
    assert day in unobserved  # the scripted push happened on a day nobody looked at the settings
    report = evidence_json(capsys, demo, "--repo", "orders-api")
    coverage = report["coverage"]
    observed = [date.fromisoformat(d) for d in coverage["settings_observed_days"]]
    assert day not in observed and observed == [demo.end]
    spans = [(date.fromisoformat(s["from"]), date.fromisoformat(s["to"])) for s in coverage["settings_not_observed"]]
    assert any(first <= day <= last for first, last in spans)
    assert sum(s["days"] for s in coverage["settings_not_observed"]) == len(unobserved)
    (repo,) = coverage["settings_by_repo"]
    assert repo["repo"] == "orders-api" and repo["not_observed_days"] == len(unobserved)
    assert [d["day"] for d in repo["observed"]] == [str(demo.end)]
    assert repo["observed"][0]["verdict"] in {"satisfied", "not satisfied", "not evaluated"}
    code, out, _ = run(capsys, "--org", ORG, "--from", str(day), "--to", str(day), "--db", str(demo.db))
    assert code == 0
    assert "settings observed on 0 of 1 days: none; every other day: not observed" in out


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `make browser` installs it")
def test_the_html_report_opens_in_headless_chromium_with_the_exceptions_table(
    demo: Demo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from PIL import Image

    page = tmp_path / "evidence.html"
    code, _, err = run(
        capsys,
        "--org",
        ORG,
        "--from",
        str(demo.start),
        "--to",
        str(demo.end),
        "--db",
        str(demo.db),
        "--html",
        str(page),
    )
    assert code == 0, err
    text = page.read_text()
    assert "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'" in text
    assert "<script" not in text and " src=" not in text and "@import" not in text  # loads nothing
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "evidence-report.png"
    dom = render(page.as_uri(), shot, tmp_path / "chromium", (1400, 1000), budget_ms=2000)
    nodes = text_nodes(
        dom[dom.index('id="exceptions-table"') : dom.index("</table>", dom.index('id="exceptions-table"'))]
    )
    push, merge = _scripted(demo, "orders-api"), _scripted(demo, "payments-service")
    assert push["subject"][:7] in nodes and "direct push" in nodes
    assert f"bypass by {push['actual']['actor']}" in nodes
    assert f"#{merge['subject'].removeprefix('pr#')}" in nodes and "1 of 2 required (hschultz)" in nodes
    assert dom.index('id="exceptions-table"') < dom.index('id="changes-table"')  # exceptions first
    with Image.open(shot) as image:
        pixels = numpy.asarray(image.convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    # the exception rows' fill (#fff5f5) is on screen, in the first viewport: the table rendered there
    assert ((r == 255) & (g == 245) & (b == 245)).sum() > 2000, "no exception row is visible in the screenshot"
    assert ((r > 150) & (g < 40) & (b < 60)).sum() > 50, "no verdict in red is visible in the screenshot"


def test_change_evidence_materialises_in_a_real_dagster_run(demo: Demo, tmp_path: Path) -> None:
    db = tmp_path / "drift.duckdb"
    shutil.copy(demo.db, db)  # the run reads its own copy: the shared store stays as built
    day = date.fromisoformat(_scripted(demo, "orders-api")["day"])
    first, last = day - timedelta(days=1), day + timedelta(days=1)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [change_evidence],
        instance=instance,
        resources={"store": DriftStoreResource(database=str(db))},
        tags={"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)},
    )
    assert result.success
    counts = {
        r["scan_date"]: r["n"]
        for r in sql(
            demo,
            "SELECT scan_date, count(DISTINCT CASE WHEN pr_number IS NULL THEN commit_sha ELSE 'pr#' || pr_number "
            "END || repo) AS n FROM process_activity WHERE org = ? GROUP BY ALL",
            [ORG],
        )
    }
    for offset in range(3):
        d = first + timedelta(days=offset)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("change_evidence"), asset_partitions=[str(d)]), limit=1
        ).records
        assert records, f"{d} was not materialised"
        meta = {k: getattr(v, "value", v) for k, v in records[0].asset_materialization.metadata.items()}  # type: ignore[union-attr]
        assert meta["changes"] == counts.get(d, 0), d
        if d == day:
            assert meta["exceptions"] == meta["bypasses"] == 2
            assert "orders-api@" in meta["exceptions_preview"] and "bypass by" in meta["exceptions_preview"]
        else:
            assert meta["exceptions"] == 0


def test_the_weekly_trend_view_agrees_with_the_report(
    demo: Demo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """trend_reviews_weekly (share of reviewed changes per tier and week) counts what the report counts."""
    copy = tmp_path / "drift.duckdb"
    shutil.copy(demo.db, copy)
    with DriftStore(copy) as store:  # brings the copy to the schema (the view) as any pipeline write would
        view = {
            (str(r["week"]), r["tier"]): (r["changes"], r["reviewed"], r["share_reviewed"])
            for r in store.rows("SELECT * FROM trend_reviews_weekly WHERE org = ?", [ORG])
        }
    report = evidence_json(capsys, demo)
    weeks = {
        (w["week"], tier): (t["changes"], t["reviewed"], t["share_reviewed"])
        for w in report["weeks"]
        for tier, t in w["tiers"].items()
    }
    assert view == weeks and len(view) > 10
    assert min(share for _, _, share in view.values()) < 1  # the week of the scripted exceptions
