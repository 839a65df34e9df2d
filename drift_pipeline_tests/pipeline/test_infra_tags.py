"""Deployment tracking by release tags: GitHub sandbox (tags over HTTP) + moto (three accounts over HTTP).

``ledger`` is deployed without the ``drift:commit`` stack tag, so a scan can only learn what runs
where from its git tags: dev runs the head of main (B: a DynamoDB table and a second stack,
``ledger-worker``, added), staging the release candidate ``v1.1.0-rc1`` (B), prod the release
``v1.0.0`` (A: neither). Noise tags (``latest``, ``vfoo``, ``v1.0.0-beta``) must not be taken.
``alpha`` and ``beta`` carry the stack tag as before (the scenario needs three active repos).
The scan is the CLI's and the assets' code path (``scan_inventory``, ``read_world``, ``scan_infra``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from botocore.config import Config

from drift_pipeline.sandbox.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, AwsSandbox
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.infra_seed import InfraRepo, InfraScenario, deploy_org_infra, stack_template, tag_releases
from drift_pipeline.scans.infra import InfraScan, read_world, scan_infra
from drift_pipeline.scans.inventory import scan_inventory
from drift_pipeline.scans.window import day_end
from drift_pipeline.sources.aws import AwsAccess, account_refs
from drift_pipeline.sources.github import GitHubSource
from drift_pipeline.sources.gitutil import Author, commit_files
from drift_pipeline_tests.pipeline.infrafixture import expected_keys

FAST = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=20)
ALICE = Author("Alice Doe", "alice@example.com")
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def _config(stacks: list[str], *, manifest: bool = False) -> str:
    head = '[infra]\nenabled = true\nmanifest = "infra-manifest.txt"\n' if manifest else "[infra]\n"
    return head + 'path = "infra"\nstacks = [' + ", ".join(f'"{s}"' for s in stacks) + "]\n"


def _yaml(value: Any, indent: int = 0) -> str:
    """A template as CloudFormation YAML with short-form intrinsics (!Sub, !GetAtt, !Ref)."""
    pad = " " * indent
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Fn::Sub":
            return f"!Sub {json.dumps(arg)}"
        if key == "Fn::GetAtt":
            return f"!GetAtt {'.'.join(arg)}"
        if key == "Ref":
            return f"!Ref {arg}"
    if isinstance(value, dict):
        return "".join(f"\n{pad}{json.dumps(k)}: {_yaml(v, indent + 2)}" for k, v in value.items()) or "{}"
    if isinstance(value, list):
        return "".join(f"\n{pad}- {_yaml(v, indent + 2).lstrip()}" for v in value) or "[]"
    return json.dumps(value)


def _yaml_template(stack: str) -> str:
    text = _yaml(stack_template(stack)).lstrip("\n")
    return text.replace('"AWSTemplateFormatVersion": "2010-09-09"', "AWSTemplateFormatVersion: 2010-09-09") + "\n"


OLD_PROD = "arn:aws:sqs:eu-west-2:333333333333:ledger-old-prod"  # in the manifest at v1.0.0: missing
NEW_PROD = "arn:aws:sqs:eu-west-2:333333333333:ledger-new-prod"  # added to the manifest after v1.0.0


def _template(stack: str, variant: int = 0) -> str:
    return json.dumps(stack_template(stack, variant=variant), indent=2) + "\n"


@dataclass
class TagOrg:
    state: SandboxState
    a: str = ""  # ledger's first commit: v1.0.0 (prod)
    b: str = ""  # ledger's head: v1.1.0-rc1 (staging), dev
    heads: dict[str, str] = field(default_factory=dict)
    scenario: InfraScenario | None = None


@pytest.fixture(scope="module")
def torg(tmp_path_factory: pytest.TempPathFactory) -> TagOrg:
    state = SandboxState.open(tmp_path_factory.mktemp("tags-org"))
    state.add_org("relco")
    org = TagOrg(state)
    meta = "tier: internal\nstatus: active\nteam: platform\n"
    for name in ("alpha", "beta"):
        repo = state.create_repo("relco", name)
        org.heads[name] = commit_files(
            repo,
            "main",
            {
                "repo-metadata.yaml": meta,
                "pyproject.toml": f"[project]\nname = '{name}'\n",
                "check.toml": _config([f"{name}-api"]),
                f"infra/{name}-api.json": _template(f"{name}-api"),
            },
            "feat: infra",
            ALICE,
            datetime.combine(YESTERDAY, time(8), tzinfo=UTC),
        )
    ledger = state.create_repo("relco", "ledger")
    org.a = commit_files(
        ledger,
        "main",
        {
            "repo-metadata.yaml": meta,
            "pyproject.toml": "[project]\nname = 'ledger'\n",
            "check.toml": _config(["ledger-api"], manifest=True),
            "infra/ledger-api.json": _template("ledger-api"),
            "infra-manifest.txt": f"{OLD_PROD}\n",
        },
        "feat: ledger api",
        ALICE,
        datetime.combine(YESTERDAY, time(9), tzinfo=UTC),
    )
    org.b = commit_files(  # after the prod release: a table and a second stack
        ledger,
        "main",
        {
            "check.toml": _config(["ledger-api", "ledger-worker"], manifest=True),
            "infra/ledger-api.json": _template("ledger-api", variant=1),
            "infra/ledger-worker.yaml": _yaml_template("ledger-worker"),  # YAML, short-form intrinsics
            "infra-manifest.txt": f"{NEW_PROD}\n",
        },
        "feat: ledger table and worker",
        ALICE,
        datetime.combine(TODAY, time(0, 0, 1), tzinfo=UTC),
    )
    org.heads["ledger"] = org.b
    tags = {"v1.0.0": org.a, "v0.9.0": org.a, "v1.1.0-rc1": org.b, "v1.0.0-beta": org.a, "latest": org.b}
    tag_releases(state.repo_git_dir("relco", "ledger"), tags)
    tag_releases(state.repo_git_dir("relco", "ledger"), {"vfoo": org.b}, annotated=False)
    state.save()
    return org


@pytest.fixture(scope="module")
def github(torg: TagOrg) -> Iterator[GitHubSandbox]:
    with GitHubSandbox(torg.state.root) as server:
        yield server


@pytest.fixture(scope="module")
def aws(torg: TagOrg) -> Iterator[AwsSandbox]:
    with AwsSandbox(client_config=FAST) as sandbox:
        sandbox.reset()
        head = {"ledger-api": stack_template("ledger-api", variant=1), "ledger-worker": stack_template("ledger-worker")}
        repos = [
            InfraRepo(
                full_name=f"relco/{name}",
                stacks={f"{name}-api": stack_template(f"{name}-api")},
                commit_sha=torg.heads[name],
            )
            for name in ("alpha", "beta")
        ]
        repos.append(
            InfraRepo(
                full_name="relco/ledger",
                stacks=head,
                commit_sha=torg.b,
                commit_tag=False,  # only the git tags say what runs where
                deployed_at={"prod": torg.a},
                stacks_at={"prod": {"ledger-api": stack_template("ledger-api")}},
            )
        )
        torg.scenario = deploy_org_infra(sandbox, repos, seed=3, region=sandbox.region)
        prod = sandbox.session("prod").client("sqs")  # out of band: prod's queue deleted (judged only via v1.0.0)
        prod.delete_queue(QueueUrl=prod.get_queue_url(QueueName="ledger-api-prod-events")["QueueUrl"])
        yield sandbox
        sandbox.reset()  # moto's state is per process: leave none for the next module


@pytest.fixture(scope="module")
def creds() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
        mp.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


def scan(github: GitHubSandbox, aws: AwsSandbox, day, at: datetime) -> tuple[InfraScan, GitHubSource]:
    source = GitHubSource(github.url, "sandbox-token", backoff=0)
    inventory = scan_inventory(source, "relco", at)
    access = AwsAccess(region_name=aws.region, endpoint_url=aws.url, max_attempts=1)
    world = read_world(access, account_refs(aws.accounts), [aws.region], now=datetime.now(UTC))
    result = scan_infra(source, "relco", day, inventory.rows, world=world, region=aws.region, now=datetime.now(UTC))
    assert result.errors == [] and inventory.errors == []
    return result, source


def _deployments(result: InfraScan, repo: str) -> dict[str, tuple[str | None, str]]:
    rows = [r for r in result.tables["declared_infra"] if r["repo"] == repo]
    return {r["env"]: (r["deployed_commit"], r["deployed_from"]) for r in rows}


def test_staging_and_prod_come_from_release_tags_and_what_came_after_the_prod_release_is_not_expected_there(
    torg, github, aws, creds
):
    result, source = scan(github, aws, TODAY, datetime.now(UTC))
    assert _deployments(result, "ledger") == {
        "dev": (torg.b, "branch:main"),
        "staging": (torg.b, "tag:v1.1.0-rc1"),
        "prod": (torg.a, "tag:v1.0.0"),  # not v1.0.0-beta, latest, vfoo nor v0.9.0
    }
    declared = {
        (r["env"], r.get("stack_name") or "", r.get("logical_id"))
        for r in result.tables["declared_infra"]
        if r["repo"] == "ledger"
    }
    assert ("prod", "ledger-api-prod", "Queue") in declared
    assert not {d for d in declared if d[0] == "prod" and (d[2] == "Table" or "worker" in d[1])}
    assert {("dev", "ledger-api-dev", "Table"), ("staging", "ledger-worker-staging", "Bucket")} <= declared
    # the YAML template's short-form intrinsics resolve like the JSON ones: the role's statements name
    # the deployed queue and bucket (no attribute_drift below), the security group its rules
    worker = {
        r["logical_id"]: r["properties"]
        for r in result.tables["declared_infra"]
        if r.get("stack_name") == "ledger-worker-dev" and r.get("logical_id")
    }
    policy = worker["AppRole"]["inline_policies"]["app-access"]
    assert policy["#1"]["Resource"] == ["arn:aws:sqs:eu-west-2:111111111111:ledger-worker-dev-events"]
    assert policy["#2"]["Resource"] == ["arn:aws:s3:::ledger-worker-dev-111111111111/*"]
    assert worker["SecurityGroup"]["ingress"] == ["tcp/443 from 10.0.0.0/8"]

    findings = {(f.rule, f.repo, f.subject) for f in result.findings()}
    # exactly the scenario's drift, plus prod's deleted queue (found only because prod's commit is known)
    assert findings == expected_keys(torg.scenario) | {
        ("resource_missing", "ledger", "prod/ledger-api-prod/Queue"),
        ("resource_missing", "ledger", OLD_PROD),  # the manifest as committed at v1.0.0, not the head's
    }
    after = torg.scenario.of_kind("added_after_release")
    assert {(d.env, d.resource_id) for d in after} == {
        ("prod", "ledger-api-prod/Table"),
        ("prod", "ledger-worker-prod"),
    }
    assert not [f for f in findings if f[1] == "ledger" and ("Table" in f[2] or "worker" in f[2])]
    assert source.requests["tags"] == 1  # one listing per repo, shared by its envs (alpha/beta: stack tags)


def test_a_past_day_only_sees_releases_whose_commit_existed_by_its_end(torg, github, aws, creds):
    result, source = scan(github, aws, YESTERDAY, day_end(YESTERDAY))
    deployments = _deployments(result, "ledger")
    assert deployments["prod"] == (torg.a, "tag:v1.0.0")
    assert deployments["dev"] == (torg.a, "branch:main")  # the head at the end of yesterday
    assert "staging" not in deployments  # v1.1.0-rc1's commit was made today: nothing deployed yesterday
    status = next(r for r in result.tables["infra_scan_status"] if r["repo"] == "ledger")
    assert status["mode"] == "read"
    assert source.requests["commits"] >= 1  # the rc's commit date was read (cached for ever after)
