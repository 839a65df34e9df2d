"""State of the GitHub sandbox: behaviour and data, no HTTP.

Layout of a state directory::

    <root>/state.json                 settings: orgs, users, repos, protections, rulesets,
                                      issues, labels, comments, tokens
    <root>/repos/<owner>/<name>.git   one real bare git repository per repo

Commits, trees, blobs, compare and contents are computed by git from the bare repositories,
never stored twice. Everything else lives in ``state.json``; writers call :meth:`save`, which
replaces the file atomically, and readers (the server) reload it when it changes on disk.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from drift_pipeline.sandbox.github import settings
from drift_pipeline.sandbox.github.access import ROLES
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.gitrepo import GitRepo
from drift_pipeline.sandbox.github.state_issues import IssueState, _iso
from drift_pipeline.sandbox.github.state_rules import RulesState
from drift_pipeline.sources.gitutil import init_bare

DEFAULT_TOKEN = "sandbox-token"
# classic: a personal access token (classic); fine_grained: a fine-grained personal access token;
# app: a GitHub App installation token ("installation" is accepted as its other name)
TOKEN_KINDS = ("classic", "fine_grained", "app")


def _empty() -> dict[str, Any]:
    return {
        "next_id": 1000,
        "orgs": {},  # login -> {login, name, id}
        "users": {},  # login -> {login, id, name, emails (commit attribution)}
        "repos": {},  # "owner/name" -> repo settings (see create_repo)
        "protections": {},  # "owner/name" -> {branch -> protection request body}
        "rulesets": {},  # "owner/name" -> [ruleset]
        "org_rulesets": {},  # org -> [ruleset]
        "issues": {},  # "owner/name" -> [issue]
        "comments": {},  # "owner/name#number" -> [comment]
        "labels": {},  # "owner/name" -> [label]
        "teams": {},  # org -> {slug -> {slug, name, id, members, repos (None: every repo of the org)}}
        "tokens": {DEFAULT_TOKEN: {"login": "drift-bot", "admin": True}},
    }


class SandboxState(RulesState, IssueState):
    """The sandbox's settings plus the paths of its git repositories."""

    def __init__(self, root: Path, data: dict[str, Any]):
        self.root = Path(root)
        self.data = data

    # -- persistence ---------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @classmethod
    def open(cls, root: Path | str) -> SandboxState:
        """Load the state at ``root``, creating an empty one when there is none."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "state.json"
        if path.exists():
            data = json.loads(path.read_text())
        else:
            data = _empty()
        state = cls(root, data)
        if not path.exists():
            state.save()
        return state

    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".state-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def next_id(self) -> int:
        self.data["next_id"] += 1
        return self.data["next_id"]

    # -- accounts --------------------------------------------------------------------------
    def add_org(self, login: str, *, name: str | None = None, **profile: str) -> None:
        """An organization; ``profile``: company, email, location (GitHub omits them when unset)."""
        org = self.data["orgs"].setdefault(login, {"login": login, "name": name or login, "id": self.next_id()})
        org.update({k: v for k, v in profile.items() if k in ("company", "email", "location", "description") and v})

    def set_org_settings(self, login: str, **values: Any) -> None:
        """An org's owner-only settings (:data:`settings.ORG_OWNER_DEFAULTS`: two_factor_requirement_enabled,
        default_repository_permission, web_commit_signoff_required, members_can_*, billing_email, ...)."""
        self.org(login).setdefault("settings", {}).update(settings.check("org", values))

    def add_user(self, login: str, *, name: str | None = None, emails: tuple[str, ...] | list[str] = ()) -> None:
        """A user; commits whose author or committer email is one of ``emails`` are attributed to it."""
        user = self.data["users"].setdefault(login, {"login": login, "id": self.next_id()})
        if name:
            user["name"] = name
        known = user.setdefault("emails", [])
        known += [e for e in emails if e.lower() not in {k.lower() for k in known}]

    def add_token(
        self,
        token: str,
        *,
        login: str = "drift-bot",
        admin: bool = True,
        kind: str = "classic",
        permissions: dict[str, str] | None = None,
    ) -> None:
        """A token of ``login``, answered as GitHub answers its ``kind``:

        - ``"classic"`` (a personal access token): ``admin`` says whether its user administers the
          repos and orgs (classic protection, org rulesets, the org's owner-only settings); without,
          those reads are 404 "Not Found";
        - ``"fine_grained"`` (a fine-grained personal access token) and ``"app"`` / ``"installation"``
          (an App installation token) read what ``permissions`` grant (default: every read the
          scan needs, ``administration`` only with ``admin``); anything else is 403 "Resource not
          accessible by personal access token" / "... by integration".
        """
        kind = "app" if kind == "installation" else kind
        if kind not in TOKEN_KINDS:
            raise ValueError(f"token kind {kind!r} not one of {(*TOKEN_KINDS, 'installation')}")
        info: dict[str, Any] = {"login": login, "admin": admin, "kind": kind}
        if kind != "classic":
            perms = dict(permissions if permissions is not None else settings.token_permissions(admin))
            info.update(permissions=perms, admin=perms.get("administration") in ("read", "write"))
        self.data["tokens"][token] = info

    def add_app(
        self, app_id: int, *, slug: str, owner: str, public_key: str, installations: dict[int, dict[str, Any]]
    ) -> None:
        """A GitHub App (see :mod:`apps`): ``installations`` maps an installation id to
        ``{"account": org, "permissions": {"contents": "read", ...}}``."""
        self.data.setdefault("apps", {})[str(app_id)] = {
            "id": app_id,
            "slug": slug,
            "owner": owner,
            "public_key": public_key,
            "installations": {str(k): dict(v) for k, v in installations.items()},
        }

    def add_team(
        self, org: str, slug: str, *, members: tuple[str, ...] | list[str] = (), repos: list[str] | None = None
    ) -> None:
        """A team of ``org`` with access to ``repos`` (None: every repo of the org).

        Once an org has teams, ``/codeowners/errors`` checks its owners as GitHub does: an
        ``@org/team`` that is not one of them with access to the repo, or an ``@user`` that is
        not a known account, is an "Unknown owner".
        """
        teams = self.data.setdefault("teams", {}).setdefault(org, {})
        teams[slug] = {"slug": slug, "name": slug, "id": self.next_id(), "members": list(members), "repos": repos}

    def teams_of(self, org: str) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("teams", {}).get(org, {}))

    # -- repositories ----------------------------------------------------------------------
    def repo_git_dir(self, owner: str, name: str) -> Path:
        return self.root / "repos" / owner / f"{name}.git"

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        default_branch: str = "main",
        private: bool = True,
        archived: bool = False,
        disabled: bool = False,
        fork: bool = False,
        description: str = "",
        created_at: datetime | None = None,
        has_issues: bool = True,
        init: bool = True,
    ) -> Path:
        """Record a repo and create its bare git repository; returns the repository path.

        ``init=False``: the caller has created the repository already (a seeder writing many at once)."""
        if owner not in self.data["orgs"]:
            self.add_user(owner)
        full = f"{owner}/{name}"
        self.data["repos"][full] = {
            "id": self.next_id(),
            "owner": owner,
            "name": name,
            "default_branch": default_branch,
            "private": private,
            "archived": archived,
            "disabled": disabled,
            "fork": fork,
            "description": description,
            "created_at": _iso(created_at),
            "has_issues": has_issues,
        }
        path = self.repo_git_dir(owner, name)
        return init_bare(path, default_branch) if init else path

    def repo(self, owner: str, name: str) -> dict[str, Any]:
        return self.data["repos"][f"{owner}/{name}"]

    def set_repo_settings(self, owner: str, name: str, **values: Any) -> None:
        """A repo's merge settings (:data:`settings.REPO_MERGE_DEFAULTS`: allow_squash_merge,
        delete_branch_on_merge, allow_auto_merge, ...)."""
        self.repo(owner, name).setdefault("settings", {}).update(settings.check("repo", values))

    def set_repo_role(self, owner: str, name: str, login: str, role: str) -> None:
        """``login``'s role on this one repo (:data:`access.ROLES`), capping what its tokens' org-wide
        ``admin`` gives here: e.g. ``write`` on a repo whose team kept admin for itself."""
        if role not in ROLES:
            raise ValueError(f"repo role {role!r} not one of {ROLES}")
        self.repo(owner, name).setdefault("roles", {})[login] = role

    # -- process settings -------------------------------------------------------------------
    def add_commit_status(
        self, owner: str, repo: str, sha: str, state: str, *, context: str = "default", **fields: Any
    ) -> dict[str, Any]:
        """A commit status (``state`` error, failure, pending or success) on ``sha``; ``fields``:
        description, target_url, creator (a login), when (a datetime). Newest last."""
        if state not in ("error", "failure", "pending", "success"):
            raise ValueError(f"commit status state {state!r} not one of error, failure, pending, success")
        status = {"id": self.next_id(), "state": state, "context": context, "created_at": _iso(fields.get("when")),
                  "description": fields.get("description"), "target_url": fields.get("target_url"),
                  "creator": fields.get("creator", "drift-bot")}  # fmt: skip
        self.data.setdefault("statuses", {}).setdefault(f"{owner}/{repo}", {}).setdefault(sha, []).append(status)
        return status

    # == reads and writes used by the server (no HTTP here: typed errors only) ============

    # -- accounts and tokens -----------------------------------------------------------------
    def token(self, token: str) -> dict[str, Any] | None:
        return self.data["tokens"].get(token)

    def _login(self, table: str, login: str) -> str | None:
        """The stored key of ``login`` in ``table`` ("orgs" or "users"): GitHub logins are case-insensitive."""
        accounts = self.data[table]
        if login in accounts:
            return login
        wanted = login.lower()
        return next((k for k in accounts if k.lower() == wanted), None)

    def account(self, login: str) -> tuple[dict[str, Any], str]:
        """The org or user called ``login`` (any case) and its type (``Organization`` or ``User``)."""
        for table, kind in (("orgs", "Organization"), ("users", "User")):
            key = self._login(table, login)
            if key is not None:
                return self.data[table][key], kind
        raise NotFound()

    def org(self, login: str) -> dict[str, Any]:
        key = self._login("orgs", login)
        if key is None:
            raise NotFound()
        return self.data["orgs"][key]

    def user_for_email(self, email: str) -> str | None:
        """The login a commit email belongs to, as GitHub decides it; None for nobody's email.

        An email belongs to the user who registered it (``add_user(emails=...)``), and GitHub's
        no-reply addresses ``LOGIN@users.noreply.HOST`` and ``ID+LOGIN@users.noreply.HOST``
        belong to that login (the second only with the user's id). Nothing else is guessed.
        """
        email = email.strip().lower()
        local, _, domain = email.rpartition("@")
        users = self.data["users"]
        if domain.startswith("users.noreply."):
            ident, plus, login = local.rpartition("+")
            user = next((u for k, u in users.items() if k.lower() == login), None)
            if user is not None and (not plus or ident == str(user["id"])):
                return str(user["login"])
            return None
        return next(
            (str(u["login"]) for u in users.values() if email in (e.lower() for e in u.get("emails", []))), None
        )

    def account_id(self, login: str) -> int:
        for table in ("orgs", "users"):
            if login in self.data[table]:
                return int(self.data[table][login]["id"])
        return 10_000_000 + sum(ord(c) * (i + 1) for i, c in enumerate(login))

    # -- repositories --------------------------------------------------------------------------
    def get_repo(self, owner: str, name: str) -> dict[str, Any]:
        """Like :meth:`repo`, but a missing repo is GitHub's 404 (owner and name case-insensitive)."""
        repo = self.data["repos"].get(f"{owner}/{name}")
        if repo is None:
            wanted = f"{owner}/{name}".lower()
            repo = next((r for k, r in self.data["repos"].items() if k.lower() == wanted), None)
        if repo is None:
            raise NotFound(documentation_url="https://docs.github.com/rest/repos/repos#get-a-repository")
        return repo

    def git_repo(self, owner: str, name: str) -> GitRepo:
        repo = self.get_repo(owner, name)
        return GitRepo(self.repo_git_dir(repo["owner"], repo["name"]))

    def repos_of(self, owner: str) -> list[dict[str, Any]]:
        """The repos of the account ``owner`` (any case, as GitHub matches it)."""
        login = str(self.account(owner)[0]["login"]).lower()
        return [r for r in self.data["repos"].values() if r["owner"].lower() == login]
