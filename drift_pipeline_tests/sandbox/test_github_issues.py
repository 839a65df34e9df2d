"""Issues, labels, comments and issue search on the GitHub sandbox, through PyGithub."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day, github_client


@pytest.fixture(scope="module")
def world(start_github):
    def build(st: SandboxState) -> None:
        st.add_org("acme")
        st.add_org("other")
        for owner, name in (("acme", "svc"), ("acme", "web"), ("other", "lib")):
            commit_files(st.create_repo(owner, name), "main", {"README.md": "x\n"}, "init", DEV, day(1))

    return start_github(build)


@pytest.fixture(scope="module")
def g(world):
    return github_client(world[0].url)


def test_create_issue_when_labels_absent_then_labels_created_and_201(world, g):
    gh, _ = world
    repo = g.get_repo("acme/svc")
    issue = repo.create_issue("Drift: branch protection", body="details", labels=["drift", "process"])
    assert issue.number == 1 and issue.state == "open"
    assert [lab.name for lab in issue.labels] == ["drift", "process"]
    assert issue.user.login == "drift-bot" and issue.html_url.startswith(gh.url)
    assert {lab.name for lab in repo.get_labels()} == {"drift", "process"}
    assert repo.get_label("drift").color == "ededed"
    r = requests.post(
        f"{gh.url}/repos/acme/svc/issues",
        json={"title": "second", "labels": ["drift"]},
        headers={"Authorization": "token sandbox-token"},
    )
    assert r.status_code == 201 and r.json()["number"] == 2


def test_create_label_when_exists_then_422_and_names_with_spaces_work(g):
    repo = g.get_repo("acme/web")
    created = repo.create_label("needs triage", "ff0000", "to look at")
    assert (created.name, created.color, created.description) == ("needs triage", "ff0000", "to look at")
    assert repo.get_label("needs triage").id == created.id
    with pytest.raises(GithubException) as exc:
        repo.create_label("Needs Triage", "00ff00")
    assert exc.value.status == 422 and exc.value.data["errors"][0]["code"] == "already_exists"


def test_list_issues_by_labels_means_all_of_them_and_state_filters(g):
    repo = g.get_repo("acme/web")
    a = repo.create_issue("a", labels=["drift", "infra"])
    repo.create_issue("b", labels=["drift"])
    c = repo.create_issue("c", labels=["infra"])
    drift_infra = [i.number for i in repo.get_issues(labels=["drift", "infra"])]
    assert drift_infra == [a.number]
    assert sorted(i.number for i in repo.get_issues(labels=["infra"])) == sorted([a.number, c.number])
    c.edit(state="closed", state_reason="not_planned")
    assert [i.number for i in repo.get_issues(labels=["infra"])] == [a.number]
    closed = list(repo.get_issues(state="closed"))
    assert [(i.number, i.state_reason) for i in closed] == [(c.number, "not_planned")]
    assert len(list(repo.get_issues(state="all"))) == 3
    assert [i.number for i in repo.get_issues(creator="drift-bot", labels=["drift"])] == [a.number + 1, a.number]


def test_comments_and_close_when_done_then_counts_and_state_persist(world, g):
    gh, state = world
    issue = g.get_repo("acme/svc").create_issue("to close", labels=["drift"])
    issue.create_comment("still drifting on 2024-03-05")
    issue.create_comment("fixed")
    assert [c.body for c in issue.get_comments()] == ["still drifting on 2024-03-05", "fixed"]
    issue.edit(state="closed")
    fresh = g.get_repo("acme/svc").get_issue(issue.number)
    assert (fresh.state, fresh.state_reason, fresh.comments) == ("closed", "completed", 2)
    assert fresh.closed_at is not None
    saved = SandboxState.open(state.root).issues_of("acme", "svc")
    assert next(i for i in saved if i["number"] == issue.number)["state"] == "closed"
    fresh.edit(state="open")
    assert g.get_repo("acme/svc").get_issue(issue.number).state_reason == "reopened"


def test_search_issues_by_org_repo_label_and_state(g):
    g.get_repo("other/lib").create_issue("elsewhere", labels=["drift"])
    acme_drift = list(g.search_issues('org:acme is:issue label:"drift" is:open'))
    assert acme_drift and all(i.repository.full_name.startswith("acme/") for i in acme_drift)
    assert all("drift" in [lab.name for lab in i.labels] and i.state == "open" for i in acme_drift)
    assert [i.title for i in g.search_issues("repo:other/lib label:drift")] == ["elsewhere"]
    closed = g.search_issues("org:acme state:closed")
    assert closed.totalCount == len(list(closed)) >= 1
    assert all(i.state == "closed" for i in closed)
    assert g.search_issues('org:acme label:"needs triage"').totalCount == 0
    assert [i.title for i in g.search_issues("org:acme branch protection in:title")] == ["Drift: branch protection"]


def test_issue_body_over_github_cap_is_422(g):
    with pytest.raises(GithubException) as exc:
        g.get_repo("acme/svc").create_issue("too long", body="x" * 65537)
    assert exc.value.status == 422
