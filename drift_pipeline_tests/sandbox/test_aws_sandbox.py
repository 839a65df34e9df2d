"""The AWS sandbox: a real moto server, reached by assume-role through real boto3 clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drift_pipeline.core.errors import SourceError, UsageError
from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sources.aws import DEFAULT_ACCOUNTS, AccountRef, account_refs, account_session

FAST = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)


@pytest.fixture(scope="module")
def sandbox():
    with AwsSandbox(client_config=FAST) as sb:
        yield sb


@pytest.fixture
def aws(sandbox):
    sandbox.reset()
    return sandbox


def _dummy_base() -> boto3.Session:
    return boto3.Session(aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name="eu-west-2")


def test_session_for_each_env_lands_in_that_envs_account(aws):
    for env, account in DEFAULT_ACCOUNTS.items():
        identity = aws.session(env).client("sts").get_caller_identity()
        assert identity["Account"] == account
        assert identity["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/drift-readonly/")


def test_accounts_keep_state_apart_when_dev_creates_a_bucket_and_a_queue(aws):
    dev = aws.session("dev")
    dev.client("s3").create_bucket(Bucket="only-in-dev", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    dev.client("sqs").create_queue(QueueName="only-in-dev")

    assert [b["Name"] for b in dev.client("s3").list_buckets()["Buckets"]] == ["only-in-dev"]
    for env in ("staging", "prod"):
        other = aws.session(env)
        assert other.client("s3").list_buckets()["Buckets"] == []
        assert other.client("sqs").list_queues().get("QueueUrls", []) == []
        with pytest.raises(ClientError):
            other.client("sqs").get_queue_url(QueueName="only-in-dev")


def test_reset_clears_state_in_every_account(aws):
    for env in aws.accounts:
        aws.session(env).client("sqs").create_queue(QueueName=f"q-{env}")
    aws.reset()
    for env in aws.accounts:
        assert aws.session(env).client("sqs").list_queues().get("QueueUrls", []) == []


def test_session_clients_default_to_sandbox_endpoint_and_keep_caller_config(aws):
    session = aws.session("staging")
    client = session.client("s3", config=Config(s3={"addressing_style": "path"}))
    assert client.meta.endpoint_url == aws.url
    assert client.meta.config.retries["total_max_attempts"] == 2  # the sandbox's, merged
    assert client.meta.config.s3 == {"addressing_style": "path"}  # the caller's, kept
    assert session.account_id == "222222222222"
    assert "sandbox" not in repr(session)  # no credentials in reprs


def test_account_session_reads_aws_endpoint_url_env_when_no_endpoint_given(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    session = account_session("333333333333", base_session=_dummy_base(), client_config=FAST)
    assert session.endpoint_url is None
    assert session.client("sts").get_caller_identity()["Account"] == "333333333333"


def test_account_session_when_sts_unreachable_raises_source_error_naming_account_not_secret():
    base = boto3.Session(
        aws_access_key_id="AKIAABCDEFGHIJKLMNOP",
        aws_secret_access_key="very-secret-value-123",
        region_name="eu-west-2",
    )
    with pytest.raises(SourceError) as caught:
        account_session(
            "222222222222",
            role_name="auditor",
            endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
            base_session=base,
            client_config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )
    message = str(caught.value)
    assert "222222222222" in message and "'auditor'" in message
    assert "AKIAABCDEFGHIJKLMNOP" not in message and "very-secret-value-123" not in message


@pytest.mark.parametrize("account", ["12345", "not-an-account", "1111111111111"])
def test_account_session_with_malformed_account_id_raises_usage_error(account):
    with pytest.raises(UsageError, match="12 digits"):
        account_session(account, endpoint_url="http://127.0.0.1:9", base_session=_dummy_base())


def test_account_refs_follow_the_declared_mapping():
    refs = account_refs({"dev": "111111111111", "prod": "333333333333"})
    assert refs == (AccountRef("dev", "111111111111"), AccountRef("prod", "333333333333"))
    assert refs[1].role_arn() == "arn:aws:iam::333333333333:role/drift-readonly"


def test_start_with_moto_account_id_set_refuses_to_fold_accounts(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "123456789012")
    with pytest.raises(RuntimeError, match="MOTO_ACCOUNT_ID"):
        AwsSandbox().start()


def test_module_entry_point_serves_until_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "drift_pipeline.sandbox.aws", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("AWS sandbox: http://127.0.0.1:")
        url = first.split(": ", 1)[1]
        session = account_session("111111111111", endpoint_url=url, base_session=_dummy_base(), client_config=FAST)
        assert session.client("sts").get_caller_identity()["Account"] == "111111111111"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
