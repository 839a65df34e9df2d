"""GitHub reads of the process domain: a repo's live protection settings and a day's default-branch activity.

Every read goes through :class:`~drift_pipeline.sources.github.GitHubSource`'s transport
(``_get`` / ``_paginate``), so each request is counted, bounded by its ``concurrency``, waits at
its rate-limit gate and is sent with ``If-None-Match`` when an ETag is known (a 304 costs no rate
limit). Payloads become the records of :mod:`drift_pipeline.core.rules.process.records`; nothing here
decides what is drift.

What the token may not read is a :class:`NotReadable` with the HTTP status, never "off". Classic
protection is decided on structured facts only: ``GET /branches/{b}`` says ``protected: false`` (no
classic protection and no ruleset: nothing to read), a 404 to a reader that the repo payload says
has admin rights (``permissions.admin``) is "not protected", any other 404 or 403 is not readable.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.process.records import (
    BranchRule,
    BypassActorSeen,
    ChangedFile,
    ClassicProtection,
    CodeownersError,
    NotReadable,
    PullRequest,
    Review,
    Ruleset,
    classic_protection_unavailable,
)
from drift_pipeline.sources import github_payloads as payloads
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.throttle import Memo

T = TypeVar("T")
UNREADABLE = (401, 403, 404)  # statuses that mean "this token may not read it" (or it is not there)
_ISSUE_KEYWORD_REF = re.compile(r"(?:[\w.-]+/[\w.-]+)?#\d+")


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(v for v in _list(value) if isinstance(v, str))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _login(value: Any) -> str | None:
    login = _dict(value).get("login")
    return login if isinstance(login, str) and login else None


def _enabled(value: Any) -> bool:
    return bool(_dict(value).get("enabled")) if isinstance(value, dict) else value is True


def unreadable(setting: str, exc: SourceError) -> NotReadable:
    """The record for a read the token was refused (decided on ``exc.status``)."""
    return NotReadable(setting, exc.api_message or f"HTTP {exc.status}", exc.status)


class ProcessReader:
    """The process domain's GitHub reads for one run; share it between threads like the source."""

    def __init__(self, source: GitHubSource):
        self.source = source
        self._pulls = Memo()  # (repo, number) -> PullRequest (a PR merging several commits is read once)
        self._window: tuple[datetime, datetime] | None = None
        self._history = Memo()  # (repo, branch) -> the window's commits, newest first (raw)
        self._org_rulesets = Memo()  # org ruleset path -> its answer (or NotReadable), for this run
        self._derived: dict[str, tuple[str, Any]] = {}  # repo -> (head sha, what a scan derived from that tree)
        self._derived_lock = threading.Lock()

    def derived(self, full_name: str, head: str) -> Any:
        """What :meth:`remember` kept for ``full_name`` at commit ``head`` in this run (None: nothing).

        A range run reads each day's process settings and activity, but a repo's expectations come
        from its tree at the day's head, which changes far less often than the days go by: the scan
        keeps them here, by head, so the days of a run analyse each head once.
        """
        with self._derived_lock:
            known = self._derived.get(full_name)
        return known[1] if known is not None and known[0] == head else None

    def remember(self, full_name: str, head: str, value: Any) -> None:
        """Keep ``value`` for ``full_name`` at ``head`` (only the latest head of a repo is kept)."""
        with self._derived_lock:
            self._derived[full_name] = (head, value)

    def plan_window(self, start: datetime, end: datetime) -> None:
        """Backfills: list each repo's branch history of (start, end] once, not once a day."""
        self._window = (start, end)
        self._history = Memo()

    def _object(self, kind: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        def convert(p: str, data: Any) -> dict[str, Any]:
            if not isinstance(data, dict):
                raise payloads.bad_shape(p, "a JSON object", type(data).__name__)
            return data

        return self.source._get(kind, path, params, convert)[1]

    def _items(self, kind: str, path: str, params: dict[str, Any] | None, what: str) -> list[dict[str, Any]]:
        def convert(p: str, item: Any) -> dict[str, Any]:
            if not isinstance(item, dict):
                raise payloads.bad_shape(p, f"a list of {what} (objects)", f"a list holding {type(item).__name__}")
            return item

        return list(self.source._paginate(kind, path, params, convert, what))

    @staticmethod
    def _readable(setting: str, read: Callable[[], T]) -> T | NotReadable:
        try:
            return read()
        except SourceError as exc:
            if exc.status in UNREADABLE:
                return unreadable(setting, exc)
            raise

    # -- settings ----------------------------------------------------------------------------
    def admin(self, full_name: str) -> bool | None:
        """Whether the token has admin rights on the repo (``permissions.admin``); None: not said.

        The org's listing says it for every repo: one listing per run (a page per 100 repos)
        instead of one request per repo; a repo the listing does not say it of is read."""
        owner, _, name = full_name.partition("/")
        try:
            listed = next((r for r in self.source.list_repos(owner) if r.name == name), None)
        except SourceError:
            listed = None
        if listed is not None and listed.admin is not None:
            return listed.admin
        data = self._object("repo", f"/repos/{full_name}")
        value = _dict(data.get("permissions")).get("admin")
        return value if isinstance(value, bool) else None

    def branch_protected(self, full_name: str, branch: str, head: str | None = None) -> bool | None:
        """``protected`` of ``GET /branches/{b}``: true when classic protection or a ruleset applies.

        The inventory of this run read that answer for the head (:func:`share_branch`): with ``head``
        given, an answer it kept for that head and branch, read at most :data:`SHARED_FOR` ago, is
        used instead of asking again (the inventory and the process scan are other steps, other
        sources). Otherwise the branch is read (once per source)."""
        shared = shared_protected(self.source, full_name, branch, head) if head else None
        if shared is not None:
            return shared
        data = self.source.branch(full_name, branch)
        value = data.get("protected")
        return value if isinstance(value, bool) else None

    def branch_rules(self, full_name: str, branch: str) -> tuple[BranchRule, ...] | NotReadable:
        def read() -> tuple[BranchRule, ...]:
            items = self._items("rules", f"/repos/{full_name}/rules/branches/{_q(branch)}", None, "branch rules")
            return tuple(
                BranchRule(
                    type=str(i.get("type") or ""),
                    ruleset_id=_int(i.get("ruleset_id")),
                    ruleset_source_type=str(i.get("ruleset_source_type") or "Repository"),
                    ruleset_source=str(i.get("ruleset_source") or ""),
                    parameters=_dict(i.get("parameters")),
                )
                for i in items
            )

        return self._readable("branch_rules", read)

    def ruleset(self, full_name: str, rule: BranchRule) -> Ruleset | NotReadable:
        """A ruleset in full: an org one from ``/orgs/{org}/rulesets/{id}`` (org admins only), else
        (and for repo rulesets) through the repo, which also serves the org rulesets that apply."""
        setting = f"ruleset {rule.ruleset_id}"
        if rule.ruleset_source_type == "Organization" and rule.ruleset_source:
            org_path = f"/orgs/{_q(rule.ruleset_source)}/rulesets/{rule.ruleset_id}"
            # one org ruleset applies to many repos: read once per run
            found = self._org_rulesets.get(
                org_path, lambda: self._readable(setting, lambda: self._object("ruleset", org_path))
            )
            if not isinstance(found, NotReadable):
                return ruleset_record(found)
        path = f"/repos/{full_name}/rulesets/{rule.ruleset_id}"
        found = self._readable(setting, lambda: self._object("ruleset", path, {"includes_parents": "true"}))
        return found if isinstance(found, NotReadable) else ruleset_record(found)

    def tag_rulesets(self, full_name: str) -> tuple[Ruleset, ...] | NotReadable:
        """The repo's (and its org's) tag rulesets, each read in full for its conditions and rules."""

        def read() -> tuple[Ruleset, ...]:
            listed = self._items(
                "rulesets", f"/repos/{full_name}/rulesets", {"targets": "tag", "includes_parents": "true"}, "rulesets"
            )
            out = []
            for item in listed:
                if item.get("target") != "tag":  # a server that ignores ?targets
                    continue
                rid = _int(item.get("id"))
                full = self._object("ruleset", f"/repos/{full_name}/rulesets/{rid}", {"includes_parents": "true"})
                out.append(ruleset_record(full))
            return tuple(out)

        return self._readable("tag_rulesets", read)

    def classic(self, full_name: str, branch: str, protected: bool | None) -> ClassicProtection:
        if protected is False:
            return ClassicProtection(state="absent", reason="GET /branches says the branch is not protected")
        try:
            data = self._object("protection", f"/repos/{full_name}/branches/{_q(branch)}/protection")
        except SourceError as exc:
            if exc.status not in UNREADABLE:
                raise
            reason = exc.api_message or f"HTTP {exc.status}"
            admin = self.admin(full_name) if exc.status == 404 else None
            if exc.status == 404 and admin is not True:
                reason += " (the token has no admin rights on the repo: classic protection is not readable)"
            return classic_protection_unavailable(int(exc.status or 0), reason, admin=admin)
        return classic_record(data)

    def codeowners_errors(self, full_name: str, ref: str) -> tuple[CodeownersError, ...] | NotReadable:
        def read() -> tuple[CodeownersError, ...]:
            data = self._object("codeowners", f"/repos/{full_name}/codeowners/errors", {"ref": ref})
            return tuple(
                CodeownersError(
                    kind=str(e.get("kind") or "error"),
                    line=e.get("line") if isinstance(e.get("line"), int) else None,
                    message=mask_secrets(str(e.get("message") or e.get("suggestion") or "")),
                    path=e.get("path") if isinstance(e.get("path"), str) else None,
                )
                for e in _list(data.get("errors"))
                if isinstance(e, dict)
            )

        return self._readable("codeowners_errors", read)

    # -- activity ----------------------------------------------------------------------------
    def commits_between(
        self, full_name: str, branch: str, head: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """Commits with a committer date in [since, until] from which ``head`` is reached, newest first (raw).

        Inside a planned window the branch's history of the whole window answers (one listing per
        repo and run); a head it does not hold (history rewritten since) is listed on its own.
        """
        window = self._window
        if window and window[0] <= since and until <= window[1]:
            listed = self._history.get(
                (full_name, branch), lambda: self._list_commits(full_name, branch, window[0], window[1])
            )
            if any(c.get("sha") == head for c in listed):
                return listed
        return self._list_commits(full_name, head, since, until)

    def _list_commits(self, full_name: str, ref: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
        params = {"sha": ref, "since": _iso(since), "until": _iso(until)}
        return self._items("commits", f"/repos/{full_name}/commits", params, "commits")

    def commit_pulls(self, full_name: str, sha: str) -> list[dict[str, Any]]:
        return self._items("pulls", f"/repos/{full_name}/commits/{sha}/pulls", None, "pull requests")

    def pull_request(self, full_name: str, number: int) -> PullRequest:
        return self._pulls.get((full_name, number), lambda: self._pull_request(full_name, number))

    def _pull_request(self, full_name: str, number: int) -> PullRequest:
        pr = self._object("pull", f"/repos/{full_name}/pulls/{number}")
        reviews = self._items("reviews", f"/repos/{full_name}/pulls/{number}/reviews", None, "reviews")
        files = self._items("files", f"/repos/{full_name}/pulls/{number}/files", None, "files")
        where = f"/repos/{full_name}/pulls/{number}"
        return PullRequest(
            number=number,
            title=mask_secrets(str(pr.get("title") or "")),
            body=mask_secrets(str(pr.get("body") or "")),
            head_branch=str(_dict(pr.get("head")).get("ref") or ""),
            author=_login(pr.get("user")),
            merged_by=_login(pr.get("merged_by")),
            merged_at=payloads.parse_time(where, pr.get("merged_at")),
            reviews=tuple(
                Review(
                    login=_login(r.get("user")) or "unknown",
                    state=str(r.get("state") or ""),
                    submitted_at=payloads.parse_time(where, r.get("submitted_at")),
                )
                for r in reviews
            ),
            files=tuple(
                ChangedFile(str(f.get("filename") or ""), _int(f.get("additions")), _int(f.get("deletions")))
                for f in files
            ),
            additions=_int(pr.get("additions")),
            deletions=_int(pr.get("deletions")),
            url=pr.get("html_url") if isinstance(pr.get("html_url"), str) else None,
        )


SHARED_FOR = 3600.0  # seconds an inventory's branch answer serves the process scan of the same run


def _branch_key(full_name: str) -> str:
    return f"branch:{full_name}"


def share_branch(source: GitHubSource, full_name: str, branch: str, data: dict[str, Any]) -> None:
    """Keep ``protected`` of a branch answer just read (its tip, when read) for the run's process scan."""
    sha = _dict(data.get("commit")).get("sha")
    protected = data.get("protected")
    if isinstance(sha, str) and isinstance(protected, bool):
        kept = {"branch": branch, "sha": sha, "protected": protected, "read_at": time.time()}
        source.remember(_branch_key(full_name), json.dumps(kept, sort_keys=True))


def shared_protected(source: GitHubSource, full_name: str, branch: str, head: str) -> bool | None:
    """``protected`` as an inventory of this run kept it for ``head`` (None: none, another head, too old)."""
    raw = source.remembered(_branch_key(full_name))
    try:
        kept = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("branch") != branch or kept.get("sha") != head:
        return None
    read_at, protected = kept.get("read_at"), kept.get("protected")
    if not isinstance(read_at, (int, float)) or not isinstance(protected, bool):
        return None
    return protected if 0 <= time.time() - read_at <= SHARED_FOR else None


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- payloads -> records ----------------------------------------------------------------------
def ruleset_record(data: dict[str, Any]) -> Ruleset:
    ref = _dict(_dict(data.get("conditions")).get("ref_name"))
    actors = data.get("bypass_actors")
    return Ruleset(
        id=_int(data.get("id")),
        name=str(data.get("name") or ""),
        source_type=str(data.get("source_type") or "Repository"),
        source=str(data.get("source") or ""),
        target=str(data.get("target") or "branch"),
        enforcement=str(data.get("enforcement") or "disabled"),
        include=_strs(ref.get("include")),
        exclude=_strs(ref.get("exclude")),
        rule_types=tuple(str(r.get("type")) for r in _list(data.get("rules")) if isinstance(r, dict)),
        # GitHub omits bypass_actors without write access to the ruleset: missing is unknown, not empty
        bypass_actors=None
        if not isinstance(actors, list)
        else tuple(
            BypassActorSeen(
                actor_type=str(a.get("actor_type") or ""),
                actor_id=a.get("actor_id") if isinstance(a.get("actor_id"), int) else None,
                bypass_mode=str(a.get("bypass_mode") or "always"),
            )
            for a in actors
            if isinstance(a, dict)
        ),
    )


def classic_record(data: dict[str, Any]) -> ClassicProtection:
    reviews = _dict(data.get("required_pull_request_reviews"))
    checks = data.get("required_status_checks")
    contexts: tuple[str, ...] | None = None
    if isinstance(checks, dict):
        named = _strs(checks.get("contexts")) + tuple(
            c["context"]
            for c in _list(checks.get("checks"))
            if isinstance(c, dict) and isinstance(c.get("context"), str)
        )
        contexts = tuple(dict.fromkeys(named))
    return ClassicProtection(
        state="present",
        required_reviews=_int(reviews.get("required_approving_review_count")),
        dismiss_stale_reviews=reviews.get("dismiss_stale_reviews") is True,
        require_code_owner_reviews=reviews.get("require_code_owner_reviews") is True,
        status_checks=contexts,
        strict=isinstance(checks, dict) and checks.get("strict") is True,
        signed_commits=_enabled(data.get("required_signatures")),
        enforce_admins=_enabled(data.get("enforce_admins")),
    )


def issue_refs(*texts: str) -> tuple[str, ...]:
    """Issue references (``#12``, ``org/repo#12``) in the texts, in order of appearance."""
    return tuple(dict.fromkeys(m.group(0) for t in texts for m in _ISSUE_KEYWORD_REF.finditer(t or "")))
