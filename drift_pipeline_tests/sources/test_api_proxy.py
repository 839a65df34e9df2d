"""Behind ``HTTP_PROXY`` / ``HTTPS_PROXY`` every request still has its whole-request deadline.

``requests`` sends through a proxy on connections of its proxy manager, not of the pool manager
the transport watches. Here a real proxy (a forward proxy for an ``http://`` API, a CONNECT
tunnel for an ``https://`` one) stands in front of an API trickling its answer one byte every
0.25 s (15 s in all), or the proxy itself trickles its CONNECT answer: the request must end at the
1 s deadline with DeadlineExceeded, and must have gone through the proxy.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.http_bounds import ENV_REQUEST_DEADLINE, DeadlineExceeded
from drift_pipeline_tests.sources.hostile import Answer, hostile_api
from drift_pipeline_tests.sources.proxy import forward_proxy, self_signed

BODY = b"[" + b" " * 58 + b"]"  # valid JSON: without a deadline the read succeeds after 15 s
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _behind(monkeypatch: pytest.MonkeyPatch, proxy_url: str) -> None:
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy_url)
        monkeypatch.setenv(name.lower(), proxy_url)
    monkeypatch.setenv(ENV_REQUEST_DEADLINE, "1")


def _ends_at_the_deadline(api_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as err:
        GitHubSource(api_url, "t", retries=3, backoff=0).list_repos("acme")
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed
    assert err.value.status is None and ENV_REQUEST_DEADLINE in str(err.value)


def test_a_trickle_through_a_forward_proxy_ends_at_the_deadline(monkeypatch):
    with hostile_api(lambda r, n: Answer(200, BODY, trickle=0.25)) as api, forward_proxy() as proxy:
        _behind(monkeypatch, proxy.url)
        _ends_at_the_deadline(api.url)
    assert len(proxy.seen) == 1 and proxy.seen[0].startswith(f"GET {api.url}/orgs/acme/repos")
    assert api.hits() == 1  # nothing sent after the deadline


def test_a_trickle_through_a_connect_tunnel_ends_at_the_deadline(monkeypatch, tmp_path: Path):
    tls, cert = self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with hostile_api(lambda r, n: Answer(200, BODY, trickle=0.25), tls=tls) as api, forward_proxy() as proxy:
        _behind(monkeypatch, proxy.url)
        _ends_at_the_deadline(api.url)
    assert proxy.seen == [f"CONNECT 127.0.0.1:{api.port}"]
    assert api.hits() == 1


def test_a_proxy_trickling_its_connect_answer_ends_at_the_deadline(monkeypatch):
    with hostile_api(lambda r, n: Answer(200, [])) as api, forward_proxy(connect_trickle=0.25) as proxy:
        _behind(monkeypatch, proxy.url)
        _ends_at_the_deadline(api.url.replace("http://", "https://"))
    assert proxy.seen == [f"CONNECT 127.0.0.1:{api.port}"]
    assert api.hits() == 0  # the tunnel never opened
