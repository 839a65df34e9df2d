"""An org whose repos hold garbage, secrets and an archived history, next to well-behaved ones.

Built like ``pipeline.orgfixture``: real git repositories with explicit dates, served by the
sandbox over HTTP or read as local clones through ``GitLocalSource``.
"""

from __future__ import annotations

from pathlib import Path

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.pipeline.orgfixture import (
    ALICE,
    BOB,
    DAY0,
    DAY1,
    DAY2,
    DAY3,
    ESLINT_V1,
    ESLINT_V2,
    REGISTRY,
    TS_CONFIG,
    at,
)

PY_CONFIG = "[code.linting.ruff]\nenabled = true\n"
DEEP_TOML = "[" + ".".join(["a"] * 10_000) + "]\n"
ALIAS_BOMB = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n" for i in range(1, 9))
    + "tier: *i\nteam: *i\n"
)
ODD_SUBJECT = "chore: odd\x1fsubject\x1ewith separators"

# One planted value of every kind the scans must never store or print.
SECRETS = {
    "github_ghp": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "github_gho": "gho_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",
    "github_ghu": "ghu_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8",
    "github_ghs": "ghs_" + "M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5a6P7o8",
    "github_ghr": "ghr_" + "R1e2F3r4E5s6H7t8O9k0E1n2V3a4L5u6E7x8",
    "github_pat": "github_pat_"
    + "11ABCDEFG0123456789abc_"
    + "PlantedFineGrainedToken0123456789abcdefghijklmnopqrstuvwx",
    "aws_key_id": "AKIA" + "PLANTEDKEY123456",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "PLANTED001",
    "pem_body": "MIIEowIBAAKCAQEAplantedPrivateKeyBodyLine0123456789abcdefABCDEF",
    "password": "Hunter2PlantedPassword",
    "secret": "S3cr3tPlantedValue99",
    "bearer": "PlantedBearerToken0123456789abc",
    "slack": "xoxb-" + "123456789012-1234567890123-PlantedSlackToken0abc",
    "stripe": "sk_live_" + "PlantedStripeKey0123456789abcd",
}


def eslint_with_secrets(version: int) -> str:
    s = SECRETS
    return (
        f"// planted credentials, version {version}\n"
        f"const githubToken = '{s['github_ghp']}';\n"
        f"const oauth = \"{s['github_gho']}\", user = \"{s['github_ghu']}\";\n"
        f"const app = '{s['github_ghs']}'; const refresh = '{s['github_ghr']}';\n"
        f"const pat = `{s['github_pat']}`;\n"
        f"const password={s['password']}\n"
        f"const headers = {{ Authorization: 'Bearer {s['bearer']}' }};\n"
        f"const slack = '{s['slack']}';\nconst stripe = '{s['stripe']}';\n"
        "const key = `-----BEGIN RSA PRIVATE KEY-----\n"
        f"{s['pem_body']}\n-----END RSA PRIVATE KEY-----`;\n"
        f"export default [\n  {{ rules: {{ 'no-console': 'error', 'max-len': {100 + version} }} }},\n];\n"
    )


def workflow_with_secrets(version: int) -> str:
    s = SECRETS
    return (
        "on: [push]\n"
        "env:\n"
        f"  AWS_ACCESS_KEY_ID: {s['aws_key_id']}\n"
        f"  AWS_SECRET_ACCESS_KEY: {s['aws_secret']}\n"
        f"  DEPLOY_SECRET: {s['secret']}\n"
        "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - run: curl -H \"Authorization: Bearer {s['bearer']}\" https://example.com/v{version}\n"
        f"      - run: echo secret: {s['secret']}\n"
    )


def _registry(state: SandboxState) -> None:
    reg = state.create_repo("acme", "standards-community")
    commit_files(
        reg,
        "main",
        {f"rulesets/{p.name}": p.read_text() for p in sorted((REGISTRY / "rulesets").iterdir())},
        "feat: community rulesets",
        ALICE,
        at(DAY0, 8),
    )


