"""File the rendered issues on GitHub exactly once, without spam, within the secondary limits.

Exactly once per (scan date, repo, category, fingerprints): before creating, the filer lists the
repo's open *and* closed issues carrying the ``drift:<category>`` label (pull requests, which the
listing includes, are skipped) and reads the hidden markers. An issue whose marker has the same
scan date, category and fingerprints means the work was done, even when a crash between the
create call and the record lost the record: it is recorded as ``found`` and nothing is posted.
The search API is never used for this: its index lags new issues by seconds to minutes.
A repo that cannot take issues (archived: 403 read-only; issues disabled: 410), judged on its
``archived`` and ``has_issues`` fields, has its issue filed in the org's config repo
(``drift-config``), titled with the repo's name; ``filed_issues.target_repo`` records the routing.
Fingerprints of that day already in an issue (by marker or in ``filed_issues``) are left out, so
a re-materialised day with new findings files only what is new.

All requests go through :class:`IssueClient` on PyGithub's ``Requester`` (the transport of
:class:`GitHubSource`), whose ``seconds_between_writes`` spaces the content-creating requests
(GitHub allows about 80 a minute; 0.75 s or more keeps under it); rate limits are waited out. A
failure of one group is recorded and the others continue; the caller fails the run with the list.

Only the product's own markers count (``markers``): in issues and comments authored by the filing
identity (``identity``, learnt once per run from the API), as the last thing in the text, and
signed with this installation's key (``signing``; unsigned ones only in texts older than signing).
Every marker posted is signed for the repo it is posted in. The lookup and the create of a group are
one critical section across processes (``claim``): two filers started together file one issue.

Every title, body and comment passes :func:`guard` right before it is sent: a token-like string
that survived rendering stops the post (:class:`SecretInBody`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from github import Github, GithubException

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.base import RuleSpec
from drift_pipeline.issues import inert, ledger, signing
from drift_pipeline.issues.claim import FilingLocks, group_key
from drift_pipeline.issues.client import IssueClient, guard
from drift_pipeline.issues.identity import filer_identity
from drift_pipeline.issues.ledger import Entry
from drift_pipeline.issues.markers import MARKER, PART_MARKER, REPEAT_MARKER, Trust
from drift_pipeline.issues.render import (
    LABEL_COLOURS,
    LABEL_DESCRIPTIONS,
    IssueGroup,
    RenderedIssue,
    render,
    repeat_comment,
)
from drift_pipeline.store import DriftStore

OnRepeat = Literal["comment", "new_issue", "skip"]
ON_REPEAT: tuple[OnRepeat, ...] = ("comment", "new_issue", "skip")
DEFAULT_CONFIG_REPO = "drift-config"


@dataclass(frozen=True)
class Outcome:
    """What happened (or, in a dry run, would happen) to one group."""

    org: str
    repo: str
    category: str
    action: str  # created | found | already_filed | commented | skipped_repeat | would_create | would_comment
    fingerprints: tuple[str, ...]
    number: int | None = None
    url: str | None = None
    issue: RenderedIssue | None = None
    target_repo: str | None = None  # set when routed to the config repo


@dataclass
class FilingReport:
    outcomes: list[Outcome] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # "org/repo category" -> what went wrong

    def actions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.action] = counts.get(o.action, 0) + 1
        return counts


class IssueFiler:
    """Files the issues of one scan date; ``after_create`` is a test seam (see below).

    ``on_repeat`` decides what happens when an *open* ``drift:<category>`` issue from an earlier
    day already lists exactly the same fingerprints:

    - ``comment`` (default): one "still present on <date>" comment on that issue. The earlier
      tool accepted duplicates by design, but a daily scan would then open an identical issue every
      day for as long as the drift lasts; developers learn to ignore a flood. A comment keeps one
      thread per drift, shows it is still there, and is itself exactly-once (a hidden marker per
      scan date, looked for in the issue's comments before posting).
    - ``new_issue``: the earlier tool's behaviour, one issue per scan regardless.
    - ``skip``: nothing posted, the skip recorded.

    ``after_create(issue_number)`` runs after an issue was created and before it is recorded: a
    documented seam through which a test injects the crash that exactly-once must survive.

    ``app_slug``: set by GitHub App authentication (the identity is then ``<slug>[bot]``); else the
    identity is the token's ``GET /user`` login. ``lock_wait`` bounds the wait for another filer
    (None: ``DRIFT_FILING_LOCK_WAIT``, else 120 s; see ``claim``).
    """

    def __init__(
        self,
        gh: Github,
        store: DriftStore | None,
        rules: Mapping[str, RuleSpec],
        *,
        on_repeat: OnRepeat = "comment",
        dry_run: bool = False,
        max_rate_limit_wait: float = 900,
        after_create: Callable[[int], None] | None = None,
        config_repo: str = DEFAULT_CONFIG_REPO,
        sleep: Callable[[float], None] = time.sleep,
        app_slug: str | None = None,
        lock_wait: float | None = None,
    ):
        if on_repeat not in ON_REPEAT:
            raise ValueError(f"on_repeat must be one of {', '.join(ON_REPEAT)}, got {on_repeat!r}")
        if store is None and not dry_run:
            raise ValueError("filing issues needs the store to record them (or dry_run=True)")
        self.client = IssueClient(gh, max_rate_limit_wait=max_rate_limit_wait, sleep=sleep)
        self.store = store
        self.rules = rules
        self.on_repeat = on_repeat
        self.dry_run = dry_run
        self.after_create = after_create
        self.config_repo = config_repo
        self._repos: dict[str, dict[str, Any]] = {}
        self.app_slug = app_slug
        self._trust: Trust | None = None
        self.locks = FilingLocks(store, wait=lock_wait) if store is not None and not dry_run else None

    @property
    def trust(self) -> Trust:
        """Who files and the marker key: learnt once per filer (one filing run)."""
        if self._trust is None:
            identity = filer_identity(self.client, self.app_slug)
            if self.store is None:
                key = signing.fresh_key()
            elif self.locks is None:
                key = signing.load_key(self.store, create=False)
            else:
                self.store.release_reads()
                with self.locks.hold("marker-key"):  # a lake admits concurrent writers: one key only
                    key = signing.load_key(self.store)
            self._trust = Trust(identity, key)
        return self._trust

    def seal(self, text: str, full: str) -> str:
        """``text`` with its trailing marker signed for ``full`` (a dry run shows it unsigned)."""
        return text if self.dry_run else self.trust.key.seal(text, full)

    def markers(self, item: Mapping[str, Any], full: str, kind: str = MARKER) -> list[dict[str, Any]]:
        """The trusted markers of an issue or comment of ``full`` (see ``markers.Trust``)."""
        return self.trust.markers(item, full, kind)

    # -- the day ---------------------------------------------------------------------------
    def file_day(self, day: date, groups: Sequence[IssueGroup]) -> FilingReport:
        report = FilingReport()
        recorded = ledger.entries(self.store, day) if self.store is not None else []
        for group in groups:
            key = f"{group.full_name} {group.category}"
            try:
                report.outcomes.append(self._file_group_once(group, recorded))
            except Exception as exc:  # one group's failure is recorded; the others are still filed
                report.failures[key] = describe(exc)
                if self.store is not None and not self.dry_run:
                    try:
                        ledger.record(
                            self.store,
                            [
                                Entry(
                                    day, group.org, group.repo, group.category, "failed", None, None, group.fingerprints
                                )
                            ],
                        )
                    except Exception as rec_exc:
                        report.failures[key] += f"; recording the failure failed too: {describe(rec_exc)}"
        return report

    def _file_group_once(self, group: IssueGroup, recorded: list[dict[str, Any]]) -> Outcome:
        """:meth:`_file_group` inside the group's critical section (none in a dry run)."""
        known = ledger.covered(recorded, group.org, group.repo, group.category, ledger.FILED)
        if set(group.fingerprints) <= known:
            return self._outcome(group, "already_filed")
        self.trust  # noqa: B018  (learnt before the lock: a failure to learn it holds nothing)
        if self.locks is None:
            return self._file_group(group, known)
        if self.store is not None:
            self.store.release_reads()  # a DuckDB read session of ours would block the lock holder's write
        with self.locks.hold(group_key(group.org, group.repo, group.category)):
            return self._file_group(group, known)

    def _file_group(self, group: IssueGroup, known: set[str]) -> Outcome:
        day, full = group.scan_date, self._target(group)
        issues = list(self._labelled_issues(full, f"drift:{group.category}"))
        on_github: set[str] = set()
        for issue in issues:
            for m in self.markers(issue, full):
                if m.get("scan_date") == day.isoformat() and m.get("category") == group.category:
                    on_github |= set(m["fingerprints"])
                    if tuple(sorted(m["fingerprints"])) == group.fingerprints:
                        self._post_missing_parts(group, issue, full)  # the crash may have come before them
                        return self._record(group, "found", issue, full)  # created earlier, record lost
        new = set(group.fingerprints) - known - on_github
        if not new:
            return self._outcome(group, "already_filed")
        if new != set(group.fingerprints):
            group = replace(group, findings=tuple(f for f in group.findings if f["fingerprint"] in new))
        repeat = self._open_repeat(issues, group, full)
        if repeat is not None and self.on_repeat != "new_issue":
            if self.on_repeat == "skip":
                return self._record(group, "skipped_repeat", repeat, full)
            return self._comment_repeat(group, repeat, full)
        rendered = self._sealed(render(group, self.rules), full)
        if full != group.full_name:  # routed: the config repo holds issues of many repos
            rendered = replace(rendered, title=f"{rendered.title} in {inert.text(group.repo, 100)}")
        texts = [("title", rendered.title), ("body", rendered.body)]
        texts += [(f"continuation comment {k}", c) for k, c in enumerate(rendered.comments, 1)]
        for where, text in texts:
            guard(f"{where} of {full} {group.category}", text)
        if self.dry_run:
            return self._outcome(group, "would_create", issue=rendered)
        self._ensure_label(full, group.category)
        created = self.write(
            "POST",
            f"/repos/{full}/issues",
            {"title": rendered.title, "body": rendered.body, "labels": [rendered.label]},
        )
        if self.after_create is not None:
            self.after_create(int(created["number"]))
        for comment in rendered.comments:
            self.write("POST", f"/repos/{full}/issues/{created['number']}/comments", {"body": comment})
        return self._record(group, "created", created, full, rendered)

    def _sealed(self, rendered: RenderedIssue, full: str) -> RenderedIssue:
        """The issue with the markers of its body and continuation comments signed for ``full``."""
        comments = tuple(self.seal(c, full) for c in rendered.comments)
        return replace(rendered, body=self.seal(rendered.body, full), comments=comments)

    def _post_missing_parts(self, group: IssueGroup, issue: Mapping[str, Any], full: str) -> None:
        """Continuation comments of an issue found by its marker that are not on it yet."""
        rendered = self._sealed(render(group, self.rules), full)
        if not rendered.comments or self.dry_run:
            return
        number = issue["number"]
        posted = {
            m.get("part")
            for c in self.client.paginate(f"/repos/{full}/issues/{number}/comments", {})
            for m in self.markers(c, full, PART_MARKER)
            if tuple(sorted(m["fingerprints"])) == group.fingerprints
        }
        for part, comment in enumerate(rendered.comments, 2):
            if part not in posted:
                self.write("POST", f"/repos/{full}/issues/{number}/comments", {"body": comment})

    def _open_repeat(self, issues: list[dict[str, Any]], group: IssueGroup, full: str) -> dict[str, Any] | None:
        """The newest open issue from an earlier day whose trusted marker lists exactly these fingerprints."""
        for issue in sorted(issues, key=lambda i: -int(i["number"])):
            if issue.get("state") != "open":
                continue
            for m in self.markers(issue, full):
                if (
                    m.get("category") == group.category
                    and m.get("scan_date") != group.scan_date.isoformat()
                    and tuple(sorted(m["fingerprints"])) == group.fingerprints
                ):
                    return issue
        return None

    def _comment_repeat(self, group: IssueGroup, issue: dict[str, Any], full: str) -> Outcome:
        number = issue["number"]
        day = group.scan_date.isoformat()
        for comment in self.client.paginate(f"/repos/{full}/issues/{number}/comments", {}):
            for m in self.markers(comment, full, REPEAT_MARKER):
                if m.get("scan_date") == day and tuple(sorted(m["fingerprints"])) == group.fingerprints:
                    return self._record(group, "commented", issue, full)  # commented before, record lost
        text = repeat_comment(group.scan_date, group.category, group.fingerprints)
        text = guard(f"comment on {full}#{number}", self.seal(text, full))
        if self.dry_run:
            return self._outcome(group, "would_comment", issue=None, number=number, url=issue.get("html_url"))
        self.write("POST", f"/repos/{full}/issues/{number}/comments", {"body": text})
        return self._record(group, "commented", issue, full)

    # -- bookkeeping -----------------------------------------------------------------------
    def _outcome(self, group: IssueGroup, action: str, **kw: Any) -> Outcome:
        return Outcome(group.org, group.repo, group.category, action, group.fingerprints, **kw)

    def _record(
        self,
        group: IssueGroup,
        action: str,
        issue: Mapping[str, Any],
        target: str,
        rendered: RenderedIssue | None = None,
    ) -> Outcome:
        number, url = int(issue["number"]), issue.get("html_url")
        routed = target.split("/", 1)[1] if target != group.full_name else None
        if not self.dry_run and self.store is not None:
            entry = Entry(group.scan_date, group.org, group.repo, group.category, action, number, url)
            ledger.record(self.store, [replace(entry, fingerprints=group.fingerprints, target_repo=routed)])
        return self._outcome(group, action, number=number, url=url, issue=rendered, target_repo=routed)

    def _target(self, group: IssueGroup) -> str:
        """Where the group's issue goes: the scanned repo, or the org's config repo when the scanned
        one cannot take issues (archived: GitHub answers 403 read-only; issues disabled: 410).
        Decided on the repo's ``archived`` and ``has_issues`` fields, read once per repo."""
        full = group.full_name
        if full not in self._repos:
            _, self._repos[full] = self.client.call("GET", f"/repos/{full}")
        info = self._repos[full]
        if info.get("archived") or info.get("has_issues") is False:
            return f"{group.org}/{self.config_repo}"
        return full

    # -- GitHub ----------------------------------------------------------------------------
    def _ensure_label(self, full: str, category: str) -> None:
        self.client.ensure_label(
            full,
            f"drift:{category}",
            LABEL_COLOURS.get(category, "ededed"),
            LABEL_DESCRIPTIONS.get(category, "Drift found by drift-pipeline"),
        )

    def _labelled_issues(self, full: str, label: str) -> Iterator[dict[str, Any]]:
        """Open and closed issues with ``label``; pull requests (with a ``pull_request`` key) skipped."""
        for item in self.client.paginate(f"/repos/{full}/issues", {"state": "all", "labels": label, "per_page": 100}):
            if "pull_request" not in item:
                yield item

    def write(self, verb: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one content-creating request; its title and body pass :func:`guard` first."""
        return self.client.write(verb, path, payload)


def describe(exc: BaseException) -> str:
    """A one-line, token-free account of a failure, from structured fields where there are any."""
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return mask_secrets(f"GitHub {exc.status}: {message or 'no message'}")
    return mask_secrets(f"{type(exc).__name__}: {exc}")


def findings_of_day(store: DriftStore, day: date) -> list[dict[str, Any]]:
    """The day's ``drift_findings`` rows (details decoded)."""
    rows = store.rows("SELECT * FROM drift_findings WHERE scan_date = ? ORDER BY org, repo, category, rule", [day])
    for r in rows:
        if isinstance(r.get("details"), str):
            try:
                r["details"] = json.loads(r["details"])
            except ValueError:
                pass
    return rows
