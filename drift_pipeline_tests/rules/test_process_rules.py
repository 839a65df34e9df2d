"""Process rules: every rule fires on its case with expected/actual, and is silent on compliant repos.

Expectations come from real check.toml text through the standards engine (parse, [extends] with
the community registry, defaults); observations are the process records the scan fills.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from drift_pipeline.core.rules import FAMILIES
from drift_pipeline.core.rules.base import RuleFamily
from drift_pipeline.core.rules.findings import FINDING_COLUMNS, registry
from drift_pipeline.core.rules.process import FAMILY, branch_statuses, evaluate
from drift_pipeline.core.rules.process.activity import convention_problems
from drift_pipeline.core.rules.process.records import (
    ActivityCommit,
    BranchRule,
    BypassActorSeen,
    ChangedFile,
    ClassicProtection,
    CodeownersError,
    NotReadable,
    ProcessActivity,
    ProcessSettings,
    PullRequest,
    RepoProcess,
    Review,
    Ruleset,
    Workflow,
    classic_protection_unavailable,
)
from drift_pipeline.core.standards import MappingReader, RegistryResolver, analyse_repo
from drift_pipeline.core.standards.process_expectations import expectations_for_repo

COMMUNITY = Path(__file__).resolve().parents[2] / "drift_pipeline" / "sandbox" / "data" / "registry-community"
DAY = date(2026, 3, 2)
T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

CONFIG = """
[extends]
registry = "github:acme/community"
rulesets = ["python-production"]

[process.repo]
enabled = true
require_branch_protection = true
require_codeowners = true

[process.repo.ruleset]
required_reviews = 2
dismiss_stale_reviews = true
require_code_owner_reviews = true
require_status_checks = ["ci / test"]
require_branches_up_to_date = true
require_signed_commits = true
enforce_admins = true
bypass_actors = []

[process.repo.tag_protection]
patterns = ["v*"]

[process.codeowners]
enabled = true
rules = [{pattern = "*", owners = ["@acme/platform"]}]

[process.forbidden_files]
enabled = true
files = ["**/.env"]

[process.ci]
enabled = true
require_workflows = ["ci.yml"]
jobs = {"ci.yml" = ["test"]}

[process.hooks]
enabled = true
require_hooks = ["pre-commit"]

[process.commits]
enabled = true
types = ["feat", "fix", "chore"]
max_subject_length = 72

[process.tickets]
enabled = true
pattern = "ACME-[0-9]+"
require_in_branch = true

[process.branches]
enabled = true
pattern = "^(feature|fix)/"

[process.pr]
enabled = true
max_files = 10
max_lines = 200
require_issue = true
issue_keywords = ["Closes"]
exclude = ["**/*.lock"]

