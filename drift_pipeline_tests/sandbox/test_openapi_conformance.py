"""Every route of the GitHub sandbox answers as GitHub's own OpenAPI description says (status and
body schema), over HTTP against a seeded state; and the validator does catch a wrong answer."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from drift_pipeline.sandbox.github import apps, conformance, openapi, pulls
from drift_pipeline.sandbox.github.routes import ROUTES, match
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.infra_seed import tag_releases
from drift_pipeline.sources.gitutil import Author, commit_files, git_text, rev_parse
from drift_pipeline_tests.sandbox.conftest import branch_from, day

KNOWN = conformance.known_deviations()
ALICE = Author("Alice A", "alice@acme.example")
BOB = Author("Bob B", "bob@acme.example")
AUTH = {"Authorization": "token sandbox-token"}
R = "/repos/acme/svc"
APP_ID, INSTALLATION = 424242, 4242421
PROTECTION = {
    "required_status_checks": {"strict": True, "contexts": ["ci/test"]},
    "enforce_admins": True,
    "required_pull_request_reviews": {"dismiss_stale_reviews": True, "required_approving_review_count": 2},
    "restrictions": {"users": ["alice"], "teams": ["platform"]},
    "required_signatures": True,
}
PR_RULE = {
    "type": "pull_request",
    "parameters": {
        "required_approving_review_count": 1,
        "dismiss_stale_reviews_on_push": True,
        "require_code_owner_review": True,
        "require_last_push_approval": False,
        "required_review_thread_resolution": False,
    },
}


@dataclass
class Call:
    method: str
    path: str
    status: int
    token: str | None = "sandbox-token"
    json_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def build(st: SandboxState, ids: dict[str, Any]) -> None:
    st.add_org("acme", name="Acme Corp")
    st.add_org("beta", company="Beta Ltd", email="it@beta.example", location="Lyon")
    st.add_user("alice", emails=[ALICE.email])
    st.add_user("bob", emails=[BOB.email])
    st.add_token("reader-token", login="bob", admin=False, kind="app")
    path = st.create_repo("acme", "svc", created_at=datetime(2024, 1, 1))
    ids["c1"] = commit_files(
        path,
        "main",
        {"README.md": "# svc\n", "src/app.py": "print(1)\n", ".github/CODEOWNERS": "* @acme/platform\n[bad\n"},
        "initial",
        ALICE,
        day(1),
    )
    branch_from(path, "feature/x", ids["c1"])
    commit_files(path, "feature/x", {"src/x.py": "X = 1\n"}, "feature", BOB, day(2))
    pr = pulls.open_pull(
        st, "acme", "svc", head="feat/ABC-1", title="feat: a", user="alice", author=ALICE, when=day(3),
        files={"src/a.py": "a = 1\n"}, body="Closes #1",
    )  # fmt: skip
    ids["pr"] = pr["number"]
    pulls.add_review(st, "acme", "svc", pr["number"], user="bob", review_state="APPROVED", when=day(3, 13))
    pulls.merge_pull(st, "acme", "svc", pr["number"], by="alice", committer=ALICE, when=day(3, 14))
    ids["main"] = rev_parse(path, "refs/heads/main")
    tag_releases(path, {"v1.0.0": ids["main"]})
    ids["blob"] = git_text(path, "rev-parse", "main:README.md").strip()
    st.set_branch_protection("acme", "svc", "main", PROTECTION)
    ids["ruleset"] = st.add_ruleset(
        "acme",
        "svc",
        {"name": "main", "target": "branch", "enforcement": "active",
         "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
         "rules": [PR_RULE, {"type": "deletion"}], "bypass_actors": []},
    )  # fmt: skip
    ids["org_ruleset"] = st.add_org_ruleset(
        "acme",
        {"name": "org", "target": "branch", "enforcement": "active",
         "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                        "repository_name": {"include": ["~ALL"], "exclude": []}},
         # two of the pull_request rule's five parameters, as other tests seed it: answered with all five
         "rules": [{"type": "non_fast_forward"},
                   {"type": "pull_request",
                    "parameters": {"required_approving_review_count": 1, "require_code_owner_review": True}}]},
    )  # fmt: skip
    issue = st.create_issue("acme", "svc", title="a bug", user="alice", when=day(4), labels=["bug"])
    ids["issue"] = issue["number"]
    ids["spare"] = st.create_issue("acme", "svc", title="spare", user="bob", when=day(5), labels=["bug"])["number"]
    st.create_issue("acme", "svc", title="labels to rename", user="bob", when=day(5), labels=["stale", "wontfix"])
    # its own issue: the label route's calls must not depend on another route's (xdist, random order)
    ids["triaged"] = st.create_issue("acme", "svc", title="triaged", user="bob", when=day(5), labels=["triage"])[
        "number"
    ]
    st.add_comment("acme", "svc", issue["number"], user="bob", body="seen", when=day(4, 13))
    st.create_repo("acme", "empty")
    st.create_repo("acme", "old", archived=True)  # read-only: writes answer 403
    st.create_issue("acme", "old", title="before archiving", user="alice", when=day(2), labels=["bug"])
    st.create_repo("acme", "quiet", has_issues=False)  # issue endpoints answer 410
    private, public = apps.generate_key()
    st.add_app(APP_ID, slug="drift-pipeline", owner="acme", public_key=public,
               installations={INSTALLATION: {"account": "acme", "permissions": {"contents": "read"}}})  # fmt: skip
    now = int(time.time())
    ids["app_jwt"] = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, private, algorithm="RS256")
    # issue 19 (answers as real recordings): token kinds, commit statuses, settings
    st.add_token("classic-reader", login="bob", admin=False, kind="classic")
    st.add_token("fine-reader", login="bob", admin=False, kind="fine_grained")
    st.add_token("revocable", login="drift-pipeline[bot]", kind="app", permissions={"contents": "read"})
    st.add_commit_status("acme", "svc", ids["main"], "pending", context="ci/test", when=day(5))
    st.add_commit_status("acme", "svc", ids["main"], "success", context="ci/test", when=day(5, 13))
    st.add_commit_status("acme", "svc", ids["main"], "failure", context="lint", description="2 errors", when=day(5))
    st.set_org_settings("acme", two_factor_requirement_enabled=True, default_repository_permission="write")
    st.set_repo_settings("acme", "svc", allow_merge_commit=False, delete_branch_on_merge=True)


def sample_calls(ids: dict[str, Any]) -> dict[str, list[Call]]:
    """Route key -> calls that reach it: its success answer, and the error answers it is known for."""
    n, pr, main = ids["issue"], ids["pr"], ids["main"]
    b = f"{R}/branches/main/protection"
    old, quiet = "/repos/acme/old", "/repos/acme/quiet"
    app: dict[str, Any] = {"token": None, "headers": {"Authorization": f"Bearer {ids['app_jwt']}"}}
    calls = {
        "GET /user": [Call("GET", "/user", 200), Call("GET", "/user", 401, token=None)],
        "GET /users/{user}": [Call("GET", "/users/alice", 200), Call("GET", "/users/acme", 200)],
        "GET /orgs/{org}": [
            Call("GET", "/orgs/acme", 200),
            Call("GET", "/orgs/beta", 200),
            Call("GET", "/orgs/nobody", 404),
        ],
        "GET /orgs/{org}/repos": [Call("GET", "/orgs/acme/repos", 200)],
        "GET /users/{user}/repos": [Call("GET", "/users/acme/repos", 200)],
        "GET /repos/{owner}/{repo}": [Call("GET", R, 200), Call("GET", "/repos/acme/nope", 404)],
        "GET /repos/{owner}/{repo}/commits": [
            Call("GET", f"{R}/commits?per_page=2", 200),
            Call("GET", "/repos/acme/empty/commits", 409),
        ],
        "GET /repos/{owner}/{repo}/commits/{sha}/pulls": [Call("GET", f"{R}/commits/{main}/pulls", 200)],
        "GET /repos/{owner}/{repo}/commits/{ref}": [Call("GET", f"{R}/commits/main", 200)],
        "GET /repos/{owner}/{repo}/compare/{basehead}": [Call("GET", f"{R}/compare/{ids['c1']}...main", 200)],
        "GET /repos/{owner}/{repo}/git/trees/{sha}": [Call("GET", f"{R}/git/trees/main?recursive=1", 200)],
        "GET /repos/{owner}/{repo}/git/blobs/{sha}": [Call("GET", f"{R}/git/blobs/{ids['blob']}", 200)],
        "GET /repos/{owner}/{repo}/contents/{path}": [
            Call("GET", f"{R}/contents/README.md", 200),
            Call("GET", f"{R}/contents/src", 200),
            Call("GET", f"{R}/contents/missing.txt", 404),
        ],
        "GET /repos/{owner}/{repo}/branches": [Call("GET", f"{R}/branches", 200)],
        "GET /repos/{owner}/{repo}/tags": [
            Call("GET", f"{R}/tags?per_page=1", 200),
            Call("GET", "/repos/acme/nope/tags", 404),
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks": [
            Call("GET", f"{b}/required_status_checks", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews": [
            Call("GET", f"{b}/required_pull_request_reviews", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/enforce_admins": [
            Call("GET", f"{b}/enforce_admins", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures": [
            Call("GET", f"{b}/required_signatures", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks/contexts": [
            Call("GET", f"{b}/required_status_checks/contexts", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions": [Call("GET", f"{b}/restrictions", 200)],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/users": [
            Call("GET", f"{b}/restrictions/users", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/teams": [
            Call("GET", f"{b}/restrictions/teams", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/apps": [
            Call("GET", f"{b}/restrictions/apps", 200)
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}/protection": [
            Call("GET", b, 200),
            Call("GET", f"{R}/branches/feature/x/protection", 404),
            Call("GET", b, 403, token="reader-token"),
        ],
        "GET /repos/{owner}/{repo}/branches/{branch}": [
            Call("GET", f"{R}/branches/main", 200),
            Call("GET", f"{R}/branches/feature/x", 200),
        ],
        "GET /repos/{owner}/{repo}/rulesets": [Call("GET", f"{R}/rulesets?includes_parents=true", 200)],
        "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}": [
            Call("GET", f"{R}/rulesets/{ids['ruleset']}", 200),
            Call("GET", f"{R}/rulesets/{ids['org_ruleset']}", 200),
        ],
        "GET /repos/{owner}/{repo}/rules/branches/{branch}": [Call("GET", f"{R}/rules/branches/main", 200)],
        "GET /repos/{owner}/{repo}/codeowners/errors": [Call("GET", f"{R}/codeowners/errors", 200)],
        "GET /repos/{owner}/{repo}/issues": [
            Call("GET", f"{R}/issues?state=all", 200),
            Call("GET", f"{quiet}/issues", 410),
        ],
        "POST /repos/{owner}/{repo}/issues": [
            Call("POST", f"{R}/issues", 201, json_body={"title": "new", "body": "b", "labels": ["drift"]}),
            Call("POST", f"{old}/issues", 403, json_body={"title": "new"}),
            Call("POST", f"{quiet}/issues", 410, json_body={"title": "new"}),
        ],
        "GET /repos/{owner}/{repo}/issues/{number}": [
            Call("GET", f"{R}/issues/{n}", 200),
            Call("GET", f"{quiet}/issues/1", 410),
        ],
        "PATCH /repos/{owner}/{repo}/issues/{number}": [
            Call("PATCH", f"{R}/issues/{n}", 200, json_body={"state": "closed", "state_reason": "completed"}),
            Call("PATCH", f"{old}/issues/1", 403, json_body={"state": "closed"}),
        ],
        "GET /repos/{owner}/{repo}/issues/{number}/comments": [
            Call("GET", f"{R}/issues/{n}/comments", 200),
            Call("GET", f"{quiet}/issues/1/comments", 410),
        ],
        "POST /repos/{owner}/{repo}/issues/{number}/comments": [
            Call("POST", f"{R}/issues/{n}/comments", 201, json_body={"body": "more"}),
            Call("POST", f"{old}/issues/1/comments", 403, json_body={"body": "more"}),
        ],
        "GET /repos/{owner}/{repo}/issues/{number}/labels": [
            Call("GET", f"{R}/issues/{n}/labels", 200),
            Call("GET", f"{quiet}/issues/1/labels", 410),
        ],
        "POST /repos/{owner}/{repo}/issues/{number}/labels": [
            Call("POST", f"{R}/issues/{n}/labels", 200, json_body={"labels": ["triage"]}),
            Call("POST", f"{R}/issues/{n}/labels", 422, json_body={"labels": "triage"}),
            Call("POST", f"{old}/issues/1/labels", 403, json_body={"labels": ["x"]}),
        ],
        "PUT /repos/{owner}/{repo}/issues/{number}/labels": [
            Call("PUT", f"{R}/issues/{n}/labels", 200, json_body={"labels": ["bug", "triage"]})
        ],
        "DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}": [
            Call("DELETE", f"{R}/issues/{ids['triaged']}/labels/triage", 200),
            Call("DELETE", f"{R}/issues/{ids['triaged']}/labels/triage", 404),
        ],
        "DELETE /repos/{owner}/{repo}/issues/{number}/labels": [
            Call("DELETE", f"{R}/issues/{ids['spare']}/labels", 204)
        ],
        "GET /repos/{owner}/{repo}/labels": [Call("GET", f"{R}/labels", 200)],
        "POST /repos/{owner}/{repo}/labels": [
            Call("POST", f"{R}/labels", 201, json_body={"name": "ops", "color": "ededed"}),
            Call("POST", f"{R}/labels", 422, json_body={"name": "ops", "color": "ededed"}),
            Call("POST", f"{old}/labels", 403, json_body={"name": "ops"}),
        ],
        "GET /repos/{owner}/{repo}/labels/{name}": [Call("GET", f"{R}/labels/bug", 200)],
        "PATCH /repos/{owner}/{repo}/labels/{name}": [
            # labels seeded in build: no route's calls depend on another route's (xdist splits them)
            Call("PATCH", f"{R}/labels/stale", 200, json_body={"new_name": "stale:old", "color": "00ff00"}),
            Call("PATCH", f"{R}/labels/wontfix", 422, json_body={"new_name": "bug"}),
            Call("PATCH", f"{R}/labels/nope", 404, json_body={"color": "00ff00"}),
        ],
        "GET /search/issues": [
            Call("GET", "/search/issues?q=repo:acme/svc+is:issue", 200),
            Call("GET", "/search/issues?q=org:acme+label:bug+created:>=2024-03-01+in:title+bug", 200),
            Call("GET", "/search/issues?q=org:acme+milestone:v1", 422),
        ],
        "GET /repos/{owner}/{repo}/pulls": [Call("GET", f"{R}/pulls?state=all", 200)],
        "GET /repos/{owner}/{repo}/pulls/{number}": [Call("GET", f"{R}/pulls/{pr}", 200)],
        "GET /repos/{owner}/{repo}/pulls/{number}/reviews": [Call("GET", f"{R}/pulls/{pr}/reviews", 200)],
        "GET /repos/{owner}/{repo}/pulls/{number}/files": [Call("GET", f"{R}/pulls/{pr}/files", 200)],
        # the org-ruleset routes (issue 9): used as soon as the table serves them
        "GET /orgs/{org}/rulesets": [Call("GET", "/orgs/acme/rulesets", 200)],
        "GET /orgs/{org}/rulesets/{ruleset_id}": [Call("GET", f"/orgs/acme/rulesets/{ids['org_ruleset']}", 200)],
        "GET /rate_limit": [Call("GET", "/rate_limit", 200)],
        # the GitHub App routes (issue 19): a JWT of the seeded App, sent as GitHub asks (Bearer)
        "GET /app": [Call("GET", "/app", 200, **app), Call("GET", "/app", 401)],
        "GET /app/installations": [Call("GET", "/app/installations", 200, **app)],
        "POST /app/installations/{installation_id}/access_tokens": [
            Call("POST", f"/app/installations/{INSTALLATION}/access_tokens", 201, **app),
            Call("POST", "/app/installations/1/access_tokens", 404, **app),
        ],
        "GET /orgs/{org}/installation": [
            Call("GET", "/orgs/acme/installation", 200, **app),
            Call("GET", "/orgs/beta/installation", 404, **app),
        ],
        # issue 19: an installation token revokes itself, then is refused like an expired one;
        # a personal token is refused 403, a JWT (no token of this route) 401
        "DELETE /installation/token": [
            Call("DELETE", "/installation/token", 204, token="revocable"),
            Call("DELETE", "/installation/token", 401, token="revocable"),
            Call("DELETE", "/installation/token", 403, token="classic-reader"),
            Call("DELETE", "/installation/token", 403, token="fine-reader"),
            Call("DELETE", "/installation/token", 401, **app),
        ],
    }
    # issue 19 (the sandbox where real recordings disagree with it)
    raw = {"Accept": "application/vnd.github.v3.raw"}
    calls["GET /repos/{owner}/{repo}/commits/{ref}/status"] = [
        Call("GET", f"{R}/commits/main/status", 200),
        Call("GET", f"{R}/commits/feature/x/status", 200),  # no statuses: pending, none listed
        Call("GET", f"{R}/commits/{'0' * 40}/status", 404),
    ]
    calls["GET /repos/{owner}/{repo}/commits/{ref}/statuses"] = [
        Call("GET", f"{R}/commits/{main}/statuses", 200),
        Call("GET", f"{R}/commits/feature/x/statuses", 200),
    ]
    calls["GET /repos/{owner}/{repo}/branches/{branch}/protection"] += [
        Call("GET", b, 404, token="classic-reader"),
        Call("GET", b, 403, token="fine-reader"),
    ]
    calls["GET /orgs/{org}"] += [Call("GET", "/orgs/acme", 200, token="classic-reader")]  # not an owner
    calls["GET /repos/{owner}/{repo}"] += [Call("GET", R, 200, token="classic-reader"), Call("GET", R, 401, token="x")]
    calls["GET /repos/{owner}/{repo}/contents/{path}"] += [Call("GET", f"{R}/contents/README.md", 200, headers=raw)]
    calls["GET /repos/{owner}/{repo}/git/blobs/{sha}"] += [
        Call("GET", f"{R}/git/blobs/{ids['blob']}", 200, headers=raw)
    ]
    return calls


@pytest.fixture(scope="module")
def world(start_github):
    ids: dict[str, Any] = {}
    gh, _state = start_github(lambda st: build(st, ids))
    return gh, sample_calls(ids)


def _answer(url: str, call: Call) -> tuple[Any, int, Any, bool]:
    """(route, status, body, has_body) of one call over HTTP."""
    headers = {**call.headers, **({"Authorization": f"token {call.token}"} if call.token else {})}
    resp = requests.request(call.method, url + call.path, headers=headers, json=call.json_body, timeout=30)
    route, _, _ = match(call.method, call.path.split("?")[0])
    is_json = "json" in resp.headers.get("Content-Type", "")
    body = resp.json() if resp.content and is_json else None
    return route, resp.status_code, body, bool(resp.content) and is_json


def test_every_route_of_the_table_has_sample_calls_with_a_success_answer(world) -> None:
    _gh, calls = world
    missing = [r.key for r in ROUTES if not any(c.status < 300 for c in calls.get(r.key, []))]
    assert missing == [], f"routes with no sample call in {__name__}.sample_calls: {missing}"


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
def test_each_route_answers_as_github_describes(world, route) -> None:
    gh, calls = world
    violations = []
    for call in calls.get(route.key, []):
        got_route, status, body, has_body = _answer(gh.url, call)
        assert got_route is route, f"{call.method} {call.path} is served by {got_route and got_route.key}"
        assert status == call.status, f"{call.method} {call.path}: {status}, expected {call.status}: {body}"
        violations += conformance.validate(route.method, route.template, status, body, has_body=has_body)
    new = [str(v) for v in violations if v.key not in KNOWN]
    assert new == [], "\n".join(new)


def test_a_conditional_get_answers_304_which_every_get_may_give(world) -> None:
    gh, _calls = world
    first = requests.get(f"{gh.url}{R}", headers=AUTH, timeout=30)
    again = requests.get(f"{gh.url}{R}", headers={**AUTH, "If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert conformance.validate("GET", "/repos/{owner}/{repo}", 304, None, has_body=False) == []
    assert conformance.validate("POST", "/repos/{owner}/{repo}/issues", 304, None, has_body=False) != []


def test_a_partly_stored_pull_request_rule_is_answered_with_githubs_five_parameters(world) -> None:
    gh, _calls = world
    rules = requests.get(f"{gh.url}{R}/rules/branches/main", headers=AUTH, timeout=30).json()
    org_pr = [
        r["parameters"] for r in rules if r["type"] == "pull_request" and r["ruleset_source_type"] == "Organization"
    ]
    assert org_pr == [
        {
            "required_approving_review_count": 1,
            "require_code_owner_review": True,
            "dismiss_stale_reviews_on_push": False,
            "require_last_push_approval": False,
            "required_review_thread_resolution": False,
        }
    ]
    repo_pr = [
        r["parameters"] for r in rules if r["type"] == "pull_request" and r["ruleset_source_type"] == "Repository"
    ]
    assert repo_pr == [PR_RULE["parameters"]]  # stored values win over the defaults
    assert [r for r in rules if r["type"] == "deletion" and "parameters" in r] == []


def test_an_org_without_company_email_location_omits_them_and_one_with_them_sends_strings(world) -> None:
    gh, _calls = world
    org = requests.get(f"{gh.url}/orgs/acme", headers=AUTH, timeout=30).json()
    assert org["archived_at"] is None and not {"company", "email", "location"} & set(org)
    beta = requests.get(f"{gh.url}/orgs/beta", headers=AUTH, timeout=30).json()
    assert (beta["company"], beta["email"], beta["location"]) == ("Beta Ltd", "it@beta.example", "Lyon")
    user = requests.get(f"{gh.url}/users/alice", headers=AUTH, timeout=30).json()
    assert (user["hireable"], user["public_gists"]) == (None, 0)


def test_the_injected_secondary_limit_on_content_creation_answers_as_github_documents(world) -> None:
    gh, _calls = world
    gh.set_faults(content_creation={"limit": 0, "window_s": 60})
    try:
        for method, path, body in (("POST", f"{R}/issues", {"title": "x"}), ("POST", f"{R}/labels", {"name": "y"})):
            resp = requests.request(method, gh.url + path, headers=AUTH, json=body, timeout=30)
            assert resp.status_code == 403 and int(resp.headers["Retry-After"]) >= 1
            route, _, _ = match(method, path)
            assert route is not None
            assert conformance.validate(method, route.template, 403, resp.json()) == []
        assert requests.get(f"{gh.url}{R}/issues", headers=AUTH, timeout=30).status_code == 200  # reads pass
    finally:
        gh.clear_faults()


# -- the validator fails on wrong answers ----------------------------------------------------------
LABEL = "/repos/{owner}/{repo}/labels/{name}"


@pytest.fixture(scope="module")
def label_body(world) -> dict[str, Any]:
    gh, _ = world
    body: dict[str, Any] = requests.get(f"{gh.url}{R}/labels/bug", headers=AUTH, timeout=30).json()
    assert conformance.validate("GET", LABEL, 200, body) == []
    return body


def test_a_missing_required_key_is_a_violation_naming_operation_path_and_key(label_body) -> None:
    body = copy.deepcopy(label_body)
    del body["color"]
    [v] = conformance.validate("GET", LABEL, 200, body)
    assert (v.route, v.operation, v.status, v.path) == (f"GET {LABEL}", "issues/get-label", 200, "$")
    assert v.expected == "required keys ['color']"
    assert str(v).startswith("GET /repos/{owner}/{repo}/labels/{name} [issues/get-label] -> 200: at $: expected")


def test_a_wrong_type_and_a_null_where_none_is_allowed_are_violations(label_body) -> None:
    [v] = conformance.validate("GET", LABEL, 200, {**label_body, "id": "12"})
    assert (v.path, v.expected, v.got) == ("$.id", "type integer", 'string "12"')
    [v] = conformance.validate("GET", LABEL, 200, {**label_body, "name": None})
    assert (v.path, v.expected, v.got) == ("$.name", "type string", "null")
    assert conformance.validate("GET", LABEL, 200, {**label_body, "description": None}) == []  # nullable: true
    [v] = conformance.validate("GET", LABEL, 200, {**label_body, "description": 3})
    assert (v.path, v.expected) == ("$.description", "type string (or null)")


def test_an_array_item_an_enum_and_a_oneof_are_checked_deep_inside_the_body(world) -> None:
    gh, _ = world
    issues = requests.get(f"{gh.url}{R}/issues?state=all", headers=AUTH, timeout=30).json()
    template = "/repos/{owner}/{repo}/issues"
    assert [v for v in conformance.validate("GET", template, 200, issues) if v.key not in KNOWN] == []
    bad = copy.deepcopy(issues)
    bad[-1]["state_reason"] = "because"
    bad[0]["user"]["login"] = 7
    found = {(v.path, v.expected) for v in conformance.validate("GET", template, 200, bad)}
    last = len(bad) - 1
    assert (
        f"$[{last}].state_reason",
        "one of [\"completed\", \"reopened\", \"not_planned\", \"duplicate\"] (or null)",
    ) in found
    assert ("$[0].user.login", "type string") in found
    contents = "/repos/{owner}/{repo}/contents/{path}"  # oneOf: directory, file, symlink, submodule
    [v] = conformance.validate("GET", contents, 200, {"type": "file", "name": "a"})
    assert v.path == "$" and v.expected.startswith("oneOf of 4 schemas, closest: required keys")


def test_an_undocumented_status_and_an_unknown_operation_are_violations(label_body) -> None:
    [v] = conformance.validate("GET", LABEL, 418, label_body)
    assert (v.status, v.got) == (418, "undocumented 418") and "200, 404, 304 (generic), 401 (generic)" in v.expected
    labels = "/repos/{owner}/{repo}/labels"
    assert [v.got for v in conformance.validate("GET", labels, 409, {"message": "x"})] == ["undocumented 409"]
    assert conformance.validate("GET", labels, 404, {"message": "Not Found"}) == []  # generic, basic-error
    [v] = conformance.validate("GET", labels, 404, {"message": 404})
    assert (v.path, v.expected) == ("$.message", "type string")
    [v] = conformance.validate("GET", "/repos/{owner}/{repo}/teleport", 200, {})
    assert v.operation == "" and v.got == "no such operation in the vendored description"


def test_every_known_deviation_is_still_real_and_says_where_and_what_github_documents(world) -> None:
    """A fixed renderer must leave the list: each known key is still produced by the sample calls."""
    gh, calls = world
    keys = set()
    for route in ROUTES:
        for call in calls.get(route.key, []):
            _, status, body, has_body = _answer(gh.url, call)
            keys |= {v.key for v in conformance.validate(route.method, route.template, status, body, has_body=has_body)}
    assert sorted(set(KNOWN) - keys) == [], f"fixed: remove from known-deviations.json (seen: {sorted(keys)})"
    assert all(item.get("where") and item.get("github") for item in KNOWN.values())


# -- the recording hook and the vendored file -------------------------------------------------------
def test_the_server_hook_records_every_answer_and_its_violations(world, tmp_path, monkeypatch) -> None:
    gh, _ = world
    monkeypatch.setenv(conformance.ENV, str(tmp_path))
    requests.get(f"{gh.url}{R}/labels/bug", headers=AUTH, timeout=30)
    requests.get(f"{gh.url}/orgs/nobody", headers=AUTH, timeout=30)
    requests.get(f"{gh.url}/_sandbox/requests", timeout=30)  # control plane: not GitHub's, not recorded
    summary = conformance.summarize(tmp_path)
    assert summary["by_route_status"] == {
        "GET /orgs/{org} -> 404": 1,
        "GET /repos/{owner}/{repo}/labels/{name} -> 200": 1,
    }
    lines = [json.loads(line) for f in tmp_path.glob("conformance-*.jsonl") for line in f.read_text().splitlines()]
    assert all(rec["violations"] == [] for rec in lines)


INNER_SESSION = """
import requests
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState

