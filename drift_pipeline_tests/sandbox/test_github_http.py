"""HTTP behaviour of the GitHub sandbox: pagination, ETags, rate limits, faults, auth, counters."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from github import GithubException, GithubRetry
from urllib3.util import Retry

from drift_pipeline.sandbox.github.routes import ROUTES
from drift_pipeline.sandbox.github.server import endpoints_markdown
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

AUTH = {"Authorization": "token sandbox-token"}


@pytest.fixture(scope="module")
def world(start_github):
    def build(st: SandboxState) -> None:
        st.add_org("big")
        for n in range(120):
            st.create_repo("big", f"repo-{n:03d}")
        st.add_org("acme")
        repo = st.create_repo("acme", "svc")
        commit_files(repo, "main", {"README.md": "hi\n"}, "init", DEV, day(1))
        st.add_token("other-token", login="other")

    gh, state = start_github(build)
    return gh, state


@pytest.fixture(autouse=True)
def clean(world):
    gh, _ = world
    gh.clear_faults()
    gh.reset_counts()
    gh.reset_rate_limits()
    yield
    gh.clear_faults()


def test_pagination_when_120_repos_at_50_per_page_then_3_pages_via_link(world):
    gh, _ = world
    g = github_client(gh.url, per_page=50)
    repos = list(g.get_organization("big").get_repos())
    assert len(repos) == 120 and len({r.full_name for r in repos}) == 120
    assert gh.request_counts()["by_route"]["GET /orgs/{org}/repos"] == 3
    first = requests.get(f"{gh.url}/orgs/big/repos?per_page=50", headers=AUTH)
    links = requests.utils.parse_header_links(first.headers["Link"])
    rels = {link["rel"]: link["url"] for link in links}
    assert set(rels) == {"next", "last"} and "page=2" in rels["next"] and "page=3" in rels["last"]
    last = requests.get(rels["last"], headers=AUTH)
    assert len(last.json()) == 20
    assert {link["rel"] for link in requests.utils.parse_header_links(last.headers["Link"])} == {"first", "prev"}
    assert len(requests.get(f"{gh.url}/orgs/big/repos?per_page=500", headers=AUTH).json()) == 100
    assert len(requests.get(f"{gh.url}/orgs/big/repos", headers=AUTH).json()) == 30


def test_etag_when_if_none_match_then_304_without_using_rate_limit(world):
    gh, _ = world
    first = requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    remaining = int(first.headers["X-RateLimit-Remaining"])
    again = requests.get(f"{gh.url}/repos/acme/svc", headers={**AUTH, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    counts = gh.request_counts()
    assert counts["not_modified"] == 1 and counts["by_status"] == {"200": 1, "304": 1}


def test_pygithub_update_when_unchanged_then_false_and_after_a_commit_true(world):
    gh, state = world
    g = github_client(gh.url)
    repo = g.get_repo("acme/svc")
    assert repo.update() is False
    commit_files(state.repo_git_dir("acme", "svc"), "main", {"new.txt": "x\n"}, "more", DEV, day(9))
    assert repo.update() is True
    assert repo.pushed_at.day == 9
    assert g.get_rate_limit().resources.core.used == 2  # get_repo + changed update; the 304 was free


def test_auth_when_no_token_then_401_and_unknown_token_bad_credentials(world):
    gh, _ = world
    none = requests.get(f"{gh.url}/repos/acme/svc")
    assert none.status_code == 401 and none.json()["message"] == "Requires authentication"
    bad = requests.get(f"{gh.url}/repos/acme/svc", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert (
        requests.get(f"{gh.url}/user", headers={"Authorization": "Bearer sandbox-token"}).json()["login"] == "drift-bot"
    )


def test_error_bodies_when_not_found_then_github_shape(world):
    gh, _ = world
    r = requests.get(f"{gh.url}/repos/acme/nope", headers=AUTH)
    assert r.status_code == 404
    assert set(r.json()) >= {"message", "documentation_url"} and r.json()["message"] == "Not Found"
    assert requests.get(f"{gh.url}/no/such/route", headers=AUTH).status_code == 404


def test_rate_limit_headers_per_token_and_exhaustion_answers_403(world):
    gh, _ = world
    r = requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH)
    assert r.headers["X-RateLimit-Limit"] == "5000" and r.headers["X-RateLimit-Used"] == "1"
    assert r.headers["X-RateLimit-Resource"] == "core"
    other = requests.get(f"{gh.url}/repos/acme/svc", headers={"Authorization": "token other-token"})
    assert other.headers["X-RateLimit-Used"] == "1"
    requests.post(f"{gh.url}/_sandbox/rate_limits", json={"core": 3})
    try:
        statuses = [requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH).status_code for _ in range(3)]
        assert statuses == [200, 200, 403]
        over = requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH)
        assert over.json()["message"].startswith("API rate limit exceeded")
        assert over.headers["X-RateLimit-Remaining"] == "0"
    finally:
        requests.post(f"{gh.url}/_sandbox/rate_limits", json={"core": 5000, "reset": True})


def test_primary_rate_limit_fault_when_pygithub_then_it_waits_and_succeeds(world):
    gh, _ = world
    gh.set_faults({"rate_limit": 1})
    g = github_client(gh.url)
    started = time.monotonic()
    assert g.get_repo("acme/svc").name == "svc"
    assert time.monotonic() - started >= 0.5
    counts = gh.request_counts()
    assert counts["faults"] == 1 and counts["by_status"] == {"200": 1, "403": 1}


def test_secondary_rate_limit_fault_403_and_429_retried_after_retry_after(world):
    gh, _ = world
    g = github_client(gh.url)
    gh.set_faults({"secondary_rate_limit": {"count": 1, "status": 403}})
    assert g.get_repo("acme/svc").name == "svc"
    gh.set_faults({"secondary_rate_limit": {"count": 1, "status": 429}})
    r = requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "secondary rate limit" in r.json()["message"]
    assert gh.request_counts()["faults"] == 2


def test_502_burst_when_client_retries_then_success(world):
    gh, _ = world
    gh.set_faults({"errors": {"count": 3, "status": [502, 503], "path": "/repos/"}})
    g = github_client(gh.url, retry=GithubRetry(total=5, backoff_factor=0))
    assert g.get_repo("acme/svc").default_branch == "main"
    counts = gh.request_counts()
    assert counts["faults"] == 3 and counts["by_status"] == {"200": 1, "502": 2, "503": 1}
    gh.set_faults({"errors": {"count": 2, "status": 502, "method": "GET"}})
    plain = github_client(gh.url, retry=Retry(total=3, status_forcelist=[502], backoff_factor=0))
    assert plain.get_organization("acme").login == "acme"


def test_fail_path_when_set_then_always_that_status_until_cleared(world):
    gh, _ = world
    r = requests.post(f"{gh.url}/_sandbox/faults", json={"fail_path": {"pattern": "/readme|/svc$", "status": 500}})
    assert r.json()["fail_path"]["status"] == 500
    g = github_client(gh.url, retry=None)
    for _ in range(2):
        with pytest.raises(GithubException) as exc:
            g.get_repo("acme/svc")
        assert exc.value.status == 500
    requests.delete(f"{gh.url}/_sandbox/faults")
    assert g.get_repo("acme/svc").name == "svc"


def test_latency_fault_slows_every_request(world):
    gh, _ = world
    gh.set_faults(latency_ms=150)
    started = time.monotonic()
    requests.get(f"{gh.url}/repos/acme/svc", headers=AUTH)
    assert time.monotonic() - started >= 0.15


def test_counters_when_requests_then_counted_by_route_template_and_admin_not_counted(world):
    gh, _ = world
    for path in (
        "/repos/acme/svc",
        "/repos/acme/svc",
        "/repos/acme/svc/git/trees/main",
        "/repos/acme/svc/contents/README.md",
    ):
        requests.get(gh.url + path, headers=AUTH)
    requests.get(f"{gh.url}/_sandbox/endpoints")
    counts = requests.get(f"{gh.url}/_sandbox/requests").json()
    assert counts["total"] == 4
    assert counts["by_route"] == {
        "GET /repos/{owner}/{repo}": 2,
        "GET /repos/{owner}/{repo}/git/trees/{sha}": 1,
        "GET /repos/{owner}/{repo}/contents/{path}": 1,
    }
    assert requests.post(f"{gh.url}/_sandbox/requests/reset").json()["total"] == 0


def test_rate_limit_endpoint_does_not_count_and_reports_core_and_search(world):
    gh, _ = world
    g = github_client(gh.url)
    first = g.get_rate_limit()
    second = g.get_rate_limit()
    assert first.resources.core.limit == 5000 and first.resources.search.limit == 30
    assert second.resources.core.used == first.resources.core.used == 0


def test_state_when_saved_by_another_writer_then_server_sees_it(world):
    gh, state = world
    other = SandboxState.open(state.root)
    other.create_repo("acme", "added-later")
    other.save()
    assert github_client(gh.url).get_repo("acme/added-later").name == "added-later"


def test_endpoints_when_listed_then_generated_from_route_table_and_in_readme(world):
    gh, _ = world
    listed = requests.get(f"{gh.url}/_sandbox/endpoints").json()
    assert [(e["method"], e["path"]) for e in listed] == [(r.method, r.template) for r in ROUTES]
    readme = (Path(__file__).parents[2] / "drift_pipeline/sandbox/README.md").read_text()
    assert endpoints_markdown() in readme, "regenerate the table: python -m drift_pipeline.sandbox.github"


def test_ghes_style_prefix_when_api_v3_then_served_with_prefixed_urls(world):
    gh, _ = world
    repo = github_client(gh.url + "/api/v3").get_repo("acme/svc")
    assert re.match(rf"^{re.escape(gh.url)}/api/v3/repos/acme/svc$", repo.url)
    assert repo.get_contents("README.md").decoded_content == b"hi\n"
