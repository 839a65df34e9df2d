"""The GitHub transport under :class:`~drift_pipeline.sources.github.GitHubSource`: PyGithub's
requester, bounded (:mod:`http_bounds`, :mod:`http_transport`), a rate gate shared by the workers,
ETag and sha caches, pagination.

PyGithub supplies authentication, the base URL (github.com, GHES ``https://host/api/v3`` or the
sandbox) and, through urllib3's ``Retry``, retries of 5xx and network errors with backoff (each
counted against the run's retry budget). Rate limits are handled here, not by PyGithub's
``GithubRetry``: that one sleeps inside the calling thread (and recognises limits by message
text), so the other workers would keep sending. Here a limit (403/429 with
``x-ratelimit-remaining: 0`` or ``retry-after``) closes a gate shared by all workers until the
reset; every request waits at the gate first. Every pause is at least a second and at most
``max_rate_limit_wait``, and counts against the run's retry budget (:mod:`http_bounds`).

At most ``concurrency`` requests are in flight. Errors carry the HTTP status and GitHub's message
(capped to one short line) as fields (:class:`SourceError`); every decision here is taken on them.
Each payload is checked and converted once, in :mod:`github_payloads`. Two caches make daily
scans cheap:

- objects addressed by sha (trees, blobs) never change: once read, they are served from the
  cache with no request at all;
- other GETs are sent with ``If-None-Match`` when an ETag is known; a ``304`` answer costs no
  rate limit and the cached body is used.

The cache is a mapping handed in by the caller (the pipeline persists it in DuckDB) and is only
touched under a lock. Sha reads are single-flight: two threads asking for the same key make one
request, so a concurrent scan sends exactly the requests a serial one does.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from drift_pipeline.core.errors import NotFound, SourceError, UsageError, redact
from drift_pipeline.core.redaction import cap_message, mask_json
from drift_pipeline.sources import github_payloads as payloads
from drift_pipeline.sources.github_auth import remint_for_retry
from drift_pipeline.sources.http_bounds import (
    ApiLimits,
    BudgetedRetry,
    PageGuard,
    WaitTooLong,
    check_api_url,
    rate_limit_pause,
)
from drift_pipeline.sources.http_transport import bind
from drift_pipeline.sources.throttle import RateGate, SingleFlight

DEFAULT_API_URL = "https://api.github.com"
MAX_CONCURRENCY = 32  # far below GitHub's ~100 concurrent requests secondary limit
_DATED = re.compile(r"[?&](since|until)=")
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_LINK_LAST = re.compile(r'<([^>]+)>;\s*rel="last"')
MAX_PAGES_AT_ONCE = 100  # a listing longer than this many pages is followed link by link
T = TypeVar("T")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _remaining_pages(link: str) -> list[str] | None:
    """The URLs of pages ``next`` .. ``last`` when the Link header numbers them, else None.

    GitHub's links differ only in ``page``, so the pages between are the last link with another
    number: the same requests as following ``next`` one by one.
    """
    nxt, last = _LINK_NEXT.search(link), _LINK_LAST.search(link)
    if not (nxt and last):
        return None
    first_n, last_n = _page_number(nxt.group(1)), _page_number(last.group(1))
    if first_n is None or last_n is None or not 0 <= last_n - first_n < MAX_PAGES_AT_ONCE:
        return None
    parts = urllib.parse.urlsplit(last.group(1))
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    return (
        [nxt.group(1)]
        + [
            urllib.parse.urlunsplit(
                parts._replace(query=urllib.parse.urlencode([(k, str(n) if k == "page" else v) for k, v in query]))
            )
            for n in range(first_n + 1, last_n)
        ]
        + ([last.group(1)] if last_n > first_n else [])
    )


def _page_number(url: str) -> int | None:
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("page", [])
    return int(values[0]) if len(values) == 1 and values[0].isdigit() else None


def _check_concurrency(concurrency: Any) -> None:
    """A usage error unless ``concurrency`` (requests in flight) is a whole number from 1 to ``MAX_CONCURRENCY``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(
            f"GitHub concurrency (requests in flight) must be a whole number from 1 to "
            f"{MAX_CONCURRENCY}, got {concurrency!r}"
        )


