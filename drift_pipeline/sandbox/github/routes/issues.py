"""Issues, issue comments, labels and issue search (the only routes that write to the state)."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import render, render_pulls, validation
from drift_pipeline.sandbox.github.errors import NotFound, Unprocessable
from drift_pipeline.sandbox.github.routes.apps import app_json
from drift_pipeline.sandbox.github.routes.context import Ctx, Reply, full_name, iso_cmp, last_modified


def labels_json(ctx: Ctx, owner: str, repo: str, full: str, names: list[str]) -> list[dict[str, Any]]:
    by_name = {lab["name"].lower(): lab for lab in ctx.state.labels_of(owner, repo)}
    return [render.label(ctx.base, full, by_name[n.lower()]) for n in names if n.lower() in by_name]


def _issue_json(ctx: Ctx, owner: str, repo: str, issue: dict[str, Any]) -> dict[str, Any]:
    full = full_name(ctx, owner, repo)
    out = render.issue(ctx.base, full, issue, labels_json(ctx, owner, repo, full, issue["labels"]), ctx.ids)
    app = (ctx.state.data.get("apps") or {}).get(str(issue.get("performed_via_github_app")))
    if app is not None:  # opened with an App's installation token: GitHub names the App
        out["performed_via_github_app"] = app_json(ctx, app)
    if "pull" in issue:  # a pull request is an issue: listings carry it with its pull_request key
        out["pull_request"] = render_pulls.issue_pull_key(ctx.base, full, issue)
        out["html_url"] = out["pull_request"]["html_url"]
    return out


def _number(number: str) -> int:
    if not number.isdigit():
        raise NotFound()
    return int(number)


def list_issues(ctx: Ctx, owner: str, repo: str) -> Any:
    """Issues (state, labels: all of them, creator, assignee, since, sort, direction); 410 issues disabled."""
    ctx.state.issue_access(owner, repo)
    labels = [s.strip() for s in (ctx.args.get("labels") or "").split(",") if s.strip()]
    issues = ctx.state.list_issues(
        owner,
        repo,
        state=ctx.args.get("state", "open"),
        labels=labels,
        creator=ctx.args.get("creator"),
        assignee=ctx.args.get("assignee"),
        since=iso_cmp(ctx.args.get("since")),
        sort=ctx.args.get("sort", "created"),
        direction=ctx.args.get("direction", "desc"),
    )
    return [_issue_json(ctx, owner, repo, i) for i in ctx.paginate(issues)]


def create_issue(ctx: Ctx, owner: str, repo: str) -> Any:
    """Open an issue (labels are created when absent) → 201; 403 archived, 410 issues disabled."""
    ctx.state.issue_access(owner, repo, write=True)
    data = ctx.json()
    validation.issue(data, create=True)
    assignees = list(data.get("assignees") or []) + ([data["assignee"]] if data.get("assignee") else [])
    app_id = ctx.token.get("app_id") if ctx.token.get("kind") == "app" else None

    def create(st: Any) -> dict[str, Any]:
        issue = st.create_issue(
            owner,
            repo,
            title=data.get("title") or "",
            body=data.get("body"),
            labels=data.get("labels"),
            assignees=assignees,
            user=ctx.token["login"],
        )
        if app_id is not None:
            issue["performed_via_github_app"] = int(app_id)
        return issue

    out = _issue_json(ctx, owner, repo, ctx.mutate(create))
    return Reply(out, status=201, headers={"Location": out["url"]})


def get_issue(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """One issue."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n)
    return _issue_json(ctx, owner, repo, ctx.state.issue(owner, repo, n))


