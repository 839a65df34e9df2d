"""The report as CSV (one row per change) and as one self-contained HTML file.

Every string in a report came from a watched repo or an API answer: hostile. In HTML each is escaped
(``html.escape``), and a link is drawn only for an ``http(s)`` URL of a plain shape; anything else is
shown as text. The page loads nothing (a Content-Security-Policy of ``default-src 'none'`` says so to
the browser); its charts are inline SVG drawn with matplotlib through ``drift trends``' own helper.
In CSV, a cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is
prefixed with ``'``.
"""

from __future__ import annotations

import csv
import html
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drift_pipeline.evidence.report import NO_TIER, Change, Group, Report, change_id, totals

CSV_COLUMNS = (
    "id", "day", "repo", "tier", "team", "commit_sha", "commit_url", "author", "pr_number", "pr_url",
    "merged_by", "approvals", "approved_by", "required", "verdict", "actor", "issue_number", "issue_url",
)  # fmt: skip
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%/#+-]*)?")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa}tr.exception td{background:#fff5f5}.num{text-align:right}
.note{color:#57606a}.bad{color:#b00020;font-weight:600}.ok{color:#1a7f37}svg{max-width:100%;height:auto}
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(report: Report) -> str:
    """One row per change of the period (exceptions first, then by day)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in _ordered(report.changes):
        row = {"id": change_id(c), **c.__dict__}
        writer.writerow([_cell(row[k]) for k in CSV_COLUMNS])
    return buffer.getvalue()


def _ordered(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (not c.exception, c.day, c.repo, c.pr_number or 0))


def esc(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def link(text: Any, url: Any) -> str:
    """``text`` as a link to ``url`` when it is a plain http(s) URL; else ``text`` alone (escaped)."""
    href = str(url).strip() if isinstance(url, str) else ""
    if href and len(href) <= 500 and _URL.fullmatch(href):
        return f'<a href="{esc(href)}" rel="noreferrer noopener">{esc(text)}</a>'
    return esc(text)


def _table(table_id: str, headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]]) -> str:
    """An HTML table; each row is (css class, cells already escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = (
        "".join(f'<tr class="{cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cls, cells in rows)
        or f'<tr><td colspan="{len(headers)}" class="note">none</td></tr>'
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _share(value: float | None) -> str:
    return "n/a (no changes)" if value is None else f"{value:.0%}"


def _approvals(c: Change) -> str:
    need = "not recorded" if c.required is None else str(c.required)
    who = f" ({esc(', '.join(c.approved_by))})" if c.approved_by else ""
    return f"{c.approvals} of {esc(need)} required{who}"


def _change_cells(c: Change) -> list[str]:
    pr = link(f"#{c.pr_number}", c.pr_url) if c.pr_number is not None else "direct push"
    issue = (
        link(f"#{c.issue_number}", c.issue_url)
        if c.issue_number is not None
        else '<span class="note">none filed</span>'
    )
    verdict_class = "ok" if not c.exception else "bad"
    return [
        esc(c.day),
        esc(c.repo),
        esc(c.tier or NO_TIER),
        esc(c.team),
        link(c.commit_sha[:7], c.commit_url),
        esc(c.author),
        pr,
        esc(c.merged_by),
        _approvals(c),
        f'<span class="{verdict_class}">{esc(c.verdict)}</span>',
        issue,
    ]


CHANGE_HEADERS = (
    "day", "repo", "tier", "team", "commit", "author", "pull request", "merged by", "approvals at merge",
    "verdict", "drift issue",
)  # fmt: skip


def _groups(table_id: str, label: str, groups: Sequence[Group]) -> str:
    rows = [
        ("exception" if g.exceptions else "", [esc(g.name), str(g.changes), str(g.reviewed), _share(g.share_reviewed),
                                               str(len(g.exceptions)), esc(", ".join(g.exceptions))])
        for g in groups
    ]  # fmt: skip
    return _table(table_id, (label, "changes", "reviewed", "share reviewed", "exceptions", "exception ids"), rows)


def _spans(spans: Sequence[dict[str, Any]]) -> str:
    if not spans:
        return '<p class="note">none</p>'
    items = "".join(
        f"<li>{esc(s['from'])}" + (f" .. {esc(s['to'])}" if s["to"] != s["from"] else "")
        + f" ({s['days']} day{'s' if s['days'] != 1 else ''}): <b>not observed</b>"
        + (f" — first day: {esc(s['reason'])}" if s.get("reason") else "") + "</li>"
        for s in spans
    )  # fmt: skip
    return f"<ul>{items}</ul>"


def _settings(report: Report) -> str:
    rows = []
    for repo in report.settings:
        seen = [
            f"{esc(d['day'])}: {esc(d['verdict'])}"
            + (f" ({esc(', '.join(d['violations']))})" if d["violations"] else "")
            + (f" (not evaluated: {esc(', '.join(d['not_evaluated']))})" if d["not_evaluated"] else "")
            for d in repo["observed"]
        ]
        bad = any(d["verdict"] != "satisfied" for d in repo["observed"])
        rows.append(
            ("exception" if bad else "", [esc(repo["repo"]), "<br>".join(seen) or "never observed",
                                          f"{repo['not_observed_days']} day(s): not observed"])
        )  # fmt: skip
    return _table("settings-table", ("repo", "observed days: branch protection / rulesets", "other days"), rows)


def charts(report: Report) -> str:
    """Two inline SVG charts: changes and exceptions per week; share reviewed per tier and week."""
    from drift_pipeline.evidence.chart import draw  # matplotlib: imported only for the HTML

    counts = [{"scan_date": w["week"], "counts": {"changes": w["changes"], "exceptions": w["exceptions"]}}
              for w in report.weeks]  # fmt: skip
    tiers = sorted({t for w in report.weeks for t in w["tiers"]})
    shares = [
        {"scan_date": w["week"], "counts": {t: (w["tiers"][t]["share_reviewed"] if t in w["tiers"] else None) for t in tiers}}
        for w in report.weeks
    ]  # fmt: skip
    out = []
    with tempfile.TemporaryDirectory(prefix="drift-evidence-") as tmp:
        for name, groups, rows, by, ylabel in (
            ("changes", ["changes", "exceptions"], counts, "series", "changes"),
            ("share", tiers, shares, "tier", "share reviewed (gap: no changes)"),
        ):
            path = Path(tmp) / f"{name}.svg"
            title = f"{ylabel} per week (Monday), {report.start} .. {report.end}"
            draw(path, groups, rows, by=by, title=title, xlabel="week (UTC)", ylabel=ylabel)
            svg = path.read_text(encoding="utf-8")
            out.append(svg[svg.index("<svg") :])  # inline: without the XML prolog and doctype
    return "\n".join(out)


def to_html(report: Report, *, source: str) -> str:
    """The whole report as one HTML document that needs nothing else (no script, no fetch)."""
    t = totals(report)
    title = f"Change evidence: {report.org}, {report.start} .. {report.end}"
    filters = f"tiers: {', '.join(report.tiers) or 'all'}; repos: {', '.join(report.repos) or 'none in scope'}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = _table(
        "summary-table",
        ("changes", "reviewed", "share reviewed", "exceptions", "bypasses", "direct pushes", "under-reviewed"),
        [("exception" if t["exceptions"] else "", [str(t["changes"]), str(t["reviewed"]), _share(t["share_reviewed"]),
          str(t["exceptions"]), str(t["bypasses"]), str(t["direct_pushes"]), str(t["under_reviewed"])])],
    )  # fmt: skip
    exceptions = _table(
        "exceptions-table", CHANGE_HEADERS, [("exception", _change_cells(c)) for c in report.exceptions]
    )
    changes = _table(
        "changes-table", CHANGE_HEADERS, [("exception" if c.exception else "", _change_cells(c)) for c in _ordered(report.changes)]
    )  # fmt: skip
    observed = ", ".join(esc(d) for d in report.settings_observed_days) or "none"
    limits = "".join(f"<li>{esc(item)}</li>" for item in report.limits)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{esc(title)}</title><style>{STYLE}</style></head><body>
<h1>{esc(title)}</h1>
<p class="note">{esc(filters)}. Read from the drift store {esc(source)} only (no API call), {esc(generated)}.
A change is a merged pull request or a commit pushed without one, on a default branch.</p>
<section id="summary"><h2>Summary</h2>{summary}
<h3>By tier</h3>{_groups("tier-table", "tier", report.by_tier)}</section>
<section id="exceptions"><h2>Exceptions ({len(report.exceptions)})</h2>{exceptions}</section>
<section id="by-repo"><h2>By repo</h2>{_groups("repo-table", "repo", report.by_repo)}</section>
<section id="weekly"><h2>Per week</h2>{charts(report)}</section>
<section id="coverage"><h2>Coverage</h2>
<p>Settings observed on: {observed}.</p><p>Settings not observed (never read as compliant):</p>
{_spans(report.settings_not_observed)}
{_settings(report)}
<p>Days without a process scan (changes of those days are not in this report):</p>
{_spans(report.activity_not_recorded)}</section>
<section id="changes"><h2>All changes ({len(report.changes)}, exceptions first)</h2>{changes}</section>
<section id="limits"><h2>What this report cannot know</h2><ul>{limits}</ul></section>
</body></html>
"""
