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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from drift_pipeline.gitutil import init_bare

DEFAULT_TOKEN = "sandbox-token"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(when: datetime | None) -> str:
    if when is None:
        return _now()
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _empty() -> dict[str, Any]:
    return {
        "next_id": 1000,
        "orgs": {},            # login -> {login, name, id}
        "users": {},           # login -> {login, id}
        "repos": {},           # "owner/name" -> repo settings (see create_repo)
        "protections": {},     # "owner/name" -> {branch -> protection request body}
        "rulesets": {},        # "owner/name" -> [ruleset]
        "org_rulesets": {},    # org -> [ruleset]
        "issues": {},          # "owner/name" -> [issue]
        "comments": {},        # "owner/name#number" -> [comment]
        "labels": {},          # "owner/name" -> [label]
        "tokens": {DEFAULT_TOKEN: {"login": "drift-bot", "admin": True}},
    }


class SandboxState:
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
    def add_org(self, login: str, *, name: str | None = None) -> None:
        self.data["orgs"].setdefault(login, {"login": login, "name": name or login, "id": self.next_id()})

    def add_user(self, login: str) -> None:
        self.data["users"].setdefault(login, {"login": login, "id": self.next_id()})

    def add_token(self, token: str, *, login: str = "drift-bot", admin: bool = True) -> None:
        """``admin=False`` models a token without Administration read (classic protection is 403)."""
        self.data["tokens"][token] = {"login": login, "admin": admin}

    # -- repositories ----------------------------------------------------------------------
    def repo_git_dir(self, owner: str, name: str) -> Path:
        return self.root / "repos" / owner / f"{name}.git"

    def create_repo(self, owner: str, name: str, *, default_branch: str = "main",
                    private: bool = True, archived: bool = False, disabled: bool = False,
                    fork: bool = False, description: str = "",
                    created_at: datetime | None = None) -> Path:
        """Record a repo and create its bare git repository; returns the repository path."""
        if owner not in self.data["orgs"]:
            self.add_user(owner)
        full = f"{owner}/{name}"
        self.data["repos"][full] = {
            "id": self.next_id(), "owner": owner, "name": name, "default_branch": default_branch,
            "private": private, "archived": archived, "disabled": disabled, "fork": fork,
            "description": description, "created_at": _iso(created_at),
        }
        return init_bare(self.repo_git_dir(owner, name), default_branch)

    def update_repo(self, owner: str, name: str, **fields: Any) -> None:
        self.repo(owner, name).update(fields)

    def repo(self, owner: str, name: str) -> dict[str, Any]:
        return self.data["repos"][f"{owner}/{name}"]

    # -- process settings -------------------------------------------------------------------
    def set_branch_protection(self, owner: str, repo: str, branch: str, body: dict[str, Any]) -> None:
        """``body`` has the shape of GitHub's ``PUT /repos/{o}/{r}/branches/{b}/protection``."""
        self.data["protections"].setdefault(f"{owner}/{repo}", {})[branch] = body

    def add_ruleset(self, owner: str, repo: str, ruleset: dict[str, Any]) -> int:
        """``ruleset`` has GitHub's shape (name, target, enforcement, conditions, rules, bypass_actors)."""
        rid = self.next_id()
        self.data["rulesets"].setdefault(f"{owner}/{repo}", []).append(
            {**ruleset, "id": rid, "source_type": "Repository", "source": f"{owner}/{repo}"})
        return rid

    def add_org_ruleset(self, org: str, ruleset: dict[str, Any]) -> int:
        """An org ruleset; ``conditions.repository_name {include, exclude}`` picks its repos."""
        rid = self.next_id()
        self.data["org_rulesets"].setdefault(org, []).append(
            {**ruleset, "id": rid, "source_type": "Organization", "source": org})
        return rid
