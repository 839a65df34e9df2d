"""AWS access per account: assume a read-only role in each account and hand back a session.

The source layer reads the world and decides nothing. This module only *reaches* an account:
``account_session`` assumes ``arn:aws:iam::<account>:role/<role>`` through STS with the base
credentials (the default chain, or a given ``base_session``) and returns a session holding the
temporary credentials. Every client made from that session talks to ``endpoint_url`` when one is
given (the sandbox, LocalStack); when it is ``None`` boto3 resolves the endpoint itself, so the
standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables keep working.

There are no module-level clients: callers build a session per run (the temporary credentials
last ``duration_seconds``, one hour by default) and pass it, or clients made from it, down.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from drift_pipeline.core.errors import SourceError, UsageError, redact

DEFAULT_ACCOUNTS: dict[str, str] = {
    "dev": "111111111111",
    "staging": "222222222222",
    "prod": "333333333333",
}
DEFAULT_ROLE = "drift-readonly"
DEFAULT_REGION = "eu-west-2"
SESSION_NAME = "drift-pipeline"

# ASCII only and whole string: ``\d`` takes any Unicode digit and ``$`` a trailing newline
_ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
_ROLE_NAME = re.compile(r"[\w+=,.@/-]{1,64}", re.ASCII)
REGION_NAME = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]{1,2}", re.ASCII)
ENV_ACCOUNTS = "DRIFT_AWS_ACCOUNTS"  # dev=111111111111,staging=222222222222,prod=333333333333
ENV_ROLE = "DRIFT_AWS_ROLE"  # the role assumed in every account (default drift-readonly)
ENV_REGIONS = "DRIFT_AWS_REGIONS"  # eu-west-2,us-east-1 (default: the client region)


@dataclass(frozen=True, slots=True)
class AccountRef:
    """One environment's AWS account, as a repo's ``[infra.accounts]`` table declares it."""

    env: str
    account_id: str

    def role_arn(self, role_name: str = DEFAULT_ROLE) -> str:
        return role_arn(self.account_id, role_name)


def account_refs(accounts: dict[str, str] | None = None) -> tuple[AccountRef, ...]:
    """``{"dev": "1111…"}`` → ``(AccountRef("dev", "1111…"), …)`` in the mapping's order."""
    return tuple(AccountRef(env, acct) for env, acct in (accounts or DEFAULT_ACCOUNTS).items())


def role_arn(account_id: str, role_name: str = DEFAULT_ROLE) -> str:
    if not _ACCOUNT_ID.fullmatch(str(account_id)):
        raise UsageError(f"AWS account id must be 12 digits, got {account_id!r}")
    if not _ROLE_NAME.fullmatch(role_name):
        raise UsageError(f"invalid IAM role name {role_name!r}")
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_accounts(text: str, *, var: str = ENV_ACCOUNTS) -> dict[str, str]:
    """``"dev=111111111111,staging=222222222222"`` -> ``{"dev": ..., "staging": ...}`` in the given order.

    Raises :class:`UsageError` with one line naming the variable and the bad part: an env that is not
    dev / staging / prod, an account id that is not 12 digits, an env or account given twice.
    """
    accounts: dict[str, str] = {}
    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise UsageError(f"{var} is empty: expected env=account pairs such as dev=111111111111,prod=333333333333")
    for part in parts:
        env, eq, account = (x.strip() for x in part.partition("="))
        if not eq or not env:
            raise UsageError(f"{var}: {_shown(part)} is not env=account (e.g. prod=333333333333)")
        if env not in DEFAULT_ACCOUNTS:
            raise UsageError(f"{var}: env {_shown(env)} is not one of {', '.join(DEFAULT_ACCOUNTS)}")
        if not _ACCOUNT_ID.fullmatch(account):
            raise UsageError(f"{var}: account of {env} must be 12 digits, got {_shown(account)}")
        if env in accounts:
            raise UsageError(f"{var}: env {env} is given twice")
        if account in accounts.values():
            raise UsageError(f"{var}: account {account} is given for two envs")
        accounts[env] = account
    return accounts