def update_issue(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Edit an issue: title, body, state, state_reason, labels, assignees."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    data = ctx.json()
    validation.issue(data, create=False)
    issue = ctx.mutate(lambda st: st.update_issue(owner, repo, n, data))
    return _issue_json(ctx, owner, repo, issue)


def list_comments(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Comments on an issue (since)."""
    full = full_name(ctx, owner, repo)
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n)
    comments = ctx.state.comments_of(owner, repo, n)
    since = iso_cmp(ctx.args.get("since"))
    if since:
        comments = [c for c in comments if c["updated_at"] >= since]
    return [render.comment(ctx.base, full, c, ctx.ids) for c in ctx.paginate(comments)]


def create_comment(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Comment on an issue → 201; 403 archived, 410 issues disabled."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    data = ctx.json()
    validation.comment(data)
    c = ctx.mutate(lambda st: st.add_comment(owner, repo, n, body=data.get("body") or "", user=ctx.token["login"]))
    out = render.comment(ctx.base, full_name(ctx, owner, repo), c, ctx.ids)
    return Reply(out, status=201, headers={"Location": out["url"]})


def list_labels(ctx: Ctx, owner: str, repo: str) -> Any:
    """Labels of a repository."""
    full = full_name(ctx, owner, repo)
    return [render.label(ctx.base, full, lab) for lab in ctx.paginate(ctx.state.labels_of(owner, repo))]


def create_label(ctx: Ctx, owner: str, repo: str) -> Any:
    """Create a label (422 already_exists) → 201; 403 archived."""
    ctx.state.repo_access(owner, repo, write=True)
    data = ctx.json()
    validation.label(data, create=True)
    lab = ctx.mutate(
        lambda st: st.create_label(
            owner,
            repo,
            data.get("name") or "",
            color=data.get("color") or "ededed",
            description=data.get("description"),
        )
    )
    out = render.label(ctx.base, full_name(ctx, owner, repo), lab)
    return Reply(out, status=201, headers={"Location": out["url"]})


def get_label(ctx: Ctx, owner: str, repo: str, name: str) -> Any:
    """One label by name."""
    lab = ctx.state.label(owner, repo, name)
    when = lab.get("updated_at") or ctx.state.get_repo(owner, repo)["created_at"]
    return Reply(render.label(ctx.base, full_name(ctx, owner, repo), lab), headers=last_modified(when))


def update_label(ctx: Ctx, owner: str, repo: str, name: str) -> Any:
    """Update a label: new_name (issues follow), color, description; 403 archived."""
    ctx.state.repo_access(owner, repo, write=True)
    data = ctx.json()
    validation.label(data, create=False)
    lab = ctx.mutate(lambda st: st.update_label(owner, repo, name, data))
    return render.label(ctx.base, full_name(ctx, owner, repo), lab)


def _label_names(ctx: Ctx) -> list[Any]:
    """The labels of a body: ``{"labels": [...]}``, a bare list, names or ``{"name": ...}``; 422 otherwise."""
    data = ctx.json_value()
    names = data.get("labels") if isinstance(data, dict) else data
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n or isinstance(n, dict) and isinstance(n.get("name"), str) for n in names
    ):
        raise Unprocessable(errors=[{"resource": "Label", "code": "invalid", "field": "labels"}])
    return names


def _issue_labels(ctx: Ctx, owner: str, repo: str, names: list[str]) -> list[dict[str, Any]]:
    return labels_json(ctx, owner, repo, full_name(ctx, owner, repo), names)


def list_issue_labels(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Labels on an issue; 410 issues disabled."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n)
    return _issue_labels(ctx, owner, repo, ctx.paginate(ctx.state.issue(owner, repo, n)["labels"]))


def add_issue_labels(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Add labels to an issue (created when absent) → all its labels; 403 archived, 410 issues disabled."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    names = _label_names(ctx)
    return _issue_labels(ctx, owner, repo, ctx.mutate(lambda st: st.set_issue_labels(owner, repo, n, names, add=True)))


def set_issue_labels(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Replace an issue's labels → its labels; 403 archived, 410 issues disabled."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    names = _label_names(ctx)
    return _issue_labels(ctx, owner, repo, ctx.mutate(lambda st: st.set_issue_labels(owner, repo, n, names, add=False)))


def remove_all_issue_labels(ctx: Ctx, owner: str, repo: str, number: str) -> Any:
    """Take every label off an issue → 204; 403 archived, 410 issues disabled."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    ctx.mutate(lambda st: st.set_issue_labels(owner, repo, n, [], add=False))
    return Reply(b"", status=204)


def remove_issue_label(ctx: Ctx, owner: str, repo: str, number: str, name: str) -> Any:
    """Take a label off an issue → its remaining labels (404 when it does not carry it)."""
    n = _number(number)
    ctx.state.issue_access(owner, repo, number=n, write=True)
    return _issue_labels(ctx, owner, repo, ctx.mutate(lambda st: st.remove_issue_label(owner, repo, n, name)))


def search_issues(ctx: Ctx) -> Any:
    """Search issues: org: repo: is: state: label: no:label author: assignee: in: created: updated:, words (422 else)."""
    q = ctx.args.get("q")
    if not q:
        raise Unprocessable(errors=[{"resource": "Search", "field": "q", "code": "missing"}])
    hits = ctx.state.search_issues(q, sort=ctx.args.get("sort"), order=ctx.args.get("order", "desc"))
    page = ctx.paginate(hits)
    items = []
    for full, issue in page:
        o, r = full.split("/", 1)
        items.append({**_issue_json(ctx, o, r, issue), "score": 1.0})
    return {"total_count": len(hits), "incomplete_results": False, "items": items, "search_type": "lexical"}
