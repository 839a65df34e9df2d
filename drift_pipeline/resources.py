"""Dagster resources: each external system once, configured from the environment.

Secrets come through ``dg.EnvVar`` and never appear in run config or logs; base URLs are plain
fields, so github.com, GitHub Enterprise Server and the sandbox differ only in configuration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field

from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
    DEFAULT_ROLE,
    AccountRef,
    AwsAccess,
    account_refs,
)
from drift_pipeline.sources.github import DEFAULT_API_URL, GitHubSource
from drift_pipeline.store import DEFAULT_DB_PATH, DriftStore, PersistentCache


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

    def source(self, cache: PersistentCache | None = None) -> GitHubSource:
        return GitHubSource(
            self.api_url,
            self.token,
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
        orgs = [o.strip() for o in self.orgs.split(",") if o.strip()]
        if not orgs:
            raise dg.Failure("No org to scan: set DRIFT_ORGS (comma-separated orgs) for the scope resource.")
        return orgs


class DriftStoreResource(dg.ConfigurableResource):
    """The DuckDB file holding every snapshot and finding."""

    database: str = Field(default=DEFAULT_DB_PATH, description="Path of the DuckDB file.")
    lock_timeout_seconds: float = Field(
        default=300, ge=0, description="How long a write waits for a reader's lock on the file before failing."
    )

    @contextmanager
    def open(self) -> Iterator[DriftStore]:
        store = DriftStore(self.database, lock_timeout=self.lock_timeout_seconds)
        try:
            with store.reading():  # one read-only session for the asset's reads, let go around each write
                yield store
        finally:
            store.close()


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
        )

    def account_refs(self) -> tuple[AccountRef, ...]:
        """The accounts to read, in the map's order; an empty map reads none (infra then says not evaluated)."""
        return account_refs(self.accounts) if self.accounts else ()

    def region_list(self) -> list[str]:
        return list(self.regions) or [self.region_name or DEFAULT_REGION]


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """The resources the deployed code location uses, read from the environment."""
    return {
        "github": GitHubResource(
            api_url=os.environ.get("GITHUB_API_URL", DEFAULT_API_URL),
            token=dg.EnvVar("GITHUB_TOKEN"),
        ),
        "scope": ScanScopeResource(orgs=os.environ.get("DRIFT_ORGS", "")),
        "store": DriftStoreResource(database=os.environ.get("DRIFT_DB_PATH", DEFAULT_DB_PATH)),
        "aws": AwsResource(
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        ),
    }
