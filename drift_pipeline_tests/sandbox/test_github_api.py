"""The GitHub sandbox's git-backed and settings endpoints, read through PyGithub over HTTP."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
import requests
from github import GithubException, UnknownObjectException

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files, git, git_text
from drift_pipeline_tests.sandbox.conftest import DEV, branch_from, day, github_client

PROTECTION = {
    "required_status_checks": {"strict": True, "contexts": ["ci/test", "ci/lint"]},
    "enforce_admins": True,
    "required_pull_request_reviews": {
        "dismiss_stale_reviews": True,
        "require_code_owner_reviews": True,
        "required_approving_review_count": 2,
    },
    "restrictions": None,
    "required_linear_history": True,
    "allow_force_pushes": False,
    "allow_deletions": False,
    "required_conversation_resolution": True,
}

CODEOWNERS = "# owners\n* @acme/platform\n*.py\nsrc/ platform-team\ndocs/ dev@example.com  # ok\n"


@pytest.fixture(scope="module")
def world(start_github):
    shas: dict[str, str] = {}

    def build(st: SandboxState) -> None:
        st.add_org("acme", name="Acme Corp")
        st.add_user("dev1")
        st.add_token("reader-token", login="reader", admin=False)
        repo = st.create_repo("acme", "svc", created_at=datetime(2024, 1, 1))
        shas["c1"] = commit_files(
            repo,
            "main",
            {
                "README.md": "# svc\n",
                "src/app.py": "print('v1')\n",
                ".github/CODEOWNERS": CODEOWNERS,
                "docs/guide.md": "guide\n",
                "check.toml": "[standards]\ntier = 'production'\n",
            },
            "initial",
            DEV,
            day(1),
        )
        shas["c2"] = commit_files(
            repo,
            "main",
            {
                "README.md": "# svc\n\nA service.\n",
                "src/util.py": "X = 1\n",
            },
            "add util",
            DEV,
            day(2),
        )
        shas["c3"] = commit_files(repo, "main", {"src/app.py": "print('v2')\n"}, "app v2", DEV, day(4))
        branch_from(repo, "feature/x", shas["c2"])
        shas["f1"] = commit_files(repo, "feature/x", {"src/feature.py": "F = True\n"}, "feature", DEV, day(3))
        branch_from(repo, "release/1.0", shas["c2"])
        st.set_branch_protection("acme", "svc", "main", PROTECTION)
        st.add_ruleset(
            "acme",
            "svc",
            {
                "name": "releases",
                "target": "branch",
                "enforcement": "active",
                "conditions": {"ref_name": {"include": ["refs/heads/release/*"], "exclude": []}},
                "rules": [{"type": "non_fast_forward"}, {"type": "deletion"}],
                "bypass_actors": [],
            },
        )
        st.add_ruleset(
            "acme",
            "svc",
            {
                "name": "trial",
                "target": "branch",
                "enforcement": "evaluate",
                "conditions": {"ref_name": {"include": ["~ALL"], "exclude": []}},
                "rules": [{"type": "required_signatures"}],
            },
        )
        st.add_org_ruleset(
            "acme",
            {
                "name": "org-default",
                "target": "branch",
                "enforcement": "active",
                "conditions": {
                    "ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                    "repository_name": {"include": ["svc*"], "exclude": ["svc-legacy"]},
                },
                "rules": [
                    {
                        "type": "pull_request",
                        "parameters": {"required_approving_review_count": 1, "require_code_owner_review": True},
                    },
                    {
                        "type": "required_status_checks",
                        "parameters": {
                            "strict_required_status_checks_policy": True,
                            "required_status_checks": [{"context": "ci/test"}],
                        },
                    },
                ],
            },
        )
        legacy = st.create_repo("acme", "svc-legacy", archived=True, created_at=datetime(2023, 1, 1))
        commit_files(legacy, "main", {"README.md": "old\n"}, "old", DEV, day(1))
        st.create_repo("acme", "empty")

    gh, state = start_github(build)
    return gh, state, shas


@pytest.fixture(scope="module")
def g(world):
    return github_client(world[0].url)


def test_repo_when_read_then_pushed_at_is_newest_commit_and_urls_on_own_host(world, g):
    gh, _, _ = world
    repo = g.get_repo("acme/svc")
    assert repo.pushed_at.isoformat() == "2024-03-04T12:00:00+00:00"
    assert repo.default_branch == "main"
    assert (repo.archived, repo.fork, repo.private) == (False, False, True)
    assert repo.owner.login == "acme" and repo.owner.type == "Organization"
    assert repo.url.startswith(gh.url) and repo.html_url.startswith(gh.url)
    legacy = g.get_repo("acme/svc-legacy")
    assert legacy.archived is True
    names = sorted(r.name for r in g.get_organization("acme").get_repos())
    assert names == ["empty", "svc", "svc-legacy"]
    assert g.get_user("acme").type == "Organization"
    with pytest.raises(UnknownObjectException):
        g.get_repo("acme/nope")


def test_commits_when_since_is_naive_then_it_is_utc_and_path_filters(world, g):
    _, _, shas = world
    repo = g.get_repo("acme/svc")
    assert [c.sha for c in repo.get_commits()] == [shas["c3"], shas["c2"], shas["c1"]]
    assert [c.sha for c in repo.get_commits(since=datetime(2024, 3, 2, 12))] == [shas["c3"], shas["c2"]]
    assert [c.sha for c in repo.get_commits(until=datetime(2024, 3, 1, 23))] == [shas["c1"]]
    assert [c.sha for c in repo.get_commits(path="src/app.py")] == [shas["c3"], shas["c1"]]
    assert [c.sha for c in repo.get_commits(sha="feature/x")] == [shas["f1"], shas["c2"], shas["c1"]]
    first = repo.get_commits()[0]
    assert first.commit.committer.date.isoformat() == "2024-03-04T12:00:00+00:00"
    assert first.commit.message == "app v2"


def test_empty_repo_commits_answer_409(g):
    with pytest.raises(GithubException) as exc:
        list(g.get_repo("acme/empty").get_commits())
    assert exc.value.status == 409


def test_commit_when_fetched_then_files_stats_and_patch_match_git(world, g):
    gh, state, shas = world
    commit = g.get_repo("acme/svc").get_commit(shas["c2"])
    assert [p.sha for p in commit.parents] == [shas["c1"]]
    files = {f.filename: f for f in commit.files}
    assert files["src/util.py"].status == "added"
    assert files["README.md"].status == "modified"
    assert files["README.md"].patch == "@@ -1 +1,3 @@\n # svc\n+\n+A service."
    assert commit.stats.additions == 3 and commit.stats.deletions == 0
    blob = git_text(state.repo_git_dir("acme", "svc"), "rev-parse", f"{shas['c2']}:src/util.py").strip()
    assert files["src/util.py"].sha == blob


def test_compare_when_head_ahead_then_commits_and_files_with_patches(world, g):
    _, _, shas = world
    repo = g.get_repo("acme/svc")
    cmp = repo.compare(shas["c1"], "main")
    assert (cmp.status, cmp.ahead_by, cmp.behind_by, cmp.total_commits) == ("ahead", 2, 0, 2)
    assert [c.sha for c in cmp.commits] == [shas["c2"], shas["c3"]]
    assert {f.filename for f in cmp.files} == {"README.md", "src/util.py", "src/app.py"}
    assert "+print('v2')" in next(f.patch for f in cmp.files if f.filename == "src/app.py")
    diverged = repo.compare("main", "feature/x")
    assert (diverged.status, diverged.ahead_by, diverged.behind_by) == ("diverged", 1, 1)
    assert repo.compare("main", "main").status == "identical"


def test_tree_when_recursive_then_every_path_with_git_blob_shas(world, g):
    _, state, _ = world
    tree = g.get_repo("acme/svc").get_git_tree("main", recursive=True)
    out = git_text(state.repo_git_dir("acme", "svc"), "ls-tree", "-r", "-t", "main")
    expected = {line.split("\t")[1]: line.split()[2] for line in out.splitlines()}
    assert {e.path: e.sha for e in tree.tree} == expected
    assert {e.path for e in tree.tree if e.type == "tree"} == {".github", "docs", "src"}
    assert tree.raw_data["truncated"] is False
    top = g.get_repo("acme/svc").get_git_tree("main")
    assert {e.path for e in top.tree} == {".github", "README.md", "check.toml", "docs", "src"}


def test_blob_when_fetched_then_base64_content(world, g):
    _, state, _ = world
    sha = git_text(state.repo_git_dir("acme", "svc"), "rev-parse", "main:src/app.py").strip()
    blob = g.get_repo("acme/svc").get_git_blob(sha)
    assert blob.encoding == "base64" and base64.b64decode(blob.content) == b"print('v2')\n"


def test_contents_at_older_commit_match_git_show(world, g):
    _, state, shas = world
    repo = g.get_repo("acme/svc")
    old = repo.get_contents("README.md", ref=shas["c1"])
    assert old.decoded_content == git(state.repo_git_dir("acme", "svc"), "show", f"{shas['c1']}:README.md")
    assert repo.get_contents("README.md").decoded_content == b"# svc\n\nA service.\n"
    listing = repo.get_contents("src", ref="main")
    assert sorted(c.path for c in listing) == ["src/app.py", "src/util.py"]
    lazy = next(c for c in listing if c.path == "src/app.py")
    assert lazy.decoded_content == b"print('v2')\n"  # completed through the entry's url
    assert {c.path for c in repo.get_contents("")} >= {"README.md", "src", ".github"}
    with pytest.raises(UnknownObjectException):
        repo.get_contents("missing.txt")
    with pytest.raises(UnknownObjectException):
        repo.get_contents("src/util.py", ref=shas["c1"])


def test_branch_protection_when_protected_then_pygithub_parses_fields(world, g):
    gh, _, _ = world
    branch = g.get_repo("acme/svc").get_branch("main")
    assert branch.protected is True and branch.protection_url.startswith(gh.url)
    prot = branch.get_protection()
    assert prot.required_status_checks.strict is True
    assert prot.required_status_checks.contexts == ["ci/test", "ci/lint"]
    assert prot.enforce_admins is True
    reviews = prot.required_pull_request_reviews
    assert (
        reviews.required_approving_review_count,
        reviews.require_code_owner_reviews,
        reviews.dismiss_stale_reviews,
    ) == (2, True, True)
    assert prot.required_linear_history is True and prot.allow_force_pushes is False
    assert prot.required_conversation_resolution is True
    assert branch.get_required_status_checks().contexts == ["ci/test", "ci/lint"]
    assert branch.get_admin_enforcement() is True
    assert branch.get_required_signatures() is False


def test_branch_protection_when_unprotected_then_404_branch_not_protected(g):
    branch = g.get_repo("acme/svc").get_branch("feature/x")
    assert branch.protected is False
    with pytest.raises(GithubException) as exc:
        branch.get_protection()
    assert exc.value.status == 404 and exc.value.data["message"] == "Branch not protected"


def test_branch_protection_when_a_plain_token_is_not_admin_then_404_not_found(world):
    """A token added without a kind is a classic personal access token: GitHub hides the protection
    of a protected branch from it with 404 "Not Found" (the 403 "... by integration" is an App's)."""
    reader = github_client(world[0].url, token="reader-token")
    with pytest.raises(GithubException) as exc:
        reader.get_repo("acme/svc").get_branch("main").get_protection()
    assert exc.value.status == 404
    assert exc.value.data["message"] == "Not Found"


def test_branches_list_flags_protected(g):
    branches = {b.name: b.protected for b in g.get_repo("acme/svc").get_branches()}
    # release/1.0 has no classic protection, but a repo ruleset targets it: GitHub says protected
    assert branches == {"main": True, "feature/x": False, "release/1.0": True}


def test_rulesets_when_includes_parents_then_matching_org_rulesets_listed(world):
    gh, _, _ = world
    h = {"Authorization": "token sandbox-token"}
    names = [r["name"] for r in requests.get(f"{gh.url}/repos/acme/svc/rulesets", headers=h).json()]
    assert names == ["releases", "trial", "org-default"]
    own = requests.get(f"{gh.url}/repos/acme/svc/rulesets?includes_parents=false", headers=h).json()
    assert [r["source_type"] for r in own] == ["Repository", "Repository"]
    legacy = requests.get(f"{gh.url}/repos/acme/svc-legacy/rulesets", headers=h).json()
    assert legacy == []
    full = requests.get(f"{gh.url}/repos/acme/svc/rulesets/{own[0]['id']}", headers=h).json()
    assert full["conditions"]["ref_name"]["include"] == ["refs/heads/release/*"]
    assert [r["type"] for r in full["rules"]] == ["non_fast_forward", "deletion"]


def test_branch_rules_when_read_then_flattened_active_rules_for_that_branch(world):
    gh, _, _ = world
    h = {"Authorization": "token reader-token"}  # metadata read is enough for rules
    main = requests.get(f"{gh.url}/repos/acme/svc/rules/branches/main", headers=h).json()
    assert [(r["type"], r["ruleset_source_type"], r["ruleset_source"]) for r in main] == [
        ("pull_request", "Organization", "acme"),
        ("required_status_checks", "Organization", "acme"),
    ]
    assert main[0]["parameters"]["required_approving_review_count"] == 1
    release = requests.get(f"{gh.url}/repos/acme/svc/rules/branches/release/1.0", headers=h).json()
    assert [r["type"] for r in release] == ["non_fast_forward", "deletion"]
    assert "parameters" not in release[0]
    assert requests.get(f"{gh.url}/repos/acme/svc/rules/branches/feature/x", headers=h).json() == []


def test_codeowners_errors_when_present_then_flags_lines_and_404_when_absent(world):
    gh, _, _ = world
    h = {"Authorization": "token sandbox-token"}
    errors = requests.get(f"{gh.url}/repos/acme/svc/codeowners/errors", headers=h).json()["errors"]
    # line 3 is a pattern without owners: valid on GitHub (it unsets ownership)
    assert [(e["line"], e["column"], e["kind"]) for e in errors] == [(4, 6, "Invalid owner")]
    assert all(e["path"] == ".github/CODEOWNERS" for e in errors)
    assert errors[0]["source"] == "src/ platform-team"
    missing = requests.get(f"{gh.url}/repos/acme/svc-legacy/codeowners/errors", headers=h)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
