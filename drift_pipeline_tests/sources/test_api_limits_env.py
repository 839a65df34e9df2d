"""The API bounds' environment variables: a bad value is a usage error naming the variable, never a crash."""

from __future__ import annotations

import pytest

from drift_pipeline.core.errors import UsageError
from drift_pipeline.sources.http_bounds import (
    ENV_MAX_BODY,
    ENV_MAX_PAGES,
    ENV_REQUEST_DEADLINE,
    ENV_RETRY_BUDGET,
    MAX_BODY,
    MAX_PAGES,
    REQUEST_DEADLINE,
    RETRY_BUDGET,
    ApiLimits,
)


def test_unset_or_blank_variables_give_the_documented_defaults():
    for env in ({}, {ENV_RETRY_BUDGET: " ", ENV_MAX_PAGES: "", ENV_REQUEST_DEADLINE: "", ENV_MAX_BODY: ""}):
        limits = ApiLimits.from_env(env)
        assert (limits.retry_budget, limits.max_pages, limits.request_deadline, limits.max_body) == (
            RETRY_BUDGET,
            MAX_PAGES,
            REQUEST_DEADLINE,
            MAX_BODY,
        )
    # the default holds GitHub's largest answer: a blob of 100 MiB (a push's file limit) as base64
    # in lines of 60 characters, each newline escaped in JSON
    assert MAX_BODY > (100 << 20) * 4 / 3 * 62 / 60 + 4096


def test_good_values_are_taken():
    limits = ApiLimits.from_env(
        {ENV_RETRY_BUDGET: "0", ENV_MAX_PAGES: "3", ENV_REQUEST_DEADLINE: "2.5", ENV_MAX_BODY: "1048576"}
    )
    assert (limits.retry_budget, limits.max_pages, limits.request_deadline, limits.max_body) == (0, 3, 2.5, 1 << 20)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        (ENV_RETRY_BUDGET, "abc"),
        (ENV_RETRY_BUDGET, "-1"),
        (ENV_RETRY_BUDGET, "1.5"),
        (ENV_MAX_PAGES, "0"),
        (ENV_MAX_PAGES, "1e99"),
        (ENV_REQUEST_DEADLINE, "nan"),
        (ENV_REQUEST_DEADLINE, "inf"),
        (ENV_REQUEST_DEADLINE, "-5"),
        (ENV_REQUEST_DEADLINE, "x" * 5000),
        (ENV_MAX_BODY, "0"),
        (ENV_MAX_BODY, "-1"),
        (ENV_MAX_BODY, "1.5e6"),
        (ENV_MAX_BODY, "150MB"),
        (ENV_MAX_BODY, "9" * 12),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_variable_with_a_short_echo(name, raw):
    with pytest.raises(UsageError) as caught:
        ApiLimits.from_env({name: raw})
    message = str(caught.value)
    assert message.startswith(f"{name}: expected ")
    assert len(message) < 200 and "\n" not in message
