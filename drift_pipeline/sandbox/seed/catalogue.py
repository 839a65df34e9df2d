"""The demo org's catalogue: its people, its repos (one spec each) and each repo's standards config.

``_Spec`` says everything the generator needs to know about a repo: language, team, tier and
status, which config file it carries, which process settings it gets and which it deliberately
gets wrong (``deviations``), and how busy it is (``activity``). The eight core repos carry the
scripted events; extra repos are quiet variations; out-of-scope repos test the scope rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MIN_REPOS = 8
# The library's default window end (the CLI defaults to today, UTC). Fixed, so that
# ``seed_org(dir)`` and the README's rendered scenario are reproducible.
DEFAULT_END_DATE = date(2026, 2, 27)
REGISTRY_REPO = "standards-community"

REGISTRY_DATA = Path(__file__).parents[1] / "data" / "registry-community"
CONVENTIONAL = re.compile(r"^(feat|fix|chore|docs|refactor|test|ci|perf|build|style|revert)(\([\w./-]+\))?!?: .+")
# [process.branches] pattern and [process.pr] limits every product repo declares (configs.py)
BRANCH_PATTERN = r"^(feat|fix|chore|docs|refactor|build|ci|test|perf)/[A-Z]+-[0-9]+(-[a-z0-9-]+)?$"
PR_MAX_FILES = 25
PR_MAX_LINES = 600
UNKNOWN_TEAM = "payments-oncall"  # named in a CODEOWNERS, but the org has no such team
COMMIT_TYPES = ["feat", "fix", "chore", "docs", "refactor", "test", "ci", "perf", "build"]

# The cast: a few people per team (name, GitHub login).
TEAMS: dict[str, list[tuple[str, str]]] = {
    "orders": [("Priya Raman", "priya-raman"), ("Tom Becker", "tbecker")],
    "web": [("Lucia Fernandez", "lucia-fdz"), ("Sam Okafor", "samokafor")],
    "payments": [("Hannah Schultz", "hschultz"), ("Ravi Iyer", "ravi-iyer")],
    "data": [("Mei Chen", "meichen"), ("Jonas Lindqvist", "jlindqvist")],
    "platform": [("Alex Morgan", "alexm"), ("Fatima Zahra", "fzahra")],
}


def email_of(name: str, org: str) -> str:
    """The commit email of a person of the cast (registered to their sandbox user)."""
    return f"{name.lower().replace(' ', '.')}@{org}.example"


# -- repo specs -----------------------------------------------------------------------------------


@dataclass
class _Spec:
    name: str
    language: str  # typescript | python | monorepo | none
    team: str
    tier: str | None
    status: str | None
    description: str
    frontend: bool = False
    config_file: str | None = "check.toml"  # root config; None: none at all
    metadata: bool = True
    infra: bool = False
    protection: str = "ruleset"  # classic | ruleset | org (an org ruleset naming the repo) | none
    required_reviews: int = 1
    dismiss_stale: bool = True
    code_owner_reviews: bool = True
    signed_commits: bool = False
    enforce_admins: bool = True
    codeowners: str = "valid"  # valid | invalid | missing | unknown-team
    conventional_messages: bool = True
    declares_conventional: bool = False
    forbidden_env: bool = False
    tag_protection: bool = False
    coverage: bool = False
    deviations: tuple[str, ...] = ()  # settings deliberately not matching the config (settings.DEVIATIONS)
    scan_role: str | None = None  # the scan token's user's role on this repo (None: admin, as on the others)
    tickets: str | None = None  # [process.tickets] pattern, checked in branch names
    codeowners_rules: tuple[tuple[str, tuple[str, ...]], ...] = ()  # [process.codeowners] rules
    changesets: bool = False  # [process.changesets] enabled
    hooks: tuple[str, ...] = ()  # [process.hooks] husky hooks required (the tree has the first only)
    bypass_actors: tuple[tuple[str, int, str], ...] = ()  # ruleset bypass_actors declared
    backups: str | None = None  # [process.backups] prefix (bucket: <name>-backups-<prod account>)
    moved_accounts: tuple[tuple[str, str], ...] = ()  # [infra.accounts] envs moved to another account
    ci_removed: bool = False  # its CI workflow deleted before the window
    default_branch: str = "main"
    archived: bool = False
    private: bool = True
    product: bool = True
    excluded: bool = False  # by drift.config.yaml exclude globs
    activity: float = 0.0  # chance of a background change per working day
    # filled while building
    cfg: dict[str, Any] = field(default_factory=dict)
    tree: dict[str, str | bytes] = field(default_factory=dict)
    shas: list[str] = field(default_factory=list)
    window_messages: list[str] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")


def _core_specs() -> list[_Spec]:
    """The eight repos every scenario has: each carries scripted events or process deviations.

    Long because it is one table (a literal list of eight specs), read top to bottom.
    """
    return [
        _Spec(
            "orders-api",
            "typescript",
            "orders",
            "production",
            "active",
            "Order intake and lifecycle API (Fastify).",
            infra=True,
            protection="classic",
            required_reviews=2,
            enforce_admins=False,  # so an org owner can push to main directly (the process scenario)
            coverage=True,
            declares_conventional=True,
            tag_protection=True,
            hooks=("pre-commit", "commit-msg"),
            deviations=("not_strict", "no_tag_ruleset"),
            activity=0.3,
        ),
        _Spec(
            "web-storefront",
            "typescript",
            "web",
            "production",
            "active",
            "Customer-facing storefront (React + Vite).",
            frontend=True,
            signed_commits=True,
            activity=0.25,
        ),
        _Spec(
            "payments-service",
            "python",
            "payments",
            "production",
            "active",
            "Card and wallet payments, refunds and payouts.",
            infra=True,
            protection="classic",
            required_reviews=1,
            signed_commits=True,
            tickets="PAY-[0-9]+",
            codeowners_rules=(("*", ("@{org}/payments",)), ("/infra/", ("@{org}/payments", "@{org}/platform"))),
            backups="ledger/nightly/",
            deviations=("unsigned",),
            activity=0.15,
        ),
        _Spec(
            "data-platform",
            "monorepo",
            "data",
            "internal",
            "active",
            "Data platform monorepo: ops console, shared packages and the ingest service.",
            codeowners="invalid",
            changesets=True,
            deviations=("code_owner_review_off",),
            activity=0.3,
        ),
        _Spec(
            "inventory-service",
            "python",
            "orders",
            "internal",
            "active",
            "Stock levels and reservations.",
            config_file="standards.toml",
            infra=True,
            tag_protection=True,
            declares_conventional=True,
            conventional_messages=False,
            enforce_admins=False,
            bypass_actors=(("Integration", 901, "always"),),  # the release bot
            deviations=("extra_bypass", "stale_not_dismissed"),
            activity=0.1,
        ),
        _Spec(
            "admin-console",
            "typescript",
            "platform",
            "internal",
            "active",
            "Back-office console for support staff.",
            frontend=True,
            protection="classic",
            forbidden_env=True,
            deviations=("status_check_missing", "admins_exempt"),
        ),
        _Spec(
            "notifications-worker",
            "python",
            "payments",
            "prototype",
            "pre-release",
            "Email and SMS notifications worker (pre-release).",
            infra=True,
            codeowners="unknown-team",
            moved_accounts=(("staging", "444444444444"),),
            scan_role="write",  # its team kept the admin role: the scan reads it as a writer
            activity=0.1,
        ),
        _Spec(
            "reporting-service",
            "python",
            "data",
            "internal",
            "deprecated",
            "Nightly finance reports (deprecated: replaced by data-platform).",
            infra=True,
            protection="none",
            codeowners="missing",
            ci_removed=True,
            default_branch="master",
        ),
    ]


# Quiet variations for repos beyond the eight: (name, language, team, tier, status, frontend,
# config file, description).
_EXTRAS = [
    ("search-api", "typescript", "orders", "internal", "active", False, "check.toml", "Product search API."),
    (
        "auth-gateway",
        "typescript",
        "platform",
        "production",
        "active",
        False,
        "check.toml",
        "Authentication gateway and session service.",
    ),
    (
        "ml-experiments",
        "python",
        "data",
        "prototype",
        "active",
        False,
        "standards.toml",
        "Recommendation model experiments.",
    ),
    (
        "customer-portal",
        "typescript",
        "web",
        "production",
        "active",
        True,
        "check.toml",
        "Account self-service portal.",
    ),
    (
        "pricing-engine",
        "python",
        "payments",
        "production",
        "active",
        False,
        "check.toml",
        "Price rules and promotions.",
    ),
    (
        "mobile-bff",
        "typescript",
        "web",
        "internal",
        "pre-release",
        False,
        "check.toml",
        "Backend for the mobile apps (pre-release).",
    ),
    ("feature-flags", "typescript", "platform", "internal", "active", False, "standards.toml", "Feature flag service."),
    (
        "analytics-etl",
        "python",
        "data",
        "internal",
        "active",
        False,
        "check.toml",
        "Event ingestion into the warehouse.",
    ),
    ("fraud-scoring", "python", "payments", "production", "active", False, "check.toml", "Real-time fraud scoring."),
    ("docs-site", "typescript", "platform", "prototype", "active", True, "check.toml", "Developer documentation site."),
]


def _extra_specs(count: int, change_rate: float | None = None) -> list[_Spec]:
    """``count`` quiet product repos; with ``change_rate``, each generated ``service-NN`` repo changes
    with that chance per working day (instead of one in three repos at 0.1), so a benchmark's org
    changes at a known rate."""
    specs = []
    for i in range(count):
        if i < len(_EXTRAS):
            name, lang, team, tier, status, frontend, cfg, desc = _EXTRAS[i]
        else:
            name, lang, team, tier, status, frontend, cfg, desc = (
                f"service-{i - len(_EXTRAS) + 1:02d}",
                "typescript" if i % 2 else "python",
                list(TEAMS)[i % len(TEAMS)],
                ("internal", "production", "prototype")[i % 3],
                "active",
                False,
                "check.toml",
                "Internal service.",
            )
        specs.append(
            _Spec(
                name,
                lang,
                team,
                tier,
                status,
                desc,
                frontend=frontend,
                config_file=cfg,
                protection="org" if name == "search-api" else "classic" if i % 2 else "ruleset",
                required_reviews=2 if tier == "production" else 1,
                declares_conventional=i % 3 == 0,
                activity=(change_rate if change_rate is not None and i >= len(_EXTRAS) else 0.1 if i % 3 == 1 else 0.0),
            )
        )
    return specs


def _out_of_scope_specs() -> list[_Spec]:
    return [
        _Spec(
            "shared-scripts",
            "none",
            "platform",
            None,
            None,
            "Assorted ops scripts (has check.toml, no repo metadata).",
            metadata=False,
            protection="none",
            product=False,
        ),
        _Spec(
            "ops-runbooks",
            "none",
            "platform",
            None,
            None,
            "On-call runbooks (no standards config at all).",
            metadata=False,
            config_file=None,
            protection="none",
            product=False,
            codeowners="missing",
        ),
        _Spec(
            "checkout-v1",
            "typescript",
            "web",
            "production",
            "deprecated",
            "Old checkout flow (archived).",
            archived=True,
            protection="none",
            product=False,
        ),
        _Spec(
            "legacy-monolith",
            "python",
            "orders",
            "production",
            "deprecated",
            "The original monolith, kept for reference (excluded by drift-config).",
            excluded=True,
            protection="none",
            product=False,
            default_branch="master",
        ),
    ]