def test_one_answer(tmp_path):
    st = SandboxState.open(tmp_path)
    st.add_org("acme")
    st.save()
    with GitHubSandbox(tmp_path, faults={"errors": {"count": 1, "status": [STATUS]}}) as gh:
        r = requests.get(gh.url + "/orgs/acme/repos", headers={"Authorization": "token sandbox-token"}, timeout=30)
        assert r.status_code == STATUS
"""


@pytest.mark.parametrize(("status", "code"), [(503, 0), (418, 1)])
def test_the_session_check_fails_a_green_run_whose_sandbox_gave_an_undocumented_answer(tmp_path, status, code) -> None:
    """The root conftest as a plugin of a pytest run in its own process: 503 is a status GitHub may
    give anywhere (run green), 418 is documented nowhere (the passing run exits 1 and says why)."""
    (tmp_path / "test_inner.py").write_text(INNER_SESSION.replace("STATUS", str(status)))
    env = {k: v for k, v in os.environ.items() if k != conformance.ENV}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["TMPDIR"] = str(tmp_path)  # the inner session keeps its records there
    args = ["-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "drift_pipeline_tests.conftest", "test_inner.py"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert ("undocumented 418" in proc.stdout) == (status == 418), proc.stdout


def test_summarize_counts_violations_across_processes(tmp_path: Path) -> None:
    bad = {"key": "GET /user -> 200: at $: expected x", "text": "GET /user -> 200: at $: bad"}
    record = {"route": "GET /user", "status": 200, "violations": [bad]}
    for pid in (1, 2):
        (tmp_path / f"conformance-{pid}.jsonl").write_text(json.dumps(record) + "\nnot json\n")
    summary = conformance.summarize(tmp_path)
    assert summary["violations"] == {"GET /user -> 200: at $: bad": 2}
    assert summary["unreadable_lines"] == ["conformance-1.jsonl:2", "conformance-2.jsonl:2"]
    assert conformance.main(["--report", str(tmp_path)]) == 1
    known = conformance.summarize(tmp_path, known={"GET /user -> 200: at $: expected x": {}})
    assert known["violations"] == {} and known["known"] == {"GET /user -> 200: at $: expected x": 2}


def test_the_vendored_description_covers_every_route_and_is_self_contained() -> None:
    subset = openapi.load_subset()
    missing = [r.key for r in ROUTES if openapi.find_operation(subset, r.method, r.template) is None]
    assert missing == [], f"not vendored: {missing}; run `{openapi.REGENERATE}`"
    refs = set(openapi._refs(subset))
    for ref in refs:
        _, kind, name = ref[2:].split("/")
        assert name in subset["components"][kind], ref
    assert openapi.SUBSET.stat().st_size < 2_000_000


def test_cut_follows_refs_transitively_and_reports_operations_github_lacks() -> None:
    full = {
        "openapi": "3.0.3",
        "paths": {
            "/things/{thing_id}": {
                "get": {
                    "operationId": "things/get",
                    "parameters": [{"$ref": "#/components/parameters/unused"}],
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/a"}}}},
                        "404": {"$ref": "#/components/responses/not_found"},
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "a": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/b"}}},
                "b": {"type": "string"},
                "error": {"type": "object"},
                "unused": {"type": "integer"},
            },
            "responses": {
                "not_found": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}
            },
            "parameters": {"unused": {"name": "x"}},
        },
    }
    subset, missing = openapi.cut(full, [("GET", "/things/{id}"), ("DELETE", "/things/{id}")])
    assert missing == ["DELETE /things/{id}"]
    assert list(subset["paths"]["/things/{thing_id}"]["get"]) == ["operationId", "responses"]
    assert sorted(subset["components"]["schemas"]) == ["a", "b", "error"]
    assert list(subset["components"]["responses"]) == ["not_found"]
