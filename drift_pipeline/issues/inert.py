"""Untrusted text made inert in GitHub markdown: the one place that knows how.

Every string that comes from a watched repo or an API answer (commit subjects and authors, file
paths, branch names, PR titles, config values, error messages, resource names and tags, finding
messages, subjects and evidence) reaches an issue body or comment only through this module. Only
the product's own text is markup. The rule:

- :func:`code` (and :func:`cell` inside a table): identifiers, paths, values, names. A code span
  whose backtick run is longer than any run inside, on one line, capped. Nothing inside a code
  span is markup on GitHub (no mention, reference, autolink or HTML).
- :func:`fence`: multi-line evidence (diffs, long values), in a fence longer than any backtick run
  inside, capped by the caller.
- :func:`text`: prose (finding messages, commit subjects, author names). On one line, capped,
  in its NFKC form (fullwidth ``＠`` ``＃`` ``：`` as ASCII, so no look-alike survives), every
  markdown punctuation mark escaped, ``<``, ``>`` and ``&`` as entities, and a zero-width space
  after ``@``, ``#``, ``GH-``, every ``:`` (``http://``, ``mailto:``, ``xmpp:``) and ``www.``:
  GitHub finds mentions, references and bare URLs in the *rendered* text, so escapes alone would
  not stop them.
- :func:`commit_link` and :func:`issue_link`: a link only when the URL has the exact shape of a
  GitHub commit or issue page; otherwise the label as a code span and no link.

Everywhere (code spans and fences too): only a bounded prefix of the value is read
(:func:`prefix`: the work is linear and capped whatever the length); secrets masked first (to a
fixed point, before any cut, so a secret crossing a cut is never shown in part); ``<!--`` broken
with a zero-width space, so the renderer's hidden marker is the only one a body can hold; control
and format characters (bidi overrides, zero-width characters, BOM) shown as ``\\u202e`` escapes;
and a secret label (``token:``, ``password=``, ``Authorization:`` …) is kept from reaching past the
text: the filer's last check (``redaction.has_secret``) must find the whole body already masked,
and a label left open at the end of a span would let masking eat the span's closing backticks.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from drift_pipeline.core.redaction import MASK, mask_secrets, visible_controls

CODE_CAP = 300  # characters of one code span's content
TEXT_CAP = 1_000  # characters of one prose text
ELLIPSIS = "…"
SLACK = 512  # characters read past a cut, so that a secret crossing it is masked whole
ZWSP = "\u200b"  # the product's own: breaks mentions, references, autolinks and comment openers

_SPACE = re.compile(r"\s+")
_TICKS = re.compile(r"`+")
_COMMENT = re.compile(r"<!--")
# A secret-naming word right before ":" or "=": a zero-width space goes before the separator.
# The look-behind starts a match only at a word's start: without it a 100 kB word costs n² steps.
_LABEL = re.compile(
    r"(?i)(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*(?:authorization|token|bearer|passw(?:or)?d|pwd|secret|key)[\"']?)(\s*)([:=])"
)
_PROSE_ESCAPE = {c: "\\" + c for c in "\\`*_[]()!#|~$^{}+-=.:"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_REFS = re.compile(r"(?i)(@|#|\bgh\\?-(?=\d)|:|\bwww(?=\\?\.))")
_SHA = re.compile(r"[0-9a-f]{7,40}")
_COMMIT_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?/([A-Za-z0-9._-]+/[A-Za-z0-9._-]+)/commit/([0-9a-f]{7,40})"
)
_ISSUE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?/([A-Za-z0-9._-]+)/[A-Za-z0-9._-]+/issues/(\d{1,10})")


def _str(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _masked(text: str) -> str:
    """``text`` masked to a fixed point, and every secret label that masking would let reach past
    the end of ``text`` (into the backticks that close it) broken before its separator."""
    for _ in range(5):  # masking again can find a label whose value the first pass replaced
        again = mask_secrets(text)
        if again == text:
            break
        text = again
    return _LABEL.sub(_defuse, text)


def _defuse(m: re.Match[str]) -> str:
    probe = " " + m.group(0) + "```" + "x" * 12
    if mask_secrets(probe) == probe:
        return m.group(0)  # not a label redaction knows (``monkey: 1``)
    return m.group(1) + m.group(2) + ZWSP + m.group(3)


def _clean(text: str) -> str:
    """Masked (before the escapes, which could hide a token's word boundary, and after), with
    control and format characters visible."""
    return _masked(visible_controls(mask_secrets(text.replace("\r\n", "\n").replace("\r", "\n"))))


def prefix(value: Any, cap: int) -> str:
    """The first characters of ``value``, enough for ``cap`` after cleaning: the work stays bounded
    whatever the length, and a secret that crosses the cut is still whole when it is masked."""
    return _str(value)[: 2 * cap + SLACK]


def _line(value: Any, cap: int, *, nfkc: bool = False) -> str:
    """One line, clean, at most ``cap`` characters (an ellipsis says it was cut); ``nfkc``: in the
    compatibility form first (fullwidth ``＠``, ``＃``, ``：``, ``／`` as ``@``, ``#``, ``:``, ``/``)."""
    raw = _str(value)
    head = unicodedata.normalize("NFKC", prefix(raw, cap)) if nfkc else prefix(raw, cap)
    text = _clean(_SPACE.sub(" ", head).strip())
    if len(text) <= cap and len(raw) <= 2 * cap + SLACK:
        return text
    return _masked(text[: cap - 1].rstrip()) + ELLIPSIS


def _no_comment(text: str) -> str:
    return _COMMENT.sub("<" + ZWSP + "!--", text)


def code(value: Any, cap: int = CODE_CAP, *, table: bool = False) -> str:
    """``value`` as one inline code span that nothing inside can close; ``table`` escapes pipes."""
    content = _no_comment(_line(value, cap))
    if not content:
        return "_(empty)_"
    if table:
        content = content.replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in _TICKS.findall(content)), default=0) + 1)
    pad = " " if content[0] in "` " or content[-1] in "` " else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def cell(value: Any, cap: int = 100) -> str:
    """``value`` as a code span fit for a table cell (empty stays empty)."""
    return code(value, cap, table=True) if _str(value).strip() else ""


