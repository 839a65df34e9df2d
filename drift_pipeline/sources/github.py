"""Read-only GitHub access for the scans, safe to call from many threads.

The reads (org listings, repos, heads, window histories, trees, blobs) on the transport of
:mod:`http_client`: PyGithub's requester with the run's bounds (:mod:`http_bounds`: waits,
one retry budget, page ceiling, API host only, whole-request deadline), a rate gate shared by
the workers, ETag and sha caches. Per-run answers (org listings, repos, window histories) and sha
reads are single-flight: two threads asking for the same key make one request, so a concurrent
scan sends exactly the requests a serial one does.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from drift_pipeline.core.errors import NotFound, SourceError
from drift_pipeline.core.names import canonical_name
from drift_pipeline.sources import github_payloads as payloads
from drift_pipeline.sources.http_bounds import rate_limit_pause
from drift_pipeline.sources.http_client import DEFAULT_API_URL, MAX_CONCURRENCY, GitHubTransport
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry
from drift_pipeline.sources.throttle import Memo

__all__ = ["DEFAULT_API_URL", "MAX_CONCURRENCY", "GitHubSource", "rate_limit_pause"]


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitHubSource(GitHubTransport):
    """GitHub REST reads for one API endpoint and token; share one instance between threads.

    Takes :class:`GitHubTransport`'s arguments (the API URL, a token or App auth, the cache, the
    retry, rate-limit, concurrency and :class:`~drift_pipeline.sources.http_bounds.ApiLimits`)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._listed = Memo()  # org listings and repos, for this run
        self._branches = Memo()  # (repo, branch) -> GET /branches/{branch}, for this run
        self._trees: dict[tuple[str, str], tuple[tuple[TreeEntry, ...], bool]] = {}  # (repo, sha), this run
        self._window: tuple[datetime, datetime] | None = None
        self._history = Memo()  # (repo, branch) -> commits of the window

    # -- reads -----------------------------------------------------------------------------
    def list_repos(self, org: str) -> list[RepoRecord]:
        """Every repo of an org (or, when the name is a user, of that user); once per run, in whatever
        case the name is asked (GitHub ignores case: ``ACME`` is ``acme``'s listing, one listing)."""
        records = self._listed.get((org.lower(), None), lambda: self._list_repos(org))
        if records and records[0].org != org:  # asked first in another case: the records say this one
            return [dataclasses.replace(r, org=org) for r in records]
        return records

    def login(self, org: str) -> str:
        """The org's (or user's) login as GitHub spells it (``ACME`` -> ``acme``), learned once per run:
        the owner login of its listed repos, else (no repo) its own answer. NotFound: no such org or user."""
        found = canonical_name(org, [r.owner for r in self.list_repos(org)])
        if found is not None:
            return found
        return self._listed.get((org.lower(), None, "login"), lambda: self._account_login(org))

    def _account_login(self, org: str) -> str:
        quoted = urllib.parse.quote(org)
        try:
            return self._get("account", f"/orgs/{quoted}", None, payloads.account_login)[1]
        except NotFound:
            return self._get("account", f"/users/{quoted}", None, payloads.account_login)[1]

    def _list_repos(self, org: str) -> list[RepoRecord]:
        quoted = urllib.parse.quote(org)

        def convert(path: str, item: Any) -> RepoRecord:
            return payloads.repo_record(path, org, item)

        try:
            return list(self._paginate("repos", f"/orgs/{quoted}/repos", {"type": "all"}, convert, "repositories"))
        except NotFound:
            return list(self._paginate("repos", f"/users/{quoted}/repos", {"type": "owner"}, convert, "repositories"))

    def get_repo(self, org: str, name: str) -> RepoRecord:
        """One repo's settings; read once per run (the object lives for one run)."""
        path = f"/repos/{urllib.parse.quote(org)}/{urllib.parse.quote(name)}"
        return self._listed.get(
            (org, name), lambda: self._get("repo", path, None, lambda p, data: payloads.repo_record(p, org, data))[1]
        )

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The backfill window of :meth:`plan_window`, None outside a range run."""
        return self._window

    def plan_window(self, start: datetime, end: datetime) -> None:
        """Backfills: answer ``head_at`` for instants in [start, end] from one history per repo.

        Instead of one request per repo and day, the first ``head_at`` of a repo in the window
        lists its branch's commits of the whole window (plus the head at ``start``) and every
        later one is answered from that list, with the same result the API would give.
        """
        self._window = (start, end)
        self._history = Memo()

    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        """The last commit on the default branch at or before ``until`` (None: no commit yet)."""
        window, history = self._window, self._history
        if window and window[0] <= until <= window[1]:
            commits = history.get((repo.full_name, repo.default_branch), lambda: self._window_history(repo, *window))
            return next((c for c in commits if c.date <= until), None)
        return self._head_from_branch(repo, until) or self._head_query(repo, until)

    def branch(self, full_name: str, branch: str) -> dict[str, Any]:
        """``GET /repos/{repo}/branches/{branch}`` (its tip commit and ``protected``), once per run.

        The run keeps of each answer what its readers use (:func:`_branch_kept`), not the whole
        answer: an org's branch answers are its largest per-repo holder otherwise."""
        path = f"/repos/{full_name}/branches/{urllib.parse.quote(branch, safe='')}"

        def convert(p: str, data: Any) -> dict[str, Any]:
            if not isinstance(data, dict):
                raise payloads.bad_shape(p, "a JSON object", type(data).__name__)
            return _branch_kept(data)

        return self._branches.get((full_name, branch), lambda: self._get("branch", path, None, convert)[1])

    def _head_from_branch(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        """The branch's tip when it is no newer than ``until`` (then it is the head at ``until``, as
        the commits listing would say); None when it is newer or the answer does not say.

        The nightly scan of yesterday mostly finds tips older than midnight, and the same answer
        serves the process scan's ``protected``: one request per repo instead of two."""
        path = f"/repos/{repo.full_name}/branches/{repo.default_branch}"
        try:
            commit = self.branch(repo.full_name, repo.default_branch).get("commit")
            tip = payloads.commit_record(path, commit)
        except SourceError as exc:  # no such branch (an empty repo), or a tip without a date: ask the listing
            if exc.status is not None and exc.status not in (404, 409):
                raise
            return None
        return tip if tip.date <= until else None

    def _window_history(self, repo: RepoRecord, start: datetime, end: datetime) -> list[CommitRecord]:
        base = self._head_query(repo, start)
        params = {"sha": repo.default_branch, "since": _iso(start), "until": _iso(end)}
        try:
            commits = list(
                self._paginate("commits", f"/repos/{repo.full_name}/commits", params, payloads.commit_record, "commits")
            )
        except SourceError as exc:
            if exc.status not in (404, 409):  # 409: "Git Repository is empty."; 404: no such branch
                raise
            commits = []
        return commits + ([base] if base else [])

    def _head_query(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        params = {"sha": repo.default_branch, "until": _iso(until), "per_page": 1}
        path = f"/repos/{repo.full_name}/commits"
        try:
            _, data = self._raw("commits", self._url(path), params)
        except SourceError as exc:
            if exc.status in (404, 409):  # 409: "Git Repository is empty."; 404: no such branch
                return None
            raise
        commits = payloads.as_list(path, data, "commits")
        return payloads.commit_record(path, commits[0]) if commits else None

    def path_commits(
        self, full_name: str, head_sha: str, path: str, since: datetime | None, until: datetime
    ) -> list[CommitRecord]:
        """Commits reachable from ``head_sha`` that touched ``path`` in (since, until], newest first."""
        params: dict[str, Any] = {"sha": head_sha, "path": path, "until": _iso(until)}
        if since is not None:
            params["since"] = _iso(since)
        commits = list(
            self._paginate("commits", f"/repos/{full_name}/commits", params, payloads.commit_record, "commits")
        )
        return [c for c in commits if since is None or c.date > since]

    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]:
        """The blobs of the tree of commit (or tree) ``sha``: read once, then from the cache.

        The persistent cache keeps, per repo (``tree:<repo>``), the trees the last run read and the
        one before them: what the next day's scan (and the other assets of a range run) ask for,
        so the cache grows with the org and its changes, not with time. The trees read in this run
        stay at hand (a changed repo's old and new tree are compared).
        """
        entries, truncated = self._tree(full_name, sha)
        if truncated:
            raise SourceError(
                f"{full_name}: the git tree of {sha[:12]} is too large for one request "
                "(GitHub truncated it); scan it from a local clone with --path"
            )
        return entries

    def _tree(self, full_name: str, sha: str) -> tuple[tuple[TreeEntry, ...], bool]:
        where = f"/repos/{full_name}/git/trees/{sha}"
        with self._lock:
            known = self._trees.get((full_name, sha))
        if known is not None:
            return known
        key = f"tree:{full_name}"
        kept = next((t for t in self._kept_trees(key) if t.get("sha") == sha), None)
        if kept is not None:
            found = payloads.tree_entries(where, kept)
            with self._lock:
                self._trees[(full_name, sha)] = found
            return found

        def fetch() -> tuple[tuple[TreeEntry, ...], bool]:
            with self._lock:  # another thread may have read it between our look and our turn
                again = self._trees.get((full_name, sha))
            if again is not None:
                return again
            _, data = self._raw("tree", self._url(f"{where}?recursive=1"))
            payloads.tree_entries(where, data)  # checked before it is cached
            new = {"sha": sha, **payloads.tree_kept(where, data)}
            with self._lock:
                # keep the trees this run read of the repo, the one before them (the next day's
                # "previous head"), and this one: not every tree ever read
                read = {s for (repo, s) in self._trees if repo == full_name}
                older = self._kept_trees(key)
                keep = [t for t in older if t.get("sha") in read] + older[-1:] + [new]
                unique = {t["sha"]: t for t in keep if isinstance(t.get("sha"), str)}
                self._cache_set(key, json.dumps({"trees": list(unique.values())}))
                found = payloads.tree_entries(where, new)
                self._trees[(full_name, sha)] = found
            return found

        return self._flight.run(f"tree:{full_name}:{sha}", fetch)

    def _kept_trees(self, key: str) -> list[dict[str, Any]]:
        """The trees the persistent cache keeps of a repo, oldest first."""
        cached = self._cache_get(key)
        data = json.loads(cached) if cached else {}
        trees = data.get("trees") if isinstance(data, dict) else None
        return [t for t in trees if isinstance(t, dict)] if isinstance(trees, list) else []

    def blob_text(self, full_name: str, sha: str) -> str | None:
        """A blob's text; None when it is not UTF-8 text."""
        return self._immutable(
            "blob", f"blob:{sha}", f"/repos/{full_name}/git/blobs/{sha}", payloads.blob_text, payloads.blob_kept
        )

    def commit_url(self, repo: RepoRecord, sha: str) -> str:
        if repo.html_url:
            return f"{repo.html_url}/commit/{sha}"
        return f"{self.api_url}/repos/{repo.full_name}/commits/{sha}"


def _branch_kept(data: dict[str, Any]) -> dict[str, Any]:
    """What the readers of a branch answer use: ``protected`` and the tip as ``commit_record`` reads it
    (its sha, dates, author login, first message line, URL); anything of another shape is kept as it is."""
    kept: dict[str, Any] = {k: data[k] for k in ("name", "protected") if k in data}
    tip = data.get("commit")
    if "commit" not in data or not isinstance(tip, dict):
        return {**kept, **({"commit": tip} if "commit" in data else {})}
    inner, user = tip.get("commit"), tip.get("author")
    trimmed = {k: tip[k] for k in ("sha", "html_url") if k in tip}
    if "author" in tip:
        trimmed["author"] = {"login": user.get("login")} if isinstance(user, dict) else user
    if isinstance(inner, dict):
        message = inner.get("message")
        inner = {k: inner[k] for k in ("author", "committer") if k in inner} | (
            {"message": message.split("\n", 1)[0] if isinstance(message, str) else message}
            if "message" in inner
            else {}
        )
    if "commit" in tip:
        trimmed["commit"] = inner
    return {**kept, "commit": trimmed}
