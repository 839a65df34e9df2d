"""The faithful half of the sandbox: GitHub REST routes.

Each handler parses its request, makes one call on the state model (or its git view) and
serializes with :mod:`render`; it knows nothing of auth, rate limits, ETags or faults, which
the server applies around every route. ``ROUTES`` is the route table: the endpoint list in
``/_sandbox/endpoints`` and the README is generated from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from drift_pipeline.sandbox.github import render
from drift_pipeline.sandbox.github.errors import BadRequest, Conflict, NotFound, Unprocessable
from drift_pipeline.sandbox.github.state import SandboxState

T = TypeVar("T")


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Ctx:
    """What a handler sees of a request."""

    state: SandboxState
    base: str                       # e.g. http://127.0.0.1:PORT (plus /api/v3 when used)
    url: str                        # this request's URL without query
    args: MultiDict
    headers: Any
    body: bytes
    token: dict[str, Any]
    mutate: Callable[[Callable[[SandboxState], Any]], Any]
    limits: dict[str, int]
    rate: Callable[[str], dict[str, Any]]
    link: str | None = None

    def json(self) -> dict[str, Any]:
        import json

        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise BadRequest() from None
        if not isinstance(data, dict):
            raise BadRequest()
        return data

    def arg_int(self, name: str, default: int) -> int:
        try:
            return int(self.args.get(name, default))
        except (TypeError, ValueError):
            return default

    def paginate(self, items: list[T], *, default: int = 30, maximum: int = 100) -> list[T]:
        """The requested page of ``items``; sets the RFC 5988 ``Link`` header."""
        per_page = min(max(self.arg_int("per_page", default), 1), maximum)
        page = max(self.arg_int("page", 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []

        def href(n: int) -> str:
            args = MultiDict(self.args)
            args["page"] = str(n)
            return f"{self.url}?{urlencode(list(args.items(multi=True)))}"

        if page < last:
            links += [f'<{href(page + 1)}>; rel="next"', f'<{href(last)}>; rel="last"']
        if page > 1:
            links += [f'<{href(1)}>; rel="first"', f'<{href(min(page - 1, last))}>; rel="prev"']
        self.link = ", ".join(links) or None
        return items[(page - 1) * per_page: page * per_page]

    def ids(self, login: str) -> int:
        return self.state.account_id(login)

    def owner_json(self, login: str) -> dict[str, Any]:
        try:
            _, kind = self.state.account(login)
        except NotFound:
            kind = "User"
        return render.account(self.base, login, self.ids(login), kind)

    def user_json(self, login: str) -> dict[str, Any]:
        return self.owner_json(login)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]
    summary: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


ROUTES: list[Route] = []


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
    if regex.endswith("/(?P<path>.*)"):          # contents: "/contents" and "/contents/" are the root
        regex = regex[: -len("/(?P<path>.*)")] + "(?:/(?P<path>.*))?"
    return shown, re.compile(f"^{regex}/?$")


def route(method: str, template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler; ``{x}`` is one path segment, ``{x+}`` one or more, ``{x*}`` any."""
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        shown, regex = _compile(template)
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        ROUTES.append(Route(method, shown, regex, fn, summary))
        return fn
    return deco


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route for ``method path``, its parameters, and whether any route had that path."""
    path_known = False
    for r in ROUTES:
        m = r.regex.match(path)
        if m:
            path_known = True
            if r.method == method or (method == "HEAD" and r.method == "GET"):
                return r, {k: v or "" for k, v in m.groupdict().items()}, True
    return None, {}, path_known


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601, naive meaning UTC (PyGithub drops the offset from ``since=``)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Unprocessable(f"Invalid time: {value}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _iso_cmp(value: str | None) -> str | None:
    when = parse_time(value)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


# == accounts =================================================================================
@route("GET", "/user")
def get_authenticated_user(ctx: Ctx) -> Any:
    """The token's user."""
    login = ctx.token["login"]
    return render.user(ctx.base, login, ctx.ids(login))


