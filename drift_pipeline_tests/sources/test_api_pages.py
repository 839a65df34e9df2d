"""Pagination is bounded: a ``next`` link back to a page already read (itself, or a cycle) stops
the listing with an error, and no listing follows more than the page ceiling.

A hostile API plays the listings of the GitHub source, the issue client and the tag reader, over
real HTTP through PyGithub. It stops linking after ``GIVE_UP`` pages, so old code (which followed
every link) ends, with a listing that passes for complete.
"""

from __future__ import annotations

import urllib.parse

import pytest

from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.github_tags import TagReader
from drift_pipeline.sources.http_bounds import ENV_MAX_PAGES, ListingUnbounded
from drift_pipeline_tests.sources.hostile import Answer, Seen, hostile_api

GIVE_UP = 30
REPO = {"name": "ok", "owner": {"login": "acme"}, "default_branch": "main"}
SHA = "a" * 40


def _page(request: Seen) -> int:
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query).get("page", ["1"])
    return int(values[0])


def _linking(item, next_of):
    """Every page holds one item and links to ``next_of(request, page)`` (a path, or None)."""

    def answer(request: Seen, count: int) -> Answer:
        page = _page(request)
        target = next_of(request, page) if count < GIVE_UP else None
        headers = {"Link": f'<http://{request.headers["host"]}{target}>; rel="next"'} if target else {}
        return Answer(200, [item(page)], headers)

    return answer


def _self(request: Seen, page: int) -> str:
    return request.path


def _cycle(request: Seen, page: int) -> str:
    """Page 1 links to page 2, page 2 back to page 1 (the first page's query, as GitHub links keep it)."""
    parts = urllib.parse.urlsplit(request.path)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "page"]
    return f"{parts.path}?{urllib.parse.urlencode(query + ([('page', '2')] if page == 1 else []))}"


def _endless(request: Seen, page: int) -> str:
    return f"{urllib.parse.urlsplit(request.path).path}?page={page + 1}"


@pytest.mark.parametrize(("links", "hits"), [(_self, 1), (_cycle, 2)], ids=["self", "cycle"])
def test_a_listing_that_links_back_stops_with_an_error(links, hits):
    with hostile_api(_linking(lambda page: REPO, links)) as api:
        with pytest.raises(ListingUnbounded) as err:
            GitHubSource(api.url, "t").list_repos("acme")
    assert err.value.repeated and err.value.pages == hits and api.hits() == hits
    assert "/orgs/acme/repos" in str(err.value) and "\n" not in str(err.value)


def test_a_listing_stops_at_the_page_ceiling_and_says_so(monkeypatch):
    monkeypatch.setenv(ENV_MAX_PAGES, "5")
    with hostile_api(_linking(lambda page: REPO, _endless)) as api:
        with pytest.raises(ListingUnbounded) as err:
            GitHubSource(api.url, "t").list_repos("acme")
    assert not err.value.repeated and err.value.pages == 5 and api.hits() == 5
    assert ENV_MAX_PAGES in str(err.value)


@pytest.mark.parametrize("links", [_self, _cycle, _endless], ids=["self", "cycle", "endless"])
def test_the_issue_client_listing_is_bounded_too(monkeypatch, links):
    monkeypatch.setenv(ENV_MAX_PAGES, "5")
    with hostile_api(_linking(lambda page: {"number": page}, links)) as api:
        client = IssueClient(GitHubSource(api.url, "t").github)
        with pytest.raises(ListingUnbounded):
            list(client.paginate("/repos/acme/r/issues", {"state": "all"}))
    assert api.hits() <= 5


def test_tags_past_the_page_ceiling_are_read_as_truncated(monkeypatch):
    monkeypatch.setenv(ENV_MAX_PAGES, "4")
    tag = lambda page: {"name": f"v{page}", "commit": {"sha": SHA}}  # noqa: E731
    with hostile_api(_linking(tag, _endless)) as api:
        tags = TagReader(GitHubSource(api.url, "t")).tags("acme/r")
    assert tags.truncated and sorted(tags.tags) == ["v1", "v2", "v3", "v4"] and api.hits() == 4


def test_tags_that_link_back_are_an_error_not_a_short_list():
    tag = lambda page: {"name": f"v{page}", "commit": {"sha": SHA}}  # noqa: E731
    with hostile_api(_linking(tag, _cycle)) as api:
        with pytest.raises(ListingUnbounded):
            TagReader(GitHubSource(api.url, "t")).tags("acme/r")
    assert api.hits() == 2
