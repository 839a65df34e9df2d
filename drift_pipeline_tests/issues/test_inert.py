"""Issue markdown is inert: hostile text through every field of every issue body the product writes.

The checker (:func:`hazards`) reads the markdown as GitHub does and reports what GitHub would act
on. Its rules:

1. Blocks and inlines as CommonMark + GFM tables and strikethrough read them (``markdown-it-py``):
   a code span closes only on a backtick run of its own length, a fence only on a long enough
   fence, and a fence line interrupts a paragraph (so ``"```` ```\n@x\n```` "`` leaves ``@x`` as
   text: GitHub's cmark-gfm reads it the same way).
2. Any ``html_block`` / ``html_inline`` token is raw HTML, except the one marker of the expected
   kind, which must be the last block of the text and end it; the source holds ``<!--`` exactly
   that once (none at all when no marker is expected).
3. Every ``image`` is a hazard; every link is, unless its href has the exact shape of a GitHub
   commit or issue page (``https://host/owner/repo/commit/<sha>`` or ``.../issues/<n>``).
4. Text outside code, links and HTML (emphasis does not interrupt it), NFKC-normalised so
   fullwidth look-alikes count, must hold no ``@mention`` (``@`` + a login character, not after a
   word character), no reference (``#N``, ``owner/repo#N``, ``GH-N``, ``owner/repo@sha``) and no
   bare URL or e-mail autolink (``scheme://``, ``www.``, ``mailto:``, ``x@y.z``).

The checker is itself tested on markdown GitHub would act on and on inert markdown, so an empty
answer means something.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from drift_pipeline.core.redaction import has_secret
from drift_pipeline.core.rules.base import make_finding
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues import render as r
from drift_pipeline.issues.audit import RepoLoad, render_summary
from drift_pipeline_tests.issues.conftest import DAY1, code_finding, issues_of, run_job, write_findings

_MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
# GitHub's filters, a little wider than GitHub (NFKC first, so fullwidth forms count too)
_MENTION = re.compile(r"(?:^|[^\w`/])@[A-Za-z0-9][A-Za-z0-9-]*")
_REFERENCE = re.compile(r"(?i)(?:(?:^|[^\w/&])#\d+|[\w.-]+/[\w.-]+#\d+|\bgh-\d+|[\w.-]+/[\w.-]+@[0-9a-f]{7,40})")
_BARE_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\bmailto:[\w.+-]+@|[\w.+-]+@[\w-]+\.[\w.-]+)")
_OWN_LINK = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?/[\w.-]+/[\w.-]+/(?:commit/[0-9a-f]{7,40}|issues/\d+)")
_OWN_MARKER = re.compile(r"<!-- (drift-pipeline(?:-repeat|-part|-audit)?): (\{[^\n]*?\}) -->\s*")


def _texts(tokens: list[Token]) -> Iterator[str]:
    """The runs of rendered text outside code, links and HTML (what GitHub's filters scan)."""
    for tok in tokens:
        if tok.type == "inline" and tok.children is not None:
            run: list[str] = []
            for child in tok.children:
                if child.type == "text":
                    run.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    run.append("\n")
                elif child.type in ("em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"):
                    continue  # emphasis does not stop GitHub's filters
                else:
                    yield "".join(run)
                    run = []
            yield "".join(run)


def _all_tokens(tokens: list[Token]) -> Iterator[Token]:
    for tok in tokens:
        yield tok
        if tok.children:
            yield from _all_tokens(tok.children)


def hazards(markdown: str, marker_kinds: tuple[str, ...] = ()) -> list[str]:
    """What GitHub would act on in ``markdown`` beyond the product's own links and its one marker
    (of one of ``marker_kinds``, last in the text). Empty when the markdown is inert."""
    found: list[str] = []
    tokens = _MD.parse(markdown)
    html = [t for t in _all_tokens(tokens) if t.type in ("html_block", "html_inline")]
    if marker_kinds:
        last = tokens[-1] if tokens else None
        own = _OWN_MARKER.fullmatch(last.content) if last is not None and last.type == "html_block" else None
        if own is None or own.group(1) not in marker_kinds or not markdown.rstrip().endswith(own.group(0).rstrip()):
            found.append("the renderer's marker is not the last thing in the text")
        else:
            json.loads(own.group(2))
            html = [t for t in html if t is not last]
    found += [f"raw HTML {t.content.strip()[:80]!r}" for t in html]
    if markdown.count("<!--") != (1 if marker_kinds else 0):
        found.append(f"{markdown.count('<!--')} comment openers in the source")
    for tok in _all_tokens(tokens):
        if tok.type == "image":
            found.append(f"image {tok.attrGet('src')!r}")
        elif tok.type == "link_open" and not _OWN_LINK.fullmatch(str(tok.attrGet("href"))):
            found.append(f"link {tok.attrGet('href')!r}")
    for run in _texts(tokens):
        plain = unicodedata.normalize("NFKC", run)
        for name, pattern in (("mention", _MENTION), ("reference", _REFERENCE), ("bare url", _BARE_URL)):
            found += [f"{name} {m.group(0).strip()!r} in {plain[:120]!r}" for m in pattern.finditer(plain)]
    return found


# -- the checker sees what GitHub would act on (so the table below can fail) -------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "hi @octocat",
        "cc @acme/security-team",
        "see acme/orders-api#1",
        "fixes #12",
        "GH-3",
        "`a`` @x`` b` @y",  # the span closes on the single tick: @y is outside
        "``a` @x`` @y",
        "```\nx\n```\n@z",
        "<img src=x>",
        "<details>x</details>",
        "[x](http://evil.example)",
        "![](http://x/p.png)",
        "go to http://evil.example",
        "www.evil.example",
        "mail dev@evil.example",
        "&#64;octocat",
        "\uff20octocat",
        "| a | b |\n|---|---|\n| `x|@y` | z |",  # the pipe splits the cell before the span is read
        "x <!-- drift-pipeline: {} -->",
        "```` ```\n@x\n```` ",  # the third line opens a fence, which ends the paragraph: @x is text
        "`a\n# @x`",  # a code span cannot hold a heading line
        "a\n\n    code\n\n<details>",
        "write to xmpp:dev@evil.example",
        "see https://evil.example/x",
    ],
)
def test_the_checker_sees_what_github_would_act_on(markdown):
    assert hazards(markdown)


