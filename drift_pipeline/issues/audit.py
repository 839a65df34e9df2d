"""The weekly audit: open ``drift:*`` issues per repo, the repos above a threshold, one summary issue.

Counting uses the search API, one paginated query per category and org
(``org:O is:issue is:open label:"drift:<category>"``): three requests per org instead of three
listings per repo. Its index lags new issues by seconds to minutes, which does not matter to a
weekly count (filing never relies on it). The summary is opened once per (org, ISO week) in the
config repo (label ``drift:audit``, hidden marker with org and week, looked for in the label's
listing before creating); every audit is stored in ``audit_reports``, so the audit has a history.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.base import CATEGORIES
from drift_pipeline.issues import inert
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.issues.identity import filer_identity
from drift_pipeline.store import DriftStore

AUDIT_LABEL = "drift:audit"
AUDIT_MARKER = "drift-pipeline-audit"
DEFAULT_THRESHOLD = 5
_MARKER_RE = re.compile(r"<!-- drift-pipeline-audit: (\{.*?\}) -->")


@dataclass(frozen=True)
class RepoLoad:
    """One repo's open drift issues."""

    repo: str
    team: str | None
    tier: str | None
    open: dict[str, int]
    oldest_days: int
    links: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.open.values())


@dataclass
class AuditResult:
    org: str
    week: str
    threshold: int
    action: str  # created | found | already_done | nothing_to_report | would_create
    repos: list[RepoLoad] = field(default_factory=list)
    number: int | None = None
    url: str | None = None
    title: str | None = None
    body: str | None = None


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def open_drift_issues(client: IssueClient, org: str) -> list[dict[str, Any]]:
    """Every open issue of ``org`` carrying a ``drift:<category>`` label (pull requests left out)."""
    seen: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        query = f'org:{org} is:issue is:open label:"drift:{category}"'
        for item in client.paginate("/search/issues", {"q": query, "per_page": 100}, items_key="items"):
            if "pull_request" not in item:
                seen[str(item.get("html_url"))] = item
    return list(seen.values())


def summarise(
    issues: list[dict[str, Any]], inventory: dict[str, dict[str, Any]], threshold: int, now: datetime
) -> list[RepoLoad]:
    """Repos with more than ``threshold`` open drift issues, most loaded first."""
    per_repo: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        repo = str(issue.get("repository_url", "")).rstrip("/").rsplit("/", 1)[-1]
        per_repo.setdefault(repo, []).append(issue)
    loads = []
    for repo, items in per_repo.items():
        if len(items) <= threshold:
            continue
        counts = {c: 0 for c in CATEGORIES}
        for item in items:
            for lab in item.get("labels") or []:
                name = lab.get("name") if isinstance(lab, dict) else lab
                if isinstance(name, str) and name.startswith("drift:") and name[6:] in counts:
                    counts[name[6:]] += 1
        created = [datetime.fromisoformat(str(i["created_at"]).replace("Z", "+00:00")) for i in items]
        meta = inventory.get(repo, {})
        loads.append(
            RepoLoad(
                repo,
                meta.get("team"),
                meta.get("tier"),
                counts,
                max((now - min(created)).days, 0),
                tuple(sorted(str(i["html_url"]) for i in items)),
            )
        )
    return sorted(loads, key=lambda r: (-r.total, r.repo))


def render_summary(org: str, week: str, loads: list[RepoLoad], threshold: int) -> tuple[str, str]:
    title = f"[drift:audit] {len(loads)} repo(s) above {threshold} open drift issues ({week})"
    head = "| Repo | Team | Tier | " + " | ".join(CATEGORIES) + " | Oldest (days) | Issues |\n"
    head += "|---" * (len(CATEGORIES) + 5) + "|\n"
    rows = []
    for load in loads:
        links = " ".join(inert.issue_link(u, org) for u in load.links[:30])
        more = f" … +{len(load.links) - 30}" if len(load.links) > 30 else ""
        counts = " | ".join(str(int(load.open.get(c, 0))) for c in CATEGORIES)
        repo, team, tier = (
            inert.cell(f"{org}/{load.repo}"),
            inert.text(load.team or "", 100),
            inert.text(load.tier or "", 40),
        )
        rows.append(f"| {repo} | {team} | {tier} | {counts} | {int(load.oldest_days)} | {links}{more} |\n")
    marker = f"<!-- {AUDIT_MARKER}: {inert.comment_json({'org': org, 'week': week})} -->"
    body = (
        f"## Weekly drift audit, {week}\n\n"
        f"Repos of {inert.code(org)} with more than {threshold} open `drift:*` issues.\n\n"
        + head
        + "".join(rows)
        + f"\n---\n_Created by drift-pipeline's weekly audit_\n\n{marker}"
    )
    return title, mask_secrets(body)