def _web(state: SandboxState, name: str = "web") -> Path:
    repo = state.create_repo("acme", name)
    commit_files(
        repo,
        "main",
        {
            "package.json": f'{{"name": "{name}"}}\n',
            "tsconfig.json": '{"compilerOptions": {"strict": true}}\n',
            "eslint.config.js": ESLINT_V1,
            "check.toml": TS_CONFIG,
            "repo-metadata.yaml": "tier: internal\nstatus: active\nteam: storefront\n",
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        },
        "feat: initial",
        ALICE,
        at(DAY0, 9),
    )
    return repo


def _python(state: SandboxState, name: str, **kw: bool) -> Path:
    repo = state.create_repo("acme", name, **kw)
    commit_files(
        repo,
        "main",
        {
            "check.toml": PY_CONFIG,
            "pyproject.toml": f"[project]\nname='{name}'\n",
            "repo-metadata.yaml": "tier: prototype\n",
        },
        "feat: start",
        ALICE,
        at(DAY0, 9),
    )
    return repo


def build_hostile_org(root: Path, *, odd_log: bool = False) -> SandboxState:
    """acme on day 2: web's eslint config changes (drift), quiet stays quiet, deep commits a check.toml
    nested 10,000 tables deep, bomb a repo-metadata.yaml alias bomb. With ``odd_log``, oddlog has a
    commit on day 1 whose subject holds git's log separators (a local clone's log parser chokes)."""
    state = SandboxState.open(root)
    state.add_org("acme")
    _registry(state)
    web = _web(state)
    commit_files(web, "main", {"eslint.config.js": ESLINT_V2}, "chore: eqeqeq", BOB, at(DAY2, 10))
    _python(state, "quiet")
    deep = _python(state, "deep")
    commit_files(deep, "main", {"check.toml": DEEP_TOML}, "chore: deep tables", BOB, at(DAY2, 11))
    bomb = _python(state, "bomb")
    commit_files(bomb, "main", {"repo-metadata.yaml": ALIAS_BOMB}, "chore: aliases", BOB, at(DAY2, 12))
    if odd_log:
        odd = _python(state, "oddlog")
        commit_files(odd, "main", {"check.toml": PY_CONFIG + "# odd\n"}, ODD_SUBJECT, BOB, at(DAY1, 9))
        commit_files(odd, "main", {"README.md": "later\n"}, "docs: later", BOB, at(DAY3, 9))
    state.save()
    return state


def build_leaky_org(root: Path) -> SandboxState:
    """acme: web plants every kind of credential in eslint.config.js and its workflow on day 1 and
    changes both on day 2; quiet is a well-behaved neighbour."""
    state = SandboxState.open(root)
    state.add_org("acme")
    _registry(state)
    web = _web(state)
    commit_files(
        web,
        "main",
        {"eslint.config.js": eslint_with_secrets(1), ".github/workflows/ci.yml": workflow_with_secrets(1)},
        "chore: lint and deploy settings",
        BOB,
        at(DAY1, 10),
    )
    commit_files(
        web,
        "main",
        {"eslint.config.js": eslint_with_secrets(2), ".github/workflows/ci.yml": workflow_with_secrets(2)},
        f"chore: tweak settings (ci token {SECRETS['github_gho']})",  # messages are read and cached too
        ALICE,
        at(DAY2, 10),
    )
    _python(state, "quiet")
    state.save()
    return state


def build_archive_org(root: Path) -> SandboxState:
    """acme: shelved is archived; its last push was on day 2 (a check.toml change). live is not."""
    state = SandboxState.open(root)
    state.add_org("acme")
    shelved = _python(state, "shelved", archived=True)
    commit_files(
        shelved,
        "main",
        {"check.toml": PY_CONFIG + "# reviewed before archiving\n"},
        "chore: last review",
        BOB,
        at(DAY2, 14),
    )
    _python(state, "live")
    state.save()
    return state
