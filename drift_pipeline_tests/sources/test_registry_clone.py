from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drift_pipeline.commands.config import make_fetcher
from drift_pipeline.core.errors import UsageError
from drift_pipeline.core.standards import MappingReader, RegistryResolver, RegistryUnavailable, analyse_repo
from drift_pipeline.sources.gitutil import Author, commit_files, init_bare
from drift_pipeline.sources.registry_clone import GitCloneFetcher, clone_base_for

WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ME = Author("Test", "test@example.com")
TOKEN = "ghp_" + "A" * 36


def extends(registry: str, *rulesets: str) -> str:
    names = ", ".join(f'"{r}"' for r in rulesets)
    return f'[extends]\nregistry = "{registry}"\nrulesets = [{names}]\n'


def remote_registry(tmp_path, owner="acme", name="std"):
    bare = init_bare(tmp_path / "remote" / owner / f"{name}.git")
    commit_files(bare, "main", {"rulesets/a-internal.toml": "[code.types.ty]\nenabled = true\n"}, "v1", ME, WHEN)
    bare.rename(tmp_path / "remote" / owner / name)
    return tmp_path / "remote"


@pytest.mark.parametrize(
    ("api_url", "base"),
    [
        (None, "https://github.com"),
        ("", "https://github.com"),
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.acme.example/api/v3", "https://ghe.acme.example"),
        ("https://ghe.acme.example/api/v3/", "https://ghe.acme.example"),
        ("https://GHE.acme.example:8443/api/v3", "https://ghe.acme.example:8443"),
        ("https://api.octo.ghe.com", "https://octo.ghe.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        (f"https://x-access-token:{TOKEN}@ghe.acme.example/api/v3", "https://ghe.acme.example"),
    ],
)
def test_clone_base_for_when_api_url_then_web_host_of_that_github(api_url, base):
    assert clone_base_for(api_url) == base


@pytest.mark.parametrize("api_url", ["ftp://ghe.example/api/v3", "ghe.example", f"file:///{TOKEN}"])
def test_clone_base_for_when_not_http_then_value_error_without_token(api_url):
    with pytest.raises(ValueError, match="GITHUB_API_URL") as info:
        clone_base_for(api_url)
    assert TOKEN not in str(info.value)


def test_make_fetcher_when_github_api_url_is_ghes_then_clones_from_ghes_host(monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.acme.example/api/v3")
    assert make_fetcher().base_url == "https://ghe.acme.example"
    monkeypatch.delenv("GITHUB_API_URL")
    assert make_fetcher().base_url == "https://github.com"
    monkeypatch.setenv("GITHUB_API_URL", "not a url")
    with pytest.raises(UsageError, match="GITHUB_API_URL"):
        make_fetcher()


def test_git_clone_fetcher_when_repo_reachable_then_tree_read(tmp_path):
    fetcher = GitCloneFetcher(cache_dir=tmp_path / "cache", base_url=f"file://{remote_registry(tmp_path)}", env={})
    reader = fetcher.fetch("acme", "std", "main")
    assert reader.list_paths() == ["rulesets/a-internal.toml"]
    result = analyse_repo(
        MappingReader({"check.toml": extends("github:acme/std@main", "a-internal")}), RegistryResolver(fetcher=fetcher)
    )
    assert result.problems == ()


def test_git_clone_fetcher_when_token_set_then_clone_works_and_token_stored_nowhere(tmp_path):
    fetcher = GitCloneFetcher(
        cache_dir=tmp_path / "cache",
        base_url=f"file://{remote_registry(tmp_path)}",
        env={"GITHUB_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
    )
    reader = fetcher.fetch("acme", "std", None)
    assert reader.read_text("rulesets/a-internal.toml").startswith("[code.types.ty]")
    for path in (tmp_path / "cache").rglob("*"):
        assert TOKEN not in str(path)
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes()


def test_git_clone_fetcher_when_unreachable_then_unavailable_without_token(tmp_path):
    fetcher = GitCloneFetcher(
        cache_dir=tmp_path / "cache",
        base_url=f"file://{tmp_path / 'nowhere'}",
        env={"GITHUB_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
    )
    with pytest.raises(RegistryUnavailable) as info:
        fetcher.fetch("acme", "std", None)
    assert "acme/std" in str(info.value) and TOKEN not in str(info.value)