@route("GET", "/users/{user}")
def get_user(ctx: Ctx, user: str) -> Any:
    """A user or organization account."""
    acct, kind = ctx.state.account(user)
    out = render.user(ctx.base, acct["login"], acct["id"], kind)
    out["public_repos"] = sum(not r["private"] for r in ctx.state.repos_of(acct["login"]))
    return out


@route("GET", "/orgs/{org}")
def get_org(ctx: Ctx, org: str) -> Any:
    """An organization."""
    o = ctx.state.org(org)
    repos = ctx.state.repos_of(o["login"])
    return render.org(ctx.base, o, sum(not r["private"] for r in repos), sum(r["private"] for r in repos))


def _repo_json(ctx: Ctx, r: dict[str, Any]) -> dict[str, Any]:
    git = ctx.state.git_repo(r["owner"], r["name"])
    ts = git.newest_commit_ts()
    pushed = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None
    full = f"{r['owner']}/{r['name']}"
    open_issues = sum(i["state"] == "open" for i in ctx.state.data["issues"].get(full, []))
    return render.repo(ctx.base, {**r, "_open_issues": open_issues}, ctx.owner_json(r["owner"]), pushed,
                       admin=bool(ctx.token.get("admin", True)))


def _sorted_repos(ctx: Ctx, repos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sort = ctx.args.get("sort", "created")
    direction = ctx.args.get("direction", "asc" if sort == "full_name" else "desc")
    key = (lambda r: f"{r['owner']}/{r['name']}".lower()) if sort == "full_name" else \
        (lambda r: (r.get("created_at", ""), r["id"]))
    return sorted(repos, key=key, reverse=direction == "desc")


@route("GET", "/orgs/{org}/repos")
def list_org_repos(ctx: Ctx, org: str) -> Any:
    """Repositories of an organization (type, sort, direction, per_page, page)."""
    ctx.state.org(org)
    kind = ctx.args.get("type", "all")
    repos = ctx.state.repos_of(org)
    repos = [r for r in repos if {
        "public": not r["private"], "private": r["private"], "forks": r["fork"], "sources": not r["fork"],
    }.get(kind, True)]
    return [_repo_json(ctx, r) for r in ctx.paginate(_sorted_repos(ctx, repos))]


@route("GET", "/users/{user}/repos")
def list_user_repos(ctx: Ctx, user: str) -> Any:
    """Repositories owned by a user (or organization)."""
    repos = ctx.state.repos_of(user)
    return [_repo_json(ctx, r) for r in ctx.paginate(_sorted_repos(ctx, repos))]


# == repositories and git data ================================================================
@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx, owner: str, repo: str) -> Any:
    """A repository, with pushed_at = the newest commit's date."""
    return _repo_json(ctx, ctx.state.get_repo(owner, repo))


def _full(ctx: Ctx, owner: str, repo: str) -> str:
    r = ctx.state.get_repo(owner, repo)
    return f"{r['owner']}/{r['name']}"


def _nonempty(ctx: Ctx, owner: str, repo: str):  # noqa: ANN202
    git = ctx.state.git_repo(owner, repo)
    if git.is_empty():
        raise Conflict("Git Repository is empty.")
    return git


def _person(ctx: Ctx, email: str) -> dict[str, Any] | None:
    local = email.split("@", 1)[0].split("+", 1)[-1]
    if local in ctx.state.data["users"]:
        return ctx.user_json(local)
    return None