@pytest.mark.parametrize(
    "markdown",
    [
        "`` a ` @x ``",
        "```` ``` @x ````",
        "`@octocat` and `#12`",
        "[abc1234](https://github.example/acme/svc/commit/abc1234def)",
        "@\u200boctocat #\u200b12 http:\u200b//x",
        "x\n\n<!-- drift-pipeline: {\"a\": 1} -->",
    ],
)
def test_the_checker_passes_inert_markdown(markdown):
    kinds = ("drift-pipeline",) if "<!--" in markdown else ()
    assert hazards(markdown, kinds) == []


# -- the hostile table -------------------------------------------------------------------------------

HOSTILE = [
    'chore: cc @acme/security-team @octocat <img src="http://x/pixel.png"> see acme/orders-api#1',
    "#12",
    "GH-3",
    "(gh-3) and x#4 and acme/web@0123456789abcdef",
    *("`" * n + " @octocat #5 " + "`" * n for n in range(1, 11)),
    *("`" * n + "@octocat" for n in range(1, 11)),
    *("x" + "`" * n + "|@octocat|" + "`" * (n + 1) + "#6" for n in range(1, 4)),
    "```\n@octocat\n```\n#7",
    "~~~\n@octocat\n~~~",
    "    indented @octocat",
    '<!-- drift-pipeline: {"category": "code", "fingerprints": ["x"], "scan_date": "2026-03-06"} -->',
    '<!-- drift-pipeline-part: {"category": "code", "fingerprints": ["x"], "part": 2, "scan_date": "2026-03-06"} -->',
    "<!-- x --> <!--",
    "<details><summary>x</summary>@octocat</details>",
    "<script>alert(1)</script><a href=x>y</a></code>@octocat",
    "[x](javascript:alert(1))",
    "![](http://x/pixel.png)",
    "[x]: http://evil.example\n\n[x] [y][x]",
    "http://evil.example/a https://evil.example/b?c=#8",
    "www.evil.example and <http://evil.example> and <dev@evil.example>",
    "mail dev@evil.example or mailto:dev@evil.example",
    "\u202e@octocat\u202c \u2066#9\u2069",
    "@\u200boctocat @\u200doctocat #\ufeff10 \u00ad@x",
    "a\x00b\x07c\x1b[31m@octocat\x7f",
    "line1\r\n@octocat\r\n#11\rGH-12",
    "x" * 100_000 + " @octocat",
    "@octocat " + "y" * 100_000,
    "| @octocat | #13 |\n|---|---|\n| a | b |",
    "a|b`|`@octocat|#14",
    "*@octocat* _#15_ **[x](http://e.example)** ~~@y~~",
    "&#64;octocat &#35;16 &lt;img src=x&gt; &amp;#64;z",
    "\uff20octocat \uff0317 \ufe6boctocat",
    "\\@octocat \\#18 \\<img src=x>",
    "@@octocat ##19",
    "- @octocat\n> #20\n# GH-21",
    "token: ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2 + " @octocat",
    "```` ```\n@octocat\n```` ",
    "see https://github.com/acme/orders-api/issues/1 and https://github.com/acme/orders-api/pull/2",
    "https://github.com/acme/svc/commit/0123456789abcdef0123456789abcdef01234567",
    "[x](http://evil.example) ![](http://evil.example/p.png) [y](https://github.com/acme/svc/issues/1)",
    "<http://evil.example> <https://github.com/acme/svc/issues/1>",
    "http\uff1a\uff0f\uff0fevil.example \uff57\uff57\uff57\uff0eevil.example \uff27\uff28\uff0d22",
    "xmpp:dev@evil.example mailto:x@y.example",
    "token:",
    "Authorization: ```",
    "password=" + "`" * 9,
    "@acme/security-team\u200d @\u2060octocat",
]
HOSTILE_IDS = [f"h{i}" for i in range(len(HOSTILE))]

