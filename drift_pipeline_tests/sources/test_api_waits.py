"""Rate-limit waits are bounded and every retry counts against one budget per run.

A hostile API answers 429/403/502 every time (up to a few requests, so old code ends too) and the
real GitHubSource / IssueClient talk to it through PyGithub. Without bounds, ``Retry-After: 0``
(or ``NaN``, or negative) made a tight retry loop that never stopped.
"""

from __future__ import annotations

import time

import pytest

from drift_pipeline.issues.client import IssueClient
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.http_bounds import (
    ENV_RETRY_BUDGET,
    SECONDARY_WAIT,
    RetryBudgetSpent,
    WaitTooLong,
    rate_limit_pause,
)
from drift_pipeline_tests.sources.hostile import Answer, Seen, hostile_api

GIVE_UP = 6  # the hostile server answers 200 [] after this many requests (old code then "succeeds")


def _limited(status: int, headers: dict[str, str]):
    def answer(request: Seen, count: int) -> Answer:
        if count > GIVE_UP:
            return Answer(200, [])
        return Answer(status, {"message": "slow down"}, headers)

    return answer


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "0"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"},  # a reset long past
    ],
    ids=["zero", "reset-past"],
)
def test_a_limit_answered_every_time_stops_when_the_run_budget_is_spent(monkeypatch, headers):
    monkeypatch.setenv(ENV_RETRY_BUDGET, "2")
    with hostile_api(_limited(429, headers)) as api:
        started = time.monotonic()
        with pytest.raises(RetryBudgetSpent) as err:
            GitHubSource(api.url, "t", backoff=0).list_repos("acme")
        elapsed = time.monotonic() - started
    assert api.hits() == 3  # the first answer and two retries: the budget
    assert elapsed >= 2 * 0.99  # every pause at least a second, whatever the header said
    assert err.value.status == 429 and "\n" not in str(err.value) and ENV_RETRY_BUDGET in str(err.value)


@pytest.mark.parametrize("value", ["-5", "NaN", "inf"])
def test_a_retry_after_that_is_no_wait_counts_as_a_minute(value):
    """An unusable ``Retry-After`` is GitHub's default minute: with a ceiling of 30 s, no retry is sent."""
    with hostile_api(_limited(429, {"Retry-After": value})) as api:
        with pytest.raises(WaitTooLong) as err:
            GitHubSource(api.url, "t", max_rate_limit_wait=30).list_repos("acme")
    assert api.hits() == 1 and err.value.status == 429 and err.value.pause == SECONDARY_WAIT


@pytest.mark.parametrize("value", ["1e12", "99999999999999999999"])
def test_an_absurd_retry_after_fails_at_once_with_its_own_error(value):
    with hostile_api(_limited(403, {"Retry-After": value})) as api:
        with pytest.raises(WaitTooLong) as err:
            GitHubSource(api.url, "t", max_rate_limit_wait=60).list_repos("acme")
    assert api.hits() == 1 and err.value.status == 403


def test_a_reset_far_in_the_future_fails_at_once():
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 10**9)}
    with hostile_api(_limited(403, headers)) as api:
        with pytest.raises(WaitTooLong):
            GitHubSource(api.url, "t").list_repos("acme")
    assert api.hits() == 1


def test_server_errors_retried_by_the_transport_count_against_the_budget(monkeypatch):
    monkeypatch.setenv(ENV_RETRY_BUDGET, "2")
    with hostile_api(_limited(502, {})) as api:
        with pytest.raises(RetryBudgetSpent) as err:
            GitHubSource(api.url, "t", retries=5, backoff=0).list_repos("acme")
    assert api.hits() == 3 and err.value.status == 502


def test_the_issue_client_spends_the_same_budget_as_the_source(monkeypatch):
    monkeypatch.setenv(ENV_RETRY_BUDGET, "3")

    def answer(request: Seen, count: int) -> Answer:
        if count > 2 * GIVE_UP:
            return Answer(200, [])
        return Answer(429, {"message": "slow down"}, {"Retry-After": "0"})

    with hostile_api(answer) as api:
        source = GitHubSource(api.url, "t", backoff=0, max_rate_limit_wait=1)
        with pytest.raises(WaitTooLong):  # each wait is one second; two of them pass the ceiling of 1 s
            source.list_repos("acme")
        assert source.budget.spent == 1
        client = IssueClient(source.github, sleep=lambda s: None)
        with pytest.raises(RetryBudgetSpent):
            client.call("GET", "/repos/acme/r/issues")
    assert client.bounds.budget is source.budget and source.budget.spent == 3
    assert api.hits() == 2 + 3  # the source's two requests, then the client's first and its two retries


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({"retry-after": "0"}, 1.0),
        ({"retry-after": "-3"}, SECONDARY_WAIT),
        ({"retry-after": "nan"}, SECONDARY_WAIT),
        ({"retry-after": "inf"}, SECONDARY_WAIT),
        ({"retry-after": "soon"}, SECONDARY_WAIT),
        ({"retry-after": "Thu, 01 Jan 1970 00:16:50 GMT"}, 10.0),  # an HTTP date: 1010 s
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "nan"}, SECONDARY_WAIT),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "-1e300"}, 1.0),
    ],
)
def test_a_pause_is_never_below_the_floor_nor_nan(headers, pause):
    assert rate_limit_pause(429, headers, now=1000.0) == pause
