"""Issue 11's sandbox answers, over HTTP through PyGithub: archived repos are read-only (403),
issues-disabled repos answer 410, labels can be updated and set on issues, issue search honours
the product's qualifiers and refuses (422) the ones it does not support, and GitHub's secondary
limit on content creation can be injected."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github import pulls
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client

AUTH = {"Authorization": "token sandbox-token"}


def build(st: SandboxState) -> None:
    st.add_org("acme")
    st.add_org("other")
    for name in ("svc", "web"):
        commit_files(st.create_repo("acme", name), "main", {"README.md": "x\n"}, "init", DEV, day(1))
    commit_files(st.create_repo("other", "lib"), "main", {"README.md": "x\n"}, "init", DEV, day(1))
    st.create_repo("acme", "old", archived=True)
    quiet = st.create_repo("acme", "quiet", has_issues=False)
    commit_files(quiet, "main", {"README.md": "x\n"}, "init", DEV, day(1))
    # history written before the repo was archived / issues were disabled: the seed is not refused
    st.create_issue("acme", "old", title="from before archiving", user="alice", when=day(2))
    pr = pulls.open_pull(
        st, "acme", "quiet", head="feat/x", title="a change", user="alice", author=DEV, when=day(3),
        files={"a.txt": "a\n"},
    )  # fmt: skip
    st.add_comment("acme", "quiet", pr["number"], user="bob", body="looks fine", when=day(3, 13))
    # search fixtures: (repo, title, body, labels, state, created day)
    for repo, title, body, labels, closed, when in (
        ("svc", "Drift: branch protection", "main is unprotected", ["drift", "process"], False, day(5)),
        ("svc", "Drift: infra", "bucket public", ["drift", "infra"], True, day(10)),
        ("web", "Other thing", "mentions drift in the body", [], False, day(12)),
    ):
        issue = st.create_issue("acme", repo, title=title, body=body, labels=labels, user="drift-bot", when=when)
        if closed:
            st.update_issue("acme", repo, issue["number"], {"state": "closed"}, when=day(11))
    st.create_issue("other", "lib", title="Drift: code", labels=["drift"], user="drift-bot", when=day(5))


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


@pytest.fixture(scope="module")
def g(world):
    return github_client(world[0].url, retry=None)


def _status(exc: pytest.ExceptionInfo[GithubException]) -> tuple[int, str]:
    return exc.value.status, exc.value.data["message"]


# -- archived: read-only ------------------------------------------------------------------------
def test_writing_issues_comments_or_labels_in_an_archived_repo_answers_403_and_reading_still_works(g) -> None:
    repo = g.get_repo("acme/old")
    assert repo.archived is True
    read_only = (403, "Repository was archived so is read-only.")
    with pytest.raises(GithubException) as exc:
        repo.create_issue("Drift: x", body="y", labels=["drift"])
    assert _status(exc) == read_only
    issue = repo.get_issue(1)  # reading is allowed
    assert issue.title == "from before archiving"
    for write in (
        lambda: issue.create_comment("more"),
        lambda: issue.edit(state="closed"),
        lambda: issue.add_to_labels("drift"),
        lambda: repo.create_label("drift", "ff0000"),
    ):
        with pytest.raises(GithubException) as exc:
            write()
        assert _status(exc) == read_only
    assert [i.number for i in repo.get_issues(state="all")] == [1]
    assert list(repo.get_labels()) == []  # nothing was written


# -- issues disabled: 410 -----------------------------------------------------------------------
def test_an_issues_disabled_repo_answers_410_on_issue_endpoints_but_its_pull_requests_still_answer(g) -> None:
    repo = g.get_repo("acme/quiet")
    assert repo.has_issues is False
    gone = (410, "Issues are disabled for this repo")
    for call in (
        lambda: repo.create_issue("Drift: x"),
        lambda: list(repo.get_issues()),
        lambda: repo.get_issue(99),
    ):
        with pytest.raises(GithubException) as exc:
            call()
        assert _status(exc) == gone
    pr_as_issue = repo.get_issue(1)  # a pull request is reached through the issues API all the same
    assert pr_as_issue.pull_request is not None
    assert [c.body for c in pr_as_issue.get_comments()] == ["looks fine"]


# -- labels ---------------------------------------------------------------------------------------
def test_a_label_update_renames_recolours_and_the_issues_carrying_it_follow(g) -> None:
    repo = g.get_repo("acme/web")
    issue = repo.create_issue("labelled", labels=["old-name"])
    label = repo.get_label("old-name")
    label.edit("drift:code", "00ff00", "code findings")
    assert (label.name, label.color, label.description) == ("drift:code", "00ff00", "code findings")
    assert repo.get_label("drift:code").id == label.id
    assert [lab.name for lab in repo.get_issue(issue.number).labels] == ["drift:code"]
    with pytest.raises(GithubException) as exc:
        repo.get_label("old-name")
    assert exc.value.status == 404
    repo.create_label("taken", "ededed")
    with pytest.raises(GithubException) as exc:
        repo.get_label("drift:code").edit("Taken", "ededed")
    assert exc.value.status == 422 and exc.value.data["errors"][0]["code"] == "already_exists"


def test_issue_label_endpoints_list_add_set_and_remove(g) -> None:
    repo = g.get_repo("acme/web")
    issue = repo.create_issue("to label", labels=["a"])
    assert [lab.name for lab in issue.get_labels()] == ["a"]
    issue.add_to_labels("b", "a")  # "b" does not exist yet: created, as GitHub does
    assert [lab.name for lab in issue.get_labels()] == ["a", "b"]
    assert repo.get_label("b").name == "b"
    issue.set_labels("c")
    assert [lab.name for lab in repo.get_issue(issue.number).get_labels()] == ["c"]
    issue.remove_from_labels("c")
    assert list(issue.get_labels()) == []
    with pytest.raises(GithubException) as exc:
        issue.remove_from_labels("c")
    assert exc.value.status == 404
    issue.add_to_labels("d")
    issue.delete_labels()
    assert list(issue.get_labels()) == []


def test_issue_labels_with_a_body_that_is_not_a_list_of_names_answer_422(world) -> None:
    gh, _ = world
    url = f"{gh.url}/repos/acme/web/issues/1/labels"
    bodies: list[object] = [{"labels": "drift"}, [3], {"nope": []}]
    for body in bodies:
        assert requests.post(url, json=body, headers=AUTH, timeout=30).status_code == 422
    assert requests.post(url, json={"labels": ["x"]}, headers=AUTH, timeout=30).status_code == 200


# -- search ---------------------------------------------------------------------------------------
def _titles(g, query: str) -> list[str]:
    return sorted(i.title for i in g.search_issues(query))


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("org:acme is:issue label:drift", ["Drift: branch protection", "Drift: infra"]),
        ("repo:acme/svc state:open", ["Drift: branch protection"]),
        ("org:acme is:closed", ["Drift: infra"]),
        ("label:drift -org:acme", ["Drift: code"]),
        ("org:acme label:infra,process", ["Drift: branch protection", "Drift: infra"]),
        ("org:acme drift in:title", ["Drift: branch protection", "Drift: infra"]),
        ("org:acme drift in:body", ["Other thing"]),
        ("org:acme drift", ["Drift: branch protection", "Drift: infra", "Other thing"]),
        ("org:acme created:>=2024-03-10 created:<2024-04-01 is:issue", ["Drift: infra", "Other thing"]),
        ("org:acme created:>2024-03-10 created:<2024-04-01", ["Other thing"]),
        ("org:acme created:2024-03-05..2024-03-10 label:drift", ["Drift: branch protection", "Drift: infra"]),
        ("org:acme created:<2024-03-05T12:00:01Z label:drift", ["Drift: branch protection"]),
        ("org:acme created:2024-03-10", ["Drift: infra"]),
        ("org:acme created:*..2024-03-04", ["a change", "from before archiving"]),
        ("org:acme is:pr", ["a change"]),
    ],
)
def test_search_honours_org_repo_is_label_state_created_and_in_title(g, query, titles) -> None:
    assert _titles(g, query) == titles


@pytest.mark.parametrize(
    "query",
    [
        "org:acme milestone:v1",
        "org:acme is:locked",
        "org:acme in:comments drift",
        "org:acme -in:title drift",
        "org:acme created:yesterday",
        "org:acme created:>=2024-13-01",
    ],
)
def test_search_answers_422_for_a_qualifier_it_does_not_support_instead_of_ignoring_it(g, query) -> None:
    with pytest.raises(GithubException) as exc:
        list(g.search_issues(query))
    assert exc.value.status == 422
    [error] = exc.value.data["errors"]
    assert (error["field"], error["code"]) == ("q", "invalid")
    assert query.split()[1].split(":")[0] in error["message"]


# -- secondary limit on content creation ----------------------------------------------------------
@pytest.fixture
def limited(world):
    gh, _ = world
    yield gh
    gh.clear_faults()


def test_content_creation_beyond_the_limit_answers_403_with_retry_after_until_the_window_has_room(limited, g) -> None:
    limited.set_faults(content_creation={"limit": 2, "window_s": 2})
    repo = g.get_repo("acme/svc")
    repo.create_issue("one")
    repo.get_issue(1)  # reads are not content creation
    repo.get_issue(1).create_comment("two")
    started = time.monotonic()
    with pytest.raises(GithubException) as exc:
        repo.create_issue("three")
    assert exc.value.status == 403 and "secondary rate limit" in exc.value.data["message"]
    assert exc.value.headers is not None
    wait = int(exc.value.headers["retry-after"])
    assert 1 <= wait <= 2
    time.sleep(max(0.0, 2.05 - (time.monotonic() - started)))
    assert repo.create_issue("three").title == "three"
    assert limited.app.faults.to_json()["content_creation"]["in_window"] >= 1


def test_pygithub_waits_out_the_injected_secondary_limit(limited, world) -> None:
    gh, _ = world
    limited.set_faults(content_creation={"limit": 1, "window_s": 1.5})
    repo = github_client(gh.url).get_repo("acme/svc")  # PyGithub's default retry honours Retry-After
    first = repo.create_issue("first")
    before = datetime.now(UTC)
    second = repo.create_issue("second")
    assert second.number == first.number + 1
    assert (datetime.now(UTC) - before).total_seconds() >= 0.9
    counts = gh.request_counts()
    assert counts["faults"] >= 1


def test_a_bad_content_creation_fault_is_refused_with_what_was_expected(world) -> None:
    gh, _ = world
    r = requests.post(f"{gh.url}/_sandbox/faults", json={"content_creation": {"limit": 1, "status": 500}}, timeout=30)
    assert r.status_code == 422 and "status 403 or 429" in r.text
    r = requests.post(f"{gh.url}/_sandbox/faults", json={"content_creation": {"per_minute": 3}}, timeout=30)
    assert r.status_code == 422 and "keys: limit" in r.text
