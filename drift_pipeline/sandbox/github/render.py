"""GitHub's JSON wire shapes. Every URL is built on ``base`` (the server's own host)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from drift_pipeline.sandbox.github.gitrepo import CommitInfo, Diff, FileChange, TreeEntry


def q(part: str) -> str:
    return quote(part, safe="")


def node_id(kind: str, ident: Any) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")


def b64_lines(data: bytes) -> str:
    """Base64 as GitHub sends it: wrapped at 60 characters, a newline after each line."""
    enc = base64.b64encode(data).decode()
    return "".join(enc[i : i + 60] + "\n" for i in range(0, len(enc), 60))


def account(base: str, login: str, ident: int, kind: str = "User") -> dict[str, Any]:
    """GitHub's "simple-user" shape (owners, commit authors and committers, issue users)."""
    api = f"{base}/{'orgs' if kind == 'Organization' else 'users'}/{q(login)}"
    return {
        "login": login,
        "id": ident,
        "node_id": node_id(kind, ident),
        "avatar_url": f"{base}/_sandbox/avatars/{q(login)}",
        "gravatar_id": "",
        "url": f"{base}/users/{q(login)}",
        "html_url": f"{base}/{q(login)}",
        "repos_url": f"{api}/repos",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
        "events_url": f"{base}/users/{q(login)}/events{{/privacy}}",
        "followers_url": f"{base}/users/{q(login)}/followers",
        "following_url": f"{base}/users/{q(login)}/following{{/other_user}}",
        "gists_url": f"{base}/users/{q(login)}/gists{{/gist_id}}",
        "starred_url": f"{base}/users/{q(login)}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/users/{q(login)}/subscriptions",
        "organizations_url": f"{base}/users/{q(login)}/orgs",
        "received_events_url": f"{base}/users/{q(login)}/received_events",
    }


def org(base: str, org_: dict[str, Any], public_repos: int, total_private: int) -> dict[str, Any]:
    login = org_["login"]
    return {
        "login": login,
        "id": org_["id"],
        "node_id": node_id("Organization", org_["id"]),
        "url": f"{base}/orgs/{q(login)}",
        "repos_url": f"{base}/orgs/{q(login)}/repos",
        "events_url": f"{base}/orgs/{q(login)}/events",
        "hooks_url": f"{base}/orgs/{q(login)}/hooks",
        "issues_url": f"{base}/orgs/{q(login)}/issues",
        "members_url": f"{base}/orgs/{q(login)}/members{{/member}}",
        "public_members_url": f"{base}/orgs/{q(login)}/public_members{{/member}}",
        "avatar_url": f"{base}/_sandbox/avatars/{q(login)}",
        "description": org_.get("description") or None,  # GitHub: null when unset, never ""
        "name": org_.get("name", login),
        "blog": "",
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{base}/{q(login)}",
        "created_at": org_.get("created_at", "2020-01-01T00:00:00Z"),
        "updated_at": org_.get("created_at", "2020-01-01T00:00:00Z"),
        "archived_at": org_.get("archived_at"),
        "type": "Organization",
        "total_private_repos": total_private,
        "owned_private_repos": total_private,
        # organization-full documents these as (optional, non-nullable) strings: sent only when set
        **{k: org_[k] for k in ("company", "email", "location") if isinstance(org_.get(k), str)},
    }


def user(base: str, login: str, ident: int, kind: str = "User") -> dict[str, Any]:
    out = account(base, login, ident, kind)
    out.update(
        name=login,
        company=None,
        blog="",
        location=None,
        email=None,
        bio=None,
        hireable=None,
        twitter_username=None,
        public_repos=0,
        public_gists=0,
        followers=0,
        following=0,
        created_at="2020-01-01T00:00:00Z",
        updated_at="2020-01-01T00:00:00Z",
    )
    return out


