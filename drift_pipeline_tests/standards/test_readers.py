from __future__ import annotations

from datetime import UTC, datetime

from drift_pipeline.core.standards import LocalDirReader, MappingReader, TreeReader, analyse_repo
from drift_pipeline.sources.git_reader import GitCommitReader
from drift_pipeline.sources.gitutil import Author, commit_files, init_bare

ME = Author("Test", "test@example.com")


def test_mapping_reader_when_path_absent_then_none():
    reader = MappingReader({"b": "2", "a": "1"})
    assert isinstance(reader, TreeReader)
    assert reader.list_paths() == ["a", "b"] and reader.read_text("a") == "1" and reader.read_text("c") is None


def test_local_dir_reader_when_git_dir_present_then_skipped(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_text("hello")
    (tmp_path / ".env").write_text("A=1")
    reader = LocalDirReader(tmp_path)
    assert reader.list_paths() == [".env", "sub/f.txt"]
    assert reader.read_text("sub/f.txt") == "hello"
    assert reader.read_text("missing") is None and reader.read_text("../etc/passwd") is None


def test_git_commit_reader_when_older_commit_then_reads_old_content(tmp_path):
    repo = init_bare(tmp_path / "repo.git")
    old = commit_files(
        repo,
        "main",
        {
            "check.toml": "[code.types.tsc]\nenabled = true\n",
            "tsconfig.json": "{}",
            "repo-metadata.yaml": "tier: production\n",
        },
        "first",
        ME,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    new = commit_files(
        repo,
        "main",
        {"check.toml": "[code.types.ty]\nenabled = true\n", "tsconfig.json": "{\"v\": 2}", "src/a.py": "print('é')\n"},
        "second",
        ME,
        datetime(2026, 1, 2, tzinfo=UTC),
    )
    with GitCommitReader(repo, old) as reader:
        assert reader.read_text("tsconfig.json") == "{}"
        assert reader.list_paths() == ["check.toml", "repo-metadata.yaml", "tsconfig.json"]
        assert "tsc" in reader.read_text("check.toml")
        assert reader.read_text("src/a.py") is None
        result = analyse_repo(reader)
        assert [t.path for t in result.tracked_files] == ["check.toml", "repo-metadata.yaml", "tsconfig.json"]
    with GitCommitReader(repo, new) as reader:
        assert reader.list_paths() == ["check.toml", "repo-metadata.yaml", "src/a.py", "tsconfig.json"]
        assert reader.read_text("tsconfig.json") == '{"v": 2}'
        assert "ty" in reader.read_text("check.toml") and reader.read_text("src/a.py") == "print('é')\n"
        assert reader.read_text("repo-metadata.yaml") == "tier: production\n"
