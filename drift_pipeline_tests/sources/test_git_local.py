"""GitLocalSource on real clones: shallow clones, checkouts of other branches, the default branch."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.standards import analyse_repo
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.reading import SourceTreeReader
from drift_pipeline.sources.git_local import GitLocalSource
from drift_pipeline.sources.gitutil import Author, commit_files, init_bare

ME = Author("Test", "test@example.com")
DAY1, DAY2, DAY3 = (datetime(2026, 1, d, 12, 0, tzinfo=UTC) for d in (1, 2, 3))
END2, END3 = datetime(2026, 1, 2, 23, 59, tzinfo=UTC), datetime(2026, 1, 3, 23, 59, tzinfo=UTC)
V1 = {"check.toml": "[code.types.ty]\nenabled = true\n", "repo-metadata.yaml": "tier: internal\n"}
V2 = {"check.toml": "[code.types.tsc]\nenabled = true\n"}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def upstream(tmp_path: Path) -> tuple[Path, str, str]:
    """A bare 'remote' with main (V1 on day 1, V2 on day 3) and a feature branch."""
    bare = init_bare(tmp_path / "remote" / "svc.git")
    first = commit_files(bare, "main", V1, "v1", ME, DAY1)
    second = commit_files(bare, "main", V2, "v2", ME, DAY3)
    git("-C", str(bare), "branch", "feature", first)
    commit_files(bare, "feature", {"check.toml": "[code.unused.knip]\nenabled = true\n"}, "feat", ME, DAY2)
    return bare, first, second


def clone(bare: Path, dest: Path, *args: str) -> Path:
    git("clone", "-q", *args, f"file://{bare}", str(dest))
    return dest


def test_git_local_source_declares_serial_reads():
    assert GitLocalSource.concurrency == 1


def test_shallow_clone_when_asked_before_its_boundary_then_error_not_no_commit(tmp_path):
    bare, _first, second = upstream(tmp_path)
    source = GitLocalSource(clone(bare, tmp_path / "clones" / "svc", "--depth", "1"))
    (record,) = source.list_repos()
    assert source.head_at(record, END3).sha == second  # after the boundary: known
    with pytest.raises(SourceError, match="shallow clone: history before 2026-01-03 12:00 UTC unavailable") as info:
        source.head_at(record, END2)  # before it: unknown, not "no commit"
    assert "git fetch --unshallow" in str(info.value)
    with pytest.raises(SourceError, match="shallow clone"):
        source.path_commits(record.full_name, second, "check.toml", since=DAY1, until=END3)


def test_full_clone_when_asked_for_an_old_day_then_old_head(tmp_path):
    bare, first, _second = upstream(tmp_path)
    source = GitLocalSource(clone(bare, tmp_path / "clones" / "svc"))
    (record,) = source.list_repos()
    assert source.head_at(record, END2).sha == first
    assert [c.message for c in source.path_commits(record.full_name, first, "check.toml", None, END3)] == ["v1"]


def test_inventory_when_shallow_clone_then_repo_error_recorded(tmp_path):
    bare, _first, _second = upstream(tmp_path)
    clone(bare, tmp_path / "clones" / "svc", "--depth", "1")
    result = scan_inventory(GitLocalSource(tmp_path / "clones"), "clones", END2)
    (row,) = result.rows
    assert row["in_scope"] is False and row["scope_reason"] != "no commit yet"
    assert [e["repo"] for e in result.errors] == ["svc"] and "shallow clone" in result.errors[0]["error"]


def test_clone_checked_out_on_feature_branch_then_default_branch_read(tmp_path):
    bare, _first, second = upstream(tmp_path)
    path = clone(bare, tmp_path / "clones" / "svc")
    git("checkout", "-q", "feature", cwd=path)
    source = GitLocalSource(path)
    (record,) = source.list_repos()
    assert record.default_branch == "main"
    assert source.head_at(record, END3).sha == second


def test_clone_of_a_feature_branch_only_then_default_branch_read_from_origin(tmp_path):
    bare, _first, second = upstream(tmp_path)
    path = clone(bare, tmp_path / "clones" / "svc", "--branch", "feature")
    assert "refs/heads/main" not in git("for-each-ref", "--format=%(refname)", cwd=path)
    source = GitLocalSource(path)
    (record,) = source.list_repos()
    assert (record.default_branch, source.head_at(record, END3).sha) == ("main", second)


def test_clone_without_origin_head_on_feature_branch_then_main_found(tmp_path):
    bare, _first, second = upstream(tmp_path)
    path = tmp_path / "clones" / "svc"
    git("init", "-q", str(path))
    git("remote", "add", "origin", f"file://{bare}", cwd=path)
    git("fetch", "-q", "origin", cwd=path)
    git("checkout", "-q", "-b", "feature", "origin/feature", cwd=path)
    source = GitLocalSource(path)
    (record,) = source.list_repos()
    assert (record.default_branch, source.head_at(record, END3).sha) == ("main", second)


def test_branch_missing_in_a_repo_with_commits_then_error_not_silence(tmp_path):
    bare, _first, _second = upstream(tmp_path)
    source = GitLocalSource(clone(bare, tmp_path / "clones" / "svc"))
    (record,) = source.list_repos()
    gone = type(record)(org=record.org, name=record.name, owner=record.owner, default_branch="release")
    with pytest.raises(SourceError, match="branch 'release' not found"):
        source.head_at(gone, END3)


def test_scan_reader_when_metadata_and_config_blobs_not_utf8_then_unreadable_not_absent(tmp_path):
    """The source answers None for a blob that is not text; the engine reads that as unreadable."""
    bare = init_bare(tmp_path / "clones" / "svc.git")
    head = commit_files(
        bare,
        "main",
        {
            "check.toml": b"[code]\nx = '\xff'\n",
            "repo-metadata.yaml": b"tier: \xfe\n",
            "apps/web/package.json": "{}",
            "apps/web/check.toml": "",
        },
        "c",
        ME,
        DAY1,
    )
    source = GitLocalSource(bare)
    (record,) = source.list_repos()
    result = analyse_repo(SourceTreeReader(source, record.full_name, source.tree(record.full_name, head)))
    assert sorted((p.file, p.severity) for p in result.problems) == [
        ("check.toml", "error"),
        ("repo-metadata.yaml", "error"),
    ]
    assert result.metadata.present and not result.metadata.tier_known
    web = result.project("apps/web")  # its own config is fine; the root metadata it inherits is not
    assert [p.file for p in web.problems] == ["repo-metadata.yaml"] and web.tier_check is None
