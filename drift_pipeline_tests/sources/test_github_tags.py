"""Release tags over real HTTP: the sandbox's ``GET /repos/{o}/{r}/tags`` and ``sources.github_tags.TagReader``.

The sandbox lists tags from the bare repository (annotated tags peeled, paginated with ``Link``);
every answer is also checked against GitHub's OpenAPI description by the session-wide check.
Hostile answers (names git refuses, shas that are not shas, a non-list body) come from a tiny
HTTP server standing in for a broken GitHub: the reader must skip, count, truncate or refuse them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from drift_pipeline.core.errors import SourceError
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.infra_seed import tag_releases
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_tags import MAX_TAG_NAME, TagReader, tag_name_ok, tag_reader
from drift_pipeline.sources.gitutil import Author, GitError, commit_files, git

WHEN = datetime(2026, 6, 1, 12, tzinfo=UTC)
ME = Author("Dev", "dev@example.com")
MANY = 250


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[GitHubSandbox, dict[str, str]]]:
    state = SandboxState.open(tmp_path_factory.mktemp("gh-tags"))
    state.add_org("acme")
    repo = state.create_repo("acme", "svc")
    shas = {
        "a": commit_files(repo, "main", {"a.txt": "1\n"}, "one", ME, WHEN),
        "b": commit_files(repo, "main", {"a.txt": "2\n"}, "two", ME, WHEN + timedelta(days=2)),
    }
    tag_releases(repo, {"v1.0.0": shas["a"], "v1.1.0-rc1": shas["b"]})  # annotated
    tag_releases(repo, {"light": shas["b"]}, annotated=False)
    tree = git(repo, "rev-parse", f"{shas['a']}^{{tree}}").decode().strip()
    git(repo, "update-ref", "refs/tags/a-tree", tree)  # a tag of a tree: GitHub lists commits only
    many = state.create_repo("acme", "many")
    head = commit_files(many, "main", {"x": "1\n"}, "init", ME, WHEN)
    refs = "".join(f"create refs/tags/v0.{i}.0 {head}\n" for i in range(MANY))
    git(many, "update-ref", "--stdin", input=refs.encode())
    state.create_repo("acme", "empty")
    state.save()
    with GitHubSandbox(state.root) as gh:
        yield gh, shas


def test_the_sandbox_lists_tags_as_github_does_peeled_and_paginated(server):
    gh, shas = server
    http = requests.Session()
    http.headers["Authorization"] = "token sandbox-token"
    answer = http.get(f"{gh.url}/repos/acme/svc/tags", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert {t["name"]: t["commit"]["sha"] for t in body} == {
        "v1.1.0-rc1": shas["b"],
        "v1.0.0": shas["a"],  # the annotated tag's commit, not the tag object
        "light": shas["b"],
    }
    first = body[0]
    assert set(first) == {"name", "commit", "zipball_url", "tarball_url", "node_id"}
    assert first["commit"]["url"].endswith(f"/repos/acme/svc/commits/{first['commit']['sha']}")
    paged = http.get(f"{gh.url}/repos/acme/many/tags?per_page=100", timeout=10)
    assert len(paged.json()) == 100 and 'rel="next"' in paged.headers["Link"] and "page=3" in paged.headers["Link"]
    assert http.get(f"{gh.url}/repos/acme/empty/tags", timeout=10).json() == []
    assert http.get(f"{gh.url}/repos/acme/nope/tags", timeout=10).status_code == 404


def test_the_reader_reads_every_page_once_per_run_and_a_304_costs_nothing(server):
    gh, _ = server
    source = GitHubSource(gh.url, "sandbox-token", backoff=0)
    reader = TagReader(source)
    listed = reader.tags("acme/many")
    assert len(listed.tags) == MANY and not listed.truncated and listed.skipped == 0
    assert reader.tags("acme/many") is listed and source.requests["tags"] == 3  # memoised for the run
    again = TagReader(source).tags("acme/many")  # a new run, same cache: conditional requests
    assert again.tags == listed.tags and source.not_modified == 3


def test_a_huge_tag_list_is_truncated_and_says_so(server):
    gh, _ = server
    listed = TagReader(GitHubSource(gh.url, "sandbox-token", backoff=0, per_page=100), max_tags=120).tags("acme/many")
    assert len(listed.tags) == 120 and listed.truncated


def test_commit_dates_are_read_once_and_decide_what_existed_by_a_day(server):
    gh, shas = server
    source = GitHubSource(gh.url, "sandbox-token", backoff=0)
    reader = TagReader(source)
    assert reader.committed_at("acme/svc", shas["b"]) == WHEN + timedelta(days=2)
    assert reader.committed_at("acme/svc", shas["b"]) == WHEN + timedelta(days=2)
    assert source.requests["commits"] == 1  # a sha's date never changes
    now = WHEN + timedelta(days=5)
    existed = reader.existed_by("acme/svc", WHEN + timedelta(days=1), now)
    assert existed is not None and existed(shas["a"]) and not existed(shas["b"])
    assert reader.existed_by("acme/svc", now, now) is None  # today: every commit existed, nothing to ask
    with pytest.raises(ValueError, match="not a commit sha"):
        reader.committed_at("acme/svc", "HEAD; rm -rf /")


def test_tag_releases_refuses_a_name_git_refuses(tmp_path):
    state = SandboxState.open(tmp_path)
    repo = state.create_repo("acme", "x")
    sha = commit_files(repo, "main", {"a": "1\n"}, "init", ME, WHEN)
    with pytest.raises(GitError):
        tag_releases(repo, {"v1..0": sha})


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("v1.2.0", True),
        ("release/2024.05", True),
        ("v1..2", False),
        ("v1.2.0\n", False),
        ("v1 2", False),
        ("-v1", False),
        ("v1.lock", False),
        ("v1@{0}", False),
        ("x" * (MAX_TAG_NAME + 1), False),
        ("", False),
        (12, False),
    ],
)
def test_tag_names_follow_gits_rules(name, ok):
    assert tag_name_ok(name) is ok


class _Hostile(BaseHTTPRequestHandler):
    body: object = []

    def do_GET(self) -> None:
        data = json.dumps(self.body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[type[_Hostile]]:
    handler = type("H", (_Hostile,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    httpd.shutdown()
    httpd.server_close()


def test_bad_names_and_bad_shas_are_skipped_and_counted(hostile):
    good = "a" * 40
    hostile.body = [
        {"name": "v1.0.0", "commit": {"sha": good}},
        {"name": "v1..0", "commit": {"sha": good}},
        {"name": "v2.0.0\u0000", "commit": {"sha": good}},
        {"name": "v3.0.0", "commit": {"sha": "HEAD"}},
        {"name": "v4.0.0", "commit": None},
        {"name": ["v5"], "commit": {"sha": good}},
        {"name": "v" + "9" * 5000, "commit": {"sha": good}},
    ]
    listed = TagReader(GitHubSource(hostile.url, "t", backoff=0, retries=0)).tags("acme/svc")  # type: ignore[attr-defined]
    assert dict(listed.tags) == {"v1.0.0": good} and listed.skipped == 6


@pytest.mark.parametrize("body", [{"message": "not a list"}, ["v1.0.0"], "tags"])
def test_an_answer_that_is_not_a_list_of_tags_is_a_clear_source_error(hostile, body):
    hostile.body = body
    with pytest.raises(SourceError, match=r"GET /repos/acme/svc/tags"):
        TagReader(GitHubSource(hostile.url, "t", backoff=0, retries=0)).tags("acme/svc")  # type: ignore[attr-defined]


def test_a_local_clone_source_has_no_tag_reader():
    assert tag_reader(object()) is None