Row = dict[str, Any]
Setter = Callable[[Row, str], None]


def _details(row: Row, **values: Any) -> None:
    row["details"] = json.dumps(json.loads(row["details"]) | values, sort_keys=True)


def _commit(field: str) -> Setter:
    def put(row: Row, h: str) -> None:
        commits = json.loads(row["details"])["commits"]
        commits[0][field] = h
        _details(row, commits=commits)

    return put


def _process_row(day: date = DAY1) -> Row:
    return make_finding(
        RULES["branch_name_violated"],
        scan_date=day,
        org="acme",
        repo="svc",
        project=".",
        message="branch feature/x does not match the naming pattern",
        subject="feature/x",
        commit_sha="0123456789abcdef0123456789abcdef01234567",
        commit_url="https://github.example/acme/svc/commit/0123456789abcdef0123456789abcdef01234567",
        details={
            "expected": "^(feature|fix)/[A-Z]+-[0-9]+",
            "actual": "feature/x",
            "branch": "feature/x",
            "pr_title": "Add x",
            "author": "dev-one",
            "error": "HTTP 403: Resource not accessible",
            "not_readable": [{"setting": "rulesets", "reason": "forbidden", "status": 403}],
        },
    ).row()


def _infra_row(day: date = DAY1) -> Row:
    return make_finding(
        RULES["attribute_drift"],
        scan_date=day,
        org="acme",
        repo="svc",
        project=".",
        message="prod/orders-db: DeletionProtection is false, true declared",
        subject="prod/orders-db:DeletionProtection",
        details={
            "expected": True,
            "actual": False,
            "arn": "arn:aws:rds:eu-west-1:123456789012:db:orders",
            "resource": "orders-db",
            "tags": {"team": "orders", "env": "prod"},
            "account": "123456789012",
            "reason": "AccessDenied",
        },
    ).row()


def _top(name: str) -> Setter:
    return lambda row, h: row.__setitem__(name, h)


def _detail(key: str) -> Setter:
    return lambda row, h: _details(row, **{key: h})


def _fields(detail_keys: tuple[str, ...]) -> dict[str, Setter]:
    top: dict[str, Setter] = {
        name: _top(name) for name in ("message", "subject", "project", "repo", "severity", "commit_sha", "commit_url")
    }
    details: dict[str, Setter] = {f"details.{k}": _detail(k) for k in detail_keys}
    extra: dict[str, Setter] = {
        "details key": lambda row, h: _details(row, **{h: "v"}),
        "details nested": lambda row, h: _details(row, nested={"k": [h, {"deep": h}]}),
        "details raw text": lambda row, h: row.__setitem__("details", h),
    }
    return top | details | extra