def _server_error_retry(retries: int, backoff: float) -> BudgetedRetry:
    """urllib3's retry of 5xx and network errors only, each one counted against the run's retry budget;
    403/429 (rate limits) come back to ``_raw`` and the shared gate."""
    return BudgetedRetry(
        total=retries,
        backoff_factor=backoff,
        status_forcelist=tuple(range(500, 600)),
        respect_retry_after_header=False,
        raise_on_status=False,
    )


class GitHubTransport:
    """Requests to one API endpoint with one token; share one instance between threads."""

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        cache: MutableMapping[str, str] | None = None,
        per_page: int = 100,
        retries: int = 5,
        backoff: float = 0.5,
        max_rate_limit_wait: float = 900,
        timeout: int = 30,
        seconds_between_requests: float = 0.0,
        seconds_between_writes: float = 1.0,
        concurrency: int = 8,
        auth: Auth.Auth | None = None,
        limits: ApiLimits | None = None,
    ):
        """``token`` (a personal token) or ``auth`` (e.g. a GitHub App installation's
        :class:`Auth.AppInstallationAuth` from :mod:`github_auth`, which refreshes itself).
        ``limits``: the run's bounds (default: :meth:`ApiLimits.from_env`)."""
        _check_concurrency(concurrency)
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.retries = retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.concurrency = concurrency
        self.limits = limits or ApiLimits.from_env()
        retry = _server_error_retry(retries, backoff)
        self._gh = Github(
            base_url=self.api_url,
            auth=Auth.Token(token) if token else auth,
            per_page=per_page,
            retry=retry,
            timeout=timeout,
            pool_size=concurrency,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
        )
        bounds = bind(self._gh, self.limits)  # our connection classes: API origin only, whole deadline
        self.budget = retry.budget = bounds.budget  # one budget for every user of this client
        self.per_page = per_page
        self.cache: MutableMapping[str, str] = cache if cache is not None else {}
        self.requests: Counter[str] = Counter()  # by kind, e.g. "tree", "blob", "repos"
        self.not_modified = 0
        self.gate = RateGate()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.RLock()  # counters and the cache mapping
        self._flight = SingleFlight()  # sha-addressed reads
        self._written: set[str] = set()  # cache keys this source wrote (this run)
        self.headroom: tuple[int, int] | None = None  # last (x-ratelimit-remaining, x-ratelimit-limit) seen

    @property
    def github(self) -> Github:
        """The PyGithub client, for writers (issues) that share this transport."""
        return self._gh

    # -- transport -------------------------------------------------------------------------
    def _raw(
        self, kind: str, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[dict[str, str], Any]:
        path = self._path(url)
        check_api_url(self.api_url, url, f"GET {path}")
        waited, reminted = 0.0, False
        while True:
            waited += self._wait_at_gate(path, waited)
            with self._slots:
                with self._lock:
                    self.requests[kind] += 1
                try:
                    resp_headers, data = self._gh.requester.requestJsonAndCheck(
                        "GET", url, parameters=params, headers=dict(headers or {})
                    )
                except GithubException as exc:
                    if not reminted and remint_for_retry(self._gh.requester, exc.status, self.budget, f"GET {path}"):
                        reminted = True  # an installation token refused early: re-minted, sent once more
                        continue
                    pause = rate_limit_pause(exc.status, exc.headers or {}, time.time())
                    if pause is None:
                        raise self._error(exc, path) from None
                    if waited + pause > self.max_rate_limit_wait:
                        self.gate.close_until(time.time() + pause)
                        raise self._limit_error(path, pause, exc.status, self._api_message(exc)) from None
                    self.budget.spend(f"GET {path}", exc.status, pause)
                    self.gate.close_until(time.time() + pause)
                    continue
                except ValueError:  # PyGithub could not parse a body that looked like JSON
                    raise payloads.bad_shape(path, "JSON", "a body that is not valid JSON") from None
                except (RuntimeError, AssertionError) as exc:  # PyGithub: redirect or link off the base URL
                    raise SourceError(
                        redact(
                            f"GitHub GET {path} left the API base URL ({cap_message(str(exc))}); {payloads.HINT}",
                            self._token,
                        )
                    ) from None
                except requests.exceptions.RequestException as exc:
                    raise SourceError(
                        redact(
                            f"GitHub request failed on GET {path}: {type(exc).__name__}: {cap_message(str(exc))}"
                            f" (after {self.retries} retries)",
                            self._token,
                        )
                    ) from None
            self._note_headroom(resp_headers)
            if data is not None:
                payloads.check_content_type(path, resp_headers)
            return resp_headers, data

    def _note_headroom(self, headers: dict[str, Any]) -> None:
        """Keep the last rate-limit headroom GitHub reported (for progress logs); ignore absent or odd values."""
        lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
        remaining, limit = _number(lowered.get("x-ratelimit-remaining")), _number(lowered.get("x-ratelimit-limit"))
        if remaining is not None and limit is not None and math.isfinite(remaining + limit):
            with self._lock:
                self.headroom = (int(remaining), int(limit))

    def _wait_at_gate(self, path: str, waited: float) -> float:
        """Wait while a rate limit pauses every worker; fail when the reset is too far away."""
        remaining = self.gate.reopens_at - time.time()
        if remaining > 0 and waited + remaining > self.max_rate_limit_wait:
            raise self._limit_error(path, remaining, None, None)
        return self.gate.wait()

    def _limit_error(self, path: str, pause: float, status: int | None, api_message: str | None) -> SourceError:
        return WaitTooLong(
            f"GitHub rate limit on GET {path}: the reset is {pause:.0f}s away, longer than "
            f"max_rate_limit_wait ({self.max_rate_limit_wait:g}s); retry later or raise it",
            pause=pause,
            status=status,
            api_message=api_message,
        )

    def _api_message(self, exc: GithubException) -> str | None:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return cap_message(redact(message, self._token)) if isinstance(message, str) else None

    def _error(self, exc: GithubException, path: str) -> SourceError:
        api_message = self._api_message(exc)
        retried = f" (after {self.retries} retries)" if exc.status >= 500 else ""
        text = redact(f"GitHub {exc.status} on GET {path}: {api_message or 'no message'}{retried}", self._token)
        cls = NotFound if exc.status == 404 else SourceError
        return cls(text, status=exc.status, api_message=api_message)

    def _path(self, url: str) -> str:
        return urllib.parse.urlparse(url).path if url.startswith("http") else url.split("?", maxsplit=1)[0]

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.api_url}{path}"

    def _cache_get(self, key: str) -> str | None:
        with self._lock:
            return self.cache.get(key)

    def remembered(self, key: str) -> str | None:
        """A value a scan derived and kept in the persistent cache with :meth:`remember` (None: none)."""
        return self._cache_get(key)

    def remember(self, key: str, value: str) -> None:
        """Keep a value a scan derived from what it read (one key per repo: it is overwritten)."""
        self._cache_set(key, value)

    def _cache_set(self, key: str, value: str) -> None:
        with self._lock:
            self.cache[key] = value
            self._written.add(key)

    def _get(
        self,
        kind: str,
        path: str,
        params: dict[str, Any] | None,
        convert: Callable[[str, Any], T],
    ) -> tuple[dict[str, str], T]:
        """GET with an ETag: a 304 answers from the cache and costs no rate limit."""
        url = self._url(path)
        key = "etag:" + url + ("?" + urllib.parse.urlencode(sorted(params.items())) if params else "")
        entry = self._etag_entry(key)
        headers = {"If-None-Match": entry["etag"]} if entry else None
        resp_headers, data = self._raw(kind, url, params, headers)
        if entry and data is None:  # 304 Not Modified: PyGithub hands back no body
            with self._lock:
                self.not_modified += 1
            return entry["headers"], convert(self._path(url), entry["body"])
        convert(self._path(url), data)  # checked before it is cached
        data = mask_json(data)  # what is kept (and returned) never holds a token-like string
        value = convert(self._path(url), data)
        etag = resp_headers.get("etag")
        if etag and not _DATED.search(key):  # a listing bounded by a date is not asked again another day
            keep = {k: v for k, v in resp_headers.items() if k in ("link",)}
            self._etag_keep(key, {"etag": etag, "headers": keep, "body": data})
        return resp_headers, value

    def _etag_group(self, key: str) -> str | None:
        """The cache entry holding ``key``'s ETag answer: one per repo (``etags:<api>/repos/<o>/<r>``).

        A daily scan asks each repo for several settings; one cache entry per repo makes that one
        lookup of the persistent cache instead of one per answer. None: not a repo's resource."""
        rest = key[len("etag:") :]
        if not rest.startswith(self.api_url + "/repos/"):
            return None
        parts = rest[len(self.api_url) + 1 :].split("/", 3)
        if len(parts) < 4:
            return None
        return f"etags:{self.api_url}/repos/{parts[1]}/{parts[2]}"

    def _etag_entry(self, key: str) -> dict[str, Any] | None:
        group = self._etag_group(key)
        cached = self._cache_get(group or key)
        if not cached:
            return None
        value = json.loads(cached)
        return value.get(key) if group else value

    def _etag_keep(self, key: str, entry: dict[str, Any]) -> None:
        group = self._etag_group(key)
        if group is None:
            self._cache_set(key, json.dumps(entry))
            return
        with self._lock:  # read, change, write back: one thread at a time
            cached = self.cache.get(group)
            entries = json.loads(cached) if cached else {}
            entries[key] = entry
            self._cache_set(group, json.dumps(entries, sort_keys=True))

    def _paginate(
        self, kind: str, path: str, params: dict[str, Any] | None, convert: Callable[[str, Any], T], what: str
    ) -> Iterator[T]:
        def page(url: str, params: dict[str, Any] | None) -> tuple[dict[str, str], list[T]]:
            return self._get(
                kind, url, params, lambda p, data: [convert(p, i) for i in payloads.as_list(p, data, what)]
            )

        guard = PageGuard(self.api_url, path, self.limits.max_pages)  # no page twice, at most max_pages
        first = {**(params or {}), "per_page": self.per_page}
        headers, items = page(guard.admit(self._url(path), first), first)
        yield from items
        rest = _remaining_pages(headers.get("link", "") or "")
        if rest is not None:  # the first page says how many follow: read them concurrently, in order
            for _, more in self._map(lambda url: page(url, None), [guard.admit(url) for url in rest]):
                yield from more
            return
        while match := _LINK_NEXT.search(headers.get("link", "") or ""):
            headers, items = page(guard.admit(match.group(1)), None)
            yield from items

    def _map(self, fn: Callable[[str], T], items: list[str]) -> list[T]:
        """``[fn(i) for i in items]`` on up to ``concurrency`` threads, in order (requests stay bounded)."""
        if self.concurrency == 1 or len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items)), thread_name_prefix="gh-pages") as pool:
            return list(pool.map(fn, items))

    def _immutable(
        self,
        kind: str,
        key: str,
        path: str,
        convert: Callable[[str, Any], T],
        keep: Callable[[str, Any], Any],
    ) -> T:
        """Objects addressed by sha never change: serve them from the cache for ever.

        ``keep`` reduces a checked answer to what is cached (and returned): only what the next scan
        needs, with secrets masked, so the persistent cache grows with change and holds no token.
        """
        where = self._path(path)
        cached = self._cache_get(key)
        if cached is not None:
            return convert(where, json.loads(cached))

        def fetch() -> T:
            with self._lock:  # another thread may have read it between our look and our turn
                again = self.cache.get(key) if key in self._written else None
            if again is not None:
                return convert(where, json.loads(again))
            _, data = self._raw(kind, self._url(path))
            convert(where, data)  # checked before it is cached for ever
            kept = keep(where, data)
            self._cache_set(key, json.dumps(kept))
            return convert(where, kept)

        return self._flight.run(key, fetch)
