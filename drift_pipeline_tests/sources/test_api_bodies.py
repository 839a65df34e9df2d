"""An answer's body is read into memory up to ``DRIFT_GITHUB_MAX_BODY_BYTES`` and no further,
through real HTTP and real PyGithub: the reads of the source and the issue writer's answers,
error bodies included.

The server offers far more than the cap and counts what it managed to send before the client hung
up: a bounded read leaves it stuck at the cap plus what the sockets' buffers hold, an unbounded one
would take all of it. A gzip bomb (a small body that inflates past the cap) is measured by the
memory the request allocated.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from drift_pipeline.core.errors import SourceError
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.http_bounds import ENV_MAX_BODY, ENV_REQUEST_DEADLINE, AnswerTooLarge
from drift_pipeline_tests.sources.hostile import Answer, hostile_api

CAP = 1 << 20  # the cap under test: 1 MiB
OFFERED = 128 << 20  # what the server would send: 128 MiB
BUFFERS = 24 << 20  # at most what the sockets' buffers (both ends, loopback) and one chunk hold


def _flood(total: int = OFFERED, chunk: int = 64 << 10) -> Iterator[bytes]:
    piece = b" " * chunk  # JSON whitespace: the body stays parseable as far as it goes
    for _ in range(total // chunk):
        yield piece


@pytest.fixture(autouse=True)
def _cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MAX_BODY, str(CAP))


def _source(url: str) -> GitHubSource:
    return GitHubSource(url, "t", retries=0, backoff=0)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_read_longer_than_the_cap_is_cut_off_at_the_cap(declared):
    headers = {"Content-Length": str(OFFERED)} if declared else {}
    with hostile_api(lambda r, n: Answer(200, _flood(), headers)) as api:
        with pytest.raises(AnswerTooLarge) as err:
            _source(api.url).list_repos("acme")
        sent = api.streamed()
    assert isinstance(err.value, SourceError)  # a scan makes it that repo's failure
    assert len(sent) == 1 and sent[0] < BUFFERS, sent  # the server was cut off, not read to its end
    assert err.value.limit == CAP and err.value.declared == (OFFERED if declared else None)
    message = str(err.value)
    assert "GET /orgs/acme/repos" in message and str(CAP) in message and ENV_MAX_BODY in message


def test_a_content_length_above_the_cap_is_refused_before_the_body_is_read(monkeypatch):
    monkeypatch.setenv(ENV_REQUEST_DEADLINE, "5")

    def stalled() -> Iterator[bytes]:  # the headers, then nothing for 8 s: a read would wait for it
        time.sleep(8)
        yield b"[]"

    with hostile_api(lambda r, n: Answer(200, stalled(), {"Content-Length": str(OFFERED)})) as api:
        started = time.monotonic()
        with pytest.raises(AnswerTooLarge) as err:  # not DeadlineExceeded: no read was waited for
            _source(api.url).list_repos("acme")
        elapsed = time.monotonic() - started
    assert elapsed < 2, elapsed
    assert err.value.declared == OFFERED and api.hits() == 1
    assert f"says it is {OFFERED} bytes, more than the {CAP} bytes" in str(err.value)


@pytest.mark.parametrize("status", [404, 422])
def test_an_error_body_to_the_issue_writer_is_cut_off_at_the_cap(status):
    with hostile_api(lambda r, n: Answer(status, _flood())) as api:
        client = IssueClient(_source(api.url).github)
        with pytest.raises(AnswerTooLarge) as err:
            client.call("POST", "/repos/acme/r/issues", input={"title": "t"})
        sent = api.streamed()
    assert sent[0] < BUFFERS, sent
    assert "POST /repos/acme/r/issues" in str(err.value) and f"HTTP {status}" in str(err.value)


def test_a_gzip_bomb_is_cut_off_at_the_cap_without_inflating_it():
    bomb = gzip.compress(b" " * OFFERED, 9)  # ~130 kB that inflate to 128 MiB
    assert len(bomb) < CAP
    answer = Answer(200, bomb, {"Content-Encoding": "gzip"})
    with hostile_api(lambda r, n: answer) as api:
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge) as err:
                _source(api.url).list_repos("acme")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert err.value.declared == len(bomb)  # under the cap as sent: stopped as it inflated
    assert "goes on, more than the" in str(err.value)
    assert peak < 8 * CAP, peak  # inflated to the cap, not to 128 MiB
