"""The process rules' specs and the small context every process rule writes its findings through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from drift_pipeline.core.rules.base import Finding, RuleSpec, make_finding
from drift_pipeline.core.rules.process.records import NotReadable, RepoProcess
from drift_pipeline.core.standards.process_model import ProcessExpectations


def _rule(severity: str, rid: str, title: str, fix: str) -> RuleSpec:
    return RuleSpec(rid, "process", severity, title, fix)


_PROTECT = "Settings > Rules > Rulesets (or the org's rulesets) on the default branch"

# Rule ids: extend, never rename (stored findings and open issues refer to them). The severity
# here is the production one; a finding takes the repo tier's severity (ProcessExpectations.severity).
SPECS: tuple[RuleSpec, ...] = (
    _rule(
        "error",
        "branch_protection_missing",
        "Default branch not protected",
        f"Add a branch ruleset targeting the default branch ({_PROTECT}), or `cm process sync --apply`.",
    ),
    _rule(
        "error",
        "required_reviews_too_low",
        "Too few required approving reviews",
        f"Raise 'Required approvals' of the pull_request rule in {_PROTECT} to the configured number.",
    ),
    _rule(
        "error",
        "stale_reviews_not_dismissed",
        "Stale approvals are not dismissed",
        f"Turn on 'Dismiss stale pull request approvals when new commits are pushed' in {_PROTECT}.",
    ),
    _rule(
        "error",
        "code_owner_review_not_required",
        "Code owner review not required",
        f"Turn on 'Require review from Code Owners' in {_PROTECT}.",
    ),
    _rule(
        "error",
        "status_checks_missing",
        "Required status checks missing",
        f"Add the missing checks under 'Require status checks to pass' in {_PROTECT}.",
    ),
    _rule(
        "error",
        "branches_not_up_to_date",
        "Branches need not be up to date before merging",
        f"Turn on 'Require branches to be up to date before merging' in {_PROTECT}.",
    ),
    _rule(
        "error",
        "signed_commits_not_required",
        "Signed commits not required",
        f"Turn on 'Require signed commits' in {_PROTECT}.",
    ),
    _rule(
        "error",
        "admins_not_enforced",
        "Admins may bypass the branch protection",
        "Remove the bypass list of the ruleset (or turn on 'Do not allow bypassing' in classic protection).",
    ),
    _rule(
        "error",
        "bypass_actor_mismatch",
        "Bypass actors differ from the standard",
        "Make the ruleset's bypass list match [process.repo.ruleset] bypass_actors: add the missing "
        "actors and remove the others (`cm process sync --apply`).",
    ),
    _rule(
        "error",
        "codeowners_missing",
        "CODEOWNERS missing",
        "Add a CODEOWNERS file at .github/CODEOWNERS with the rules of [process.codeowners].",
    ),
    _rule(
        "error",
        "codeowners_invalid",
        "CODEOWNERS has errors",
        "Fix the lines GitHub reports (repository > CODEOWNERS file view): every owner must be a user or "
        "team with write access.",
    ),
    _rule(
        "error",
        "codeowners_rule_mismatch",
        "CODEOWNERS rule differs from the standard",
        "Make the CODEOWNERS line for this pattern list exactly the configured owners, in order; "
        "remove rules the standard does not list (or add them to [process.codeowners] rules).",
    ),
    _rule(
        "error",
        "required_file_missing",
        "Required file missing",
        "Add the file (or folder) to the default branch, or turn off the tool that needs it.",
    ),
    _rule(
        "error",
        "forbidden_file_present",
        "Forbidden file present",
        "Delete the file from the default branch (and rotate any secret it held), or adjust "
        "[process.forbidden_files] ignore if it is legitimately there.",
    ),
    _rule(
        "error",
        "required_workflow_missing",
        "Required workflow or job missing",
        "Add the workflow under .github/workflows/ with the required job ids.",
    ),
    _rule(
        "error",
        "hooks_missing",
        "Git hooks not set up",
        "Install husky (`npx husky init`) and commit the required hook files under .husky/.",
    ),
    _rule(
        "error",
        "tag_protection_missing",
        "Tags not protected",
        "Add an active tag ruleset covering the configured patterns with 'Restrict deletions' and "
        "'Restrict updates' (`cm process sync-tags --apply`).",
    ),
    _rule(
        "warning",
        "process_not_evaluated",
        "Process setting could not be read",
        "Give the scanning token read access to this setting (a GitHub App with 'Administration: read', "
        "or a classic token of a repo admin) so it can be judged.",
    ),
    _rule(
        "error",
        "review_bypassed",
        "Change reached the default branch without the required reviews",
        "Review the change after the fact, and remove direct-push or bypass rights from the actor named.",
    ),
    _rule(
        "error",
        "commit_convention_violated",
        "Commit message outside the convention",
        "Reword future commits to the convention (a commit-msg hook with `cm process check-commit` helps).",
    ),
    _rule(
        "error",
        "ticket_reference_missing",
        "Ticket reference missing",
        "Reference the ticket in the commit message or branch name, as [process.tickets] pattern asks.",
    ),
    _rule(
        "error",
        "branch_name_violated",
        "Branch name outside the naming pattern",
        "Name branches as [process.branches] pattern asks (a pre-push hook with `cm process check-branch` helps).",
    ),
    _rule(
        "error",
        "pr_too_large",
        "Pull request too large",
        "Split large changes into smaller pull requests within [process.pr] max_files / max_lines.",
    ),
    _rule(
        "error",
        "pr_missing_issue_reference",
        "Pull request without issue reference",
        "Link the pull request to its issue (e.g. `Closes #123` in the description).",
    ),
)
SPEC = {s.id: s for s in SPECS}
# The rules about what happened on the default branch (DESIGN "process, activity"): history, so they
# backfill exactly; every other process rule judges live settings. The trend views read this split.
ACTIVITY_RULES: tuple[str, ...] = (
    "review_bypassed",
    "commit_convention_violated",
    "ticket_reference_missing",
    "branch_name_violated",
    "pr_too_large",
    "pr_missing_issue_reference",
)
assert set(ACTIVITY_RULES) <= set(SPEC)
_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass
class Context:
    """One repo's evaluation: where findings are collected, with the repo's severity."""

    day: date
    repo: RepoProcess
    exp: ProcessExpectations
    out: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule: str,
        subject: str,
        message: str,
        expected: Any,
        actual: Any,
        *,
        commit_sha: str | None = None,
        commit_url: str | None = None,
        **extra: Any,
    ) -> None:
        self.out.append(
            make_finding(
                SPEC[rule],
                scan_date=self.day,
                org=self.repo.org,
                repo=self.repo.repo,
                project=self.repo.project,
                message=message,
                subject=subject,
                severity=self.exp.severity,
                details={"expected": expected, "actual": actual, **extra},
                commit_sha=commit_sha,
                commit_url=commit_url,
            )
        )

    def not_evaluated(self, setting: str, blocked_rule: str, expected: Any, why: list[NotReadable]) -> None:
        """The token could not read what ``blocked_rule`` needs: say what and why, judge nothing."""
        reasons = "; ".join(f"{n.setting}: {n.reason}" + (f" (HTTP {n.status})" if n.status else "") for n in why)
        severity = "info" if _RANK[self.exp.severity] < _RANK["warning"] else "warning"
        self.out.append(
            make_finding(
                SPEC["process_not_evaluated"],
                scan_date=self.day,
                org=self.repo.org,
                repo=self.repo.repo,
                project=self.repo.project,
                subject=setting,
                severity=severity,
                message=f"{setting} not evaluated ({blocked_rule}): {reasons or 'not readable'}",
                details={
                    "setting": setting,
                    "rule": blocked_rule,
                    "expected": expected,
                    "actual": None,
                    "not_readable": [{"setting": n.setting, "reason": n.reason, "status": n.status} for n in why],
                },
            )
        )
