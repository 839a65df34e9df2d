"""Issues, pull-request issues, labels, comments and issue search of the sandbox state (no HTTP).

A mixin of :class:`~drift_pipeline.sandbox.github.state.SandboxState`, which provides ``data``,
``get_repo`` and ``next_id``; pull requests live here too, as issues with a ``pull`` record
(see :mod:`drift_pipeline.sandbox.github.pulls`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drift_pipeline.sandbox.github.errors import Forbidden, Gone, NotFound, Unprocessable
from drift_pipeline.sandbox.github.search import QueryError, compile_query

_ISSUES_DOCS = "https://docs.github.com/rest/issues/issues"
_SEARCH_DOCS = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(when: datetime | None) -> str:
    if when is None:
        return _now()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IssueState:
    """Issues, labels and comments; mixed into ``SandboxState``."""

    data: dict[str, Any]

    if TYPE_CHECKING:

        def get_repo(self, owner: str, name: str) -> dict[str, Any]: ...

        def next_id(self) -> int: ...

    # -- what GitHub refuses over its API (the state's own writers, i.e. seeds, are not refused) -
    def issue_access(self, owner: str, repo: str, *, number: int | None = None, write: bool = False) -> None:
        """Raise GitHub's refusal of an issue-API call: 410 "Issues are disabled for this repo"
        when the repo has ``has_issues: false`` (a pull request, reached as an issue, still
        answers), 403 "Repository was archived so is read-only." for a write to an archived repo."""
        r = self.get_repo(owner, repo)
        if number is None or not any(i["number"] == number and "pull" in i for i in self.issues_of(owner, repo)):
            if r.get("has_issues", True) is False:
                raise Gone("Issues are disabled for this repo", documentation_url=_ISSUES_DOCS)
        self.repo_access(owner, repo, write=write)

    def repo_access(self, owner: str, repo: str, *, write: bool = False) -> None:
        """403 "Repository was archived so is read-only." for a write to an archived repo."""
        if write and self.get_repo(owner, repo).get("archived"):
            raise Forbidden("Repository was archived so is read-only.", documentation_url=_ISSUES_DOCS)

    # -- labels ------------------------------------------------------------------------------
    def labels_of(self, owner: str, repo: str) -> list[dict[str, Any]]:
        r = self.get_repo(owner, repo)
        return self.data["labels"].get(f"{r['owner']}/{r['name']}", [])

    def label(self, owner: str, repo: str, name: str) -> dict[str, Any]:
        for lab in self.labels_of(owner, repo):
            if lab["name"].lower() == name.lower():
                return lab
        raise NotFound(documentation_url="https://docs.github.com/rest/issues/labels#get-a-label")

    def create_label(
        self, owner: str, repo: str, name: str, *, color: str = "ededed", description: str | None = None
    ) -> dict[str, Any]:
        r = self.get_repo(owner, repo)
        if not name:
            raise Unprocessable(errors=[{"resource": "Label", "code": "missing_field", "field": "name"}])
        if any(lab["name"].lower() == name.lower() for lab in self.labels_of(owner, repo)):
            raise Unprocessable(
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
                documentation_url="https://docs.github.com/rest/issues/labels#create-a-label",
            )
        lab = {
            "id": self.next_id(),
            "name": name,
            "color": (color or "ededed").lstrip("#"),
            "description": description,
            "default": False,
            "updated_at": _now(),  # not rendered: GitHub's Last-Modified of the label
        }
        self.data["labels"].setdefault(f"{r['owner']}/{r['name']}", []).append(lab)
        return lab

    def update_label(self, owner: str, repo: str, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Rename (``new_name``), recolour, describe a label; issues carrying it follow a rename."""
        lab = self.label(owner, repo, name)
        new = fields.get("new_name")
        if new is not None and (not isinstance(new, str) or not new):
            raise Unprocessable(errors=[{"resource": "Label", "code": "invalid", "field": "new_name"}])
        if (
            new
            and new.lower() != lab["name"].lower()
            and any(other["name"].lower() == new.lower() for other in self.labels_of(owner, repo))
        ):
            raise Unprocessable(
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
                documentation_url="https://docs.github.com/rest/issues/labels#update-a-label",
            )
        if new and new != lab["name"]:
            for issue in self.issues_of(owner, repo):
                issue["labels"] = [new if n.lower() == lab["name"].lower() else n for n in issue["labels"]]
            lab["name"] = new
        if fields.get("color"):
            lab["color"] = str(fields["color"]).lstrip("#")
        if "description" in fields:
            lab["description"] = fields["description"]
        lab["updated_at"] = _now()
        return lab

    def set_issue_labels(self, owner: str, repo: str, number: int, names: list[Any], *, add: bool) -> list[str]:
        """Add ``names`` to an issue's labels (``add``) or replace them; absent labels are created."""
        issue = self.issue(owner, repo, number)
        wanted = self._ensure_labels(owner, repo, names)
        issue["labels"] = list(dict.fromkeys((issue["labels"] if add else []) + wanted))
        issue["updated_at"] = _now()
        return list(issue["labels"])

    def remove_issue_label(self, owner: str, repo: str, number: int, name: str) -> list[str]:
        """Take one label off an issue (404 "Label does not exist" when it does not carry it)."""
        issue = self.issue(owner, repo, number)
        kept = [n for n in issue["labels"] if n.lower() != name.lower()]
        if len(kept) == len(issue["labels"]):
            raise NotFound(
                "Label does not exist",
                documentation_url="https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue",
            )
        issue["labels"] = kept
        issue["updated_at"] = _now()
        return kept

    def _ensure_labels(self, owner: str, repo: str, names: list[Any]) -> list[str]:
        out = []
        for item in names:
            name = item["name"] if isinstance(item, dict) else str(item)
            try:
                out.append(self.label(owner, repo, name)["name"])
            except NotFound:
                out.append(self.create_label(owner, repo, name)["name"])
        return list(dict.fromkeys(out))

    # -- issues and comments -------------------------------------------------------------------
    def issues_of(self, owner: str, repo: str) -> list[dict[str, Any]]:
        r = self.get_repo(owner, repo)
        return self.data["issues"].get(f"{r['owner']}/{r['name']}", [])

    def all_issues(self) -> list[tuple[str, dict[str, Any]]]:
        """Every issue with its repo's full name."""
        return [(full, issue) for full, issues in self.data["issues"].items() for issue in issues]

    def list_issues(
        self,
        owner: str,
        repo: str,
        *,
        state: str = "open",
        labels: list[str] | None = None,
        creator: str | None = None,
        assignee: str | None = None,
        since: str | None = None,
        sort: str = "created",
        direction: str = "desc",
    ) -> list[dict[str, Any]]:
        wanted = [lab.lower() for lab in labels or []]
        out = []
        for issue in self.issues_of(owner, repo):
            if state != "all" and issue["state"] != state:
                continue
            have = {lab.lower() for lab in issue["labels"]}
            if any(lab not in have for lab in wanted):
                continue
            if creator and issue["user"] != creator:
                continue
            if assignee == "none" and issue["assignees"]:
                continue
            if assignee and assignee not in ("*", "none") and assignee not in issue["assignees"]:
                continue
            if since and issue["updated_at"] < since:
                continue
            out.append(issue)
        key = {"updated": "updated_at", "comments": "comments"}.get(sort, "created_at")
        out.sort(key=lambda i: (i[key], i["number"]), reverse=direction != "asc")
        return out

    def issue(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        for issue in self.issues_of(owner, repo):
            if issue["number"] == int(number):
                return issue
        raise NotFound(documentation_url="https://docs.github.com/rest/issues/issues#get-an-issue")

    def create_issue(
        self,
        owner: str,
        repo: str,
        *,
        title: str,
        user: str,
        body: str | None = None,
        labels: list[Any] | None = None,
        assignees: list[str] | None = None,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        r = self.get_repo(owner, repo)
        if not title:
            raise Unprocessable(errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}])
        if body is not None and len(body) > 65536:
            raise Unprocessable(
                errors=[
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ]
            )
        issues = self.data["issues"].setdefault(f"{r['owner']}/{r['name']}", [])
        stamp = _iso(when)
        issue = {
            "id": self.next_id(),
            "number": max((i["number"] for i in issues), default=0) + 1,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "labels": self._ensure_labels(owner, repo, labels or []),
            "assignees": list(dict.fromkeys(assignees or [])),
            "user": user,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "comments": 0,
            "locked": False,
        }
        issues.append(issue)
        return issue

    def update_issue(
        self, owner: str, repo: str, number: int, fields: dict[str, Any], when: datetime | None = None
    ) -> dict[str, Any]:
        issue = self.issue(owner, repo, number)
        stamp = _iso(when)
        if "title" in fields and fields["title"] is not None:
            issue["title"] = fields["title"]
        if "body" in fields:
            if fields["body"] is not None and len(fields["body"]) > 65536:
                raise Unprocessable(
                    errors=[
                        {
                            "resource": "Issue",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ]
                )
            issue["body"] = fields["body"]
        if fields.get("labels") is not None:
            issue["labels"] = self._ensure_labels(owner, repo, fields["labels"])
        if fields.get("assignees") is not None:
            issue["assignees"] = list(dict.fromkeys(fields["assignees"]))
        state = fields.get("state")
        if state not in (None, "open", "closed"):
            raise Unprocessable(errors=[{"resource": "Issue", "code": "invalid", "field": "state"}])
        if state == "closed" and issue["state"] != "closed":
            issue.update(state="closed", closed_at=stamp, state_reason=fields.get("state_reason") or "completed")
        elif state == "open" and issue["state"] != "open":
            issue.update(state="open", closed_at=None, state_reason="reopened")
        elif fields.get("state_reason") and issue["state"] == "closed":
            issue["state_reason"] = fields["state_reason"]
        issue["updated_at"] = stamp
        return issue

    def comments_of(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        r = self.get_repo(owner, repo)
        self.issue(owner, repo, number)
        return self.data["comments"].get(f"{r['owner']}/{r['name']}#{int(number)}", [])

    def add_comment(
        self, owner: str, repo: str, number: int, *, body: str, user: str, when: datetime | None = None
    ) -> dict[str, Any]:
        r = self.get_repo(owner, repo)
        issue = self.issue(owner, repo, number)
        if not body:
            raise Unprocessable(errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}])
        stamp = _iso(when)
        comment = {
            "id": self.next_id(),
            "body": body,
            "user": user,
            "created_at": stamp,
            "updated_at": stamp,
            "issue_number": int(number),
        }
        self.data["comments"].setdefault(f"{r['owner']}/{r['name']}#{int(number)}", []).append(comment)
        issue["comments"] = issue.get("comments", 0) + 1
        issue["updated_at"] = stamp
        return comment

    def search_issues(
        self, query: str, *, sort: str | None = None, order: str = "desc"
    ) -> list[tuple[str, dict[str, Any]]]:
        """Issues matching a search query (:mod:`~drift_pipeline.sandbox.github.search`); 422 for
        a qualifier or value the sandbox does not support, never a silently ignored one."""
        try:
            q = compile_query(query)
        except QueryError as err:
            raise Unprocessable(
                errors=[{"message": p, "resource": "Search", "field": "q", "code": "invalid"} for p in err.problems],
                documentation_url=_SEARCH_DOCS,
            ) from None
        hits = [(full, issue) for full, issue in self.all_issues() if q.matches(full, issue)]
        key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}.get(sort or "", "created_at")
        hits.sort(key=lambda h: (h[1][key], h[1]["id"]), reverse=order != "asc")
        return hits