CASES: dict[str, tuple[Callable[[], Row], dict[str, Setter]]] = {
    "code": (
        lambda: code_finding(DAY1, "svc"),
        _fields(("path", "change", "diff", "expected", "actual", "value", "key"))
        | {f"commit {f}": _commit(f) for f in ("author", "message", "sha", "url", "date")},
    ),
    "process": (
        _process_row,
        _fields(("expected", "actual", "branch", "pr_title", "author", "error", "setting", "problems")),
    ),
    "infra": (
        _infra_row,
        _fields(("expected", "actual", "arn", "resource", "tags", "account", "reason", "code", "region")),
    ),
}
FIELD_CASES = [(cat, name) for cat, (_, fields) in CASES.items() for name in fields]


def issue_texts(issue: r.RenderedIssue) -> list[tuple[str, str]]:
    return [("title", issue.title), ("body", issue.body)] + [(f"part {k}", c) for k, c in enumerate(issue.comments, 2)]


def _render(rows: list[Row]) -> r.RenderedIssue:
    [group] = r.group_findings(rows)
    return r.render(group, RULES)


def _issue_hazards(issue: r.RenderedIssue) -> list[str]:
    """What GitHub would act on in the title, body and parts; and any text the filer's last check
    (``has_secret``) would refuse: a hostile string must not stop the filing either."""
    problems = [f"body: {p}" for p in hazards(issue.body, (r.MARKER,))]
    problems += [f"{w}: masking would still change it" for w, t in issue_texts(issue) if has_secret(t)]
    problems += [f"title: {p}" for p in hazards(issue.title)]
    for k, comment in enumerate(issue.comments, 2):
        problems += [f"part {k}: {p}" for p in hazards(comment, (r.PART_MARKER,))]
    return problems


@pytest.mark.parametrize(("category", "field"), FIELD_CASES, ids=[f"{c}-{f}" for c, f in FIELD_CASES])
def test_hostile_text_in_any_field_renders_inert(category, field):
    make, fields = CASES[category]
    failures = {}
    for hid, hostile in zip(HOSTILE_IDS, HOSTILE, strict=True):
        row = make()
        fields[field](row, hostile)
        issue = _render([row])
        assert r.parse_markers(issue.body)[-1]["fingerprints"] == [row["fingerprint"]]
        if problems := _issue_hazards(issue):
            failures[hid + " " + hostile[:60]] = problems[:3]
    assert failures == {}


def test_hostile_text_split_across_continuation_parts_stays_inert():
    rows = []
    for i, hostile in enumerate(HOSTILE * 2):
        row = code_finding(DAY1, "svc", path=f"p{i}/check.toml", diff_extra=(f"+{hostile}\n" + "+x = 1\n") * 60)
        row["message"], row["subject"] = hostile, f"{hostile[:50]}#{i}"
        _details(row, value=hostile + "\n" + "v" * 6_000)
        rows.append(row | {"fingerprint": f"fp{i:03d}"})
    issue = _render(rows)
    assert len(issue.comments) >= 2, "the day must need continuation parts"
    assert all(len(p) < r.MAX_BODY for p in (issue.body, *issue.comments))
    assert _issue_hazards(issue) == []


def test_a_still_present_comment_is_inert_and_holds_one_marker():
    text = r.repeat_comment(DAY1, "code", ["b", "a"])
    assert hazards(text, (r.REPEAT_MARKER,)) == []


AUDIT_FIELDS: dict[str, Callable[[str], RepoLoad]] = {
    "repo": lambda h: RepoLoad(h, "team", "tier", {"code": 6}, 3, ("https://github.example/acme/svc/issues/1",)),
    "team": lambda h: RepoLoad("svc", h, "tier", {"code": 6}, 3, ("https://github.example/acme/svc/issues/1",)),
    "tier": lambda h: RepoLoad("svc", "team", h, {"code": 6}, 3, ("https://github.example/acme/svc/issues/1",)),
    "link": lambda h: RepoLoad("svc", "team", "tier", {"code": 6}, 3, (h, "https://github.example/a/b/issues/2")),
}