def text(value: Any, cap: int = TEXT_CAP) -> str:
    """``value`` as inert prose on one line: no markup, mention, reference, HTML or autolink."""
    parts = _line(value, cap, nfkc=True).split(MASK)  # the mask stays readable: a bare [x] links to nothing here
    escaped = MASK.join("".join(_PROSE_ESCAPE.get(c, c) for c in part) for part in parts)
    return _REFS.sub(lambda m: m.group(1) + ZWSP, escaped)


def fence(value: Any, lang: str = "", cap: int | None = None) -> str:
    """``value`` as a fenced block no line inside can close (``lang`` is the product's own); with
    ``cap``, at most that many characters, cut at a line's end where there is one (masked before
    the cut, so a secret crossing it is not shown in part)."""
    raw = _str(value)
    if cap is not None and len(raw) > cap:
        cut = _clean(raw[: cap + SLACK])[:cap]
        body = _no_comment(_masked(cut.rsplit("\n", 1)[0] if "\n" in cut else cut))
    else:
        body = _no_comment(_clean(raw))
    longest = max((len(m) for m in _TICKS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body.rstrip(chr(10))}\n{ticks}\n"


def commit_link(sha: Any, url: Any, repo: str | None = None) -> str:
    """``[abc1234](url)`` when ``url`` is a GitHub commit page of ``sha`` (in ``repo``, ``owner/name``,
    when given: a link into another repo is not one the product writes); else the sha as code."""
    sha_text, link = _str(sha).strip(), _str(url).strip()
    match = _COMMIT_URL.fullmatch(link) if len(link) <= 500 else None
    if match and repo is not None and match.group(1).casefold() != repo.casefold():
        match = None
    if _SHA.fullmatch(sha_text) and match and match.group(2).startswith(sha_text[:7]):
        return f"[{sha_text[:7]}]({link})"
    return code(sha_text[:7] if _SHA.fullmatch(sha_text) else sha_text, 40)


def issue_link(url: Any, owner: str | None = None) -> str:
    """``[12](url)`` when ``url`` is a GitHub issue page (of ``owner``'s repos, when given); else
    the url as code."""
    link = _str(url).strip()
    match = _ISSUE_URL.fullmatch(link) if len(link) <= 500 else None
    if match and owner is not None and match.group(1).casefold() != owner.casefold():
        match = None
    return f"[{match.group(2)}]({link})" if match else code(link, 120, table=True)


def comment_json(data: Any) -> str:
    """``data`` as JSON fit for a hidden ``<!-- ... -->`` marker: ``<``, ``>`` and ``&`` as
    ``\\u`` escapes (the same JSON once decoded), so no value can close the comment or open one."""
    text = json.dumps(data, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
