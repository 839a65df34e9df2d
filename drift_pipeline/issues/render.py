"""Findings to GitHub issue markdown: pure (findings rows and rule specs in, text out).

One issue per (repo, category) of a scan date. Titles are the earlier tool's (facts file 4.8). The
body holds a summary table, then per finding what drifted (expected vs actual), the diff of code
changes (capped, with a note when cut), the commits with links and authors, how to fix (the rule
spec's text), the scan date and a hidden marker::

    <!-- drift-pipeline: {"category": "code", "fingerprints": [...], "scan_date": "2026-03-05"} -->

Nothing is cut silently: the page is packed block by block (header, summary table slices, one
block per finding) into the body and, when it would pass :data:`PAGE_BUDGET`, into continuation
comments, each saying which part it is (a block split across parts closes its open fence and
reopens it in the next part).

Only the product's own text is markup: every string of a finding (message, subject, project,
details, diff, commits' shas, links, authors, dates and subjects) goes through
:mod:`drift_pipeline.issues.inert`, which masks secrets and makes it inert (code spans, fences,
neutralised prose, links only of a GitHub commit page's shape). So the hidden marker written here
is the only ``<!-- drift-pipeline`` a body holds. The filer checks for secrets again before it posts.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.base import RuleSpec
from drift_pipeline.issues import inert
from drift_pipeline.issues.markers import (  # noqa: F401  (the markers' home; re-exported for callers)
    MARKER,
    PART_MARKER,
    REPEAT_MARKER,
    marker,
    parse_markers,
)

MAX_BODY = 65_536  # GitHub's limit for an issue body or comment
PAGE_BUDGET = 60_000  # what a page may hold before its footer and marker
DIFF_CAP = 20_000  # characters of one diff shown in an issue
MAX_COMMITS = 20  # commits listed per finding
VALUE_CAP = 5_000  # characters of one detail value shown in a fence
TABLE_ROWS = 200  # summary rows per table slice

TITLES = {
    "code": "[drift:code] Configuration changes detected",
    "code:tier": "[drift:code] Tier-ruleset mismatch detected",
    "process": "[drift:process] Process violations detected",
    "infra": "[drift:infra] Infrastructure drift detected",
}
LABEL_COLOURS = {"code": "1d76db", "process": "d93f0b", "infra": "5319e7"}
LABEL_DESCRIPTIONS = {
    "code": "Configuration drift found by drift-pipeline",
    "process": "Process drift found by drift-pipeline",
    "infra": "Infrastructure drift found by drift-pipeline",
}
FOOTER = "---\n_Created by drift-pipeline_"


def label_for(category: str) -> str:
    return f"drift:{category}"


@dataclass(frozen=True)
class IssueGroup:
    """The findings of one repo and category on one scan date (rows of ``drift_findings``)."""

    scan_date: date
    org: str
    repo: str
    category: str
    findings: tuple[Mapping[str, Any], ...]

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.repo}"

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(sorted({str(f["fingerprint"]) for f in self.findings}))


@dataclass(frozen=True)
class RenderedIssue:
    """What is posted for one group: a title, a body, and continuation comments (in order)."""

    scan_date: date
    org: str
    repo: str
    category: str
    title: str
    body: str
    comments: tuple[str, ...]
    fingerprints: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.repo}"

    @property
    def label(self) -> str:
        return label_for(self.category)


def group_findings(rows: Iterable[Mapping[str, Any]]) -> list[IssueGroup]:
    """Findings rows grouped per (org, repo, category, scan date), in a stable order."""
    groups: dict[tuple[date, str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(_day(row["scan_date"]), row["org"], row["repo"], row["category"])].append(row)
    return [
        IssueGroup(day, org, repo, category, tuple(sorted(found, key=lambda r: (r["rule"], r["fingerprint"]))))
        for (day, org, repo, category), found in sorted(groups.items())
    ]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def title_for(group: IssueGroup) -> str:
    if group.category == "code" and all(f["rule"] == "tier_ruleset_mismatch" for f in group.findings):
        return TITLES["code:tier"]
    return TITLES.get(group.category, f"[drift:{group.category}] Drift detected")


def repeat_comment(scan_date: date, category: str, fingerprints: Sequence[str]) -> str:
    """The no-spam comment on an open issue whose findings are all still present."""
    n = len(fingerprints)
    text = (
        f"Still present on {scan_date.isoformat()}: the {n} finding{'s' if n != 1 else ''} of this issue "
        f"{'were' if n != 1 else 'was'} found again by the scan of that day.\n\n"
        + marker(scan_date, category, fingerprints, REPEAT_MARKER)
    )
    return mask_secrets(text)


def render(group: IssueGroup, rules: Mapping[str, RuleSpec]) -> RenderedIssue:
    """The issue for ``group``: body and continuation comments, each under :data:`MAX_BODY`."""
    title = title_for(group)
    header = (
        f"## {title.split('] ', 1)[-1]}\n\n"
        f"Repository: {inert.code(group.full_name)}  \nScan date: {group.scan_date.isoformat()}  \n"
        f"Findings: {len(group.findings)}\n"
    )
    blocks = [header, *_summary_tables(group.findings, rules)]
    blocks += ["### Findings\n"] + [_finding_block(i, f, rules) for i, f in enumerate(group.findings, 1)]
    pages = _pack(blocks)
    tail = f"\n{FOOTER} for scan date {group.scan_date.isoformat()}\n\n" + marker(
        group.scan_date, group.category, group.fingerprints
    )
    if len(pages) > 1:
        pages[0] += f"\n_The details continue in {len(pages) - 1} comment(s) below._\n"
    body = pages[0] + tail
    comments = tuple(
        f"_Continued ({k + 1}/{len(pages)}) from the issue body, scan date {group.scan_date.isoformat()}._\n\n{p}\n"
        + marker(group.scan_date, group.category, group.fingerprints, PART_MARKER, part=k + 1)
        for k, p in enumerate(pages[1:], 1)
    )
    return RenderedIssue(
        group.scan_date, group.org, group.repo, group.category, title, body, comments, group.fingerprints
    )


def _summary_tables(findings: Sequence[Mapping[str, Any]], rules: Mapping[str, RuleSpec]) -> list[str]:
    head = "### Summary\n\n| # | Severity | Rule | Project | Subject | Commit |\n|---|---|---|---|---|---|\n"
    rows = []
    for i, f in enumerate(findings, 1):
        sha = f.get("commit_sha")
        commit = inert.commit_link(sha, f.get("commit_url"), f"{f['org']}/{f['repo']}") if sha else ""
        title = rules[f["rule"]].title if f["rule"] in rules else "Unknown rule"
        rows.append(
            f"| {i} | {inert.text(f['severity'], 20)} | {title} ({inert.cell(f['rule'])}) | "
            f"{inert.cell(f['project'])} | {inert.cell(f.get('subject'))} | {commit} |\n"
        )
    return [head + "".join(rows[k : k + TABLE_ROWS]) for k in range(0, len(rows), TABLE_ROWS)] or [head]


def _details(finding: Mapping[str, Any]) -> dict[str, Any]:
    raw = finding.get("details")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {"details": raw}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if "\n" not in text and len(text) < 200:
        return inert.code(text)
    note = ""
    if len(text) > VALUE_CAP:
        note = f"_Value cut: {len(text) - VALUE_CAP:,} of {len(text):,} characters not shown._\n"
    return "\n" + inert.fence(text, cap=VALUE_CAP) + note


_SHOWN = {"expected", "actual", "diff", "diff_withheld", "diff_truncated", "commits"}


def _finding_block(index: int, f: Mapping[str, Any], rules: Mapping[str, RuleSpec]) -> str:
    spec = rules.get(f["rule"])
    details = _details(f)
    title = spec.title if spec else "Unknown rule"
    out = [f"#### {index}. {title}: {inert.code(f.get('subject'))}\n\n"]
    out.append(
        f"{inert.text(f['message'])}\n\nRule {inert.code(f['rule'])} · severity {inert.text(f['severity'], 20)} "
        f"· project {inert.code(f['project'])}\n\n"
    )
    if "expected" in details or "actual" in details:
        out.append(f"- Expected: {_value(details.get('expected'))}\n- Actual: {_value(details.get('actual'))}\n")
    rest = {k: v for k, v in sorted(details.items()) if k not in _SHOWN and v not in (None, "", [], {})}
    for key, value in rest.items():
        out.append(f"- {inert.text(key, 60)}: {_value(value)}\n")
    out.append("\n")
    out.append(_diff_section(details))
    out.append(_commits_section(f, details))
    if spec:
        out.append(f"**How to fix:** {spec.fix}\n\n")
    return "".join(out)


def _diff_section(details: Mapping[str, Any]) -> str:
    if details.get("diff_withheld"):
        return "_The diff is withheld: the file looks like it holds secrets._\n\n"
    raw = details.get("diff")
    if not raw:
        return ""
    diff = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)
    notes = []
    if len(diff) > DIFF_CAP:
        cut = diff[:DIFF_CAP].rsplit("\n", 1)[0]
        notes.append(f"_Diff cut: {len(diff) - len(cut):,} of {len(diff):,} characters not shown._")
    if details.get("diff_truncated"):
        notes.append("_The scan kept only the start of this diff._")
    shown = inert.fence(diff, "diff", cap=DIFF_CAP)
    return "**Diff**\n\n" + shown + "".join(n + "\n" for n in notes) + "\n"


def _commits_section(f: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    listed = details.get("commits")
    commits = [c for c in listed if isinstance(c, Mapping) and c.get("sha")] if isinstance(listed, list) else []
    if not commits and f.get("commit_sha"):
        commits = [{"sha": f["commit_sha"], "url": f.get("commit_url")}]
    if not commits:
        return ""
    lines = []
    for c in commits[:MAX_COMMITS]:
        link = inert.commit_link(c["sha"], c.get("url"), f"{f['org']}/{f['repo']}")
        who = f" by {inert.text(c['author'], 100)}" if c.get("author") else ""
        when = f" on {inert.text(str(c['date'])[:10])}" if c.get("date") else ""
        subject = str(c.get("message") or "").split("\n", 1)[0]
        lines.append(f"- {link}{who}{when}{': ' + inert.text(subject, 200) if subject else ''}\n")
    if len(commits) > MAX_COMMITS:
        lines.append(f"- … and {len(commits) - MAX_COMMITS} more commit(s)\n")
    return "**Commits**\n\n" + "".join(lines) + "\n"


def _pack(blocks: Sequence[str]) -> list[str]:
    """Blocks into pages of at most :data:`PAGE_BUDGET` characters, in order; a block never splits
    unless it alone is over budget, and then each piece says it continues."""
    pages: list[str] = [""]
    for block in blocks:
        pieces = [block]
        if len(block) > PAGE_BUDGET:
            pieces = _split(block, PAGE_BUDGET - 400)
            pieces = [
                p
                + (
                    f"\n\n_(this finding continues in the next part, {k + 2}/{len(pieces)})_\n"
                    if k < len(pieces) - 1
                    else ""
                )
                for k, p in enumerate(pieces)
            ]
        for piece in pieces:
            if pages[-1] and len(pages[-1]) + len(piece) > PAGE_BUDGET:
                pages.append("")
            pages[-1] += piece + "\n"
    return pages


_FENCE_OPEN = re.compile(r"(`{3,})[a-z]*")


def _split(block: str, size: int) -> list[str]:
    """``block`` in pieces of about ``size`` characters, cut between lines where it can be; a piece
    that ends inside one of the renderer's fences closes it, and the next piece reopens it, so no
    part of a fenced text is ever read as markdown."""
    pieces: list[str] = []
    current, opener = "", ""  # opener: the fence line we are inside, "" outside any fence
    for line in block.split("\n"):
        if not opener and _FENCE_OPEN.fullmatch(line):
            entering = line
        elif opener and line == opener.rstrip("abcdefghijklmnopqrstuvwxyz"):
            entering = ""
        else:
            entering = opener
        chunks = [line[k : k + size] for k in range(0, len(line), size)] or [""]
        for chunk in chunks:
            if current and len(current) + len(chunk) + 1 > size:
                close = "\n" + opener.rstrip("abcdefghijklmnopqrstuvwxyz") if opener else ""
                pieces.append(current + close)
                current = opener + "\n" if opener else ""
            current += chunk + "\n"
        opener = entering
    pieces.append(current.rstrip("\n"))
    return [p for p in pieces if p]
