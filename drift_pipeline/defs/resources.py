"""Dagster resources: each external system once, configured from the environment.

Secrets come through ``dg.EnvVar`` and never appear in run config or logs; base URLs are plain
fields, so github.com, GitHub Enterprise Server and the sandbox differ only in configuration.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field

from drift_pipeline.core.names import unique_names
from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
    DEFAULT_ROLE,
    AccountRef,
    AwsAccess,
    account_refs,
    aws_settings_from_env,
)
from drift_pipeline.sources.github import DEFAULT_API_URL, GitHubSource
from drift_pipeline.sources.github_auth import APP_ENV, AppCredentials, app_credentials_from_env, installation_auth
from drift_pipeline.store import (
    DEFAULT_DB_PATH,
    DriftStore,
    LakeConfig,
    LakeConfigError,
    LakeStore,
    LakeUnavailable,
    PersistentCache,
    S3Access,
)


class GitHubResource(dg.ConfigurableResource):
    """Read access to one GitHub (github.com, GHES at ``https://host/api/v3``, or the sandbox)."""

    api_url: str = Field(default=DEFAULT_API_URL, description="REST API base URL.")
    token: str | None = Field(default=None, description="Token; set it with EnvVar('GITHUB_TOKEN').")
    retries: int = Field(default=5, description="Retries for 5xx and network errors.")
    backoff_seconds: float = Field(default=0.5, description="Exponential backoff factor for retries.")
    max_rate_limit_wait_seconds: float = Field(
        default=900, description="Longest wait for a rate-limit reset before the scan fails."
    )
    seconds_between_writes: float = Field(
        default=1.0, description="Pause between content-creating requests (secondary limits)."
    )
    concurrency: int = Field(
        default=8, ge=1, le=32, description="Requests in flight at most (GitHub's secondary limit is about 100)."
    )
    app_id: str | None = Field(default=None, description="GitHub App id; EnvVar('GITHUB_APP_ID').")
    app_private_key: str | None = Field(default=None, description="App key (PEM); EnvVar('GITHUB_APP_PRIVATE_KEY').")
    app_private_key_path: str | None = Field(default=None, description="App key file; GITHUB_APP_PRIVATE_KEY_PATH.")
    app_installation_id: str | None = Field(default=None, description="Installation; else found for app_org.")
    app_org: str | None = Field(default=None, description="Org whose App installation to use (first of DRIFT_ORGS).")

    def app_credentials(self) -> AppCredentials | None:
        """The App to authenticate as (None: the token); GITHUB_TOKEN wins when both are set."""
        env = {
            "GITHUB_TOKEN": self.token or "",
            "GITHUB_APP_ID": self.app_id or "",
            "GITHUB_APP_PRIVATE_KEY": self.app_private_key or "",
            "GITHUB_APP_PRIVATE_KEY_PATH": self.app_private_key_path or "",
            "GITHUB_APP_INSTALLATION_ID": self.app_installation_id or "",
        }
        return app_credentials_from_env(env)

    def source(self, cache: PersistentCache | None = None) -> GitHubSource:
        creds = self.app_credentials()
        return GitHubSource(
            self.api_url,
            None if creds else self.token,
            auth=installation_auth(self.api_url, creds, self.app_org) if creds else None,
            cache=cache,
            retries=self.retries,
            backoff=self.backoff_seconds,
            max_rate_limit_wait=self.max_rate_limit_wait_seconds,
            seconds_between_writes=self.seconds_between_writes,
            concurrency=self.concurrency,
        )


class ScanScopeResource(dg.ConfigurableResource):
    """What to scan: the orgs (or users). A property of the deployment, not of the GitHub client."""

    orgs: str = Field(default="", description="Comma-separated orgs (or users) to scan; from DRIFT_ORGS.")

    def org_list(self) -> list[str]:
        """The orgs as configured, each once ignoring case (``Acme,acme`` is one org, GitHub ignores case);
        the spelling GitHub answers with is learned per run (:func:`drift_pipeline.defs.orgs.canonical_orgs`)."""
        orgs = unique_names(o.strip() for o in self.orgs.split(",") if o.strip())
        if not orgs:
            raise dg.Failure("No org to scan: set DRIFT_ORGS (comma-separated orgs) for the scope resource.")
        return orgs


class DriftStoreResource(dg.ConfigurableResource):
    """Where every snapshot and finding is kept: the DuckDB file (``backend="duckdb"``, the default) or
    a DuckLake (``backend="ducklake"``: catalog in SQLite or PostgreSQL, Parquet on S3 or a local path),
    which admits several writer processes and readers that never block them. The asset code is the same.

    The lake's S3 access is dagster-aws's ``S3Resource`` (endpoint, region, profile); its credentials
    come from the standard AWS chain only and are handed to DuckDB as a temporary S3 secret.
    """

    backend: Literal["duckdb", "ducklake"] = Field(default="duckdb", description="duckdb (a file) or ducklake.")
    database: str = Field(default=DEFAULT_DB_PATH, description="Path of the DuckDB file (backend duckdb).")
    lock_timeout_seconds: float = Field(
        default=300, ge=0, description="How long a write waits for a reader's lock on the file before failing."
    )
    lake_catalog: str = Field(
        default="", description="DuckLake catalog: sqlite:///path or postgresql://user@host:port/db (PGPASSWORD)."
    )
    lake_data: str = Field(default="", description="DuckLake data files: s3://bucket/prefix or a directory.")
    s3: S3Resource | None = Field(default=None, description="S3 access for an s3:// lake_data (endpoint, region).")

    def lake_config(self) -> LakeConfig:
        config = LakeConfig.parse(self.lake_catalog, self.lake_data)
        if config.bucket is None:
            return config
        return dataclasses.replace(config, s3=_s3_access(self.s3 or S3Resource(), config.bucket))

    def store(self, *, read_only: bool = False) -> DriftStore:
        """A store of the configured backend (not yet opened: it opens per session)."""
        if self.backend == "duckdb":
            return DriftStore(self.database, read_only=read_only, lock_timeout=self.lock_timeout_seconds)
        return LakeStore(self.lake_config(), read_only=read_only)

    @contextmanager
    def open(self) -> Iterator[DriftStore]:
        store = self.store().linger_writes()  # a step's sessions share its last write's connection a moment
        try:
            with store.reading():  # one read-only session for the asset's reads, let go around each write
                yield store
        finally:
            store.close()


def _s3_access(s3: S3Resource, bucket: str) -> S3Access:
    """What DuckDB needs to reach ``bucket``, from dagster-aws's S3 resource and the AWS credential chain.

    Checks the bucket through the resource's own client, so a wrong name or endpoint says so in one line.
    """
    given = [n for n in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token") if getattr(s3, n)]
    if given:
        raise LakeConfigError(
            f"the lake's S3Resource: {', '.join(given)} must not be set; credentials come from the standard "
            "AWS chain (environment, profile, instance role) only"
        )
    session = boto3.session.Session(profile_name=s3.profile_name, region_name=s3.region_name)
    credentials = session.get_credentials()
    if credentials is None:
        raise LakeConfigError(
            f"no AWS credentials for the lake's bucket {bucket}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run with an instance role"
        )
    try:
        s3.get_client().head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        what = {404: "does not exist", 403: "may not be read with these credentials"}.get(status, f"answered {status}")
        raise LakeConfigError(f"the lake's bucket {bucket} {what} (endpoint {s3.endpoint_url or 'AWS'})") from None
    except botocore.exceptions.EndpointConnectionError:
        raise LakeUnavailable(f"the lake's S3 endpoint {s3.endpoint_url} could not be reached") from None
    frozen = credentials.get_frozen_credentials()
    endpoint = urlsplit(s3.endpoint_url) if s3.endpoint_url else None
    return S3Access(
        region=s3.region_name or session.region_name or DEFAULT_REGION,
        endpoint=endpoint.netloc if endpoint else None,
        use_ssl=s3.use_ssl and (endpoint is None or endpoint.scheme == "https"),
        url_style="path" if endpoint else "vhost",  # S3-compatible endpoints and emulators want path style
        key_id=frozen.access_key,
        secret=frozen.secret_key,
        session_token=frozen.token,
    )


def store_from_env(env: Mapping[str, str] = os.environ) -> DriftStoreResource:
    """The store resource from ``DRIFT_STORE`` (duckdb | ducklake), ``DRIFT_DB_PATH`` or
    ``DRIFT_LAKE_CATALOG`` / ``DRIFT_LAKE_DATA`` (and ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``,
    ``AWS_REGION`` for an s3:// data path); a wrong value fails here, in one line."""
    backend = (env.get("DRIFT_STORE") or "duckdb").strip().lower()
    if backend == "duckdb":
        return DriftStoreResource(database=env.get("DRIFT_DB_PATH", DEFAULT_DB_PATH))
    if backend != "ducklake":
        raise LakeConfigError(f"DRIFT_STORE={backend!r}: expected duckdb (the default) or ducklake")
    catalog, data = env.get("DRIFT_LAKE_CATALOG", ""), env.get("DRIFT_LAKE_DATA", "")
    config = LakeConfig.parse(catalog, data)
    s3 = None
    if config.bucket:
        s3 = S3Resource(
            endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        )
    return DriftStoreResource(backend="ducklake", lake_catalog=catalog, lake_data=data, s3=s3)


class AwsResource(ResourceWithBoto3Configuration):
    """The AWS accounts infra drift reads: dagster-aws's boto3 configuration (region, endpoint URL,
    profile, max attempts) plus the read-only role assumed in each account.

    Base credentials come from the standard chain only (environment, profile, instance role): the
    inherited credential fields must stay empty, so no secret is ever run config.
    """

    role_name: str = Field(default=DEFAULT_ROLE, description="IAM role assumed in every account (read-only).")
    accounts: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ACCOUNTS), description="Env name -> 12-digit AWS account id."
    )
    regions: list[str] = Field(default_factory=list, description="Regions to scan; default: region_name.")
    cfn_drift_detection: bool = Field(
        default=True, description="Use CloudFormation's own drift detection where the service offers it."
    )
    cfn_drift_timeout_seconds: float = Field(
        default=300, ge=1, description="Longest wait for CloudFormation drift detection per account and region."
    )

    def access(self) -> AwsAccess:
        given = [
            name
            for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            if getattr(self, name) is not None
        ]
        if given:
            raise dg.Failure(
                f"AwsResource: {', '.join(given)} must not be set; base credentials come from the standard "
                "AWS chain (environment, profile, instance role) only"
            )
        return AwsAccess(
            region_name=self.region_name or DEFAULT_REGION,
            endpoint_url=self.endpoint_url,
            profile_name=self.profile_name,
            max_attempts=self.max_attempts,
            role_name=self.role_name,
            cfn_drift_detection=self.cfn_drift_detection,
            cfn_drift_timeout=self.cfn_drift_timeout_seconds,
        )

    def account_refs(self) -> tuple[AccountRef, ...]:
        """The accounts to read, in the map's order; an empty map reads none (infra then says not evaluated)."""
        return account_refs(self.accounts) if self.accounts else ()

    def region_list(self) -> list[str]:
        return list(self.regions) or [self.region_name or DEFAULT_REGION]


