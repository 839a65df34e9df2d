"""Branch protection, rulesets and CODEOWNERS checks of the sandbox state (no HTTP).

A mixin of :class:`~drift_pipeline.sandbox.github.state.SandboxState`, which provides ``data``,
``get_repo``, ``git_repo``, ``org``, ``teams_of`` and ``next_id``. The seeders' writes store
GitHub's request shapes; the server's reads answer per token as GitHub does (typed errors only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drift_pipeline.sandbox.github import render_rules
from drift_pipeline.sandbox.github.access import require_admin
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.matching import codeowners_errors, ref_matches, repo_name_matches

if TYPE_CHECKING:
    from drift_pipeline.sandbox.github.gitrepo import GitRepo

_PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"


class RulesState:
    """Classic branch protection, repo and org rulesets, CODEOWNERS errors; mixed into ``SandboxState``."""

    data: dict[str, Any]

    if TYPE_CHECKING:

        def get_repo(self, owner: str, name: str) -> dict[str, Any]: ...

        def git_repo(self, owner: str, name: str) -> GitRepo: ...

        def org(self, login: str) -> dict[str, Any]: ...

        def teams_of(self, org: str) -> dict[str, dict[str, Any]]: ...

        def next_id(self) -> int: ...

    # -- writes (the seeders') ---------------------------------------------------------------
    def set_branch_protection(self, owner: str, repo: str, branch: str, body: dict[str, Any]) -> None:
        """``body`` has the shape of GitHub's ``PUT /repos/{o}/{r}/branches/{b}/protection``."""
        self.data["protections"].setdefault(f"{owner}/{repo}", {})[branch] = body

    def add_ruleset(self, owner: str, repo: str, ruleset: dict[str, Any]) -> int:
        """``ruleset`` has GitHub's shape (name, target, enforcement, conditions, rules, bypass_actors)."""
        rid = self.next_id()
        self.data["rulesets"].setdefault(f"{owner}/{repo}", []).append(
            {**ruleset, "id": rid, "source_type": "Repository", "source": f"{owner}/{repo}"}
        )
        return rid

    def add_org_ruleset(self, org: str, ruleset: dict[str, Any]) -> int:
        """An org ruleset; ``conditions.repository_name {include, exclude}`` picks its repos."""
        rid = self.next_id()
        self.data["org_rulesets"].setdefault(org, []).append(
            {**ruleset, "id": rid, "source_type": "Organization", "source": org}
        )
        return rid

    # -- reads (the server's) ---------------------------------------------------------------
    def protection(self, owner: str, repo: str, branch: str, *, token: dict[str, Any] | None = None) -> dict[str, Any]:
        """The stored PUT-shape protection body, read as GitHub answers it per token.

        Without admin rights: a classic token gets 404 "Not Found" (GitHub hides what it may not
        show), an App installation token 403 "Resource not accessible by integration". With admin
        rights, an unprotected branch is 404 "Branch not protected".
        """
        r = self.get_repo(owner, repo)
        require_admin(token, _PROTECTION_DOCS, r)
        body = self.data["protections"].get(f"{r['owner']}/{r['name']}", {}).get(branch)
        if body is None:
            raise NotFound("Branch not protected", documentation_url=_PROTECTION_DOCS)
        return body

    def has_classic_protection(self, owner: str, repo: str, branch: str) -> bool:
        r = self.get_repo(owner, repo)
        return branch in self.data["protections"].get(f"{r['owner']}/{r['name']}", {})

    def is_protected(self, owner: str, repo: str, branch: str) -> bool:
        """GitHub's ``protected`` of a branch: classic protection, or an active repo or org ruleset targeting it."""
        if self.has_classic_protection(owner, repo, branch):
            return True
        r = self.get_repo(owner, repo)
        return any(
            rs.get("enforcement", "active") == "active"
            and rs.get("target", "branch") == "branch"
            and ref_matches((rs.get("conditions") or {}).get("ref_name"), branch, r["default_branch"])
            for rs in self.repo_rulesets(owner, repo, includes_parents=True)
        )

    def repo_rulesets(self, owner: str, repo: str, *, includes_parents: bool = True) -> list[dict[str, Any]]:
        """Repo rulesets, plus (``includes_parents``) the org rulesets whose repository conditions match."""
        r = self.get_repo(owner, repo)
        out = list(self.data["rulesets"].get(f"{r['owner']}/{r['name']}", []))
        if includes_parents:
            for rs in self.data["org_rulesets"].get(r["owner"], []):
                if repo_name_matches(rs.get("conditions") or {}, r):
                    out.append(rs)
        return out

    def org_rulesets(self, org: str, *, token: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """An org's rulesets: org admins only (404 to a classic token without, 403 to an App)."""
        login = self.org(org)["login"]
        require_admin(token, "https://docs.github.com/rest/orgs/rules#get-all-organization-repository-rulesets")
        return list(self.data["org_rulesets"].get(login, []))

    def org_ruleset(self, org: str, ruleset_id: int, *, token: dict[str, Any] | None = None) -> dict[str, Any]:
        for rs in self.org_rulesets(org, token=token):
            if int(rs["id"]) == int(ruleset_id):
                return rs
        raise NotFound(
            documentation_url="https://docs.github.com/rest/orgs/rules#get-an-organization-repository-ruleset"
        )

    def ruleset(self, owner: str, repo: str, ruleset_id: int, *, includes_parents: bool = True) -> dict[str, Any]:
        for rs in self.repo_rulesets(owner, repo, includes_parents=includes_parents):
            if int(rs["id"]) == int(ruleset_id):
                return rs
        raise NotFound()

    def branch_rules(self, owner: str, repo: str, branch: str) -> list[dict[str, Any]]:
        """The active branch rules for ``branch`` from repo and org rulesets, flattened."""
        r = self.get_repo(owner, repo)
        out = []
        for rs in self.repo_rulesets(owner, repo, includes_parents=True):
            if rs.get("enforcement", "active") != "active" or rs.get("target", "branch") != "branch":
                continue
            if not ref_matches((rs.get("conditions") or {}).get("ref_name"), branch, r["default_branch"]):
                continue
            for rule in rs.get("rules", []):
                item = render_rules.rule(rule)
                item.update(ruleset_source_type=rs["source_type"], ruleset_source=rs["source"], ruleset_id=rs["id"])
                out.append(item)
        return out

    def codeowners_errors(self, owner: str, repo: str, ref: str | None = None) -> list[dict[str, Any]]:
        """Errors in the CODEOWNERS file GitHub would use; 404 when there is none."""
        r = self.get_repo(owner, repo)
        git = self.git_repo(owner, repo)
        sha = git.resolve(ref or r["default_branch"])
        if sha is None:
            raise NotFound()
        for path in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"):
            entry = git.entry(sha, path)
            if entry is not None and entry.type == "blob":
                text = git.blob(entry.sha).decode("utf-8", "replace")
                return codeowners_errors(text, path, self._owner_check(r))
        raise NotFound()

    def _owner_check(self, r: dict[str, Any]) -> Callable[[str], bool] | None:
        """Whether an ``@owner`` may own files of repo ``r``; None when the org records no teams."""
        teams = self.teams_of(r["owner"])
        if not teams:
            return None
        accounts = {k.lower() for k in self.data["users"]}  # an organization cannot own code

        def known(owner: str) -> bool:
            org, slash, slug = owner[1:].partition("/")
            if not slash:
                return org.lower() in accounts
            team = next((t for k, t in teams.items() if k.lower() == slug.lower()), None)
            return (
                org.lower() == r["owner"].lower()
                and team is not None
                and (team["repos"] is None or r["name"] in team["repos"])
            )

        return known