[process.changesets]
enabled = true
"""


def expectations(config: str = CONFIG, tier: str = "production"):
    files = {"repo-metadata.yaml": f"tier: {tier}\n", "check.toml": config}
    resolver = RegistryResolver(local_overrides={"github:acme/community": COMMUNITY})
    return expectations_for_repo(analyse_repo(MappingReader(files), resolver))


EXP = expectations()

# -- compliant observations -----------------------------------------------------------------------
PROTECTIVE = (
    (
        "pull_request",
        {
            "required_approving_review_count": 2,
            "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": True,
        },
    ),
    (
        "required_status_checks",
        {"required_status_checks": [{"context": "ci / test"}], "strict_required_status_checks_policy": True},
    ),
    ("required_signatures", {}),
)


def branch_rules(rid: int, source_type: str = "Repository", rules=PROTECTIVE, **override) -> tuple[BranchRule, ...]:
    source = "acme" if source_type == "Organization" else "acme/web"
    return tuple(BranchRule(t, rid, source_type, source, {**p, **override.get(t, {})}) for t, p in rules)


def ruleset(rid: int, source_type: str = "Repository", name: str = "Branch Protection", **kw) -> Ruleset:
    base = dict(
        id=rid,
        name=name,
        source_type=source_type,
        source="acme" if source_type == "Organization" else "acme/web",
        target="branch",
        enforcement="active",
        include=("~DEFAULT_BRANCH",),
        rule_types=tuple(t for t, _ in PROTECTIVE),
        bypass_actors=(),
    )
    return Ruleset(**{**base, **kw})  # type: ignore[arg-type]


TAGS = (
    Ruleset(
        9,
        "Tag Protection",
        "Repository",
        "acme/web",
        "tag",
        "active",
        ("refs/tags/v*",),
        (),
        ("deletion", "update"),
        (),
    ),
)
TREE = frozenset(
    {
        ".github/CODEOWNERS",
        ".github/workflows/ci.yml",
        ".husky/pre-commit",
        ".changeset/config.json",
        "README.md",
        "src/app.py",
        "node_modules/pkg/.env",
    }
)  # ignored by the default ignore globs
FILES = dict(
    tree=TREE,
    codeowners_path=".github/CODEOWNERS",
    codeowners_content="# owners\n* @acme/platform\n",
    codeowners_errors=(),
    tag_rulesets=TAGS,
    workflows={".github/workflows/ci.yml": Workflow(".github/workflows/ci.yml", ("lint", "test"))},
)
ABSENT = classic_protection_unavailable(404, "Branch not protected", admin=True)
CLASSIC = ClassicProtection(
    "present",
    required_reviews=2,
    dismiss_stale_reviews=True,
    require_code_owner_reviews=True,
    status_checks=("ci / test",),
    strict=True,
    signed_commits=True,
    enforce_admins=True,
)
# The org's deletion-only ruleset on every default branch: GitHub calls the branch protected, but
# nothing gates what reaches it.
ORG_DELETION = BranchRule("deletion", 50, "Organization", "acme")

VIA_REPO_RULESET = ProcessSettings(
    "main", branch_rules=branch_rules(1) + (ORG_DELETION,), rulesets={1: ruleset(1)}, classic=ABSENT, **FILES
)
VIA_CLASSIC = ProcessSettings("main", branch_rules=(ORG_DELETION,), classic=CLASSIC, **FILES)
VIA_ORG_RULESET = ProcessSettings(
    "main",
    branch_rules=branch_rules(100, "Organization"),
    rulesets={100: ruleset(100, "Organization", "Org baseline")},
    classic=ABSENT,
    **FILES,
)


def pr(number: int = 5, *, approvals: tuple[str, ...] = ("bob", "carol"), **kw) -> PullRequest:
    base = dict(
        number=number,
        title="feat: login ACME-12",
        body="Closes #4",
        head_branch="feature/ACME-12-login",
        author="alice",
        merged_by="bob",
        merged_at=T,
        reviews=tuple(Review(r, "APPROVED", datetime(2026, 3, 2, 9, tzinfo=UTC)) for r in approvals),
        files=(ChangedFile("src/app.py", 30, 5), ChangedFile("uv.lock", 900, 400)),
        additions=930,
        deletions=405,
        url=f"https://github.com/acme/web/pull/{number}",
    )
    return PullRequest(**{**base, **kw})  # type: ignore[arg-type]


def commit(sha: str, message: str, pull: PullRequest | None, **kw) -> ActivityCommit:
    return ActivityCommit(
        sha=sha,
        message=message,
        author=kw.pop("author", "alice"),
        committer=kw.pop("committer", "web-flow"),
        url=f"https://github.com/acme/web/commit/{sha}",
        pull_request=pull,
        **kw,
    )


FIX = pr(
    6, title="fix: typo", body="Closes #7", head_branch="fix/ACME-13-typo", files=(ChangedFile("README.md", 1, 1),)
)
ACTIVITY = ProcessActivity(
    "main",
    (
        commit("a" * 40, "feat: login ACME-12\n\nbody", pr()),
        commit("b" * 40, "fix: typo ACME-13", FIX),
        commit("c" * 40, "Merge pull request #6 from acme/fix/ACME-13-typo", FIX, is_merge=True),
    ),
)


def observe(
    settings: ProcessSettings | None = VIA_REPO_RULESET,
    activity: ProcessActivity | None = ACTIVITY,
    observed: bool = True,
) -> dict[str, RepoProcess]:
    return {"web": RepoProcess("acme", "web", observed, settings, activity)}


def run(settings=VIA_REPO_RULESET, activity=ACTIVITY, exp=EXP, observed=True, day=DAY):
    return evaluate(day, observe(settings, activity, observed), {"web": exp})


@pytest.mark.parametrize(
    "settings",
    [VIA_REPO_RULESET, VIA_CLASSIC, VIA_ORG_RULESET],
    ids=["repo-ruleset", "classic-only", "org-ruleset-only"],
)
def test_a_compliant_repo_yields_nothing(settings):
    assert EXP.problems == ()
    assert run(settings) == []


def test_compliance_names_the_source_that_satisfied_each_setting():
    by = {s.setting: s.satisfied_by for s in branch_statuses(VIA_ORG_RULESET, EXP)}
    assert by["required_reviews"] == ("org ruleset Org baseline/100",)
    assert {s.satisfied_by for s in branch_statuses(VIA_CLASSIC, EXP)} == {("classic protection",)}
    assert by["bypass_actors"] == ("org ruleset Org baseline/100",)


# -- every rule fires on its case ---------------------------------------------------------------------
def _rules(**kw) -> tuple[BranchRule, ...]:
    return branch_rules(1, **kw)


def _without(rule_type: str) -> tuple[BranchRule, ...]:
    return branch_rules(1, rules=tuple(r for r in PROTECTIVE if r[0] != rule_type))


S = VIA_REPO_RULESET
BOB_DIRECT = commit("d" * 40, "chore: hotfix ACME-1", None, author="dave", committer="dave")
BIG = pr(8, files=tuple(ChangedFile(f"src/m{i}.py", 10, 0) for i in range(12)))
ONE_APPROVAL = pr(
    9,
    approvals=("bob",),
    reviews=(
        Review("bob", "APPROVED", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        Review("carol", "APPROVED", datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        Review("carol", "DISMISSED", datetime(2026, 3, 2, 9, 45, tzinfo=UTC)),
        Review("erin", "APPROVED", datetime(2026, 3, 2, 11, tzinfo=UTC)),  # after the merge
    ),
    merged_by="mallory",
)


def _act(*commits: ActivityCommit) -> ProcessActivity:
    return ProcessActivity("main", commits)


CASES = [
    # (id, settings, activity, rule, subject, expected, actual)
    (
        "no-protection",
        replace(S, branch_rules=(ORG_DELETION,), rulesets={}),
        ACTIVITY,
        "branch_protection_missing",
        "branch_protection",
        {
            "branch": "main",
            "value": {
                "branch_protection": True,
                "required_reviews": 2,
                "dismiss_stale_reviews": True,
                "require_code_owner_reviews": True,
                "require_branches_up_to_date": True,
                "require_signed_commits": True,
                "enforce_admins": True,
                "require_status_checks": ["ci / test"],
                "bypass_actors": [],
            },
        },
        None,
    ),
    (
        "reviews",
        replace(S, branch_rules=_rules(pull_request={"required_approving_review_count": 1})),
        ACTIVITY,
        "required_reviews_too_low",
        "required_reviews",
        {"branch": "main", "value": 2},
        1,
    ),
    (
        "stale",
        replace(S, branch_rules=_rules(pull_request={"dismiss_stale_reviews_on_push": False})),
        ACTIVITY,
        "stale_reviews_not_dismissed",
        "dismiss_stale_reviews",
        {"branch": "main", "value": True},
        False,
    ),
    (
        "code-owner",
        replace(S, branch_rules=_rules(pull_request={"require_code_owner_review": False})),
        ACTIVITY,
        "code_owner_review_not_required",
        "require_code_owner_reviews",
        {"branch": "main", "value": True},
        False,
    ),
    (
        "checks",
        replace(S, branch_rules=_rules(required_status_checks={"required_status_checks": [{"context": "lint"}]})),
        ACTIVITY,
        "status_checks_missing",
        "require_status_checks",
        {"branch": "main", "value": ["ci / test"]},
        ["lint"],
    ),
    (
        "strict",
        replace(S, branch_rules=_rules(required_status_checks={"strict_required_status_checks_policy": False})),
        ACTIVITY,
        "branches_not_up_to_date",
        "require_branches_up_to_date",
        {"branch": "main", "value": True},
        False,
    ),
    (
        "signed",
        replace(S, branch_rules=_without("required_signatures")),
        ACTIVITY,
        "signed_commits_not_required",
        "require_signed_commits",
        {"branch": "main", "value": True},
        False,
    ),
    (
        "admins",
        replace(S, rulesets={1: ruleset(1, bypass_actors=(BypassActorSeen("RepositoryRole", 5),))}),
        ACTIVITY,
        "admins_not_enforced",
        "enforce_admins",
        {"branch": "main", "value": True},
        False,
        {"bypass_actor_mismatch"},
    ),
    (
        "tags",
        replace(S, tag_rulesets=(replace(TAGS[0], enforcement="evaluate"),)),
        ACTIVITY,
        "tag_protection_missing",
        "tag_protection",
        {"patterns": ["v*"], "prevent_deletion": True, "prevent_update": True},
        [
            {
                "ruleset": "ruleset Tag Protection/9",
                "enforcement": "evaluate",
                "include": ["refs/tags/v*"],
                "rules": ["deletion", "update"],
            }
        ],
    ),
    (
        "codeowners-missing",
        replace(S, tree=TREE - {".github/CODEOWNERS"}, codeowners_path=None),
        ACTIVITY,
        "codeowners_missing",
        "codeowners",
        {"one_of": [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]},
        None,
    ),
    (
        "codeowners-unknown-owner",
        replace(
            S,
            codeowners_errors=(
                CodeownersError("Unknown owner", 2, "Unknown owner on line 2: make sure @acme/ghosts exists"),
            ),
            codeowners_content="* @acme/platform\n/ops/ @acme/ghosts\n",
        ),
        ACTIVITY,
        "codeowners_invalid",
        ".github/CODEOWNERS",
        "no errors",
        [
            {
                "kind": "Unknown owner",
                "line": 2,
                "message": "Unknown owner on line 2: make sure @acme/ghosts exists",
                "source": "github",
            }
        ],
        {"codeowners_rule_mismatch"},
    ),
    (
        "codeowners-no-owner",
        replace(S, codeowners_content="* @acme/platform\n/services/ingest/\n"),
        ACTIVITY,
        "codeowners_invalid",
        ".github/CODEOWNERS",
        "no errors",
        [{"kind": "No owners", "line": 2, "message": "pattern /services/ingest/ has no owners", "source": "content"}],
    ),
    (
        "codeowners-owners-differ",
        replace(S, codeowners_content="* @acme/web @acme/platform\n"),
        ACTIVITY,
        "codeowners_rule_mismatch",
        ".github/CODEOWNERS:*",
        ["@acme/platform"],
        ["@acme/web", "@acme/platform"],
    ),
    (
        "codeowners-extra-rule",
        replace(S, codeowners_content="* @acme/platform\n/db/ @dba\n"),
        ACTIVITY,
        "codeowners_rule_mismatch",
        ".github/CODEOWNERS:/db/",
        None,
        ["@dba"],
    ),
    (
        "required-file",
        replace(S, tree=TREE - {".changeset/config.json"}),
        ACTIVITY,
        "required_file_missing",
        ".changeset/config.json",
        {"one_of": [".changeset/config.json"]},
        None,
    ),
    (
        "forbidden",
        replace(S, tree=TREE | {"config/.env"}),
        ACTIVITY,
        "forbidden_file_present",
        "config/.env",
        "absent",
        "present",
    ),
    (
        "workflow-absent",
        replace(S, tree=TREE - {".github/workflows/ci.yml"}),
        ACTIVITY,
        "required_workflow_missing",
        ".github/workflows/ci.yml",
        {"workflow": "ci.yml", "jobs": ["test"]},
        None,
    ),
    (
        "workflow-job",
        replace(S, workflows={".github/workflows/ci.yml": Workflow(".github/workflows/ci.yml", ("lint",))}),
        ACTIVITY,
        "required_workflow_missing",
        ".github/workflows/ci.yml",
        {"workflow": "ci.yml", "jobs": ["test"]},
        {"workflow": ".github/workflows/ci.yml", "jobs": ["lint"]},
    ),
    (
        "hooks",
        replace(S, tree=TREE - {".husky/pre-commit"}),
        ACTIVITY,
        "hooks_missing",
        "hooks",
        {"husky": True, "hooks": ["pre-commit"]},
        {"missing": [".husky/", ".husky/pre-commit"]},
    ),
    (
        "direct-push",
        S,
        _act(*ACTIVITY.commits, BOB_DIRECT),
        "review_bypassed",
        "d" * 40,
        {"approvals": 2, "via": "pull request"},
        {"approvals": 0, "via": "direct push"},
    ),
    (
        "one-approval",
        S,
        _act(commit("e" * 40, "feat: x ACME-2", ONE_APPROVAL)),
        "review_bypassed",
        "pr#9",
        {"approvals": 2},
        {"approvals": 1, "approved_by": ["bob"]},
    ),
    (
        "convention",
        S,
        _act(commit("f" * 40, "update stuff ACME-3", pr(10))),
        "commit_convention_violated",
        "f" * 40,
        {"pattern": None, "types": ["feat", "fix", "chore"], "require_scope": False, "max_subject_length": 72},
        "update stuff ACME-3",
    ),
    (
        "ticket-in-commit",
        S,
        _act(commit("1" * 40, "feat: no ticket", pr(11))),
        "ticket_reference_missing",
        "1" * 40,
        {"pattern": "ACME-[0-9]+", "in": "commit message"},
        "feat: no ticket",
    ),
    (
        "ticket-in-branch",
        S,
        _act(commit("2" * 40, "feat: y ACME-4", pr(12, head_branch="feature/login"))),
        "ticket_reference_missing",
        "pr#12",
        {"pattern": "ACME-[0-9]+", "in": "branch name"},
        "feature/login",
    ),
    (
        "branch-name",
        S,
        _act(commit("3" * 40, "feat: z ACME-5", pr(13, head_branch="hotfix-ACME-5"))),
        "branch_name_violated",
        "pr#13",
        {"pattern": "^(feature|fix)/", "require_issue": False, "issue_pattern": None},
        "hotfix-ACME-5",
    ),
    (
        "pr-size",
        S,
        _act(commit("4" * 40, "feat: big ACME-6", BIG)),
        "pr_too_large",
        "pr#8",
        {"max_files": 10, "max_lines": 200},
        {"files": 12, "lines": 120},
    ),
    (
        "pr-issue",
        S,
        _act(commit("5" * 40, "feat: w ACME-7", pr(14, body="Refs #4 somewhere"))),
        "pr_missing_issue_reference",
        "pr#14",
        {"issue_keywords": ["Closes"], "reference": "an issue (#123) or ticket"},
        {"linked_issues": []},
    ),
]


ALL_RULES = registry(FAMILIES)  # process is a listed family: its ids clash with no other family's


@pytest.mark.parametrize(
    "settings, activity, rule, subject, expected, actual, also",
    [(*c[1:], *(() if len(c) > 7 else (set(),))) for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_rule_fires_on_its_case_with_expected_and_actual(
    settings, activity, rule, subject, expected, actual, also
):
    findings = run(settings, activity)
    assert {f.rule for f in findings} == {rule} | also, [(f.rule, f.message) for f in findings]
    hit = [f for f in findings if f.subject == subject]
    assert len(hit) == 1, [(f.subject, f.message) for f in findings]
    finding = hit[0]
    assert finding.details["expected"] == expected
    assert finding.details["actual"] == actual
    assert (finding.category, finding.severity) == ("process", "error")
    row = finding.row()
    assert set(FINDING_COLUMNS) <= set(row) and row["fingerprint"] and finding.message
    assert ALL_RULES[rule].category == "process"


def test_review_bypassed_names_the_actor():
    direct = run(activity=_act(BOB_DIRECT))
    assert [(f.details["actor"], f.commit_sha) for f in direct] == [("dave", "d" * 40)]
    assert "directly by dave" in direct[0].message
    merged = run(activity=_act(commit("e" * 40, "feat: x ACME-2", ONE_APPROVAL)))
    assert merged[0].details["actor"] == "mallory" and "by mallory with 1 approval" in merged[0].message


def test_bypass_actors_differing_from_the_standard_are_a_mismatch_listing_missing_and_unexpected():
    exp = expectations(
        CONFIG.replace(
            "enforce_admins = true\nbypass_actors = []", 'bypass_actors = [{actor_type = "Team", actor_id = 7}]'
        )
    )
    seen = replace(S, rulesets={1: ruleset(1, bypass_actors=(BypassActorSeen("Team", 8),))})
    [finding] = run(seen, exp=exp)
    assert finding.rule == "bypass_actor_mismatch" and finding.subject == "bypass_actors"
    assert finding.details["expected"] == {
        "branch": "main",
        "value": [{"actor_type": "Team", "actor_id": 7, "bypass_mode": "always"}],
    }
    assert finding.details["actual"]["missing"] == [{"actor_type": "Team", "actor_id": 7, "bypass_mode": "always"}]
    assert finding.details["actual"]["unexpected"] == [{"actor_type": "Team", "actor_id": 8, "bypass_mode": "always"}]
    ok = replace(S, rulesets={1: ruleset(1, bypass_actors=(BypassActorSeen("Team", 7),))})
    assert run(ok, exp=exp) == []


# -- what the token could not read ------------------------------------------------------------------
NON_ADMIN_CLASSIC = classic_protection_unavailable(404, "Not Found", admin=False)
APP_TOKEN = classic_protection_unavailable(403, "Resource not accessible by integration", admin=None)


@pytest.mark.parametrize("classic", [NON_ADMIN_CLASSIC, APP_TOKEN], ids=["classic-token-404", "app-token-403"])
def test_unreadable_classic_protection_is_not_evaluated_never_a_violation(classic):
    assert classic.state == "not_readable"
    settings = replace(S, branch_rules=(ORG_DELETION,), rulesets={}, classic=classic)
    findings = run(settings)
    assert findings and {f.rule for f in findings} == {"process_not_evaluated"}
    by_setting = {f.subject: f for f in findings}
    assert set(by_setting) == {
        "branch_protection",
        "required_reviews",
        "dismiss_stale_reviews",
        "require_code_owner_reviews",
        "require_branches_up_to_date",
        "require_signed_commits",
        "enforce_admins",
        "require_status_checks",
    }
    reviews = by_setting["required_reviews"]
    assert reviews.details["rule"] == "required_reviews_too_low"
    assert reviews.details["not_readable"] == [
        {"setting": "classic_protection", "reason": classic.reason, "status": classic.status}
    ]
    assert f"HTTP {classic.status}" in reviews.message and reviews.severity == "warning"


def test_branch_not_protected_to_an_admin_is_absent_and_judged():
    assert ABSENT.state == "absent"
    findings = run(replace(S, branch_rules=(ORG_DELETION,), rulesets={}))
    assert [f.rule for f in findings] == ["branch_protection_missing"]


def test_unreadable_classic_protection_does_not_matter_when_a_ruleset_satisfies_everything():
    assert run(replace(S, classic=APP_TOKEN)) == []


def test_missing_bypass_actors_are_unknown_not_empty():
    exp = expectations(CONFIG.replace("bypass_actors = []", 'bypass_actors = [{actor_type = "Team", actor_id = 7}]'))
    unknown = replace(S, rulesets={1: ruleset(1, bypass_actors=None)})
    findings = run(unknown, exp=exp)
    assert {f.rule for f in findings} == {"process_not_evaluated"}
    assert {f.details["rule"] for f in findings} == {"bypass_actor_mismatch", "admins_not_enforced"}
    assert all(f.details["not_readable"][0]["setting"] == "ruleset Branch Protection/1 bypass_actors" for f in findings)


def test_unreadable_tree_tags_and_codeowners_errors_are_not_evaluated():
    settings = replace(
        S,
        tree=None,
        codeowners_path=None,
        tag_rulesets=None,
        codeowners_errors=None,
        not_readable=(
            NotReadable("tree", "git tree truncated", None),
            NotReadable("tag_rulesets", "Resource not accessible by integration", 403),
        ),
    )
    findings = run(settings)
    assert {f.rule for f in findings} == {"process_not_evaluated"}
    assert {f.subject for f in findings} == {
        "tag_protection",
        "codeowners",
        "forbidden_files",
        "required_files",
        "required_workflows",
        "hooks",
    }
    assert {f.details["not_readable"][0]["status"] for f in findings if f.subject == "tag_protection"} == {403}


# -- days, tiers, fingerprints ----------------------------------------------------------------------
BROKEN = replace(S, branch_rules=(ORG_DELETION,), rulesets={}, tree=TREE | {".env"})


def test_a_past_day_yields_no_settings_findings_but_activity_findings_still():
    today = {f.rule for f in run(BROKEN, _act(BOB_DIRECT))}
    assert {"branch_protection_missing", "forbidden_file_present", "review_bypassed"} <= today
    past = run(BROKEN, _act(BOB_DIRECT), observed=False, day=date(2026, 2, 1))
    assert [f.rule for f in past] == ["review_bypassed"]
    assert run(None, _act(BOB_DIRECT), observed=False) == run(BROKEN, _act(BOB_DIRECT), observed=False)


@pytest.mark.parametrize("tier, severity", [("production", "error"), ("internal", "warning"), ("prototype", "info")])
def test_severity_follows_the_tier(tier, severity):
    findings = run(BROKEN, _act(BOB_DIRECT), exp=expectations(tier=tier))
    assert {f.severity for f in findings} == {severity}


def test_fingerprints_are_stable_across_days_and_subjects_are_settings_shas_or_prs():
    activity = _act(BOB_DIRECT, commit("e" * 40, "feat: x ACME-2", ONE_APPROVAL))
    monday = run(BROKEN, activity, day=date(2026, 3, 2))
    tuesday = run(BROKEN, activity, day=date(2026, 3, 3))
    assert [f.fingerprint for f in monday] == [f.fingerprint for f in tuesday]
    assert {f.subject for f in monday} == {"branch_protection", ".env", "d" * 40, "pr#9"}


def test_repos_without_expectations_or_with_nothing_expected_yield_nothing():
    assert evaluate(DAY, observe(BROKEN), {}) == []
    assert run(BROKEN, _act(BOB_DIRECT), exp=expectations("")) == []


def test_the_family_is_listed_once_as_the_process_family():
    # its rule ids are pinned, with every family's, in test_definitions.EXPECTED_RULES (the public contract)
    assert isinstance(FAMILY, RuleFamily) and FAMILY.category == "process"
    assert [f for f in FAMILIES if f.category == "process"] == [FAMILY]


def test_a_ruleset_in_evaluate_mode_protects_nothing_unless_the_standard_asks_for_evaluate():
    evaluating = replace(S, rulesets={1: ruleset(1, enforcement="evaluate")})
    assert [f.rule for f in run(evaluating)] == ["branch_protection_missing"]
    exp = expectations(CONFIG.replace("required_reviews = 2", 'required_reviews = 2\nenforcement = "evaluate"'))
    assert run(evaluating, exp=exp) == []


def test_odd_values_from_github_are_read_as_not_set_never_a_crash():
    odd = replace(
        S,
        branch_rules=_rules(
            pull_request={"required_approving_review_count": "2", "dismiss_stale_reviews_on_push": "yes"},
            required_status_checks={"required_status_checks": [{"context": 3}, "x"]},
        ),
    )
    assert {(f.rule, repr(f.details["actual"])) for f in run(odd)} == {
        ("required_reviews_too_low", "0"),
        ("stale_reviews_not_dismissed", "False"),
        ("status_checks_missing", "[]"),
    }


@pytest.mark.parametrize(
    "body, keywords, has_ref",
    [
        ("Closes #4", ["Closes"], True),
        ("closes acme/web#4", ["Closes"], True),
        ("Closes ACME-12", ["Closes"], True),  # a ticket reference after a keyword
        ("See #4", ["Closes"], False),
        ("ACME-12 only", ["Closes"], False),
        ("See #4", [], True),
        ("https://github.com/acme/web/issues/4", [], True),
        ("ACME-12 only", [], True),
        ("nothing here", [], False),
    ],
)
def test_issue_references_with_and_without_keywords(body, keywords, has_ref):
    config = CONFIG.replace('issue_keywords = ["Closes"]', f"issue_keywords = {keywords!r}".replace("'", '"'))
    found = run(
        activity=_act(commit("6" * 40, "feat: v ACME-8", pr(15, title="feat: v", body=body))), exp=expectations(config)
    )
    assert ("pr_missing_issue_reference" not in {f.rule for f in found}) is has_ref
    linked = pr(16, title="feat: v", body="nothing", linked_issues=("#4",))
    assert run(activity=_act(commit("7" * 40, "feat: v ACME-8", linked)), exp=expectations(config)) == []


@pytest.mark.parametrize(
    "table, subject, problems",
    [
        ('types = ["feat"]', "feat: add x", []),
        ('types = ["feat"]', "fix: add x", ["type 'fix' not one of feat"]),
        ('types = ["feat"]\nrequire_scope = true', "feat: add x", ["no scope"]),
        ('types = ["feat"]\nrequire_scope = true', "feat(api)!: add x", []),
        ('pattern = "^[A-Z]+-[0-9]+ "', "ACME-1 add x", []),
        ('pattern = "^[A-Z]+-[0-9]+ "', "add x", ["does not match '^[A-Z]+-[0-9]+ '"]),
        ("conventional = true", "docs: readme", []),
        ("conventional = true", "speed up CI", ["not in the form '<type>(<scope>): <description>'"]),
        ("max_subject_length = 10", "a subject longer than ten", ["subject is 25 characters, over 10"]),
    ],
)
def test_commit_convention(table, subject, problems):
    exp = expectations(f"[process.commits]\nenabled = true\n{table}\n")
    assert exp.commits is not None and convention_problems(subject, exp.commits) == problems