def parse_role(text: str, *, var: str = ENV_ROLE) -> str:
    """An IAM role name (``drift-readonly``, ``path/name``), else a one-line :class:`UsageError`."""
    role = text.strip()
    if not _ROLE_NAME.fullmatch(role):
        raise UsageError(f"{var}: {_shown(role)} is not an IAM role name (letters, digits and +=,.@_-/, at most 64)")
    return role


def parse_regions(text: str, *, var: str = ENV_REGIONS) -> list[str]:
    """``"eu-west-2, us-east-1"`` -> ``["eu-west-2", "us-east-1"]`` (duplicates dropped), else a one-line error."""
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise UsageError(f"{var} is empty: expected region names such as {DEFAULT_REGION}")
    for region in regions:
        if not REGION_NAME.fullmatch(region):
            raise UsageError(f"{var}: {_shown(region)} is not an AWS region name such as {DEFAULT_REGION}")
    return list(dict.fromkeys(regions))


def aws_settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The AWS settings the environment gives (only those set): ``accounts``, ``role_name``, ``regions``."""
    out: dict[str, Any] = {}
    if environ.get(ENV_ACCOUNTS) is not None:
        out["accounts"] = parse_accounts(environ[ENV_ACCOUNTS])
    if environ.get(ENV_ROLE):
        out["role_name"] = parse_role(environ[ENV_ROLE])
    if environ.get(ENV_REGIONS):
        out["regions"] = parse_regions(environ[ENV_REGIONS])
    return out


WRONG_ACCOUNT = "WrongAccount"  # STS answered with credentials of another account


def error_code(exc: BaseException) -> str:
    """The structured code of an AWS failure: ``Error.Code`` of a ``ClientError``, else the botocore
    error class (``EndpointConnectionError``, ``NoCredentialsError``, ...). Never parsed from a message."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


class AssumeRoleError(SourceError):
    """An account that could not be reached: ``code`` says why (see :func:`error_code`)."""

    def __init__(self, message: str, *, account_id: str, role_name: str, code: str, status: int | None = None):
        super().__init__(message, status=status)
        self.account_id = account_id
        self.role_name = role_name
        self.code = code


