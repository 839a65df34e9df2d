"""The bounds on every answer of the GitHub API: one home for waits, retries, pages and hosts.

An API answer is hostile input like any other, so nothing it says is followed without a bound:

- **waits**: a rate limit (403/429 told by status and headers, :func:`rate_limit_pause`) is
  waited out for at least :data:`MIN_WAIT` seconds (``Retry-After: 0``, negative, ``NaN``, a reset
  in the past never make a retry loop without pause) and at most ``max_rate_limit_wait`` (a longer
  wait fails at once, it is never slept);
- **retries**: every rate-limit pause and every 5xx/network retry of urllib3 is counted against
  one :class:`RetryBudget` per run, shared by every worker of the GitHub source and the issue
  client on the same PyGithub client (``DRIFT_GITHUB_RETRY_BUDGET``); spent, the run stops with
  :class:`RetryBudgetSpent`;
- **pages**: a listing follows at most ``DRIFT_GITHUB_MAX_PAGES`` pages and never the same page
  twice (:class:`PageGuard`, :class:`ListingUnbounded`);
- **hosts**: a URL the API hands us (a ``next`` link) is followed only on the API's own origin
  (:func:`check_api_url`, :class:`OffHost`), in our code, whatever ``python -O`` does to
  PyGithub's ``assert``; the transport (:mod:`http_transport`) checks again before a byte leaves;
- **time**: a whole request (every read of it, its retries) has a deadline
  (``DRIFT_GITHUB_REQUEST_DEADLINE``, :class:`DeadlineExceeded`), enforced by :mod:`http_transport`,
  behind ``HTTPS_PROXY`` / ``HTTP_PROXY`` too;
- **size**: an answer's body (errors' too) is read into memory up to ``DRIFT_GITHUB_MAX_BODY_BYTES``
  and no further (:class:`AnswerTooLarge`), enforced by :mod:`http_transport`.

The errors are :class:`SourceError` subclasses (exit 3, one repo's failure where a scan catches
per repo); decisions are taken on their type and fields, never on their text.
"""

from __future__ import annotations

import math
import os
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from urllib3.util.retry import Retry

from drift_pipeline.core.errors import SourceError, UsageError
from drift_pipeline.core.redaction import cap_message

ENV_RETRY_BUDGET = "DRIFT_GITHUB_RETRY_BUDGET"
ENV_MAX_PAGES = "DRIFT_GITHUB_MAX_PAGES"
ENV_REQUEST_DEADLINE = "DRIFT_GITHUB_REQUEST_DEADLINE"
ENV_MAX_BODY = "DRIFT_GITHUB_MAX_BODY_BYTES"
RETRY_BUDGET = 50  # rate-limit pauses and 5xx/network retries per run
MAX_PAGES = 1000  # pages per listing: 100,000 items at 100 a page
REQUEST_DEADLINE = 120.0  # seconds for one whole request, every read and retry of it
# bytes of one answer's body (decoded). GitHub's largest answer is a blob: its API serves blobs up
# to 100 MiB, the largest file a push may hold, as base64 in lines of 60 with an escaped newline
# (2 bytes) each: 100 MiB * 4/3 * 62/60 = 138 MiB of JSON. A recursive tree (100,000 entries of
# ~250 bytes each, GitHub's truncation point) is tens of MB. 150 MiB holds both with room to spare.
MAX_BODY = 150 * 2**20
MIN_WAIT = 1.0  # the shortest rate-limit pause, whatever the headers say
SECONDARY_WAIT = 60.0  # GitHub: without a usable header, wait at least a minute after a 429


class RetryBudgetSpent(SourceError):
    """The run's retries (rate-limit pauses, 5xx and network retries) are used up."""


class WaitTooLong(SourceError):
    """A rate limit asks for a longer pause than ``max_rate_limit_wait``: failed at once, not slept."""

    def __init__(self, message: str, *, pause: float, status: int | None = None, api_message: str | None = None):
        super().__init__(message, status=status, api_message=api_message)
        self.pause = pause


