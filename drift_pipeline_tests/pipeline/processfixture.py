"""An org for the process tests: settings seeded per repo, and activity (PRs, reviews, pushes) per day.

Settings are live-only, so the fixture is dated relative to now: ``DAY`` is yesterday (the newest
daily partition, observed live), ``EARLY`` two days before it (not observable any more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from drift_pipeline.sandbox.github import pulls
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import Author, commit_files

DAY = datetime.now(UTC).date() - timedelta(days=1)
MIDDLE = DAY - timedelta(days=1)
EARLY = DAY - timedelta(days=2)
START = DAY - timedelta(days=3)
ALICE = Author("Alice Doe", "alice@example.com")
BOB = Author("Bob Roe", "bob@example.com")
APP_TOKEN = "app-token-no-admin"  # a GitHub App without Administration read: classic protection 403
CLASSIC_TOKEN = "classic-token-no-admin"  # a personal token of a non-admin: classic protection 404

FULL = """[process.repo]
enabled = true
require_branch_protection = true
require_codeowners = true

[process.repo.ruleset]
required_reviews = 2
dismiss_stale_reviews = true
require_code_owner_reviews = true
require_status_checks = ["ci/test"]
require_branches_up_to_date = true
require_signed_commits = true
enforce_admins = true
bypass_actors = []

[process.repo.tag_protection]
patterns = ["v*"]

[process.codeowners]
enabled = true
rules = [{ pattern = "*", owners = ["@acme/core"] }]

[process.forbidden_files]
enabled = true
files = ["**/.env"]

[process.ci]
enabled = true
require_workflows = ["ci.yml"]

[process.ci.jobs]
"ci.yml" = ["test"]

[process.hooks]
enabled = true
require_husky = true
require_hooks = ["pre-commit"]

[process.changesets]
enabled = true
"""

ACTIVITY = """[process.branches]
enabled = true
pattern = "^(feat|fix)/"
required_reviews = 2

[process.commits]
enabled = true
types = ["feat", "fix", "chore"]