# The repository's hypermedia URLs, in GitHub's order: each key's path (URI template) under ``/repos/{owner}/{repo}``.
REPO_URL_PATHS: tuple[tuple[str, str], ...] = (
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("hooks_url", "/hooks"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
)


def repo(
    base: str,
    r: dict[str, Any],
    owner: dict[str, Any],
    pushed_at: str | None,
    permissions: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """GitHub's repository object for the stored repo ``r``: its fields, then its URLs (:data:`REPO_URL_PATHS`)."""
    full = f"{r['owner']}/{r['name']}"
    api = f"{base}/repos/{full}"
    out = {
        "id": r["id"],
        "node_id": node_id("Repository", r["id"]),
        "name": r["name"],
        "full_name": full,
        "private": r["private"],
        "owner": owner,
        "html_url": f"{base}/{full}",
        "description": r.get("description") or None,
        "fork": r["fork"],
        "url": api,
        "created_at": r["created_at"],
        "updated_at": r.get("updated_at") or pushed_at or r["created_at"],
        "pushed_at": pushed_at or r["created_at"],
        "git_url": f"{base}/{full}.git",
        "ssh_url": f"{base}/{full}.git",
        "clone_url": f"{base}/{full}.git",
        "svn_url": f"{base}/{full}",
        "network_count": 0,
        "subscribers_count": 0,
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": r.get("language"),
        "has_issues": r.get("has_issues", True),
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": r["archived"],
        "disabled": r["disabled"],
        "open_issues_count": r.get("_open_issues", 0),
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": r.get("topics", []),
        "visibility": r.get("visibility") or ("private" if r["private"] else "public"),
        "forks": 0,
        "open_issues": r.get("_open_issues", 0),
        "watchers": 0,
        "default_branch": r["default_branch"],
        "permissions": permissions or {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    }
    out.update((key, api + path) for key, path in REPO_URL_PATHS)
    return out


# -- git data ---------------------------------------------------------------------------------
def _person(name: str, email: str, date: str) -> dict[str, str]:
    return {"name": name, "email": email, "date": date}


def commit(
    base: str,
    full: str,
    c: CommitInfo,
    author: dict[str, Any] | None = None,
    committer: dict[str, Any] | None = None,
    diff: Diff | None = None,
) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    out: dict[str, Any] = {
        "sha": c.sha,
        "node_id": node_id("Commit", c.sha),
        "commit": {
            "author": _person(c.author_name, c.author_email, c.author_date),
            "committer": _person(c.committer_name, c.committer_email, c.committer_date),
            "message": c.message,
            "tree": {"sha": c.tree, "url": f"{api}/git/trees/{c.tree}"},
            "url": f"{api}/git/commits/{c.sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{api}/commits/{c.sha}",
        "html_url": f"{base}/{full}/commit/{c.sha}",
        "comments_url": f"{api}/commits/{c.sha}/comments",
        "author": author,
        "committer": committer,
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{base}/{full}/commit/{p}"} for p in c.parents
        ],
    }
    if diff is not None:
        out["stats"] = {
            "total": diff.additions + diff.deletions,
            "additions": diff.additions,
            "deletions": diff.deletions,
        }
        out["files"] = [file_change(base, full, c.sha, f) for f in diff.files]
    return out


def file_change(base: str, full: str, ref: str, f: FileChange) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    path = quote(f.filename)
    out: dict[str, Any] = {
        "sha": f.sha,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.changes,
        "blob_url": f"{base}/{full}/blob/{ref}/{path}",
        "raw_url": f"{base}/_sandbox/raw/{full}/{ref}/{path}",
        "contents_url": f"{api}/contents/{path}?ref={ref}",
    }
    if f.patch is not None:
        out["patch"] = f.patch
    if f.previous_filename:
        out["previous_filename"] = f.previous_filename
    return out


def tree(base: str, full: str, sha: str, entries: tuple[TreeEntry, ...]) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    items = []
    for e in entries:
        item: dict[str, Any] = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            item["size"] = e.size
            item["url"] = f"{api}/git/blobs/{e.sha}"
        elif e.type == "tree":
            item["url"] = f"{api}/git/trees/{e.sha}"
        items.append(item)
    return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": items, "truncated": False}


def blob(base: str, full: str, sha: str, data: bytes) -> dict[str, Any]:
    return {
        "sha": sha,
        "node_id": node_id("Blob", sha),
        "size": len(data),
        "url": f"{base}/repos/{full}/git/blobs/{sha}",
        "content": b64_lines(data),
        "encoding": "base64",
    }


_CONTENT_TYPES = {"blob": "file", "tree": "dir", "commit": "submodule"}


def content_entry(
    base: str, full: str, ref: str, commit_sha: str, e: TreeEntry, data: bytes | None = None
) -> dict[str, Any]:
    api = f"{base}/repos/{full}"
    kind = "symlink" if e.mode == "120000" else _CONTENT_TYPES.get(e.type, "file")
    path = quote(e.path)
    self_url = f"{api}/contents/{path}?ref={quote(ref, safe='')}"
    git_url = f"{api}/git/{'trees' if e.type == 'tree' else 'blobs'}/{e.sha}"
    html = f"{base}/{full}/{'tree' if e.type == 'tree' else 'blob'}/{quote(ref, safe='')}/{path}"
    out: dict[str, Any] = {
        "name": e.name,
        "path": e.path,
        "sha": e.sha,
        "size": e.size or 0,
        "url": self_url,
        "html_url": html,
        "git_url": git_url,
        "download_url": f"{base}/_sandbox/raw/{full}/{commit_sha}/{path}" if e.type == "blob" else None,
        "type": kind,
        "_links": {"self": self_url, "git": git_url, "html": html},
    }
    if data is not None:
        out["content"] = b64_lines(data)
        out["encoding"] = "base64"
    return out


# -- issues -----------------------------------------------------------------------------------
def label(base: str, full: str, lab: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": lab["id"],
        "node_id": node_id("Label", lab["id"]),
        "url": f"{base}/repos/{full}/labels/{q(lab['name'])}",
        "name": lab["name"],
        "color": lab.get("color", "ededed"),
        "default": bool(lab.get("default")),
        "description": lab.get("description"),
    }


def issue(base: str, full: str, i: dict[str, Any], labels: list[dict[str, Any]], ids: Any) -> dict[str, Any]:
    api = f"{base}/repos/{full}/issues/{i['number']}"
    assignees = [account(base, a, ids(a)) for a in i["assignees"]]
    return {
        "id": i["id"],
        "node_id": node_id("Issue", i["id"]),
        "url": api,
        "repository_url": f"{base}/repos/{full}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{base}/{full}/issues/{i['number']}",
        "number": i["number"],
        "state": i["state"],
        "state_reason": i.get("state_reason"),
        "title": i["title"],
        "body": i.get("body"),
        "user": account(base, i["user"], ids(i["user"])),
        "labels": labels,
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": None,
        "locked": bool(i.get("locked")),
        "active_lock_reason": None,
        "comments": i.get("comments", 0),
        "closed_at": i.get("closed_at"),
        "created_at": i["created_at"],
        "updated_at": i["updated_at"],
        "closed_by": None,
        "author_association": "MEMBER",
        "performed_via_github_app": None,  # the App whose token opened it: set by routes/issues.py
        "reactions": {
            "url": f"{api}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "timeline_url": f"{api}/timeline",
    }


def comment(base: str, full: str, c: dict[str, Any], ids: Any) -> dict[str, Any]:
    return {
        "id": c["id"],
        "node_id": node_id("IssueComment", c["id"]),
        "url": f"{base}/repos/{full}/issues/comments/{c['id']}",
        "html_url": f"{base}/{full}/issues/{c['issue_number']}#issuecomment-{c['id']}",
        "issue_url": f"{base}/repos/{full}/issues/{c['issue_number']}",
        "body": c["body"],
        "user": account(base, c["user"], ids(c["user"])),
        "created_at": c["created_at"],
        "updated_at": c["updated_at"],
        "author_association": "MEMBER",
    }


def rate(limit: int, used: int, reset: int, resource: str) -> dict[str, Any]:
    return {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset, "resource": resource}