@route("GET", "/repos/{owner}/{repo}/commits")
def list_commits(ctx: Ctx, owner: str, repo: str) -> Any:
    """Commits from sha (default branch), filtered by path, since, until (committer dates)."""
    r = ctx.state.get_repo(owner, repo)
    git = _nonempty(ctx, owner, repo)
    sha = git.must_resolve(ctx.args.get("sha") or r["default_branch"])
    since, until = parse_time(ctx.args.get("since")), parse_time(ctx.args.get("until"))
    commits = git.log(sha, ctx.args.get("path") or None)
    if since:
        commits = [c for c in commits if c.committer_ts >= since.timestamp()]
    if until:
        commits = [c for c in commits if c.committer_ts <= until.timestamp()]
    for key, attr in (("author", "author_email"), ("committer", "committer_email")):
        if ctx.args.get(key):
            who = ctx.args[key].lower()
            commits = [c for c in commits if who in (getattr(c, attr).lower(),
                                                     getattr(c, attr).split("@")[0].lower())]
    full = _full(ctx, owner, repo)
    return [render.commit(ctx.base, full, c, _person(ctx, c.author_email), _person(ctx, c.committer_email))
            for c in ctx.paginate(commits)]


@route("GET", "/repos/{owner}/{repo}/commits/{ref+}")
def get_commit(ctx: Ctx, owner: str, repo: str, ref: str) -> Any:
    """One commit with stats and files (patches)."""
    git = _nonempty(ctx, owner, repo)
    sha = git.resolve(ref)
    if sha is None:
        raise Unprocessable(f"No commit found for SHA: {ref}",
                            documentation_url="https://docs.github.com/rest/commits/commits#get-a-commit")
    c = git.commit(sha)
    diff = git.commit_diff(c)
    return render.commit(ctx.base, _full(ctx, owner, repo), c, _person(ctx, c.author_email),
                         _person(ctx, c.committer_email), diff)


@route("GET", "/repos/{owner}/{repo}/compare/{basehead+}")
def compare(ctx: Ctx, owner: str, repo: str, basehead: str) -> Any:
    """Compare base...head: commits (paged, 250 by default), files with patches, ahead/behind."""
    if "..." not in basehead:
        raise NotFound()
    base_ref, head_ref = basehead.split("...", 1)
    git = _nonempty(ctx, owner, repo)
    base_sha, head_sha = git.resolve(base_ref), git.resolve(head_ref)
    if base_sha is None or head_sha is None:
        raise NotFound()
    merge_base = git.merge_base(base_sha, head_sha) or base_sha
    ahead, behind = git.count(f"{base_sha}..{head_sha}"), git.count(f"{head_sha}..{base_sha}")
    status = "identical" if not ahead and not behind else "behind" if not ahead else \
        "ahead" if not behind else "diverged"
    full = _full(ctx, owner, repo)
    commits = git.range(base_sha, head_sha)
    page = ctx.paginate(commits, default=250, maximum=1000)
    mb = git.commit(merge_base)
    bc = git.commit(base_sha)
    as_json = lambda c: render.commit(ctx.base, full, c, _person(ctx, c.author_email),  # noqa: E731
                                      _person(ctx, c.committer_email))
    return {
        "url": f"{ctx.base}/repos/{full}/compare/{basehead}",
        "html_url": f"{ctx.base}/{full}/compare/{basehead}",
        "permalink_url": f"{ctx.base}/{full}/compare/{base_sha}...{head_sha}",
        "diff_url": f"{ctx.base}/{full}/compare/{basehead}.diff",
        "patch_url": f"{ctx.base}/{full}/compare/{basehead}.patch",
        "base_commit": as_json(bc), "merge_base_commit": as_json(mb), "status": status,
        "ahead_by": ahead, "behind_by": behind, "total_commits": len(commits),
        "commits": [as_json(c) for c in page],
        "files": [render.file_change(ctx.base, full, head_sha, f)
                  for f in git.diff(merge_base, head_sha).files],
    }


@route("GET", "/repos/{owner}/{repo}/git/trees/{sha+}")
def get_tree(ctx: Ctx, owner: str, repo: str, sha: str) -> Any:
    """A tree by tree sha, commit sha or branch; recursive=1 lists every path."""
    git = ctx.state.git_repo(owner, repo)
    recursive = ctx.args.get("recursive", "") not in ("", "0", "false")
    ref = git.resolve(sha) or sha
    tree_sha, entries = git.tree(ref, recursive)
    return render.tree(ctx.base, _full(ctx, owner, repo), tree_sha, entries)