[process.pr]
enabled = true
max_files = 3
require_issue = true
"""

META = "tier: production\nstatus: active\nteam: core\n"
GOOD_FILES: dict[str, str | bytes | None] = {
    "check.toml": FULL,
    "repo-metadata.yaml": META,
    "pyproject.toml": "[project]\nname = 'x'\n",
    ".github/CODEOWNERS": "* @acme/core\n",
    ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    ".husky/pre-commit": "npm test\n",
    ".changeset/config.json": "{}\n",
}
PR_RULES: list[dict[str, Any]] = [
    {
        "type": "pull_request",
        "parameters": {
            "required_approving_review_count": 2,
            "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": True,
            "require_last_push_approval": False,
            "required_review_thread_resolution": False,
        },
    },
    {
        "type": "required_status_checks",
        "parameters": {
            "strict_required_status_checks_policy": True,
            "required_status_checks": [{"context": "ci/test"}],
        },
    },
    {"type": "required_signatures"},
]
DEFAULT = {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}}
TAGS = {
    "name": "tags",
    "target": "tag",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
    "rules": [{"type": "deletion"}, {"type": "update"}],
    "bypass_actors": [],
}
CLASSIC = {
    "required_status_checks": {"strict": True, "contexts": ["ci/test"]},
    "enforce_admins": True,
    "required_pull_request_reviews": {
        "required_approving_review_count": 2,
        "dismiss_stale_reviews": True,
        "require_code_owner_reviews": True,
    },
    "required_signatures": {"enabled": True},
    "restrictions": None,
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class ProcessOrg:
    state: SandboxState
    shas: dict[str, str] = field(default_factory=dict)
    prs: dict[str, int] = field(default_factory=dict)


def _repo(state: SandboxState, name: str, files: dict[str, str | bytes | None]) -> Path:
    path = state.create_repo("acme", name)
    commit_files(path, "main", files, "feat: initial", ALICE, at(START, 9))
    return path


def build_process_org(root: Path) -> ProcessOrg:
    """acme: ruleset-ok, classic-ok, orgrs-ok (compliant three ways), bare and weak (violations), busy (activity)."""
    state = SandboxState.open(root)
    state.add_org("acme")
    state.add_user("alice", name="Alice Doe", emails=["alice@example.com"])
    state.add_user("bob", name="Bob Roe", emails=["bob@example.com"])
    state.add_user("carol", name="Carol Poe", emails=["carol@example.com"])
    state.add_token(APP_TOKEN, login="drift-app", admin=False, kind="app")
    state.add_token(CLASSIC_TOKEN, login="carol", admin=False, kind="classic")
    fx = ProcessOrg(state)

    _repo(state, "ruleset-ok", GOOD_FILES)
    state.add_ruleset(
        "acme",
        "ruleset-ok",
        {
            "name": "main",
            "target": "branch",
            "enforcement": "active",
            "conditions": DEFAULT,
            "rules": PR_RULES,
            "bypass_actors": [],
        },
    )
    state.add_ruleset("acme", "ruleset-ok", TAGS)

    _repo(state, "classic-ok", GOOD_FILES)
    state.set_branch_protection("acme", "classic-ok", "main", CLASSIC)
    state.add_ruleset("acme", "classic-ok", TAGS)

    _repo(state, "orgrs-ok", GOOD_FILES)
    state.add_org_ruleset(
        "acme",
        {
            "name": "org-main",
            "target": "branch",
            "enforcement": "active",
            "conditions": {**DEFAULT, "repository_name": {"include": ["orgrs-ok"], "exclude": []}},
            "rules": PR_RULES,
            "bypass_actors": [],
        },
    )
    state.add_ruleset("acme", "orgrs-ok", TAGS)

    _repo(
        state,
        "bare",
        {"check.toml": FULL, "repo-metadata.yaml": META, "pyproject.toml": "[project]\n", ".env": "A=1\n"},
    )

    weak_files = dict(GOOD_FILES)
    weak_files[".github/CODEOWNERS"] = "* @acme/core @acme/web\ndocs/ alice\n"
    weak_files[".github/workflows/ci.yml"] = "on: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
    _repo(state, "weak", weak_files)
    state.add_ruleset(
        "acme",
        "weak",
        {
            "name": "weak-main",
            "target": "branch",
            "enforcement": "active",
            "conditions": DEFAULT,
            "rules": [
                {
                    "type": "pull_request",
                    "parameters": {
                        **PR_RULES[0]["parameters"],
                        "required_approving_review_count": 1,
                        "dismiss_stale_reviews_on_push": False,
                        "require_code_owner_review": False,
                    },
                },
                {
                    "type": "required_status_checks",
                    "parameters": {
                        "strict_required_status_checks_policy": False,
                        "required_status_checks": [{"context": "lint"}],
                    },
                },
            ],
            "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
        },
    )
    state.add_ruleset("acme", "weak", TAGS)

    busy = _repo(state, "busy", {"check.toml": ACTIVITY, "repo-metadata.yaml": META, "pyproject.toml": "[project]\n"})
    state.set_branch_protection(
        "acme", "busy", "main", {"required_pull_request_reviews": {"required_approving_review_count": 2}}
    )
    # EARLY: a direct push
    fx.shas["early_push"] = commit_files(busy, "main", {"a.txt": "1\n"}, "chore: tweak", BOB, at(EARLY, 10))
    # MIDDLE: nothing. DAY: a clean merged PR, a direct push, an oversized under-reviewed PR, a badly named one
    _pr(fx, busy, "login", "feat/login", "feat: add login", "Closes #1", {"login.py": "x\n"}, ["bob", "carol"], 9)
    fx.shas["hotfix"] = commit_files(busy, "main", {"hot.txt": "1\n"}, "fix: hotfix", ALICE, at(DAY, 11))
    big: dict[str, str | bytes | None] = {f"big/{i}.py": "x\n" for i in range(5)}
    _pr(fx, busy, "big", "feat/big", "feat: big change", "no reference here", big, ["bob"], 12, method="squash")
    _pr(
        fx,
        busy,
        "readme",
        "readme-tweak",
        "update readme",
        "Closes #2",
        {"README.md": "hi\n"},
        ["bob", "carol"],
        14,
        method="squash",
    )
    state.save()
    return fx


def _pr(
    fx: ProcessOrg,
    repo: Path,
    key: str,
    branch: str,
    title: str,
    body: str,
    files: dict[str, str | bytes | None],
    approvers: list[str],
    hour: int,
    method: str = "merge",
) -> None:
    state = fx.state
    issue = pulls.open_pull(
        state,
        "acme",
        "busy",
        head=branch,
        title=title,
        user="alice",
        author=ALICE,
        when=at(DAY, hour),
        files=files,
        body=body,
    )
    number = int(issue["number"])
    for i, who in enumerate(approvers):
        pulls.add_review(state, "acme", "busy", number, user=who, review_state="APPROVED", when=at(DAY, hour, 10 + i))
    fx.shas[key] = pulls.merge_pull(
        state, "acme", "busy", number, by="alice", committer=ALICE, when=at(DAY, hour, 30), method=method
    )
    fx.prs[key] = number