@pytest.mark.parametrize("field", [*AUDIT_FIELDS, "org"])
def test_the_audit_summary_is_inert_whatever_the_api_answered(field):
    failures = {}
    for hid, hostile in zip(HOSTILE_IDS, HOSTILE, strict=True):
        if field == "org":
            title, body = render_summary(hostile, "2026-W10", [AUDIT_FIELDS["repo"]("svc")], 5)
        else:
            title, body = render_summary("acme", "2026-W10", [AUDIT_FIELDS[field](hostile)], 5)
        problems = hazards(body, ("drift-pipeline-audit",)) + hazards(title)
        if has_secret(body) or has_secret(title):
            problems.append("masking would still change it")
        if problems:
            failures[hid + " " + hostile[:60]] = problems[:3]
    assert failures == {}


# -- end to end: the filing job, then the body as GitHub holds it ------------------------------------


def test_a_hostile_finding_filed_through_the_sandbox_reads_back_inert(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    hostile = HOSTILE[0] + " " + HOSTILE[4] + " " + HOSTILE[30]
    code = code_finding(DAY1, "svc")
    code["message"], code["subject"] = hostile, hostile
    _commit("author")(code, hostile)
    _commit("message")(code, '<!-- drift-pipeline: {"category": "code"} --> ' + hostile)
    _details(code, value=hostile + "\n```\n@octocat")
    process = _process_row()
    _details(process, branch=hostile, pr_title=hostile, error=hostile)
    infra = _infra_row()
    _details(infra, tags={hostile: hostile}, arn=hostile)
    write_findings(db, DAY1, [code, process, infra])
    assert run_job(sandbox, db, DAY1).success
    for label, kind in (("drift:code", r.MARKER), ("drift:process", r.MARKER), ("drift:infra", r.MARKER)):
        [issue] = issues_of(gh, "svc", label)
        assert hazards(issue.body, (kind,)) == []
        assert "octocat" in issue.body  # the text is shown, only inert
        for comment in issue.get_comments():
            assert hazards(comment.body, (r.PART_MARKER, r.REPEAT_MARKER)) == []


# -- bounded work: a huge hostile string costs linear time, never a stalled filing run ---------------

_HUGE = """
import json, sys, time
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues import render as r
from drift_pipeline.issues.audit import RepoLoad, render_summary
from drift_pipeline_tests.issues.conftest import DAY1, code_finding
word = "tokenx" * 40_000  # one 240 kB word, no space: a scan per start position would be n**2
row = code_finding(DAY1, "svc")
row["message"] = row["subject"] = row["project"] = word
details = json.loads(row["details"])
details.update(diff="+" + word + "\\n", value=word, path=word)
details["commits"][0].update(author=word, message=word)
row["details"] = json.dumps(details)
start = time.monotonic()
[group] = r.group_findings([row])
issue = r.render(group, RULES)
render_summary("acme", "2026-W10", [RepoLoad(word, word, word, {"code": 6}, 3, (word,))], 5)
print(len(issue.body), round(time.monotonic() - start, 2))
"""


def test_a_huge_hostile_word_renders_in_bounded_time():
    try:
        done = subprocess.run([sys.executable, "-c", _HUGE], check=False, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("rendering one 240 kB word took more than 60 s")
    assert done.returncode == 0, done.stderr[-2000:]
    size, seconds = done.stdout.split()
    assert int(size) < r.MAX_BODY
    assert float(seconds) < 10


def test_a_link_into_another_repo_or_org_is_shown_as_code():
    sha = "0123456789abcdef0123456789abcdef01234567"
    row = _process_row()
    row["commit_url"] = f"https://github.example/evil/other/commit/{sha}"
    issue = _render([row])
    assert "](https://github.example/evil" not in issue.body
    assert f"[{sha[:7]}](https://github.example/acme/svc/commit/" not in issue.body
    own = _process_row()
    assert f"[{sha[:7]}](https://github.example/acme/svc/commit/{sha})" in _render([own]).body
    load = RepoLoad("svc", "t", "p", {"code": 6}, 3, ("https://github.example/evil/x/issues/1",))
    _, body = render_summary("acme", "2026-W10", [load], 5)
    assert "](https://github.example/evil" not in body and "evil/x/issues/1" in body
    _, body = render_summary("acme", "2026-W10", [AUDIT_FIELDS["repo"]("svc")], 5)
    assert "[1](https://github.example/acme/svc/issues/1)" in body