def github_auth_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The GitHub resource's secrets as ``dg.EnvVar`` (resolved at run time, never in the
    definitions), for the variables that are set; GITHUB_TOKEN also when nothing is."""
    fields = dict(
        zip(APP_ENV, ("app_id", "app_private_key", "app_private_key_path", "app_installation_id"), strict=True)
    )
    out: dict[str, Any] = {f: dg.EnvVar(name) for name, f in fields.items() if (env.get(name) or "").strip()}
    if (env.get("GITHUB_TOKEN") or "").strip() or not out:
        out["token"] = dg.EnvVar("GITHUB_TOKEN")
    if out.keys() - {"token"}:
        orgs = [o.strip() for o in (env.get("DRIFT_ORGS") or "").split(",") if o.strip()]
        out["app_org"] = orgs[0] if orgs else None
    return out


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """The resources the deployed code location uses, read from the environment."""
    return {
        "github": GitHubResource(
            api_url=os.environ.get("GITHUB_API_URL", DEFAULT_API_URL), **github_auth_from_env(os.environ)
        ),
        "scope": ScanScopeResource(orgs=os.environ.get("DRIFT_ORGS", "")),
        "store": store_from_env(),
        "aws": AwsResource(
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            **aws_settings_from_env(os.environ),  # DRIFT_AWS_ACCOUNTS / DRIFT_AWS_ROLE / DRIFT_AWS_REGIONS
        ),
    }
