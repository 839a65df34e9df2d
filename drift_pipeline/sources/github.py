"""Read-only GitHub access for the scans, on PyGithub's transport.

PyGithub supplies authentication, the base URL (github.com, GHES ``https://host/api/v3`` or the
sandbox) and retries: 5xx with backoff, primary and secondary rate limits waited out up to a bound.
This module converts each JSON payload once into :mod:`records` and counts every request it
makes. Two caches make daily scans cheap:

- objects addressed by sha (trees, blobs) never change: once read, they are served from the
  cache with no request at all;
- other GETs are sent with ``If-None-Match`` when an ETag is known; a ``304`` answer costs no
  rate limit and the cached body is used.

The cache is a plain mapping handed in by the caller (the pipeline persists it in DuckDB), so the
source stays free of storage concerns.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator, MutableMapping
from datetime import datetime, timezone
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry

from drift_pipeline.errors import NotFound, SourceError, redact
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry

DEFAULT_API_URL = "https://api.github.com"
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


class GitHubSource:
    """GitHub REST reads for one API endpoint and token."""

    def __init__(self, api_url: str = DEFAULT_API_URL, token: str | None = None, *,
                 cache: MutableMapping[str, str] | None = None, per_page: int = 100,
                 retries: int = 5, backoff: float = 0.5, max_rate_limit_wait: float = 900,
                 timeout: int = 30, seconds_between_requests: float = 0.0,
                 seconds_between_writes: float = 1.0):
        self.api_url = api_url.rstrip("/")
        self._token = token
        retry = GithubRetry(total=retries, backoff_factor=backoff,
                            max_rate_limit_wait=max_rate_limit_wait, secondary_rate_wait=min(60, max_rate_limit_wait))
        self._gh = Github(base_url=self.api_url, auth=Auth.Token(token) if token else None,
                          per_page=per_page, retry=retry, timeout=timeout,
                          seconds_between_requests=seconds_between_requests,
                          seconds_between_writes=seconds_between_writes)
        self.per_page = per_page
        self.cache: MutableMapping[str, str] = cache if cache is not None else {}
        self.requests: Counter[str] = Counter()   # by kind, e.g. "tree", "blob", "repos"
        self.not_modified = 0
        self._listed: dict[tuple[str, str | None], Any] = {}    # answers kept for this run
        self._window: tuple[datetime, datetime] | None = None
        self._history: dict[tuple[str, str], list[CommitRecord]] = {}

    @property
    def github(self) -> Github:
        """The PyGithub client, for writers (issues) that share this transport."""
        return self._gh

    # -- transport -------------------------------------------------------------------------
    def _raw(self, kind: str, url: str, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> tuple[dict[str, str], Any]:
        self.requests[kind] += 1
        try:
            return self._gh.requester.requestJsonAndCheck("GET", url, parameters=params, headers=headers)
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            text = f"GitHub {exc.status} on GET {self._path(url)}: {message or exc}"
            if exc.status == 404:
                raise NotFound(redact(text, self._token)) from None
            raise SourceError(redact(text, self._token)) from None
        except requests.exceptions.RetryError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            raise SourceError(redact(f"GitHub kept failing on GET {self._path(url)}: "
                                     f"{reason or exc} (gave up after retries)", self._token)) from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(redact(f"GitHub request failed on GET {self._path(url)}: "
                                     f"{type(exc).__name__}: {exc}", self._token)) from None

    def _path(self, url: str) -> str:
        return urllib.parse.urlparse(url).path if url.startswith("http") else url

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.api_url}{path}"

    def _get(self, kind: str, path: str, params: dict[str, Any] | None = None, *,
             conditional: bool = True) -> tuple[dict[str, str], Any]:
        """GET with an ETag: a 304 answers from the cache and costs no rate limit."""
        url = self._url(path)
        key = "etag:" + url + ("?" + urllib.parse.urlencode(sorted(params.items())) if params else "")
        cached = self.cache.get(key) if conditional else None
        headers = None
        if cached:
            entry = json.loads(cached)
            headers = {"If-None-Match": entry["etag"]}
        resp_headers, data = self._raw(kind, url, params, headers)
        if cached and data is None:    # 304 Not Modified: PyGithub hands back no body
            self.not_modified += 1
            entry = json.loads(cached)
            return entry["headers"], entry["body"]
        etag = resp_headers.get("etag")
        if conditional and etag:
            keep = {k: v for k, v in resp_headers.items() if k in ("link",)}
            self.cache[key] = json.dumps({"etag": etag, "headers": keep, "body": data})
        return resp_headers, data

    def _paginate(self, kind: str, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        params = {**(params or {}), "per_page": self.per_page}
        url: str | None = self._url(path)
        while url:
            headers, data = self._get(kind, url, params)
            yield from data
            match = _LINK_NEXT.search(headers.get("link", "") or "")
            url, params = (match.group(1), None) if match else (None, None)

    def _immutable(self, kind: str, key: str, path: str) -> Any:
        """Objects addressed by sha never change: serve them from the cache for ever."""
        cached = self.cache.get(key)
        if cached is not None:
            return json.loads(cached)
        _, data = self._raw(kind, self._url(path))
        self.cache[key] = json.dumps(data)
        return data

    # -- reads -----------------------------------------------------------------------------
    def list_repos(self, org: str) -> list[RepoRecord]:
        """Every repo of an org (or, when the name is a user, of that user); once per run."""
        if (org, None) not in self._listed:
            self._listed[(org, None)] = self._list_repos(org)
        return self._listed[(org, None)]

    def _list_repos(self, org: str) -> list[RepoRecord]:
        quoted = urllib.parse.quote(org)
        try:
            items = list(self._paginate("repos", f"/orgs/{quoted}/repos", {"type": "all"}))
        except NotFound:
            items = list(self._paginate("repos", f"/users/{quoted}/repos", {"type": "owner"}))
        return [self._repo_record(org, item) for item in items]

    def get_repo(self, org: str, name: str) -> RepoRecord:
        """One repo's settings; read once per run (the object lives for one run)."""
        if (org, name) not in self._listed:
            _, data = self._get("repo", f"/repos/{urllib.parse.quote(org)}/{urllib.parse.quote(name)}")
            self._listed[(org, name)] = self._repo_record(org, data)
        return self._listed[(org, name)]

    @staticmethod
    def _repo_record(org: str, item: dict[str, Any]) -> RepoRecord:
        return RepoRecord(
            org=org, name=item["name"], owner=item["owner"]["login"],
            default_branch=item.get("default_branch") or "main",
            archived=bool(item.get("archived")), disabled=bool(item.get("disabled")),
            fork=bool(item.get("fork")), private=bool(item.get("private")),
            pushed_at=_parse_time(item.get("pushed_at")), html_url=item.get("html_url"))

    def plan_window(self, start: datetime, end: datetime) -> None:
        """Backfills: answer ``head_at`` for instants in [start, end] from one history per repo.

        Instead of one request per repo and day, the first ``head_at`` of a repo in the window
        lists its branch's commits of the whole window (plus the head at ``start``) and every
        later one is answered from that list, with the same result the API would give.
        """
        self._window = (start, end)
        self._history = {}

    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        """The last commit on the default branch at or before ``until`` (None: no commit yet)."""
        window = self._window
        if window and window[0] <= until <= window[1]:
            key = (repo.full_name, repo.default_branch)
            if key not in self._history:
                self._history[key] = self._window_history(repo, *window)
            return next((c for c in self._history[key] if c.date <= until), None)
        return self._head_query(repo, until)

    def _window_history(self, repo: RepoRecord, start: datetime, end: datetime) -> list[CommitRecord]:
        base = self._head_query(repo, start)
        params = {"sha": repo.default_branch, "since": _iso(start), "until": _iso(end)}
        try:
            commits = [self._commit_record(c) for c in
                       self._paginate("commits", f"/repos/{repo.full_name}/commits", params)]
        except SourceError as exc:
            if not (isinstance(exc, NotFound) or "409" in str(exc)):
                raise
            commits = []        # an empty repository
        return commits + ([base] if base else [])

    def _head_query(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        params = {"sha": repo.default_branch, "until": _iso(until), "per_page": 1}
        try:
            _, data = self._raw("commits", self._url(f"/repos/{repo.full_name}/commits"), params)
        except NotFound:
            return None
        except SourceError as exc:
            if "409" in str(exc):   # "Git Repository is empty."
                return None
            raise
        return self._commit_record(data[0]) if data else None

    def path_commits(self, full_name: str, head_sha: str, path: str, since: datetime | None,
                     until: datetime) -> list[CommitRecord]:
        """Commits reachable from ``head_sha`` that touched ``path`` in (since, until], newest first."""
        params: dict[str, Any] = {"sha": head_sha, "path": path, "until": _iso(until)}
        if since is not None:
            params["since"] = _iso(since)
        commits = [self._commit_record(c) for c in
                   self._paginate("commits", f"/repos/{full_name}/commits", params)]
        return [c for c in commits if since is None or c.date > since]

    @staticmethod
    def _commit_record(item: dict[str, Any]) -> CommitRecord:
        commit = item.get("commit", {})
        committer = commit.get("committer") or {}
        author = commit.get("author") or {}
        login = (item.get("author") or {}).get("login") if isinstance(item.get("author"), dict) else None
        return CommitRecord(sha=item["sha"], date=_parse_time(committer.get("date") or author.get("date")),
                            author=login or author.get("name") or "unknown",
                            message=(commit.get("message") or "").splitlines()[0] if commit.get("message") else "",
                            url=item.get("html_url"))

    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]:
        data = self._immutable("tree", f"tree:{full_name}:{sha}",
                               f"/repos/{full_name}/git/trees/{sha}?recursive=1")
        if data.get("truncated"):
            raise SourceError(f"{full_name}: the git tree of {sha[:12]} is too large for one request "
                              "(GitHub truncated it); scan it from a local clone with --path")
        return tuple(TreeEntry(e["path"], e["sha"], e.get("size"))
                     for e in data.get("tree", []) if e.get("type") == "blob")

    def blob_text(self, full_name: str, sha: str) -> str | None:
        """A blob's text; None when it is not UTF-8 text."""
        data = self._immutable("blob", f"blob:{sha}", f"/repos/{full_name}/git/blobs/{sha}")
        raw = base64.b64decode(data.get("content", "")) if data.get("encoding") == "base64" \
            else (data.get("content") or "").encode()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def commit_url(self, repo: RepoRecord, sha: str) -> str:
        if repo.html_url:
            return f"{repo.html_url}/commit/{sha}"
        return f"{self.api_url}/repos/{repo.full_name}/commits/{sha}"
