"""One repo's garbage never costs the others: local clones, the sandbox over HTTP, a real Dagster run."""

from __future__ import annotations

from pathlib import Path

import pytest

from drift_pipeline.scans.code import Baseline, scan_configs
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.git_local import GitLocalSource
from drift_pipeline_tests.pipeline.conftest import Pipeline
from drift_pipeline_tests.pipeline.orgfixture import DAY1, DAY2, build_org
from drift_pipeline_tests.scans.conftest import clones, rules, scan_json
from drift_pipeline_tests.scans.hostile_org import build_hostile_org


def _reported(payload: dict, repo: str) -> bool:
    """The repo is in the report: as a finding or as a recorded failure naming it."""
    failed = {e["repo"]: e["error"] for e in payload["errors"]}
    if repo in failed:
        assert "\n" not in failed[repo] and "Traceback" not in failed[repo]
        return True
    return any(r == repo for r, _, _ in rules(payload))


def test_local_scan_reports_every_other_repo_next_to_deep_toml_alias_bomb_and_odd_log(tmp_path, capsys):
    state = build_hostile_org(tmp_path, odd_log=True)
    code, payload = scan_json(capsys, "--path", str(clones(state)), "--date", DAY2.isoformat())
    assert code == 1
    assert ("web", ".", "dependency_changed") in rules(payload)
    assert _reported(payload, "deep") and _reported(payload, "bomb")
    failed = {e["repo"]: e["error"] for e in payload["errors"]}
    assert "quiet" not in failed and "web" not in failed
    assert "oddlog" not in failed  # git's old log separators in a subject are just text
    assert payload["summary"]["repos_in_scope"] == 5
    _, day1 = scan_json(capsys, "--path", str(clones(state)), "--date", DAY1.isoformat())
    odd = [f for f in day1["findings"] if f["repo"] == "oddlog"]
    assert [f["rule"] for f in odd] == ["check_toml_changed"] and not day1["errors"]
    assert payload["summary"]["repos_in_scope"] >= 4


def test_org_scan_over_http_reports_every_other_repo(hostile, fresh, use_sandbox, capsys):
    use_sandbox(fresh("hostile_github"))
    code, remote = scan_json(capsys, "--dry-run", "--org", "acme", "--date", DAY2.isoformat())
    _, local = scan_json(capsys, "--path", str(clones(hostile)), "--date", DAY2.isoformat())
    assert code == 1
    assert ("web", ".", "dependency_changed") in rules(remote)
    assert _reported(remote, "deep") and _reported(remote, "bomb")
    assert rules(remote) == rules(local)
    assert {e["repo"] for e in remote["errors"]} == {e["repo"] for e in local["errors"]}


def test_nightly_run_on_the_hostile_org_scans_every_other_repo(hostile, fresh, tmp_path):
    pipeline = Pipeline(fresh("hostile_github"), tmp_path / "drift.duckdb")
    result = pipeline.run(DAY1, DAY2)
    assert result.success
    status = {
        r["repo"]: (r["mode"], r["error"])
        for r in pipeline.rows("SELECT repo, mode, error FROM config_scan_status WHERE scan_date = ?", [DAY2])
    }
    assert status["quiet"][0] == "carried_forward" and status["web"][0] == "read"
    findings = pipeline.findings(DAY2)
    assert ("web", ".", "dependency_changed") in findings
    for repo in ("deep", "bomb"):
        assert status[repo][0] == "failed" or any(r == repo for r, _, _ in findings)
        if status[repo][0] == "failed":
            assert status[repo][1].startswith(f"{repo}: ")


# -- the safety net itself: whatever one repo's read raises ----------------------------------------
class FaultySource(GitLocalSource):
    """Local clones; the reads of one repo raise what hostile input makes a reader raise."""

    def __init__(self, path: Path, repo: str, where: str, exc: BaseException, concurrency: int):
        super().__init__(path)
        self.concurrency = concurrency
        self._fault = (f"{self.org}/{repo}", where, exc)
        self.fired = 0

    def _maybe(self, full_name: str, where: str) -> None:
        if (full_name, where) == self._fault[:2]:
            self.fired += 1
            raise self._fault[2]

    def head_at(self, repo, until):
        self._maybe(repo.full_name, "head")
        return super().head_at(repo, until)

    def tree(self, full_name, sha):
        self._maybe(full_name, "tree")
        return super().tree(full_name, sha)

    def blob_text(self, full_name, sha):
        self._maybe(full_name, "blob")
        return super().blob_text(full_name, sha)

    def path_commits(self, full_name, head_sha, path, since, until):
        self._maybe(full_name, "commits")
        return super().path_commits(full_name, head_sha, path, since, until)


@pytest.fixture(scope="module")
def org_clones(tmp_path_factory) -> Path:
    return build_org(tmp_path_factory.mktemp("org")).state.root / "repos" / "acme"


def _day(source, day, baseline_rows=None, baseline_scan=None):
    inv = scan_inventory(source, "acme", day_end(day), baseline_rows, day_end(DAY1) if baseline_rows else None)
    base = None
    if baseline_scan is not None:
        base = Baseline.from_rows(
            day_end(DAY1),
            *(
                baseline_scan.tables[t]
                for t in ("config_scan_status", "config_snapshots", "config_projects", "config_problems")
            ),
        )
    return inv, scan_configs(source, "acme", day_end(day), inv.rows, base)


def _without(rows, repo):
    return [r for r in rows if r["repo"] != repo]


@pytest.mark.parametrize(
    "where, exc, name",
    [
        ("blob", RecursionError("maximum recursion depth exceeded while decoding"), "RecursionError"),
        ("tree", KeyError("name"), "KeyError"),
        ("blob", UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "UnicodeDecodeError"),
        ("head", ValueError("too many values to unpack (expected 4)"), "ValueError"),
        ("commits", MemoryError(), "MemoryError"),
    ],
)
@pytest.mark.parametrize("workers", [1, 4])
def test_any_exception_of_one_repo_is_its_recorded_failure(org_clones, where, exc, name, workers):
    clean_inv1, clean_scan1 = _day(GitLocalSource(org_clones), DAY1)
    clean_inv, clean = _day(GitLocalSource(org_clones), DAY2, {r["repo"]: r for r in clean_inv1.rows}, clean_scan1)
    source = FaultySource(org_clones, "web", where, exc, workers)
    inv1, scan1 = _day(source, DAY1)
    inv, scan = _day(source, DAY2, {r["repo"]: r for r in inv1.rows}, scan1)
    assert source.fired

    [status] = [r for r in scan.tables["config_scan_status"] if r["repo"] == "web"]
    assert status["mode"] == "failed"
    assert status["error"].startswith("web: ") and name in status["error"] and "\n" not in status["error"]
    assert not any(r["repo"] == "web" for r in scan.tables["config_snapshots"])  # no half snapshot
    # every other repo: exactly the rows of a scan with no fault
    assert _without(inv.rows, "web") == _without(clean_inv.rows, "web")
    for table, rows in scan.tables.items():
        assert _without(rows, "web") == _without(clean.tables[table], "web"), table


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("workers", [1, 4])
def test_interrupts_still_stop_the_scan(org_clones, interrupt, workers):
    source = FaultySource(org_clones, "mono", "blob", interrupt(), workers)
    with pytest.raises(interrupt):
        scan_inventory(source, "acme", day_end(DAY2))
    assert source.fired == 1
