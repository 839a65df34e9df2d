"""Where the sandbox once disagreed with recordings of real GitHub traffic (issue 19): statuses,
headers and keys a client that decides on them would notice, over HTTP (requests and PyGithub)."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

import pytest
import requests
from github import GithubException

from drift_pipeline.sandbox.github import apps
from drift_pipeline.sandbox.github.ratelimits import DEFAULT_LIMITS
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, branch_from, day, github_client

AUTH = {"Authorization": "token sandbox-token"}
R = "/repos/acme/svc"
APP_ID, MINTED = 77, "ghs_minted-installation-token"


def build(st: SandboxState) -> None:
    st.add_org("acme", name="Acme Corp")
    st.add_org("beta", description="Beta's org")
    st.add_user("bob")
    st.add_token("classic-reader", login="bob", admin=False)  # no kind: a classic token
    st.add_token("fine-reader", login="bob", admin=False, kind="fine_grained")
    st.add_token("fine-admin", login="bob", kind="fine_grained")
    st.add_token("fine-no-issues", login="bob", kind="fine_grained", permissions={"contents": "read"})
    st.add_token("installation", login="drift[bot]", admin=False, kind="installation")
    st.add_token("installation-org-admin", login="drift[bot]", kind="app",
                 permissions={"organization_administration": "read"})  # fmt: skip
    path = st.create_repo("acme", "svc")
    first = commit_files(path, "main", {"README.md": "# svc\n", "src/a.py": "a = 1\n"}, "init", DEV, day(1))
    commit_files(path, "main", {"src/a.py": "a = 2\n"}, "change a", DEV, day(3))
    branch_from(path, "feature/x", first)
    st.set_branch_protection("acme", "svc", "main", {"enforce_admins": True})
    public = st.create_repo("acme", "site", private=False)
    commit_files(public, "main", {"index.html": "<p>hi</p>\n"}, "init", DEV, day(1))
    st.add_ruleset("acme", "svc", {"name": "main", "target": "branch", "enforcement": "active", "rules": []})
    st.add_commit_status("acme", "svc", first, "pending", context="ci/test", when=day(1, 13))
    _private, public_key = apps.generate_key()
    st.add_app(APP_ID, slug="drift-app", owner="acme", public_key=public_key,
               installations={APP_ID * 10: {"account": "acme", "permissions": {"issues": "write"}}})  # fmt: skip
    apps.mint(st.data, APP_ID, APP_ID * 10, MINTED, 3600)  # what POST .../access_tokens stores


@pytest.fixture(scope="module")
def world(start_github):
    return start_github(build)


def _get(world, path: str, token: str | None = "sandbox-token", **headers: str) -> requests.Response:
    auth = {"Authorization": f"token {token}"} if token else {}
    return requests.get(f"{world[0].url}{path}", headers={**auth, **headers}, timeout=10)


# -- raw contents --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "content_type", "media"),
    [
        ("application/vnd.github.v3.raw", "application/vnd.github.v3.raw; charset=utf-8", "github.v3; param=raw"),
        ("application/vnd.github.raw", "application/vnd.github.raw; charset=utf-8", "github.v3; param=raw"),
        (
            "application/vnd.github.raw+json",
            "application/vnd.github.raw+json; charset=utf-8",
            "github.v3; param=raw; format=json",
        ),
    ],
)
def test_raw_contents_and_blobs_name_githubs_media_type_so_clients_read_text(world, accept, content_type, media):
    for path in (f"{R}/contents/README.md", f"{R}/contents/README.md?ref=feature/x"):
        r = _get(world, path, Accept=accept)
        assert (r.status_code, r.content) == (200, b"# svc\n")
        assert (r.headers["Content-Type"], r.headers["X-GitHub-Media-Type"]) == (content_type, media)
    sha = _get(world, f"{R}/contents/README.md").json()["sha"]
    blob = _get(world, f"{R}/git/blobs/{sha}", Accept=accept)
    assert (blob.content, blob.headers["Content-Type"]) == (b"# svc\n", content_type)


def test_json_contents_keep_the_json_media_type(world):
    r = _get(world, f"{R}/contents/README.md", Accept="application/vnd.github+json")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["X-GitHub-Media-Type"] == "github.v3; format=json" and r.json()["encoding"] == "base64"


# -- 401 -----------------------------------------------------------------------------------------
def test_a_401_carries_the_unauthenticated_budget_in_x_ratelimit_headers(world):
    world[0].reset_rate_limits()
    none, bad = _get(world, R, token=None), _get(world, R, token="not-a-token")
    assert (none.status_code, bad.status_code) == (401, 401)
    for r, used in ((none, 1), (bad, 2)):
        assert r.headers["X-RateLimit-Limit"] == "60" and r.headers["X-RateLimit-Used"] == str(used)
        assert r.headers["X-RateLimit-Remaining"] == str(60 - used) and r.headers["X-RateLimit-Resource"] == "core"
        assert int(r.headers["X-RateLimit-Reset"]) > 0
    search = _get(world, "/search/issues?q=org:acme", token=None)
    assert (search.status_code, search.headers["X-RateLimit-Limit"], search.headers["X-RateLimit-Resource"]) == (
        401,
        "10",
        "search",
    )
    assert _get(world, R).headers["X-RateLimit-Used"] == "1"  # the token's own budget is apart


# -- token kinds ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("classic-reader", 404, "Not Found"),
        ("fine-reader", 403, "Resource not accessible by personal access token"),
        ("installation", 403, "Resource not accessible by integration"),
        ("fine-admin", 200, None),
    ],
)
def test_each_token_kind_gets_githubs_own_answer_on_classic_protection(world, token, status, message):
    r = _get(world, f"{R}/branches/main/protection", token=token)
    assert r.status_code == status
    if message is not None:
        assert r.json()["message"] == message
    org_rulesets = _get(world, "/orgs/acme/rulesets", token=token)
    assert org_rulesets.status_code == status
    with pytest.raises(GithubException) if message else _no_raise():
        github_client(world[0].url, token).get_repo("acme/svc").get_branch("main").get_protection()


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_a_fine_grained_token_without_a_permission_is_refused_by_personal_access_token(world):
    assert _get(world, f"{R}/contents/README.md", token="fine-no-issues").status_code == 200
    r = _get(world, f"{R}/issues", token="fine-no-issues")
    assert (r.status_code, r.json()["message"]) == (403, "Resource not accessible by personal access token")
    assert int(r.headers["X-RateLimit-Limit"]) == 5000  # a refusal still reports the token's budget
    assert _get(world, f"{R}/issues", token="installation").status_code == 200


def test_an_unknown_token_kind_is_refused_when_added(tmp_path):
    with pytest.raises(ValueError, match="token kind 'oauth'"):
        SandboxState.open(tmp_path).add_token("t", kind="oauth")


# -- ETag, Location, Last-Modified ---------------------------------------------------------------
def test_write_answers_carry_an_etag_and_a_created_label_its_location(world):
    url = world[0].url
    made = requests.post(f"{url}{R}/labels", json={"name": "drift", "color": "d73a4a"}, headers=AUTH, timeout=10)
    assert made.status_code == 201 and made.headers["ETag"].startswith('W/"')
    assert made.headers["Location"] == made.json()["url"] == f"{url}{R}/labels/drift"
    edited = requests.patch(f"{url}{R}/labels/drift", json={"color": "00ff00"}, headers=AUTH, timeout=10)
    assert edited.status_code == 200 and edited.headers["ETag"] != made.headers["ETag"]
    issue = requests.post(f"{url}{R}/issues", json={"title": "t"}, headers=AUTH, timeout=10)
    assert issue.status_code == 201 and issue.headers["ETag"] and issue.headers["Location"] == issue.json()["url"]
    number = issue.json()["number"]
    closed = requests.patch(f"{url}{R}/issues/{number}", json={"state": "closed"}, headers=AUTH, timeout=10)
    assert closed.status_code == 200 and closed.headers["ETag"]
    comment = requests.post(f"{url}{R}/issues/{number}/comments", json={"body": "b"}, headers=AUTH, timeout=10)
    assert comment.status_code == 201 and comment.headers["Location"] == comment.json()["url"]
    gone = requests.delete(f"{url}{R}/issues/{number}/labels", headers=AUTH, timeout=10)
    assert gone.status_code == 204 and "ETag" not in gone.headers


def test_single_resource_gets_have_last_modified_and_honour_if_modified_since(world):
    readme, changed = _get(world, f"{R}/contents/README.md"), _get(world, f"{R}/contents/src/a.py")
    assert parsedate_to_datetime(readme.headers["Last-Modified"]) == day(1)  # the last commit touching it
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) == day(3)
    assert parsedate_to_datetime(_get(world, f"{R}/contents/").headers["Last-Modified"]) == day(3)
    for path in ("/orgs/acme", R, f"{R}/labels/drift", f"{R}/contents/README.md"):
        r = _get(world, path)
        assert r.status_code == 200 and parsedate_to_datetime(r.headers["Last-Modified"]), path
        later = _get(world, path, **{"If-Modified-Since": r.headers["Last-Modified"]})
        assert (later.status_code, later.content) == (304, b""), path
    before = format_datetime(day(2), usegmt=True)
    assert _get(world, f"{R}/contents/src/a.py", **{"If-Modified-Since": before}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110): a stale ETag is a full answer
    both = {"If-None-Match": 'W/"stale"', "If-Modified-Since": readme.headers["Last-Modified"]}
    assert _get(world, f"{R}/contents/README.md", **both).status_code == 200


# -- keys real answers carry ---------------------------------------------------------------------
def test_a_repo_carries_merge_settings_organization_and_temp_clone_token(world):
    gh, state = world
    state.set_repo_settings("acme", "svc", allow_merge_commit=False, delete_branch_on_merge=True)
    state.save()
    svc = _get(world, R).json()
    assert (svc["allow_merge_commit"], svc["delete_branch_on_merge"]) == (False, True)
    assert (svc["allow_squash_merge"], svc["allow_rebase_merge"], svc["allow_auto_merge"]) == (True, True, False)
    assert (svc["allow_update_branch"], svc["use_squash_pr_title_as_default"]) == (False, False)
    assert svc["organization"]["login"] == "acme" and svc["organization"]["type"] == "Organization"
    assert len(svc["temp_clone_token"]) > 20 and _get(world, "/repos/acme/site").json()["temp_clone_token"] == ""
    repo = github_client(gh.url).get_repo("acme/svc")
    assert (repo.allow_merge_commit, repo.delete_branch_on_merge, repo.organization.login) == (False, True, "acme")
    with pytest.raises(ValueError, match="unknown repo setting 'allow_everything'"):
        state.set_repo_settings("acme", "svc", allow_everything=True)
    with pytest.raises(ValueError, match="expected bool"):
        state.set_repo_settings("acme", "svc", allow_auto_merge="yes")


OWNER_ONLY = {
    "default_repository_permission", "two_factor_requirement_enabled", "members_can_create_repositories",
    "members_can_create_public_repositories", "members_can_create_private_repositories",
    "members_can_fork_private_repositories", "members_allowed_repository_creation_type",
    "web_commit_signoff_required", "billing_email", "plan",
}  # fmt: skip


def test_an_org_shows_its_owner_only_settings_to_an_owner_only(world):
    gh, state = world
    state.set_org_settings("acme", two_factor_requirement_enabled=True, default_repository_permission="none")
    state.save()
    owner = _get(world, "/orgs/acme").json()
    assert set(owner) >= OWNER_ONLY
    assert (owner["two_factor_requirement_enabled"], owner["default_repository_permission"]) == (True, "none")
    assert owner["plan"]["name"] == "free" and owner["billing_email"] == "billing@acme.example"
    assert set(_get(world, "/orgs/acme", token="installation-org-admin").json()) >= OWNER_ONLY
    for token in ("classic-reader", "fine-admin", "installation"):
        assert not OWNER_ONLY & set(_get(world, "/orgs/acme", token=token).json()), token
    org = github_client(gh.url).get_organization("acme")
    assert (org.two_factor_requirement_enabled, org.default_repository_permission) == (True, "none")
    with pytest.raises(ValueError, match="default_repository_permission: expected one of"):
        state.set_org_settings("acme", default_repository_permission="owner")


def test_an_org_without_description_says_null_and_one_with_it_says_it(world):
    assert _get(world, "/orgs/acme").json()["description"] is None
    assert _get(world, "/orgs/beta").json()["description"] == "Beta's org"


def test_issues_carry_performed_via_github_app_the_app_whose_token_opened_them(world):
    url = world[0].url
    by_user = requests.post(f"{url}{R}/issues", json={"title": "by a user"}, headers=AUTH, timeout=10).json()
    assert "performed_via_github_app" in by_user and by_user["performed_via_github_app"] is None
    minted = {"Authorization": f"token {MINTED}"}
    by_app = requests.post(f"{url}{R}/issues", json={"title": "by the App"}, headers=minted, timeout=10).json()
    assert by_app["user"]["login"] == "drift-app[bot]"
    assert (by_app["performed_via_github_app"]["id"], by_app["performed_via_github_app"]["slug"]) == (
        APP_ID,
        "drift-app",
    )
    again = _get(world, f"{R}/issues/{by_app['number']}").json()
    assert again["performed_via_github_app"]["slug"] == "drift-app"
    issue = github_client(url).get_repo("acme/svc").get_issue(by_app["number"])
    assert issue.performed_via_github_app.slug == "drift-app"


def test_rate_limit_reports_every_resource_github_does(world):
    body = _get(world, "/rate_limit").json()
    assert set(body["resources"]) == set(DEFAULT_LIMITS) >= {"core", "search", "graphql", "code_search", "scim"}
    assert body["resources"]["graphql"]["limit"] == 5000 and body["resources"]["code_search"]["limit"] == 10
    assert body["rate"] == body["resources"]["core"]


# -- commit statuses -----------------------------------------------------------------------------
def test_commit_status_routes_are_served_not_swallowed_by_the_commit_route(world):
    gh, state = world
    sha = _get(world, f"{R}/branches/feature/x").json()["commit"]["sha"]
    state.add_commit_status("acme", "svc", sha, "success", context="ci/test", when=day(1, 14))
    state.add_commit_status("acme", "svc", sha, "failure", context="lint", when=day(1, 15))
    state.save()
    combined = _get(world, f"{R}/commits/feature/x/status")
    assert combined.status_code == 200
    body = combined.json()
    assert (body["state"], body["sha"], body["total_count"]) == ("failure", sha, 2)
    assert {(s["context"], s["state"]) for s in body["statuses"]} == {("ci/test", "success"), ("lint", "failure")}
    listed = _get(world, f"{R}/commits/{sha}/statuses").json()
    assert [(s["context"], s["state"]) for s in listed] == [
        ("lint", "failure"),
        ("ci/test", "success"),
        ("ci/test", "pending"),
    ]
    main = _get(world, f"{R}/commits/main/status").json()
    assert (main["state"], main["total_count"], main["statuses"]) == ("pending", 0, [])
    assert _get(world, f"{R}/commits/main/statuses").json() == []
    missing = _get(world, f"{R}/commits/{'0' * 40}/status")
    assert missing.status_code == 404
    # commit statuses are a permission of their own: contents alone does not read them
    refused = _get(world, f"{R}/commits/main/status", token="fine-no-issues")
    assert (refused.status_code, refused.json()["message"]) == (403, "Resource not accessible by personal access token")
    assert _get(world, f"{R}/commits/main/status", token="installation").status_code == 200
    commit = github_client(gh.url).get_repo("acme/svc").get_commit(sha)
    status = commit.get_combined_status()
    assert (status.state, status.total_count, {s.context for s in status.statuses}) == (
        "failure",
        2,
        {"lint", "ci/test"},
    )


def test_get_user_with_an_installation_token_is_403_resource_not_accessible_by_integration(world):
    """An installation token is no user: GitHub answers GET /user 403 (a minted one and a stored one);
    a classic or fine-grained token still gets its user."""
    for token in (MINTED, "installation"):
        r = _get(world, "/user", token)
        assert (r.status_code, r.json()["message"]) == (403, "Resource not accessible by integration")
        assert r.headers["X-RateLimit-Limit"]  # a refusal still reports the budget
    with pytest.raises(GithubException) as exc:
        _ = github_client(world[0].url, MINTED).get_user().login
    assert exc.value.status == 403
    assert _get(world, "/user", "classic-reader").json()["login"] == "bob"
    assert _get(world, "/user", "fine-reader").json()["login"] == "bob"
