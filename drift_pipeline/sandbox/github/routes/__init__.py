"""The faithful half of the sandbox: GitHub REST routes, one module per resource.

``TABLE`` is the one route table, in matching order: the first route whose pattern matches a
path serves it. ``{x}`` is one path segment, ``{x+}`` one or more, ``{x*}`` any. Order matters
where a ``{x+}`` pattern could swallow a longer path: ``.../branches/{branch+}`` also matches
``.../branches/feature/x/protection``, so every protection route comes before the branch route.
:func:`shadowed` finds any route that an earlier one hides; importing this module checks the
table with it. The endpoint list in ``/_sandbox/endpoints`` and the README is generated from
``ROUTES`` (the table compiled, same order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from drift_pipeline.sandbox.github.routes import (
    accounts,
    apps,
    branches,
    git_data,
    issues,
    pulls,
    rulesets,
    statuses,
    tags,
)
from drift_pipeline.sandbox.github.routes.context import Ctx, Reply, iso_cmp, parse_time

__all__ = [
    "ROUTES",
    "TABLE",
    "Ctx",
    "Reply",
    "Route",
    "compile_table",
    "iso_cmp",
    "match",
    "parse_time",
    "sample_paths",
    "shadowed",
]

_R = "/repos/{owner}/{repo}"
_B = f"{_R}/branches/{{branch+}}"

TABLE: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    # accounts, organizations, repositories
    ("GET", "/user", accounts.get_authenticated_user),
    ("GET", "/users/{user}", accounts.get_user),
    ("GET", "/orgs/{org}", accounts.get_org),
    ("GET", "/orgs/{org}/repos", accounts.list_org_repos),
    ("GET", "/orgs/{org}/rulesets", rulesets.list_org_rulesets),
    ("GET", "/orgs/{org}/rulesets/{ruleset_id}", rulesets.get_org_ruleset),
    ("GET", "/users/{user}/repos", accounts.list_user_repos),
    ("GET", _R, accounts.get_repo),
    # commits, compare, git data, contents
    ("GET", f"{_R}/commits", git_data.list_commits),
    ("GET", f"{_R}/commits/{{sha}}/pulls", pulls.list_commit_pulls),
    ("GET", f"{_R}/commits/{{ref+}}/status", statuses.get_combined_status),
    ("GET", f"{_R}/commits/{{ref+}}/statuses", statuses.list_statuses),
    ("GET", f"{_R}/commits/{{ref+}}", git_data.get_commit),  # last: {ref+} would swallow the suffixes above
    ("GET", f"{_R}/compare/{{basehead+}}", git_data.compare),
    ("GET", f"{_R}/git/trees/{{sha+}}", git_data.get_tree),
    ("GET", f"{_R}/git/blobs/{{sha}}", git_data.get_blob),
    ("GET", f"{_R}/contents/{{path*}}", git_data.get_contents),
    ("GET", f"{_R}/tags", tags.list_tags),
    # branches and classic protection: the sub-resources, then the protection, then the branch
    ("GET", f"{_R}/branches", branches.list_branches),
    ("GET", f"{_B}/protection/required_status_checks/contexts", branches.get_status_check_contexts),
    ("GET", f"{_B}/protection/required_status_checks", branches.get_status_checks),
    ("GET", f"{_B}/protection/required_pull_request_reviews", branches.get_pr_reviews),
    ("GET", f"{_B}/protection/enforce_admins", branches.get_enforce_admins),
    ("GET", f"{_B}/protection/required_signatures", branches.get_required_signatures),
    ("GET", f"{_B}/protection/restrictions/users", branches.get_restriction_users),
    ("GET", f"{_B}/protection/restrictions/teams", branches.get_restriction_teams),
    ("GET", f"{_B}/protection/restrictions/apps", branches.get_restriction_apps),
    ("GET", f"{_B}/protection/restrictions", branches.get_restrictions),
    ("GET", f"{_B}/protection", branches.get_protection),
    ("GET", _B, branches.get_branch),
    # rulesets, branch rules, CODEOWNERS
    ("GET", f"{_R}/rulesets", rulesets.list_rulesets),
    ("GET", f"{_R}/rulesets/{{ruleset_id}}", rulesets.get_ruleset),
    ("GET", f"{_R}/rules/branches/{{branch+}}", rulesets.get_branch_rules),
    ("GET", f"{_R}/codeowners/errors", rulesets.get_codeowners_errors),
    # issues, comments, labels, search
    ("GET", f"{_R}/issues", issues.list_issues),
    ("POST", f"{_R}/issues", issues.create_issue),
    ("GET", f"{_R}/issues/{{number}}", issues.get_issue),
    ("PATCH", f"{_R}/issues/{{number}}", issues.update_issue),
    ("GET", f"{_R}/issues/{{number}}/comments", issues.list_comments),
    ("POST", f"{_R}/issues/{{number}}/comments", issues.create_comment),
    ("GET", f"{_R}/issues/{{number}}/labels", issues.list_issue_labels),
    ("POST", f"{_R}/issues/{{number}}/labels", issues.add_issue_labels),
    ("PUT", f"{_R}/issues/{{number}}/labels", issues.set_issue_labels),
    ("DELETE", f"{_R}/issues/{{number}}/labels", issues.remove_all_issue_labels),
    ("DELETE", f"{_R}/issues/{{number}}/labels/{{name+}}", issues.remove_issue_label),
    ("GET", f"{_R}/labels", issues.list_labels),
    ("POST", f"{_R}/labels", issues.create_label),
    ("GET", f"{_R}/labels/{{name+}}", issues.get_label),
    ("PATCH", f"{_R}/labels/{{name+}}", issues.update_label),
    ("GET", "/search/issues", issues.search_issues),
    # pull requests (they are issues too: issue listings and search include them)
    ("GET", f"{_R}/pulls", pulls.list_pulls),
    ("GET", f"{_R}/pulls/{{number}}", pulls.get_pull),
    ("GET", f"{_R}/pulls/{{number}}/reviews", pulls.list_reviews),
    ("GET", f"{_R}/pulls/{{number}}/files", pulls.list_files),
    # GitHub Apps (authenticated by the App's JWT, but revoking a token: by that token)
    ("GET", "/app", apps.get_app),
    ("GET", "/app/installations", apps.list_installations),
    ("POST", "/app/installations/{installation_id}/access_tokens", apps.create_access_token),
    ("GET", "/orgs/{org}/installation", apps.get_org_installation),
    ("DELETE", "/installation/token", apps.revoke_access_token),
    # misc
    ("GET", "/rate_limit", accounts.get_rate_limit),
)


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as shown: "{x+}" and "{x*}" written "{x}"
    pattern: str  # as written in the table
    regex: re.Pattern[str]
    handler: Callable[..., Any]
    summary: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> tuple[str, re.Pattern[str]]:
    parts = []
    for piece in re.split(r"(\{\w+[+*]?\})", template):
        m = re.fullmatch(r"\{(\w+)([+*]?)\}", piece)
        if m:
            pat = {"+": ".+", "*": ".*"}.get(m.group(2), "[^/]+")
            parts.append(f"(?P<{m.group(1)}>{pat})")
        else:
            parts.append(re.escape(piece))
    shown = re.sub(r"\{(\w+)[+*]?\}", r"{\1}", template)
    regex = "".join(parts)
    if regex.endswith("/(?P<path>.*)"):  # contents: "/contents" and "/contents/" are the root
        regex = regex[: -len("/(?P<path>.*)")] + "(?:/(?P<path>.*))?"
    return shown, re.compile(f"^{regex}/?$")


def compile_table(table: Sequence[tuple[str, str, Callable[..., Any]]]) -> list[Route]:
    """The routes of ``table``, in its order; a handler's summary is its docstring's first line."""
    out = []
    for method, template, handler in table:
        shown, regex = _compile(template)
        summary = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
        out.append(Route(method, shown, template, regex, handler, summary))
    return out


def match(method: str, path: str, routes: Sequence[Route] | None = None) -> tuple[Route | None, dict[str, str], bool]:
    """The route for ``method path``, its parameters, and whether any route had that path."""
    path_known = False
    for r in ROUTES if routes is None else routes:
        m = r.regex.match(path)
        if m:
            path_known = True
            if r.method == method or (method == "HEAD" and r.method == "GET"):
                return r, {k: v or "" for k, v in m.groupdict().items()}, True
    return None, {}, path_known


def sample_paths(route: Route) -> list[str]:
    """Concrete paths ``route`` must serve: each parameter as one segment, and each ``{x+}``/``{x*}``
    also as two segments (a branch ``feature/x``, a path ``src/app.py``)."""

    def fill(multi: bool) -> str:
        def one(m: re.Match[str]) -> str:
            name, kind = m.group(1), m.group(2)
            return f"{name}-1/{name}-2" if multi and kind else f"{name}-1"

        return re.sub(r"\{(\w+)([+*]?)\}", one, route.pattern)

    return list(dict.fromkeys([fill(False), fill(True)]))


def shadowed(routes: Sequence[Route]) -> list[tuple[Route, str, Route | None]]:
    """Every (route, sample path, route that serves it instead) where a route does not get its own paths."""
    out = []
    for r in routes:
        for path in sample_paths(r):
            got, _, _ = match(r.method, path, routes)
            if got is not r:
                out.append((r, path, got))
    return out


ROUTES: list[Route] = compile_table(TABLE)

if _hidden := shadowed(ROUTES):  # a table edit that hides a route fails at import, not in production
    raise RuntimeError(
        "route table order hides routes: "
        + "; ".join(f"{r.key} ({path}) is served by {got.key if got else 'nothing'}" for r, path, got in _hidden)
    )
