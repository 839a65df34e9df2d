"""Change evidence: every change that reached a default branch in a period, with its review verdict.

A *change* is one merged pull request (its commits on the default branch are one change; the commit
shown is its merge or squash commit, else its last one) or one commit pushed without a pull request.
The verdict, in this order:

- ``reviewed``: merged through a pull request with at least max(required, 1) approvals at merge time;
- ``bypass by <actor>``: the pipeline recorded a ``review_bypassed`` finding for it (a direct push, or a
  merge with fewer approvals than the repo's config required that day); the actor is the finding's;
- ``direct push``: no pull request, and no bypass recorded (the config required no review that day);
- ``under-reviewed``: a pull request merged with fewer than max(required, 1) approvals, no bypass recorded.

Every verdict but ``reviewed`` is an *exception*. Settings (branch protection and rulesets) are live-only:
a day on which they were not observed is reported as not observed, never as compliant.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from drift_pipeline.evidence.collect import Facts

REVIEWED = "reviewed"
DIRECT_PUSH = "direct push"
UNDER_REVIEWED = "under-reviewed"
BYPASS = "bypass by "
NO_TIER = "(no tier)"

LIMITS = (
    "Settings (branch protection, rulesets) are live-only: they are known only on the days a live settings "
    "scan ran; every other day is reported as not observed, never as compliant.",
    "Approvals are the pull request's reviews at merge time as GitHub reports them today; a review dismissed "
    "or a pull request deleted before the day was scanned cannot be seen.",
    "Only commits on the first-parent line of each default branch count as changes; branches other than "
    "the default branch, force pushes that removed commits, and repos out of scope are not covered.",
    "A day without a process scan has no recorded changes: such days are listed under coverage.",
    "Who may bypass a rule is a setting; which bypass mechanism was used (admin override, ruleset bypass "
    "actor) is not in GitHub's history and is not reported.",
)


@dataclass
class Change:
    repo: str
    day: date
    tier: str | None
    team: str | None
    commit_sha: str
    commit_url: str | None
    subject: str | None
    author: str | None
    pr_number: int | None
    pr_url: str | None
    pr_title: str | None
    merged_by: str | None
    approvals: int
    approved_by: list[str]
    required: int | None
    commits: int
    verdict: str
    actor: str | None
    issue_number: int | None = None
    issue_url: str | None = None

    @property
    def exception(self) -> bool:
        return self.verdict != REVIEWED


@dataclass
class Group:
    """The changes of one repo or one tier."""

    name: str
    changes: int = 0
    reviewed: int = 0
    exceptions: list[str] = field(default_factory=list)  # change ids: ``repo@sha7`` or ``repo#pr``

    @property
    def share_reviewed(self) -> float | None:
        return None if not self.changes else round(self.reviewed / self.changes, 4)


@dataclass
class Report:
    org: str
    start: date
    end: date
    tiers: list[str]
    repos: list[str]
    changes: list[Change]
    by_repo: list[Group]
    by_tier: list[Group]
    settings: list[dict[str, Any]]
    activity_not_recorded: list[dict[str, Any]]
    settings_observed_days: list[date]
    settings_not_observed: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    limits: tuple[str, ...] = LIMITS

    @property
    def exceptions(self) -> list[Change]:
        return [c for c in self.changes if c.exception]


def verdict(pr_number: int | None, approvals: int, required: int | None, bypass_actor: str | None) -> str:
    """The review verdict of one change (see the module docstring)."""
    if pr_number is not None and approvals >= max(required or 0, 1):
        return REVIEWED
    if bypass_actor is not None:
        return BYPASS + bypass_actor
    return DIRECT_PUSH if pr_number is None else UNDER_REVIEWED


def change_id(change: Change) -> str:
    return (
        f"{change.repo}#{change.pr_number}"
        if change.pr_number is not None
        else f"{change.repo}@{change.commit_sha[:7]}"
    )


def _json_list(value: Any) -> list[Any]:
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [x for x in data if isinstance(x, (str, int))] if isinstance(data, list) else []


def _subject(row: dict[str, Any]) -> str:
    return str(row["commit_sha"]) if row.get("pr_number") is None else f"pr#{row['pr_number']}"


def _changes(facts: Facts) -> list[Change]:
    """One :class:`Change` per merged PR and per commit without one, oldest first."""
    inventory = {(r["scan_date"], r["repo"]): r for r in facts.inventory}
    required = {(r["scan_date"], r["repo"]): r["required"] for r in facts.required}
    bypass = {(r["repo"], r["subject"]): r for r in facts.bypasses}
    issue_of: dict[str, dict[str, Any]] = {}
    for issue in facts.issues:  # the first issue that carried a fingerprint reported it
        for fp in _json_list(issue["fingerprints"]):
            issue_of.setdefault(str(fp), issue)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in facts.activity:
        grouped[(row["repo"], _subject(row))].append(row)
    out = []
    for (repo, subject), rows in grouped.items():
        row = next((r for r in reversed(rows) if r.get("is_merge")), rows[-1])  # the merge commit, else the last
        day = row["scan_date"]
        inv = inventory.get((day, repo), {})
        need = required.get((day, repo))
        found = bypass.get((repo, subject))
        actor = (found.get("actor") or "unknown") if found else None
        approvals = int(row.get("approvals") or 0)
        change = Change(
            repo=repo,
            day=day,
            tier=inv.get("tier"),
            team=inv.get("team"),
            commit_sha=str(row["commit_sha"]),
            commit_url=row.get("commit_url"),
            subject=row.get("subject"),
            author=row.get("author"),
            pr_number=row.get("pr_number"),
            pr_url=row.get("pr_url"),
            pr_title=row.get("pr_title"),
            merged_by=row.get("merged_by"),
            approvals=approvals,
            approved_by=[str(a) for a in _json_list(row.get("approved_by"))],
            required=need,
            commits=len(rows),
            verdict=verdict(row.get("pr_number"), approvals, need, actor),
            actor=actor if actor is not None else (row.get("committer") or row.get("author")),
        )
        filed = issue_of.get(str(found["fingerprint"])) if found else None
        if filed is not None:
            change.issue_number, change.issue_url = filed.get("number"), filed.get("url")
        out.append(change)
    return sorted(out, key=lambda c: (c.day, c.repo, c.pr_number or 0, c.commit_sha))


def _groups(changes: Iterable[Change], key: str) -> list[Group]:
    groups: dict[str, Group] = {}
    for c in changes:
        name = getattr(c, key) or (NO_TIER if key == "tier" else "")
        group = groups.setdefault(name, Group(name))
        group.changes += 1
        group.reviewed += not c.exception
        if c.exception:
            group.exceptions.append(change_id(c))
    return [groups[k] for k in sorted(groups)]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def spans(days: Sequence[date], reasons: dict[date, str | None] | None = None) -> list[dict[str, Any]]:
    """Consecutive runs of ``days`` (sorted) as ``{"from", "to", "days", "reason"}`` (the first day's reason)."""
    reasons = reasons or {}
    out: list[dict[str, Any]] = []
    for day in days:
        last = out[-1] if out else None
        if last and last["to"] + timedelta(days=1) == day:
            last["to"], last["days"] = day, last["days"] + 1
        else:
            out.append({"from": day, "to": day, "days": 1, "reason": reasons.get(day)})
    return out


def _settings(facts: Facts, repos: Sequence[str]) -> tuple[list[date], list[dict[str, Any]], list[dict[str, Any]]]:
    """Observed days, not-observed spans, and per repo the verdict of each observed day's branch settings."""
    coverage = {r["scan_date"]: r for r in facts.settings_coverage}
    observed = [d for d in _days(facts.start, facts.end) if coverage.get(d, {}).get("observed")]
    missing = [d for d in _days(facts.start, facts.end) if d not in observed]
    reasons = {d: (coverage[d]["reason"] if d in coverage else "no settings scan this day") for d in missing}
    states: dict[tuple[str, date], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in facts.settings:
        states[(r["repo"], r["scan_date"])][str(r["state"])].append(str(r["setting"]))
    per_repo = []
    for repo in repos:
        days = []
        for day in observed:
            seen = states.get((repo, day))
            if not seen:
                days.append(
                    {"day": day, "verdict": "no branch settings recorded", "violations": [], "not_evaluated": []}
                )
                continue
            violations, unknown = sorted(seen.get("violation", [])), sorted(seen.get("not_evaluated", []))
            state = "not satisfied" if violations else "not evaluated" if unknown else "satisfied"
            days.append({"day": day, "verdict": state, "violations": violations, "not_evaluated": unknown})
        per_repo.append({"repo": repo, "observed": days, "not_observed_days": len(missing)})
    return observed, spans(missing, reasons), per_repo


def _weeks(changes: Sequence[Change], start: date, end: date) -> list[dict[str, Any]]:
    """Every week (Monday) of the period: changes, exceptions, and the share reviewed per tier."""
    first = start - timedelta(days=start.weekday())
    weeks: dict[date, dict[str, Any]] = {}
    monday = first
    while monday <= end:
        weeks[monday] = {"week": monday, "changes": 0, "exceptions": 0, "tiers": {}}
        monday += timedelta(days=7)
    for c in changes:
        week = weeks[c.day - timedelta(days=c.day.weekday())]
        week["changes"] += 1
        week["exceptions"] += c.exception
        tier = week["tiers"].setdefault(c.tier or NO_TIER, {"changes": 0, "reviewed": 0})
        tier["changes"] += 1
        tier["reviewed"] += not c.exception
    for week in weeks.values():
        for tier in week["tiers"].values():
            tier["share_reviewed"] = round(tier["reviewed"] / tier["changes"], 4)
    return list(weeks.values())


def build(facts: Facts, *, tiers: Sequence[str] = (), repos: Sequence[str] = ()) -> Report:
    """The report of ``facts``, narrowed to the changes of ``tiers`` and ``repos`` when given."""
    changes = [c for c in _changes(facts) if (not tiers or c.tier in tiers) and (not repos or c.repo in repos)]
    in_scope = sorted(
        {r["repo"] for r in facts.inventory if r.get("in_scope")}
        | {r["repo"] for r in facts.required}
        | {c.repo for c in changes}
    )
    tier_of = {r["repo"]: r.get("tier") for r in sorted(facts.inventory, key=lambda r: r["scan_date"])}
    covered = [r for r in in_scope if (not repos or r in repos) and (not tiers or tier_of.get(r) in tiers)]
    scanned = {r["scan_date"] for r in facts.required}  # a process scan ran (a head that did not move: no commit)
    unread = [d for d in _days(facts.start, facts.end) if d not in scanned]
    observed, not_observed, settings = _settings(facts, covered)
    return Report(
        org=facts.org,
        start=facts.start,
        end=facts.end,
        tiers=list(tiers),
        repos=covered,
        changes=changes,
        by_repo=_groups(changes, "repo"),
        by_tier=_groups(changes, "tier"),
        settings=settings,
        activity_not_recorded=spans(unread, dict.fromkeys(unread, "no process scan this day")),
        settings_observed_days=observed,
        settings_not_observed=not_observed,
        weeks=_weeks(changes, facts.start, facts.end),
    )


def totals(report: Report) -> dict[str, Any]:
    changes = len(report.changes)
    reviewed = sum(not c.exception for c in report.changes)
    by_kind: dict[str, int] = defaultdict(int)
    for c in report.exceptions:
        by_kind["bypass" if c.verdict.startswith(BYPASS) else c.verdict] += 1
    return {
        "changes": changes,
        "reviewed": reviewed,
        "share_reviewed": None if not changes else round(reviewed / changes, 4),
        "exceptions": changes - reviewed,
        "bypasses": by_kind["bypass"],
        "direct_pushes": by_kind[DIRECT_PUSH],
        "under_reviewed": by_kind[UNDER_REVIEWED],
    }


def payload(report: Report) -> dict[str, Any]:
    """The report as JSON-able data (dates as ``date``; ``_output.to_json`` writes them)."""
    return {
        "org": report.org,
        "from": report.start,
        "to": report.end,
        "tiers": report.tiers,
        "repos": report.repos,
        "totals": totals(report),
        "by_tier": [{**asdict(g), "share_reviewed": g.share_reviewed} for g in report.by_tier],
        "by_repo": [{**asdict(g), "share_reviewed": g.share_reviewed} for g in report.by_repo],
        "exceptions": [_change(c) for c in report.exceptions],
        "changes": [_change(c) for c in report.changes],
        "coverage": {
            "settings_observed_days": report.settings_observed_days,
            "settings_not_observed": report.settings_not_observed,
            "activity_not_recorded": report.activity_not_recorded,
            "settings_by_repo": report.settings,
        },
        "weeks": report.weeks,
        "limits": list(report.limits),
    }


def _change(c: Change) -> dict[str, Any]:
    return {"id": change_id(c), **asdict(c), "exception": c.exception}
