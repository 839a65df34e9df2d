"""An org whose repos declare ``[infra]`` and the AWS accounts their stacks are deployed to.

Five repos commit their CloudFormation templates (``sandbox.infra_seed.stack_template``) under
``infra/`` with an ``[infra]`` table, and are deployed by ``deploy_org_infra`` at their head commit
(stacks tagged ``drift:commit``), which also injects the scenario's drift. ``orders`` then commits a
template revision adding a DynamoDB table that is never deployed (not expected anywhere: the deployed
commit is the one before). ``manifests`` declares a manifest with one malformed line; ``garbage``
has a check.toml that does not parse. ``manifests`` also declares ``[process.backups]`` on a prefix
holding only an object outside it (stale). Dates are relative to now: AWS is live-only.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from drift_pipeline.sandbox.aws import AwsSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.infra_seed import InfraRepo, InfraScenario, deploy_org_infra, stack_template
from drift_pipeline.sources.gitutil import Author, commit_files

DAY = datetime.now(UTC).date() - timedelta(days=1)  # the newest daily partition: observed live
PAST = DAY - timedelta(days=2)  # no longer observable
START = DAY - timedelta(days=3)
ALICE = Author("Alice Doe", "alice@example.com")
SECRET_VALUE = "ghp_" + "Q" * 36  # a token-looking value in a Lambda's environment
MANIFEST_BAD_LINE = 3
MANIFEST_BUCKET = "manifests-dev-bucket-111111111111"
BACKUP_PREFIX = "db/"  # [process.backups] of the manifests repo: nothing under it (stale)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _config(stacks: list[str], *, manifest: bool = False) -> str:
    lines = ["[infra]"]
    if manifest:
        lines += ["enabled = true", 'manifest = "infra-manifest.txt"']
    lines += ['path = "infra"', "stacks = [" + ", ".join(f'"{s}"' for s in stacks) + "]"]
    return "\n".join(lines) + "\n"


SPECS = [
    # name, project, status, stack, variant
    ("orders", ".", "active", "orders-api", 0),
    ("payments", "services/api", "active", "payments-api", 0),
    ("catalog", ".", "active", "catalog-api", 2),
    ("search", ".", "pre-release", "search-api", 0),
    ("billing", ".", "deprecated", "billing-api", 0),
]


@dataclass
class InfraOrg:
    state: SandboxState
    scenario: InfraScenario | None = None
    heads: dict[str, str] = field(default_factory=dict)  # repo -> deployed commit
    later: dict[str, str] = field(default_factory=dict)  # repo -> commit after the deployment


def build_repos(root: Path) -> InfraOrg:
    state = SandboxState.open(root)
    state.add_org("acme")
    org = InfraOrg(state)
    paths = {}
    for name, project, status, stack, variant in SPECS:
        repo = paths[name] = state.create_repo("acme", name)
        prefix = "" if project == "." else f"{project}/"
        files = {
            "repo-metadata.yaml": f"tier: internal\nstatus: {status}\nteam: platform\n",
            f"{prefix}pyproject.toml": f"[project]\nname = '{name}'\n",
            f"{prefix}check.toml": _config([stack]),
            f"{prefix}infra/{stack}.json": json.dumps(stack_template(stack, variant=variant), indent=2) + "\n",
        }
        org.heads[name] = commit_files(repo, "main", files, "feat: service infra", ALICE, at(START))
    # after the deployment: orders adds a table to its template (never deployed anywhere)
    org.later["orders"] = commit_files(
        paths["orders"],
        "main",
        {"infra/orders-api.json": json.dumps(stack_template("orders-api", variant=1), indent=2) + "\n"},
        "feat: orders table",
        ALICE,
        at(START, 15),
    )
    manifests = state.create_repo("acme", "manifests")
    commit_files(
        manifests,
        "main",
        {
            "repo-metadata.yaml": "tier: internal\nstatus: active\n",
            "pyproject.toml": "[project]\nname = 'manifests'\n",
            "check.toml": _config([], manifest=True)
            + f'\n[process.backups]\nenabled = true\nbucket = "{MANIFEST_BUCKET}"\nprefix = "{BACKUP_PREFIX}"\n'
            + "max_age_hours = 24\n",
            "infra-manifest.txt": f"# declared by hand\narn:aws:s3:::{MANIFEST_BUCKET}\nnot an arn\n",
        },
        "feat: manifest",
        ALICE,
        at(START),
    )
    garbage = state.create_repo("acme", "garbage")
    commit_files(
        garbage,
        "main",
        {
            "repo-metadata.yaml": "tier: internal\n",
            "pyproject.toml": "[project]\nname = 'g'\n",
            "check.toml": "[infra\nstacks = [\n",
        },
        "wip",
        ALICE,
        at(START),
    )
    state.save()
    return org


def deploy(org: InfraOrg, sandbox: AwsSandbox) -> InfraScenario:
    """Deploy every repo's stacks at its first commit, inject the scenario's drift, add a secret-holding Lambda."""
    sandbox.reset()
    repos = [
        InfraRepo(
            full_name=f"acme/{name}",
            project=project,
            status=status,  # type: ignore[arg-type]
            stacks={stack: stack_template(stack, variant=variant)},
            commit_sha=org.heads[name],
        )
        for name, project, status, stack, variant in SPECS
    ]
    org.scenario = deploy_org_infra(sandbox, repos, seed=0, region=sandbox.region)
    dev = sandbox.session("dev")
    dev.client("s3").create_bucket(  # what the manifests repo declares by hand
        Bucket=MANIFEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": sandbox.region}
    )
    dev.client("s3").put_object(Bucket=MANIFEST_BUCKET, Key="other/readme.txt", Body=b"not a backup")
    role_arn = dev.client("iam").get_role(RoleName="orders-api-dev-app")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    dev.client("lambda").create_function(
        FunctionName="report-builder",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"API_TOKEN": SECRET_VALUE}},
    )
    return org.scenario


def expected_keys(
    scenario: InfraScenario, envs: tuple[str, ...] = ("dev", "staging", "prod")
) -> set[tuple[str, str, str]]:
    """(rule, repo, subject) of every finding the scenario's oracle says a scan must make in ``envs``."""
    want = set()
    for d in scenario.expected_findings():
        if d.env not in envs:
            continue
        if d.kind == "orphaned":
            subject = str(d.arn)
        elif d.kind == "missing":
            subject = f"{d.env}/{d.subject}"
        elif d.kind == "ingress_changed":
            subject = f"{d.env}/{d.subject}:ingress[tcp/22 from 0.0.0.0/0]"
        else:
            subject = f"{d.env}/{d.stack_name}"
        want.add((str(d.rule), d.repo.split("/", 1)[1], subject))
    return want