@route("GET", "/repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(ctx: Ctx, owner: str, repo: str, sha: str) -> Any:
    """A blob, base64."""
    git = ctx.state.git_repo(owner, repo)
    data = git.blob(sha)
    if "raw" in ctx.headers.get("Accept", ""):
        return Reply(data, content_type="application/octet-stream")
    return render.blob(ctx.base, _full(ctx, owner, repo), sha, data)


@route("GET", "/repos/{owner}/{repo}/contents/{path*}")
def get_contents(ctx: Ctx, owner: str, repo: str, path: str) -> Any:
    """A file (base64) or a directory listing at ref (default branch)."""
    r = ctx.state.get_repo(owner, repo)
    git = ctx.state.git_repo(owner, repo)
    if git.is_empty():
        raise NotFound("This repository is empty.")
    ref = ctx.args.get("ref") or r["default_branch"]
    sha = git.resolve(ref)
    if sha is None:
        raise NotFound(f"No commit found for the ref {ref}")
    entry = git.entry(sha, path)
    if entry is None:
        raise NotFound(documentation_url="https://docs.github.com/rest/repos/contents#get-repository-content")
    full = _full(ctx, owner, repo)
    if entry.type == "tree":
        return [render.content_entry(ctx.base, full, ref, sha, e) for e in git.list_dir(entry.sha, entry.path)]
    data = git.blob(entry.sha) if entry.type == "blob" else None
    if data is not None and "raw" in ctx.headers.get("Accept", ""):
        return Reply(data, content_type="application/octet-stream")
    return render.content_entry(ctx.base, full, ref, sha, entry, data)


# == branches, protection, rulesets ===========================================================
def _branch_names(ctx: Ctx, owner: str, repo: str) -> dict[str, str]:
    return dict(ctx.state.git_repo(owner, repo).branches())


@route("GET", "/repos/{owner}/{repo}/branches")
def list_branches(ctx: Ctx, owner: str, repo: str) -> Any:
    """Branches with protected and protection_url (protected=true filters)."""
    full = _full(ctx, owner, repo)
    items = sorted(_branch_names(ctx, owner, repo).items())
    prot = ctx.args.get("protected")
    out = [(n, s, ctx.state.is_protected(owner, repo, n)) for n, s in items]
    if prot is not None:
        want = prot in ("true", "1")
        out = [b for b in out if b[2] == want]
    return [render.branch(ctx.base, full, n, s, p, None, None) for n, s, p in ctx.paginate(out)]


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_status_checks")
def get_status_checks(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Required status checks of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("required_status_checks"):
        raise NotFound("Required status checks not enabled")
    return render.status_checks(ctx.url, body["required_status_checks"], bool(body.get("enforce_admins")))


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_pull_request_reviews")
def get_pr_reviews(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Required pull request reviews of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("required_pull_request_reviews"):
        raise NotFound("Required pull request reviews not enabled")
    return render.pr_reviews(ctx.url, body["required_pull_request_reviews"], ctx.base, ctx.ids)


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/enforce_admins")
def get_enforce_admins(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Admin enforcement of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    return {"url": ctx.url, "enabled": bool(body.get("enforce_admins"))}


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/required_signatures")
def get_required_signatures(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Commit signature protection of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    sig = body.get("required_signatures")
    return {"url": ctx.url, "enabled": bool(sig.get("enabled") if isinstance(sig, dict) else sig)}


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection/restrictions")
def get_restrictions(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Push restrictions of a protected branch."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    if not body.get("restrictions"):
        raise NotFound("Push restrictions not enabled")
    return render.restrictions(ctx.url, body["restrictions"], ctx.base, ctx.ids)


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection")
def get_protection(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """Classic branch protection (admin read; 404 Branch not protected)."""
    body = ctx.state.protection(owner, repo, branch, token=ctx.token)
    return render.protection(ctx.url, body, ctx.base, ctx.ids)


@route("GET", "/repos/{owner}/{repo}/branches/{branch+}")
def get_branch(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """A branch with its commit, protected, protection and protection_url."""
    git = ctx.state.git_repo(owner, repo)
    sha = dict(git.branches()).get(branch)
    if sha is None:
        raise NotFound("Branch not found",
                       documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch")
    full = _full(ctx, owner, repo)
    c = git.commit(sha)
    commit_json = render.commit(ctx.base, full, c, _person(ctx, c.author_email), _person(ctx, c.committer_email))
    protected = ctx.state.is_protected(owner, repo, branch)
    body = ctx.state.data["protections"].get(full, {}).get(branch) if protected else None
    return render.branch(ctx.base, full, branch, sha, protected, commit_json, body)


def _includes_parents(ctx: Ctx) -> bool:
    return ctx.args.get("includes_parents", "true").lower() not in ("false", "0")


@route("GET", "/repos/{owner}/{repo}/rulesets")
def list_rulesets(ctx: Ctx, owner: str, repo: str) -> Any:
    """Ruleset summaries (includes_parents: also the org rulesets that target this repo)."""
    full = _full(ctx, owner, repo)
    sets = ctx.state.repo_rulesets(owner, repo, includes_parents=_includes_parents(ctx))
    return [render.ruleset(ctx.base, full, rs, summary=True) for rs in ctx.paginate(sets)]


@route("GET", "/repos/{owner}/{repo}/rulesets/{ruleset_id}")
def get_ruleset(ctx: Ctx, owner: str, repo: str, ruleset_id: str) -> Any:
    """One ruleset with conditions, rules and bypass actors."""
    if not ruleset_id.isdigit():
        raise NotFound()
    rs = ctx.state.ruleset(owner, repo, int(ruleset_id), includes_parents=_includes_parents(ctx))
    return render.ruleset(ctx.base, _full(ctx, owner, repo), rs, summary=False)


@route("GET", "/repos/{owner}/{repo}/rules/branches/{branch+}")
def get_branch_rules(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """The active rules for a branch from repo and org rulesets, flattened."""
    return ctx.paginate(ctx.state.branch_rules(owner, repo, branch))


@route("GET", "/repos/{owner}/{repo}/codeowners/errors")
def get_codeowners_errors(ctx: Ctx, owner: str, repo: str) -> Any:
    """CODEOWNERS syntax errors (404 when there is no CODEOWNERS)."""
    return {"errors": ctx.state.codeowners_errors(owner, repo, ctx.args.get("ref") or None)}


# == issues, labels, comments, search =========================================================
def _labels_json(ctx: Ctx, owner: str, repo: str, full: str, names: list[str]) -> list[dict[str, Any]]:
    by_name = {lab["name"].lower(): lab for lab in ctx.state.labels_of(owner, repo)}
    return [render.label(ctx.base, full, by_name[n.lower()]) for n in names if n.lower() in by_name]


def _issue_json(ctx: Ctx, owner: str, repo: str, issue: dict[str, Any]) -> dict[str, Any]:
    full = _full(ctx, owner, repo)
    return render.issue(ctx.base, full, issue, _labels_json(ctx, owner, repo, full, issue["labels"]), ctx.ids)


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx: Ctx, owner: str, repo: str) -> Any:
    """Issues (state, labels: all of them, creator, assignee, since, sort, direction)."""
    labels = [s.strip() for s in (ctx.args.get("labels") or "").split(",") if s.strip()]
    issues = ctx.state.list_issues(
        owner, repo, state=ctx.args.get("state", "open"), labels=labels,
        creator=ctx.args.get("creator"), assignee=ctx.args.get("assignee"),
        since=_iso_cmp(ctx.args.get("since")), sort=ctx.args.get("sort", "created"),
        direction=ctx.args.get("direction", "desc"))
    return [_issue_json(ctx, owner, repo, i) for i in ctx.paginate(issues)]


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx: Ctx, owner: str, repo: str) -> Any:
    """Open an issue (labels are created when absent) → 201."""
    data = ctx.json()
    assignees = list(data.get("assignees") or []) + ([data["assignee"]] if data.get("assignee") else [])
    issue = ctx.mutate(lambda st: st.create_issue(
        owner, repo, title=data.get("title") or "", body=data.get("body"), labels=data.get("labels"),
        assignees=assignees, user=ctx.token["login"]))
    out = _issue_json(ctx, owner, repo, issue)
    return Reply(out, status=201, headers={"Location": out["url"]})


@route("GET", "/repos/{owner}/{repo}/issues/{number}")
def get_issue(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """One issue."""
    if not number.isdigit():
        raise NotFound()
    return _issue_json(ctx, owner, repo, ctx.state.issue(owner, repo, int(number)))


@route("PATCH", "/repos/{owner}/{repo}/issues/{number}")
def update_issue(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Edit an issue: title, body, state, state_reason, labels, assignees."""
    if not number.isdigit():
        raise NotFound()
    data = ctx.json()
    issue = ctx.mutate(lambda st: st.update_issue(owner, repo, int(number), data))
    return _issue_json(ctx, owner, repo, issue)


@route("GET", "/repos/{owner}/{repo}/issues/{number}/comments")
def list_comments(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Comments on an issue (since)."""
    full = _full(ctx, owner, repo)
    comments = ctx.state.comments_of(owner, repo, int(number))
    since = _iso_cmp(ctx.args.get("since"))
    if since:
        comments = [c for c in comments if c["updated_at"] >= since]
    return [render.comment(ctx.base, full, c, ctx.ids) for c in ctx.paginate(comments)]


@route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
def create_comment(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Comment on an issue → 201."""
    data = ctx.json()
    c = ctx.mutate(lambda st: st.add_comment(owner, repo, int(number), body=data.get("body") or "",
                                             user=ctx.token["login"]))
    return Reply(render.comment(ctx.base, _full(ctx, owner, repo), c, ctx.ids), status=201)


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(ctx: Ctx, owner: str, repo: str) -> Any:
    """Labels of a repository."""
    full = _full(ctx, owner, repo)
    return [render.label(ctx.base, full, lab) for lab in ctx.paginate(ctx.state.labels_of(owner, repo))]


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Ctx, owner: str, repo: str) -> Any:
    """Create a label (422 already_exists) → 201."""
    data = ctx.json()
    lab = ctx.mutate(lambda st: st.create_label(owner, repo, data.get("name") or "",
                                                color=data.get("color") or "ededed",
                                                description=data.get("description")))
    return Reply(render.label(ctx.base, _full(ctx, owner, repo), lab), status=201)


@route("GET", "/repos/{owner}/{repo}/labels/{name+}")
def get_label(ctx: Ctx, owner: str, repo: str, name: str) -> Any:
    """One label by name."""
    return render.label(ctx.base, _full(ctx, owner, repo), ctx.state.label(owner, repo, name))


@route("GET", "/search/issues")
def search_issues(ctx: Ctx) -> Any:
    """Search issues: org: repo: user: is:issue is:open/closed state: label:"a" author: and words."""
    q = ctx.args.get("q")
    if not q:
        raise Unprocessable(errors=[{"resource": "Search", "field": "q", "code": "missing"}])
    hits = ctx.state.search_issues(q, sort=ctx.args.get("sort"), order=ctx.args.get("order", "desc"))
    page = ctx.paginate(hits)
    items = []
    for full, issue in page:
        o, r = full.split("/", 1)
        items.append({**_issue_json(ctx, o, r, issue), "score": 1.0})
    return {"total_count": len(hits), "incomplete_results": False, "items": items}


@route("GET", "/rate_limit")
def get_rate_limit(ctx: Ctx) -> Any:
    """The token's rate limits (does not count against them)."""
    resources = {name: ctx.rate(name) for name in ctx.limits}
    return {"resources": resources, "rate": resources["core"]}