def _inventory(store: DriftStore, org: str) -> dict[str, dict[str, Any]]:
    rows = store.rows(
        "SELECT repo, team, tier FROM repo_inventory WHERE org = ? AND scan_date = "
        "(SELECT max(scan_date) FROM repo_inventory WHERE org = ?)",
        [org, org],
    )
    return {r["repo"]: r for r in rows}


def run_audit(
    client: IssueClient,
    store: DriftStore,
    org: str,
    *,
    now: datetime,
    threshold: int = DEFAULT_THRESHOLD,
    config_repo: str = "drift-config",
    dry_run: bool = False,
    app_slug: str | None = None,
) -> AuditResult:
    """Audit ``org`` for the ISO week of ``now``; at most one summary issue per (org, week).

    A summary already in the config repo counts only when the filing identity opened it
    (``identity.filer_identity``; ``app_slug`` for a GitHub App): anyone may open an issue with a
    copy of the marker, and that must not silence the week's summary."""
    if threshold < 0:
        raise ValueError(f"audit threshold must be 0 or more, got {threshold}")
    week = iso_week(now.date())
    loads = summarise(open_drift_issues(client, org), _inventory(store, org), threshold, now)
    result = AuditResult(org, week, threshold, "nothing_to_report", loads)
    done = store.rows(
        "SELECT number, url FROM audit_reports WHERE org = ? AND week = ? AND action IN ('created', 'found')",
        [org, week],
    )
    if done:
        result.action, result.number, result.url = "already_done", done[0]["number"], done[0]["url"]
    elif loads:
        result.title, result.body = render_summary(org, week, loads, threshold)
        result.action = "would_create" if dry_run else result.action
        if not dry_run:
            full = f"{org}/{config_repo}"
            found = _find_summary(client, full, org, week, filer_identity(client, app_slug))
            if found is not None:
                result.action, result.number, result.url = "found", found["number"], found.get("html_url")
            else:
                client.ensure_label(full, AUDIT_LABEL, "fbca04", "Weekly drift audit summary by drift-pipeline")
                issue = client.write(
                    "POST",
                    f"/repos/{full}/issues",
                    {"title": result.title, "body": result.body, "labels": [AUDIT_LABEL]},
                )
                result.action, result.number, result.url = "created", issue["number"], issue.get("html_url")
    if not dry_run:
        _store(store, result, now)
    return result


def _find_summary(client: IssueClient, full: str, org: str, week: str, filer: str) -> dict[str, Any] | None:
    for item in client.paginate(f"/repos/{full}/issues", {"state": "all", "labels": AUDIT_LABEL, "per_page": 100}):
        author = (item.get("user") or {}).get("login") if isinstance(item.get("user"), dict) else None
        if not isinstance(author, str) or author.lower() != filer.lower():
            continue  # not ours: its marker, copied or not, decides nothing
        for match in _MARKER_RE.finditer(str(item.get("body") or "")):
            try:
                data = json.loads(match.group(1))
            except ValueError:
                continue
            if data == {"org": org, "week": week} and "pull_request" not in item:
                return item
    return None


def _store(store: DriftStore, result: AuditResult, now: datetime) -> None:
    store.write(
        lambda con: con.execute(
            "INSERT INTO audit_reports (week, org, run_at, threshold, action, number, url, repos) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?::JSON)",
            [
                result.week,
                result.org,
                now,
                result.threshold,
                result.action,
                result.number,
                result.url,
                json.dumps([asdict(r) | {"total": r.total} for r in result.repos], sort_keys=True),
            ],
        )
    )