@dataclass(frozen=True)
class AwsAccess:
    """How the pipeline reaches AWS: the settings of dagster-aws's ``ResourceWithBoto3Configuration``
    (region, endpoint URL, profile, max attempts) plus the role assumed in every account.

    Plain data, so the source layer stays free of Dagster: the Dagster resource subclasses
    ``dagster_aws.utils.ResourceWithBoto3Configuration`` and hands its fields to this class.
    """

    region_name: str = DEFAULT_REGION
    endpoint_url: str | None = None  # None: boto3 resolves it (AWS_ENDPOINT_URL honoured)
    profile_name: str | None = None  # base credentials; None: the default chain
    max_attempts: int = 5
    role_name: str = DEFAULT_ROLE
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    cfn_drift_detection: bool = True  # CloudFormation's own drift detection where offered
    cfn_drift_timeout: float = 300.0  # seconds per account and region for every stack's detection

    @property
    def detect_timeout(self) -> float | None:
        """Seconds CloudFormation drift detection may take per region; None when it is not to be tried."""
        return self.cfn_drift_timeout if self.cfn_drift_detection else None

    def client_config(self) -> Config:
        # The retry config of dagster_aws.utils.construct_boto_client_retry_config (standard mode).
        return Config(
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def base_session(self) -> boto3.Session:
        return boto3.Session(
            botocore_session=new_botocore_session(), profile_name=self.profile_name, region_name=self.region_name
        )

    def connect(self, account_id: str, *, base_session: boto3.Session | None = None) -> AccountSession:
        """Assume ``role_name`` in ``account_id`` (raises :class:`AssumeRoleError`)."""
        return account_session(
            account_id,
            role_name=self.role_name,
            endpoint_url=self.endpoint_url,
            region=self.region_name,
            base_session=base_session or self.base_session(),
            client_config=self.client_config(),
        )


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    # Service models and endpoint rules are read from disk once per loader; a fresh session
    # per account would reread them for every client (~0.1-0.2 s each). Loaders hold only
    # parsed JSON files, no credentials or connections.
    return botocore.loaders.create_loader()


def new_botocore_session() -> botocore.session.Session:
    """A botocore session sharing the process's model loader: cheap clients per account."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return core


class AccountSession(boto3.Session):
    """A ``boto3.Session`` on one account's temporary credentials.

    Clients and resources made from it default to the session's ``endpoint_url`` (when set) and
    to its ``client_config`` (merged under any ``config`` the caller passes).
    """

    def __init__(
        self,
        *,
        account_id: str,
        role_arn: str,
        endpoint_url: str | None,
        client_config: Config | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.role_arn = role_arn
        self.endpoint_url = endpoint_url
        self.client_config = client_config

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        return super().client(service_name, *args, **self._defaults(args, kwargs))

    def resource(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        return super().resource(service_name, *args, **self._defaults(args, kwargs))

    def _defaults(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        # Positional order after service_name (client and resource alike): region_name,
        # api_version, use_ssl, verify, endpoint_url, 3 credentials, config.
        if self.endpoint_url and len(args) < 5 and kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.client_config is not None and len(args) < 9:
            given = kwargs.get("config")
            kwargs["config"] = self.client_config.merge(given) if given else self.client_config
        return kwargs

    def __repr__(self) -> str:  # never show credentials
        return f"AccountSession(account_id={self.account_id!r}, region={self.region_name!r})"


def account_session(
    account_id: str,
    *,
    role_name: str = DEFAULT_ROLE,
    endpoint_url: str | None = None,
    region: str = DEFAULT_REGION,
    base_session: boto3.Session | None = None,
    client_config: Config | None = None,
    session_name: str = SESSION_NAME,
    duration_seconds: int = 3600,
) -> AccountSession:
    """Assume ``role_name`` in ``account_id`` and return a session on the temporary credentials.

    Raises ``AssumeRoleError`` (a ``SourceError`` naming the account and role, never a credential,
    with the structured ``code``) when STS refuses or cannot be reached, or when the credentials it
    returns belong to another account.
    """
    arn = role_arn(account_id, role_name)
    if base_session is None:
        base_session = boto3.Session(botocore_session=new_botocore_session(), region_name=region)
    answer = _assume_role(
        base_session,
        _sts_options(region, endpoint_url, client_config),
        account_id,
        role_name,
        RoleArn=arn,
        RoleSessionName=session_name,
        DurationSeconds=duration_seconds,
    )
    _check_landed(answer, account_id, role_name)
    creds = answer["Credentials"]
    return AccountSession(
        account_id=account_id,
        role_arn=arn,
        endpoint_url=endpoint_url,
        client_config=client_config,
        botocore_session=new_botocore_session(),
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def _sts_options(region: str, endpoint_url: str | None, client_config: Config | None) -> dict[str, Any]:
    """The STS client's options: ``region``, and ``endpoint_url`` and ``client_config`` when given."""
    options: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if client_config is not None:
        options["config"] = client_config
    return options


def _assume_role(
    base_session: boto3.Session, sts_options: dict[str, Any], account_id: str, role_name: str, **request: Any
) -> dict[str, Any]:
    """STS's answer to ``AssumeRole``; a refusal or an unreachable STS is an ``AssumeRoleError`` (message redacted)."""
    try:
        answer: dict[str, Any] = base_session.client("sts", **sts_options).assume_role(**request)
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        raise AssumeRoleError(
            f"cannot assume role {role_name!r} in AWS account {account_id}: {code}: {redact(message)}",
            account_id=account_id,
            role_name=role_name,
            code=code,
            status=exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        ) from exc
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, bad parameters
        raise AssumeRoleError(
            f"cannot assume role {role_name!r} in AWS account {account_id}: {type(exc).__name__}: {redact(str(exc))}",
            account_id=account_id,
            role_name=role_name,
            code=error_code(exc),
        ) from exc
    return answer


def _check_landed(answer: dict[str, Any], account_id: str, role_name: str) -> None:
    """Raise ``AssumeRoleError`` (``WRONG_ACCOUNT``) when the assumed role's ARN names another account."""
    landed = answer.get("AssumedRoleUser", {}).get("Arn", "").split(":")
    if len(landed) > 4 and landed[4] != account_id:
        raise AssumeRoleError(
            f"assuming role {role_name!r} in AWS account {account_id} landed in account {landed[4]} instead",
            account_id=account_id,
            role_name=role_name,
            code=WRONG_ACCOUNT,
        )
