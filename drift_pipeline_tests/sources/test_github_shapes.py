"""Answers of the wrong shape end in a clear SourceError, never ``KeyError: 'name'``.

A tiny real HTTP server on 127.0.0.1 plays a base URL that is not the REST API: a web page
answering 200 with HTML, or JSON of another shape. Each error must name the URL path, what was
expected and the GITHUB_API_URL hint, and nothing wrong is cached.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drift_pipeline.core.errors import SourceError
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.records import RepoRecord

HINT = "is GITHUB_API_URL the REST API base"
SHA = "a" * 40
COMMIT = {"sha": SHA, "commit": {"message": "m", "committer": {"date": "2026-06-01T00:00:00Z"}}}
GOOD_REPO = {"name": "ok", "owner": {"login": "acme"}, "default_branch": "main"}

# path -> (content type, body); anything else answers 404 JSON
ANSWERS: dict[str, tuple[str, str]] = {
    "/repos/acme/ok": ("application/json", json.dumps(GOOD_REPO)),
    "/repos/acme/list": ("application/json", "[]"),
    "/repos/acme/noname": ("application/json", json.dumps({"id": 1, "owner": {"login": "acme"}})),
    "/repos/acme/ownerstr": ("application/json", json.dumps({"name": "x", "owner": "acme"})),
    "/repos/acme/badtime": ("application/json", json.dumps({**GOOD_REPO, "pushed_at": "yesterday"})),
    "/repos/acme/htmljson": ("application/json", "<html><body>login</body></html>"),
    "/repos/acme/brokenjson": ("application/json", '{"name": "x", '),
    "/orgs/acme/repos": ("application/json", json.dumps({"message": "hello"})),
    "/orgs/mixed/repos": ("application/json", json.dumps([GOOD_REPO, "not a repo"])),
    "/repos/acme/ok/commits": ("application/json", json.dumps([{"sha": 5}])),
    "/repos/acme/nodate/commits": ("application/json", json.dumps([{"sha": SHA, "commit": {}}])),
    "/repos/acme/good/commits": ("application/json", json.dumps([COMMIT])),
    f"/repos/acme/ok/git/trees/{SHA}": ("application/json", json.dumps({"sha": SHA, "tree": "none"})),
    f"/repos/acme/ok/git/blobs/{SHA}": ("application/json", json.dumps({"sha": SHA, "content": 5})),
}


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _Html(BaseHTTPRequestHandler):
    """A web site: every path answers 200 with an HTML page (like github.com without /api)."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class _Shapes(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ctype, text = ANSWERS.get(self.path.split("?")[0], ("application/json", '{"message": "Not Found"}'))
        status = 200 if self.path.split("?")[0] in ANSWERS else 404
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def html_url():
    yield from _serve(_Html)


@pytest.fixture(scope="module")
def shapes_url():
    yield from _serve(_Shapes)


def _source(url: str, cache: dict[str, str] | None = None) -> GitHubSource:
    return GitHubSource(url, "t", backoff=0, retries=0, cache=cache)


def _assert_clear(err: SourceError, path: str, expected: str) -> None:
    text = str(err)
    assert path in text and expected in text and HINT in text, text
    assert "KeyError" not in text


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda s: s.list_repos("acme"), "/orgs/acme/repos"),
        (lambda s: s.get_repo("acme", "svc"), "/repos/acme/svc"),
        (lambda s: s.tree("acme/svc", SHA), f"/repos/acme/svc/git/trees/{SHA}"),
        (lambda s: s.blob_text("acme/svc", SHA), f"/repos/acme/svc/git/blobs/{SHA}"),
        (
            lambda s: s.head_at(RepoRecord("acme", "svc", "acme", "main"), datetime(2026, 6, 1, tzinfo=UTC)),
            "/repos/acme/svc/commits",
        ),
    ],
    ids=["list_repos", "get_repo", "tree", "blob", "head_at"],
)
def test_an_html_page_answering_200_is_a_clear_error(html_url, call, path):
    cache: dict[str, str] = {}
    with pytest.raises(SourceError) as err:
        call(_source(html_url, cache))
    _assert_clear(err.value, path, "a text/html page")
    assert cache == {}  # nothing of that page is kept


@pytest.mark.parametrize(
    ("call", "path", "expected"),
    [
        (lambda s: s.get_repo("acme", "list"), "/repos/acme/list", "a repository (a JSON object)"),
        (lambda s: s.get_repo("acme", "noname"), "/repos/acme/noname", "with a string 'name'"),
        (lambda s: s.get_repo("acme", "ownerstr"), "/repos/acme/ownerstr", "an 'owner' object"),
        (lambda s: s.get_repo("acme", "badtime"), "/repos/acme/badtime", "ISO 8601 timestamp"),
        (lambda s: s.get_repo("acme", "htmljson"), "/repos/acme/htmljson", "a page that is not JSON"),
        (lambda s: s.get_repo("acme", "brokenjson"), "/repos/acme/brokenjson", "not valid JSON"),
        (lambda s: s.list_repos("acme"), "/orgs/acme/repos", "a JSON list of repositories"),
        (lambda s: s.list_repos("mixed"), "/orgs/mixed/repos", "a repository (a JSON object)"),
        (
            lambda s: s.path_commits("acme/ok", SHA, "x", None, datetime(2026, 6, 1, tzinfo=UTC)),
            "/repos/acme/ok/commits",
            "with a string 'sha'",
        ),
        (
            lambda s: s.path_commits("acme/nodate", SHA, "x", None, datetime(2026, 6, 1, tzinfo=UTC)),
            "/repos/acme/nodate/commits",
            "a committer or author date",
        ),
        (lambda s: s.tree("acme/ok", SHA), f"/repos/acme/ok/git/trees/{SHA}", "a 'tree' list"),
        (lambda s: s.blob_text("acme/ok", SHA), f"/repos/acme/ok/git/blobs/{SHA}", "a string 'content'"),
    ],
)
def test_json_of_the_wrong_shape_is_a_clear_error(shapes_url, call, path, expected):
    cache: dict[str, str] = {}
    with pytest.raises(SourceError) as err:
        call(_source(shapes_url, cache))
    _assert_clear(err.value, path, expected)
    assert cache == {}


def test_the_same_server_answers_well_shaped_json_normally(shapes_url):
    """The shape server is not broken: good answers there convert (so the errors above are the shapes')."""
    src = _source(shapes_url)
    assert src.get_repo("acme", "ok").full_name == "acme/ok"
    commits = src.path_commits("acme/good", SHA, "x", None, datetime(2026, 6, 2, tzinfo=UTC))
    assert [c.sha for c in commits] == [SHA]
