"""AWS settings from the environment: DRIFT_AWS_ACCOUNTS, DRIFT_AWS_ROLE, DRIFT_AWS_REGIONS.

Well-formed values parse; malformed ones are one clear line naming the variable and the bad part
(never a traceback, never the whole of a huge value), through the parser and through the CLI.
"""

from __future__ import annotations

import pytest

from drift_pipeline.cli import main
from drift_pipeline.core.errors import UsageError
from drift_pipeline.sources.aws import (
    aws_settings_from_env,
    parse_accounts,
    parse_regions,
    parse_role,
)


def test_accounts_parse_in_the_given_order_with_spaces_tolerated():
    got = parse_accounts(" prod=333333333333 , dev=111111111111,staging=222222222222")
    assert list(got.items()) == [("prod", "333333333333"), ("dev", "111111111111"), ("staging", "222222222222")]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "DRIFT_AWS_ACCOUNTS is empty"),
        (" , ", "DRIFT_AWS_ACCOUNTS is empty"),
        ("dev:111111111111", "'dev:111111111111' is not env=account"),
        ("=111111111111", "is not env=account"),
        ("qa=111111111111", "env 'qa' is not one of dev, staging, prod"),
        ("Dev=111111111111", "env 'Dev' is not one of"),
        ("dev=11111111111", "account of dev must be 12 digits, got '11111111111'"),
        ("dev=1111111111111", "must be 12 digits"),
        ("dev=11111111111x", "must be 12 digits"),
        ("dev=١١١١١١١١١١١١", "must be 12 digits"),  # Arabic-Indic digits are digits to \\d, not to AWS
        ("dev=111111111111,dev=222222222222", "env dev is given twice"),
        ("dev=111111111111,prod=111111111111", "account 111111111111 is given for two envs"),
        ("dev=111111111111\nprod=333333333333", "must be 12 digits"),
        ("dev=" + "1" * 100_000, "must be 12 digits"),
    ],
)
def test_malformed_accounts_are_one_clear_line(value, says):
    with pytest.raises(UsageError) as caught:
        parse_accounts(value)
    message = str(caught.value)
    assert says in message and message.startswith("DRIFT_AWS_ACCOUNTS")
    assert "\n" not in message and len(message) < 200


def test_role_and_regions_parse_and_refuse_garbage():
    assert parse_role(" drift-readonly ") == "drift-readonly"
    assert parse_regions("eu-west-2, us-east-1,eu-west-2") == ["eu-west-2", "us-east-1"]
    assert parse_regions("us-gov-west-1") == ["us-gov-west-1"]
    for bad in ("drift readonly", "x" * 65, "role;rm -rf /", ""):
        with pytest.raises(UsageError, match="DRIFT_AWS_ROLE"):
            parse_role(bad)
    for bad in ("eu-west-2;ls", "EU-WEST-2", "", "eu-west-2,mars-1"):
        with pytest.raises(UsageError, match="DRIFT_AWS_REGIONS"):
            parse_regions(bad)


def test_only_the_variables_that_are_set_become_settings():
    assert aws_settings_from_env({}) == {}
    env = {
        "DRIFT_AWS_ACCOUNTS": "dev=111111111111",
        "DRIFT_AWS_ROLE": "auditor",
        "DRIFT_AWS_REGIONS": "us-east-1",
        "AWS_REGION": "eu-west-2",
    }
    assert aws_settings_from_env(env) == {
        "accounts": {"dev": "111111111111"},
        "role_name": "auditor",
        "regions": ["us-east-1"],
    }


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("DRIFT_AWS_ACCOUNTS", "qa=111111111111"),
        ("DRIFT_AWS_ACCOUNTS", "dev=1"),
        ("DRIFT_AWS_ROLE", "two words"),
        ("DRIFT_AWS_REGIONS", "nowhere"),
    ],
)
def test_the_cli_refuses_a_malformed_variable_with_exit_2_and_one_line(monkeypatch, capsys, var, value):
    monkeypatch.setenv(var, value)
    code = main(["infra", "scan", "--org", "acme", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert var in captured.err and "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_the_cli_narrows_to_the_accounts_the_variable_names(monkeypatch, capsys):
    monkeypatch.setenv("DRIFT_AWS_ACCOUNTS", "dev=111111111111")
    code = main(["infra", "scan", "--org", "acme", "--account", "prod", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and "--account 'prod': expected one of dev" in captured.err
