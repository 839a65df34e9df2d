"""GitHubSource over real HTTP against the sandbox: pagination, caches, retries, limits, statuses.

Every fault-injection test asserts from the sandbox's counters that the fault fired, so none can
pass because the fault never happened.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from drift_pipeline.core.errors import NotFound, SourceError, UsageError
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github import GitHubSource, rate_limit_pause
from drift_pipeline.sources.gitutil import Author, commit_files

WHEN = datetime(2026, 6, 1, 12, tzinfo=UTC)
ME = Author("Dev", "dev@example.com")
COMMITS = "GET /repos/{owner}/{repo}/commits"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = SandboxState.open(tmp_path_factory.mktemp("gh"))
    state.add_org("acme")
    for name in [f"r{i}" for i in range(5)] + ["svc-409"]:
        repo = state.create_repo("acme", name)
        commit_files(repo, "main", {"check.toml": f"# {name}\n", "a/b.txt": "x\n"}, "init", ME, WHEN)
    state.create_repo("acme", "empty")
    state.add_org("Initech")  # an org without a repo, its login not in lower case
    solo = state.create_repo("someone", "tool")
    commit_files(solo, "main", {"README.md": "hi\n"}, "init", ME, WHEN)
    state.save()
    with GitHubSandbox(state.root) as gh:
        yield gh


@pytest.fixture
def gh(server):
    server.clear_faults()
    server.reset_counts()
    server.reset_rate_limits()
    return server


def source(gh, **kw) -> GitHubSource:
    return GitHubSource(gh.url, "sandbox-token", backoff=0, **kw)


def test_repos_are_listed_across_pages(gh):
    src = source(gh, per_page=2)
    names = sorted(r.name for r in src.list_repos("acme"))
    assert names == ["empty", "r0", "r1", "r2", "r3", "r4", "svc-409"]
    assert src.requests["repos"] == 4 == gh.request_counts()["by_route"]["GET /orgs/{org}/repos"]


def test_pages_read_concurrently_come_in_the_order_of_the_serial_listing(gh):
    serial = source(gh, per_page=2, concurrency=1).list_repos("acme")
    assert gh.request_counts()["by_route"]["GET /orgs/{org}/repos"] == 4
    gh.reset_counts()
    gh.set_faults(latency_ms=30)  # pages 2..4 overlap; the order must not depend on who ends first
    assert source(gh, per_page=2, concurrency=8).list_repos("acme") == serial
    assert gh.request_counts()["by_route"]["GET /orgs/{org}/repos"] == 4


def test_a_user_is_listed_when_the_name_is_not_an_org(gh):
    assert [r.full_name for r in source(gh).list_repos("someone")] == ["someone/tool"]
    assert gh.request_counts()["by_status"] == {"200": 1, "404": 1}  # the org listing was tried first


def test_a_login_is_learned_as_github_spells_it_once_whatever_the_case_asked(gh):
    src = source(gh)
    assert src.login("ACME") == "acme" == src.login("Acme")
    assert {r.org for r in src.list_repos("acme")} == {"acme"}  # the records say the spelling asked
    assert {r.org for r in src.list_repos("ACME")} == {"ACME"}
    assert src.login("SomeOne") == "someone"  # a user: the owner of its repos
    assert src.login("initech") == "Initech" == src.login("INITECH")  # no repo: the org's own answer
    routes = gh.request_counts()["by_route"]
    assert routes["GET /orgs/{org}/repos"] == 3  # acme, someone (then its user listing), initech: once each
    assert routes["GET /orgs/{org}"] == 1
    with pytest.raises(NotFound):
        src.login("nobody-at-all")


def test_an_unchanged_answer_is_a_304_served_from_the_cache(gh):
    cache: dict[str, str] = {}
    first = source(gh, cache=cache).list_repos("acme")
    again = source(gh, cache=cache)
    assert again.list_repos("acme") == first
    assert again.not_modified == 1 and gh.request_counts()["not_modified"] == 1


def test_trees_and_blobs_by_sha_are_read_once(gh):
    cache: dict[str, str] = {}
    src = source(gh, cache=cache)
    repo = src.get_repo("acme", "r1")
    head = src.head_at(repo, WHEN)
    tree = src.tree(repo.full_name, head.sha)
    assert {e.path for e in tree} == {"check.toml", "a/b.txt"}
    blob = next(e for e in tree if e.path == "check.toml")
    assert src.blob_text(repo.full_name, blob.sha) == "# r1\n"
    before = gh.request_counts()["total"]
    assert before == 4
    other = source(gh, cache=cache)
    assert other.tree(repo.full_name, head.sha) == tree
    assert other.blob_text(repo.full_name, blob.sha) == "# r1\n"
    assert gh.request_counts()["total"] == before and sum(other.requests.values()) == 0


def test_head_before_the_first_commit_and_of_an_empty_repo_is_none(gh):
    src = source(gh)
    assert src.head_at(src.get_repo("acme", "r0"), datetime(2026, 5, 1, tzinfo=UTC)) is None
    assert src.head_at(src.get_repo("acme", "empty"), WHEN) is None
    assert gh.request_counts()["by_status"].get("409") == 1  # the sandbox did answer "empty"


def test_an_empty_repo_has_no_head_in_a_planned_window_either(gh):
    src = source(gh)
    src.plan_window(datetime(2026, 5, 30, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    assert src.head_at(src.get_repo("acme", "empty"), WHEN) is None
    assert src.head_at(src.get_repo("acme", "r2"), WHEN).message == "init"
    assert gh.request_counts()["by_status"].get("409", 0) >= 1


@pytest.mark.parametrize("window", [False, True], ids=["head query", "window history"])
def test_a_500_on_the_commits_of_a_repo_named_409_is_an_error_not_an_empty_repo(gh, window):
    src = source(gh, retries=1)
    repo = src.get_repo("acme", "svc-409")
    if window:
        src.plan_window(datetime(2026, 5, 30, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    # the head of a day is asked of the branch first (its tip, when no newer), else of the commits
    gh.set_faults(fail_path={"pattern": "^/repos/acme/svc-409/(commits|branches/main)$", "status": 500})
    with pytest.raises(SourceError) as err:
        src.head_at(repo, WHEN)
    assert err.value.status == 500 and err.value.api_message == "Server Error"
    assert not isinstance(err.value, NotFound)
    counts = gh.request_counts()
    route = COMMITS if window else "GET /repos/{owner}/{repo}/branches/{branch}"
    assert counts["faults"] == 2 and counts["by_route"][route] == 2  # the try and its one retry


def test_a_missing_repo_is_not_found_with_its_status(gh):
    with pytest.raises(NotFound) as err:
        source(gh).get_repo("acme", "nope")
    assert err.value.status == 404 and err.value.api_message == "Not Found"


def test_server_errors_are_retried_then_answered(gh):
    src = source(gh, retries=3)
    head = src.head_at(src.get_repo("acme", "r3"), WHEN)
    gh.set_faults(errors={"count": 2, "status": [502, 503], "path": "/git/trees/"})
    assert {e.path for e in src.tree("acme/r3", head.sha)} == {"check.toml", "a/b.txt"}
    counts = gh.request_counts()
    assert counts["faults"] == 2 and counts["by_status"]["502"] == 1 and counts["by_status"]["503"] == 1
    assert src.requests["tree"] == 1  # one call of ours, retried by the transport


def test_a_rate_limited_answer_is_waited_out(gh):
    src = source(gh, max_rate_limit_wait=10)
    gh.set_faults(rate_limit=1)
    started = time.time()
    assert len(src.list_repos("acme")) == 7
    counts = gh.request_counts()
    assert counts["faults"] == 1 and counts["by_status"] == {"200": 1, "403": 1}
    assert src.gate.pauses == 1 and time.time() - started >= 1.0  # waited until the reset


def test_a_rate_limit_longer_than_allowed_fails_with_a_clear_error(gh):
    gh.set_faults(rate_limit=5)
    with pytest.raises(SourceError, match="(?i)rate limit") as err:
        source(gh, max_rate_limit_wait=0.1).list_repos("acme")
    assert err.value.status == 403
    assert gh.request_counts()["faults"] == 1 and gh.request_counts()["total"] == 1  # no retry sent


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_limit_with_retry_after_is_waited_out(gh, status):
    src = source(gh)
    gh.set_faults(secondary_rate_limit={"count": 1, "status": status})
    started = time.time()
    assert len(src.list_repos("acme")) == 7
    counts = gh.request_counts()
    assert counts["faults"] == 1 and counts["by_status"] == {"200": 1, str(status): 1}
    assert src.gate.pauses == 1 and time.time() - started >= 0.9  # Retry-After: 1


def test_bad_credentials_never_echo_the_token(gh):
    token = "ghp_" + "A" * 36
    with pytest.raises(SourceError) as err:
        GitHubSource(gh.url, token, backoff=0).list_repos("acme")
    assert err.value.status == 401 and err.value.api_message == "Bad credentials"
    assert token not in str(err.value)


@pytest.mark.parametrize("value", [0, 33, -1, 2.5, True, "8"])
def test_concurrency_outside_1_to_32_is_a_usage_error(value):
    with pytest.raises(UsageError, match="concurrency"):
        GitHubSource("http://127.0.0.1:9", "t", concurrency=value)


def test_concurrency_is_exposed():
    assert GitHubSource("http://127.0.0.1:9", "t").concurrency == 8
    assert GitHubSource("http://127.0.0.1:9", "t", concurrency=32).concurrency == 32


@pytest.mark.parametrize(
    ("status", "headers", "pause"),
    [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}, 11.0),  # until the reset, plus 1 s
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "990"}, 1.0),  # reset already past
        (429, {"retry-after": "7"}, 7.0),
        (403, {"Retry-After": "3"}, 3.0),
        (429, {}, 60.0),  # GitHub: wait at least a minute
        (403, {}, None),  # a permission error, not a limit
        (403, {"x-ratelimit-remaining": "12"}, None),
        (500, {"retry-after": "3"}, None),
    ],
)
def test_rate_limits_are_told_by_status_and_headers_only(status, headers, pause):
    assert rate_limit_pause(status, headers, now=1000.0) == pause


def test_a_forbidden_answer_is_not_waited_out(gh):
    """403 without rate-limit headers (here a forbidden path) fails at once with its status."""
    gh.set_faults(fail_path={"pattern": "^/repos/acme/r4$", "status": 403})
    with pytest.raises(SourceError) as err:
        source(gh).get_repo("acme", "r4")
    assert err.value.status == 403 and gh.request_counts()["faults"] == 1
