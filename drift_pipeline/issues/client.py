"""The GitHub calls of issue filing and the audit, on PyGithub's ``Requester``.

Every request goes through :meth:`IssueClient.call`: a 403/429 that is a rate limit (judged on
status and headers only, :func:`rate_limit_pause`) is waited out and sent again, at least a second
and at most ``max_rate_limit_wait``, each pause counted against the run's retry budget, shared
with the GitHub source on the same client (:mod:`drift_pipeline.sources.http_bounds`). A 401 to
an App installation's token re-mints it and sends the request once more, a write too: a refused
request changed nothing (:func:`remint_for_retry`). Listings never follow a page twice nor past
the page ceiling, and only on the API's origin; a server's message in an error is capped to one
short line. Content-creating requests are spaced by PyGithub's own
``seconds_between_writes`` (configured on the GitHub resource) and pass :func:`guard` before they
leave: a token-like string that survived rendering stops the post (:class:`SecretInBody`).
Plain dicts are returned (GitHub's JSON), so listing items never trigger PyGithub's lazy
completion requests.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from github import Github, GithubException

from drift_pipeline.core.redaction import cap_message, has_secret
from drift_pipeline.sources.github_auth import remint_for_retry
from drift_pipeline.sources.http_bounds import PageGuard, check_api_url, rate_limit_pause
from drift_pipeline.sources.http_transport import bounds_of

_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class SecretInBody(Exception):
    """A token-like string survived rendering: the text is not posted."""


def guard(where: str, text: str) -> str:
    """``text`` unchanged when it holds no token-like string; raises :class:`SecretInBody` otherwise."""
    if has_secret(text):
        raise SecretInBody(f"refused to post the {where}: it holds a token-like string after redaction")
    return text


class IssueClient:
    def __init__(
        self, gh: Github, *, max_rate_limit_wait: float = 900, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.requester = gh.requester
        self.bounds = bounds_of(gh)  # the run's limits and retry budget, shared with the source
        self.max_rate_limit_wait = max_rate_limit_wait
        self._sleep = sleep
        self.rate_limit_waits = 0

    def ensure_label(self, full: str, name: str, colour: str, description: str) -> None:
        """The label exists in ``full`` afterwards (created with colour and description if missing)."""
        try:
            self.call("GET", f"/repos/{full}/labels/{urllib.parse.quote(name, safe='')}")
            return
        except GithubException as exc:
            if exc.status != 404:
                raise
        try:
            self.write("POST", f"/repos/{full}/labels", {"name": name, "color": colour, "description": description})
        except GithubException as exc:
            # created meanwhile is what we wanted: only a 422 whose errors say already_exists; any
            # other 422 (an invalid colour, a name too long) is a real refusal
            errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
            codes = {e.get("code") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()
            if exc.status != 422 or "already_exists" not in codes:
                raise

    def paginate(self, path: str, params: dict[str, Any], items_key: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a listing (or of ``items_key`` of a search answer), following ``Link: next``."""
        url: str | None = path
        query: dict[str, Any] | None = params
        guard = PageGuard(self.bounds.api_url, path, self.bounds.limits.max_pages)
        while url:
            headers, data = self.call("GET", guard.admit(url, query), query)
            if items_key is not None and isinstance(data, dict):
                data = data.get(items_key)
            if not isinstance(data, list):
                raise GithubException(0, {"message": f"GET {path} answered {type(data).__name__}, not a list"}, {})
            yield from (d for d in data if isinstance(d, dict))
            match = _LINK_NEXT.search(headers.get("link", "") or "")
            url, query = (match.group(1), None) if match else (None, None)

    def write(self, verb: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one content-creating request; its title and body pass :func:`guard` first."""
        for key in ("title", "body"):
            if key in payload:
                guard(f"{key} for {verb} {path}", payload[key])
        _, data = self.call(verb, path, input=payload)
        return data

    def call(
        self, verb: str, url: str, params: dict[str, Any] | None = None, input: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], Any]:
        """One request; a rate-limited answer (status + headers) is waited out and sent again."""
        what = f"{verb} {urllib.parse.urlsplit(url).path}"
        check_api_url(self.bounds.api_url, url, what)
        waited, reminted = 0.0, False
        while True:
            try:
                return self.requester.requestJsonAndCheck(verb, url, parameters=params, input=input)
            except GithubException as exc:
                if not reminted and remint_for_retry(self.requester, exc.status, self.bounds.budget, what):
                    reminted = True
                    continue
                pause = rate_limit_pause(exc.status, dict(exc.headers or {}), time.time())
                if pause is None or waited + pause > self.max_rate_limit_wait:
                    raise bounded_exception(exc) from None
                self.bounds.budget.spend(what, exc.status, pause)
                self.rate_limit_waits += 1
                self._sleep(pause)
                waited += pause


def bounded_exception(exc: GithubException) -> GithubException:
    """``exc`` with the server's text capped: ``message`` one short line, at most 20 ``errors``
    (their string fields capped), nothing else of the body (it is printed, logged and stored)."""
    data = exc.data if isinstance(exc.data, dict) else {}
    kept: dict[str, Any] = {}
    if isinstance(data.get("message"), str):
        kept["message"] = cap_message(data["message"])
    if isinstance(data.get("errors"), list):
        kept["errors"] = [
            {
                str(k)[:40]: cap_message(v, 200) if isinstance(v, str) else v
                for k, v in list(e.items())[:10]
                if _scalar(v)
            }
            for e in data["errors"][:20]
            if isinstance(e, dict)
        ]
    if isinstance(data.get("documentation_url"), str):
        kept["documentation_url"] = cap_message(data["documentation_url"], 200)
    message = cap_message(exc.message) if isinstance(exc.message, str) else None
    return type(exc)(exc.status, kept, dict(exc.headers or {}), message)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