class ListingUnbounded(SourceError):
    """A paginated listing repeated a page (``repeated``) or passed the page ceiling (``pages``)."""

    def __init__(self, message: str, *, pages: int, repeated: bool):
        super().__init__(message)
        self.pages = pages
        self.repeated = repeated


class OffHost(SourceError):
    """A URL from an answer (a ``next`` link, a redirect) leaves the API's origin: not followed."""


class DeadlineExceeded(SourceError):
    """A request got no complete answer within the whole-request deadline."""


class AnswerTooLarge(SourceError):
    """An answer's body is longer than ``limit`` bytes (its Content-Length says so, or it went on
    past the limit): not read further, the connection dropped. ``declared``: its Content-Length."""

    def __init__(self, message: str, *, limit: int, declared: int | None):
        super().__init__(message)
        self.limit = limit
        self.declared = declared


@dataclass(frozen=True)
class ApiLimits:
    """The bounds of one run; :meth:`from_env` reads the documented environment variables."""

    retry_budget: int = RETRY_BUDGET
    max_pages: int = MAX_PAGES
    request_deadline: float = REQUEST_DEADLINE
    max_body: int = MAX_BODY
    min_wait: float = MIN_WAIT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiLimits:
        env = os.environ if env is None else env
        return cls(
            retry_budget=int(_env_number(env, ENV_RETRY_BUDGET, RETRY_BUDGET, whole=True)),
            max_pages=int(_env_number(env, ENV_MAX_PAGES, MAX_PAGES, whole=True, least=1)),
            request_deadline=_env_number(env, ENV_REQUEST_DEADLINE, REQUEST_DEADLINE, least=0.01),
            max_body=int(_env_number(env, ENV_MAX_BODY, MAX_BODY, whole=True, least=1)),
        )


def _env_number(env: Mapping[str, str], name: str, default: float, *, whole: bool = False, least: float = 0) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < least or value > 1e9:
        kind = "a whole number" if whole else "a number of seconds"
        raise UsageError(f"{name}: expected {kind} from {least:g} to 1e9, got {cap_message(raw, 40)!r}")
    return value


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _retry_after(value: Any, now: float) -> float | None:
    """Seconds of a ``Retry-After`` header (a number, or an HTTP date); None when unusable."""
    number = _finite(value)
    if number is not None:
        return number if number >= 0 else None
    try:
        return parsedate_to_datetime(str(value)).timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def rate_limit_pause(
    status: int | None, headers: Mapping[str, Any] | None, now: float, *, min_wait: float = MIN_WAIT
) -> float | None:
    """Seconds to pause all requests for a rate-limited answer; None when it is no rate limit.

    GitHub's rules, on headers only: ``retry-after`` gives the wait; ``x-ratelimit-remaining: 0``
    means wait until ``x-ratelimit-reset`` (plus a second: the reset is whole seconds); a 429
    with neither means wait a minute. A 403 with neither is a permission error, not a limit.
    A header that is no finite number (``NaN``, ``-5``, ``inf``) counts as absent but still marks
    the limit; every pause is at least ``min_wait`` (the ceiling is the caller's
    ``max_rate_limit_wait``: a longer pause fails instead of being slept).
    """
    if status not in (403, 429):
        return None
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    if "retry-after" in lowered:
        pause = _retry_after(lowered["retry-after"], now)
    elif str(lowered.get("x-ratelimit-remaining", "")).strip() == "0":
        reset = _finite(lowered.get("x-ratelimit-reset"))
        pause = (reset - now) + 1 if reset is not None else None
    elif status == 429:
        pause = None
    else:
        return None
    return max(SECONDARY_WAIT if pause is None else pause, min_wait)


