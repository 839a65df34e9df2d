"""Every rule id the demo org shows, with the day and the cause: the scenario's table of cases.

Code events and process activity happen on a day of the window (their commits' day). Process
settings and AWS are live-only: a scan sees them on the last day of the window (today's scan), so
that is their day; their causes (why the settings differ from the config) are written here.
"""

from __future__ import annotations

from datetime import date

from drift_pipeline.sandbox.seed.report import SeededCase, SeededEvent, SeededProcessFinding

# (repo, rule) -> what happened, for the settings and tree cases (the oracle's expected vs actual
# says what a scan reads; this says why it is so).
CAUSES: dict[tuple[str, str], str] = {
    ("orders-api", "branches_not_up_to_date"): "'Require branches to be up to date' was unticked to stop "
    "the generated route-handler PRs rebasing each other",
    ("orders-api", "hooks_missing"): "husky has the pre-commit hook; the commit-msg hook the standard "
    "requires (commitlint) was never added",
    ("orders-api", "tag_protection_missing"): "the old protected-tag rule went when GitHub retired tag "
    "protection; no tag ruleset replaced it",
    ("payments-service", "required_reviews_too_low"): "check.toml raised required reviews to 2 on day 4; "
    "the classic protection still asks for 1",
    ("payments-service", "signed_commits_not_required"): "the PCI review made check.toml require signed "
    "commits; nobody ticked 'Require signed commits' in the protection",
    ("payments-service", "codeowners_rule_mismatch"): "the standard makes platform co-own /infra/; the "
    "CODEOWNERS line still names payments alone",
    ("data-platform", "code_owner_review_not_required"): "code owner review was switched off in the ruleset "
    "because the broken CODEOWNERS blocked every merge",
    ("data-platform", "codeowners_invalid"): "CODEOWNERS has a pattern without an owner and an owner without '@'",
    ("data-platform", "required_file_missing"): "the monorepo declares changesets, but nobody ran "
    "`changeset init` (.changeset/config.json is missing)",
    ("inventory-service", "bypass_actor_mismatch"): "repository admins were added to the bypass list for "
    "the stock migration weekend and never removed; only the release bot is declared",
    ("inventory-service", "commit_convention_violated"): "the team declares conventional commits but "
    "writes plain messages ('speed up CI')",
    ("admin-console", "status_checks_missing"): "the 'test' check was dropped from the protection while "
    "the suite was flaky",
    ("admin-console", "admins_not_enforced"): "'Include administrators' was turned off to push a hotfix "
    "during an incident and never turned back on",
    ("admin-console", "forbidden_file_present"): "a .env for docker compose was committed before the window",
    ("inventory-service", "stale_reviews_not_dismissed"): "the ruleset was created without "
    "'dismiss stale reviews on push'",
    ("notifications-worker", "process_not_evaluated"): "the payments team created the repo for the "
    "notifications launch and kept its admin role; the scan token's user has write there, so classic "
    "protection answers 404 and the ruleset's bypass list is withheld",
    ("notifications-worker", "codeowners_invalid"): "CODEOWNERS names @payments-oncall, a team the org does not have",
    ("reporting-service", "branch_protection_missing"): "deprecated: its branch protection was removed "
    "(only the org ruleset's deletion and force-push rules apply)",
    ("reporting-service", "codeowners_missing"): "deprecated: CODEOWNERS deleted with the team's move",
    ("reporting-service", "required_workflow_missing"): "deprecated: the CI workflow was deleted before "
    "the window, while check.toml still requires ci.yml",
}

# Rule ids the demo cannot show from seed data alone, and why (none: every rule id has its case).
NOT_SCRIPTED: dict[str, str] = {}

_CATEGORY_ORDER = {"code": 0, "process": 1, "infra": 2}


def rule_cases(
    end: date,
    events: tuple[SeededEvent, ...],
    details: dict[str, tuple[str, ...]],
    activity: tuple[SeededProcessFinding, ...],
    infra: tuple[tuple[str, str, str], ...],
    days: dict[tuple[str, str], date] | None = None,
) -> tuple[SeededCase, ...]:
    """One row per scripted case: code events, settings (observed on ``end``), activity and AWS.

    ``days``: (repo, rule) -> the day a history case of ``details`` starts (its first commit)."""
    cases = [SeededCase(e.kind, "code", e.day, e.repo, e.description) for e in events if e.kind != "source_changed"]
    for repo, lines in details.items():
        for line in lines:
            rule, what = line.split(": ", 1)
            cause = CAUSES.get((repo, rule))
            day = (days or {}).get((repo, rule), end)
            cases.append(SeededCase(rule, "process", day, repo, f"{cause}: {what}" if cause else what))
    cases += [SeededCase(f.rule, "process", f.day, f.repo, f.description) for f in activity]
    cases += [SeededCase(rule, "infra", end, repo, what) for rule, repo, what in infra]
    return tuple(sorted(cases, key=lambda c: (_CATEGORY_ORDER.get(c.category, 9), c.rule, c.day, c.repo)))