class RetryBudget:
    """Retries left for one run, shared by every thread; :meth:`spend` raises when none is left."""

    def __init__(self, retries: int = RETRY_BUDGET):
        self.retries = retries
        self.spent = 0
        self.waited = 0.0  # seconds of rate-limit pauses taken (for reports and tests)
        self._lock = threading.Lock()

    def spend(self, what: str, status: int | None, pause: float = 0.0) -> None:
        """Count one retry of ``what`` (e.g. ``GET /orgs/acme/repos``), or raise when spent."""
        with self._lock:
            if self.spent >= self.retries:
                said = f"HTTP {status}" if status is not None else "no answer"
                raise RetryBudgetSpent(
                    f"GitHub {what}: the run's retry budget is spent ({self.retries} rate-limit pauses and "
                    f"retries, {ENV_RETRY_BUDGET}); the last answer was {said}; retry later",
                    status=status,
                )
            self.spent += 1
            self.waited += pause


class BudgetedRetry(Retry):
    """urllib3's ``Retry`` (5xx, network errors) whose every retry is counted against a budget."""

    budget: RetryBudget | None = None

    def new(self, **kw: Any) -> BudgetedRetry:
        fresh = super().new(**kw)
        fresh.budget = self.budget
        return fresh

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kw: Any) -> BudgetedRetry:
        fresh = super().increment(method, url, *args, **kw)  # raises MaxRetryError when exhausted
        if self.budget is not None:
            response = kw.get("response") if "response" in kw else (args[0] if args else None)
            path = urllib.parse.urlsplit(url or "").path
            self.budget.spend(f"{method} {path}", getattr(response, "status", None))
        return fresh


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:  # a port that is no number
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(base_url: str, url: str) -> bool:
    """Whether ``url`` has the scheme, host and port of ``base_url`` (and no user:password)."""
    return _origin(url) == _origin(base_url) and "@" not in urllib.parse.urlsplit(url).netloc


def check_api_url(api_url: str, url: str, what: str) -> str:
    """``url`` when it may be sent to with our credentials: a path, or a URL on the API's origin
    under its base path; else :class:`OffHost` (its host named, never its query)."""
    if url.startswith("/") and not url.startswith("//"):
        return url
    base_path = urllib.parse.urlsplit(api_url).path.rstrip("/")
    path = urllib.parse.urlsplit(url).path
    if same_origin(api_url, url) and (path == base_path or path.startswith(base_path + "/")):
        return url
    scheme, host, port = _origin(url)
    raise OffHost(
        f"GitHub {what}: the answer points at {cap_message(f'{scheme}://{host}:{port}', 200)}, not the API "
        f"{api_url}; not followed (the token is only sent to the API)"
    )


class PageGuard:
    """The pages one listing followed: a repeated page, or one past ``max_pages``, raises
    :class:`ListingUnbounded` naming the listing; every page URL passes :func:`check_api_url`."""

    def __init__(self, api_url: str, listing: str, max_pages: int):
        self.api_url = api_url
        self.listing = listing
        self.max_pages = max_pages
        self._seen: set[tuple[str, str]] = set()

    @property
    def pages(self) -> int:
        return len(self._seen)

    def admit(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        check_api_url(self.api_url, url, f"GET {self.listing} (next page)")
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query += [(str(k), str(v)) for k, v in (params or {}).items()]
        key = (parts.path.rstrip("/"), urllib.parse.urlencode(sorted(query)))
        if key in self._seen:
            raise ListingUnbounded(
                f"GitHub GET {self.listing}: page {self.pages + 1} links back to a page already read "
                "(a pagination loop); the listing is incomplete",
                pages=self.pages,
                repeated=True,
            )
        if self.pages >= self.max_pages:
            raise ListingUnbounded(
                f"GitHub GET {self.listing}: more than {self.max_pages} pages ({ENV_MAX_PAGES}); "
                "the listing is incomplete",
                pages=self.pages,
                repeated=False,
            )
        self._seen.add(key)
        return url
