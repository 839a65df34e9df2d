"""How the demo org's commits reached their default branches, and the process deviations.

Every window commit of a product repo reaches its default branch through a pull request: a
tracking issue (``WEB-142: ...``), a head branch named after it (``feat/WEB-142-add-chunk``), a
body that closes the issue, two approving reviews by people other than the author, and a rebase
merge (the PR's commit is the default branch's commit, so code-drift events keep their shas).
The scripted deviations (:func:`process_commits`) go around that, and each says what a process
scan must find (:class:`SeededProcessFinding`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from drift_pipeline.sandbox.github import pulls
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.seed.catalogue import BRANCH_PATTERN, PR_MAX_FILES, PR_MAX_LINES, TEAMS, _Spec, email_of
from drift_pipeline.sandbox.seed.history import _src_file
from drift_pipeline.sandbox.seed.report import SeededProcessFinding
from drift_pipeline.sources.gitutil import Author

TICKET_KEYS = {"orders": "ORD", "web": "WEB", "payments": "PAY", "data": "DATA", "platform": "PLAT"}
ADMIN = ("Alex Morgan", "alexm")  # an org owner: classic protection without enforce_admins lets them push
_TYPES = ("feat", "fix", "chore", "docs", "refactor", "build", "ci", "test", "perf")


@dataclass(frozen=True)
class PrPlan:
    """How one window commit reaches the default branch (default: the compliant way)."""

    approvals: int = 2
    branch: str | None = None  # None: "<type>/<TICKET>-<slug>"
    body: str | None = None  # None: "Closes #<tracking issue>"
    direct: bool = False  # pushed to the default branch, no pull request
    finding: str | None = None  # the process rule a scan must raise for it


def login_of(name: str) -> str:
    return next(login for team in TEAMS.values() for n, login in team if n == name)


def _reviewers(team: str, author: str) -> list[str]:
    """Teammates first, then the platform team (orders for platform people); never the author."""
    others = [login for _, login in TEAMS[team]] + [
        login for _, login in TEAMS["orders" if team == "platform" else "platform"]
    ]
    return [login for login in dict.fromkeys(others) if login != author]


def _branch_name(message: str, key: str) -> str:
    subject = message.split("\n", 1)[0]
    m = re.match(r"^(\w+)(?:\([^)]*\))?!?: (.*)$", subject)
    kind = m.group(1) if m and m.group(1) in _TYPES else "chore"
    words = re.findall(r"[a-z0-9]+", (m.group(2) if m else subject).lower())[:4]
    return f"{kind}/{key}-{'-'.join(words)}".rstrip("-")


def record_pulls(
    state: SandboxState,
    org: str,
    spec: _Spec,
    window: list[tuple[str, str, Author, datetime, PrPlan]],
) -> list[SeededProcessFinding]:
    """PRs (or direct pushes) for ``window``: ``(sha, message, author, when, plan)`` oldest first."""
    found: list[SeededProcessFinding] = []
    need = int(((spec.cfg.get("process") or {}).get("repo") or {}).get("ruleset", {}).get("required_reviews", 0))
    for sha, message, author, when, plan in window:
        login = login_of(author.name)
        day = when.date()
        if plan.direct:
            if plan.finding:
                found.append(
                    SeededProcessFinding(
                        day,
                        spec.name,
                        plan.finding,
                        sha,
                        {"approvals": need, "via": "pull request"},
                        {"approvals": 0, "via": "direct push", "actor": login},
                        f"{sha[:7]} pushed to {spec.default_branch} directly by {login} (an org owner; "
                        f"the classic protection does not include admins), {need} approval(s) required",
                    )
                )
            continue
        subject = message.split("\n", 1)[0]
        title = re.sub(r"^\w+(\([^)]*\))?!?: ", "", subject)
        tracking = state.create_issue(org, spec.name, title=title, user=login, when=when - timedelta(hours=2))
        key = f"{TICKET_KEYS.get(spec.team, 'ENG')}-{100 + tracking['number']}"
        tracking["title"] = f"{key}: {title}"
        branch = plan.branch or _branch_name(message, key)
        body = plan.body if plan.body is not None else f"{title}.\n\nCloses #{tracking['number']}"
        reviewers = _reviewers(spec.team, login)[: plan.approvals]
        reviews = tuple((r, "APPROVED", when + timedelta(minutes=20 + 15 * i)) for i, r in enumerate(reviewers))
        merged_at = when + timedelta(minutes=50)
        pr = pulls.record_merged_pull(
            state,
            org,
            spec.name,
            head=branch,
            commit_shas=[sha],
            title=subject,
            user=login,
            opened=when + timedelta(minutes=5),
            merged_by=reviewers[0] if reviewers else login,
            merged_at=merged_at,
            body=body,
            reviews=reviews,
        )
        if plan.body is None:  # "Closes #N": merging closed the tracking issue
            state.update_issue(org, spec.name, tracking["number"], {"state": "closed"}, when=merged_at)
        if plan.finding:
            found.append(_pr_finding(spec, pr, plan, need, reviewers, day))
    return found


def _pr_finding(
    spec: _Spec, pr: dict[str, Any], plan: PrPlan, need: int, reviewers: list[str], day: date
) -> SeededProcessFinding:
    p = pr["pull"]
    n = pr["number"]
    expected: Any
    actual: Any
    if plan.finding == "review_bypassed":
        expected, actual = {"approvals": need}, {"approvals": len(reviewers), "approved_by": sorted(reviewers)}
        what = f"PR #{n} merged with {len(reviewers)} approval(s) where the config requires {need}"
    elif plan.finding == "pr_too_large":
        lines = p["additions"] + p["deletions"]
        expected = {"max_files": PR_MAX_FILES, "max_lines": PR_MAX_LINES}
        actual = {"files": p["changed_files"], "lines": lines}
        what = f"PR #{n} changes {p['changed_files']} files and {lines} lines"
    elif plan.finding == "pr_missing_issue_reference":
        expected, actual = {"reference": "an issue (#123) or ticket"}, {"linked_issues": []}
        what = f"PR #{n} references no issue ({pr['body']!r})"
    elif plan.finding == "branch_name_violated":
        expected, actual = {"pattern": BRANCH_PATTERN}, p["head_ref"]
        what = f"PR #{n} merged from branch {p['head_ref']!r}"
    elif plan.finding == "ticket_reference_missing":
        expected, actual = {"pattern": spec.tickets, "in": "branch name"}, p["head_ref"]
        what = f"PR #{n} merged from branch {p['head_ref']!r}, named after the incident, not a {spec.tickets} ticket"
    else:
        raise ValueError(f"no oracle for {plan.finding}")
    return SeededProcessFinding(day, spec.name, plan.finding, f"pr#{n}", expected, actual, what)


def _append(path: str, code: str) -> Callable[[_Spec], dict[str, str | bytes | None]]:
    return lambda s: {path: str(s.tree[path]).rstrip("\n") + "\n\n" + code}


def _schemas(s: _Spec) -> dict[str, str | bytes | None]:
    out: dict[str, str | bytes | None] = {}
    for i in range(1, 31):
        fields = "".join(f"  field{j}: string;\n" for j in range(1, 19))
        out[f"packages/shared-utils/src/schemas/event-{i:02d}.ts"] = (
            f"// Generated from events/v1/event-{i:02d}.json; do not edit.\n"
            f"export interface Event{i:02d} {{\n{fields}}}\n"
        )
    return out


def process_commits(
    specs: dict[str, _Spec],
    day: Callable[[int], date],
    at: Callable[[date, int, int], datetime],
    author: Callable[[_Spec], Author],
    org: str,
) -> list[tuple[str, datetime, str, Author, Callable[[_Spec], dict[str, str | bytes | None]], PrPlan]]:
    """The scripted process deviations: ``(repo, when, message, author, change, plan)``.

    ``day(slot)`` is the date of a scripted slot, ``at(day, lo, hi)`` a time on it.
    Long because it is one literal table, a row per deviation, read whole: the rows' order is the
    order in which ``at`` and ``author`` draw from the random stream, so it is part of the scenario.
    """
    admin = Author(ADMIN[0], email_of(ADMIN[0], org))
    pay = specs["payments-service"]
    return [
        (
            "orders-api",
            at(day(5), 19, 20),
            "fix(orders): hotfix rounding of order totals",
            admin,
            _append(_src_file(specs["orders-api"]), "export const TOTAL_DECIMALS = 2;\n"),
            PrPlan(direct=True, finding="review_bypassed"),
        ),
        (
            "payments-service",
            at(day(5), 14, 16),
            "feat(payments): retry declined wallet payouts",
            author(pay),
            _append(_src_file(pay), "PAYOUT_RETRIES = 3\n"),
            PrPlan(approvals=1, finding="review_bypassed"),
        ),
        (
            "data-platform",
            at(day(6), 9, 11),
            "feat(shared-utils): add generated event schemas",
            author(specs["data-platform"]),
            _schemas,
            PrPlan(finding="pr_too_large"),
        ),
        (
            "inventory-service",
            at(day(5), 10, 12),
            "fix(stock): clamp negative reservations",
            author(specs["inventory-service"]),
            _append(_src_file(specs["inventory-service"]), "MIN_RESERVATION = 0\n"),
            PrPlan(body="Small fix, discussed on Slack.", finding="pr_missing_issue_reference"),
        ),
        (
            "admin-console",
            at(day(5), 13, 15),
            "fix(console): keep the redirect after login",
            author(specs["admin-console"]),
            _append(_src_file(specs["admin-console"]), "export const KEEP_REDIRECT = true;\n"),
            PrPlan(branch="quick-fix-login-redirect", finding="branch_name_violated"),
        ),
        (
            "payments-service",
            at(day(6), 10, 12),
            "fix(refunds): stop double refunds on retried webhooks",
            author(pay),
            _append(_src_file(pay), "REFUND_IDEMPOTENCY_WINDOW_S = 86400\n"),
            PrPlan(branch="fix/INC-2291-double-refunds", finding="ticket_reference_missing"),
        ),
    ]


def seed_teams(state: SandboxState, org: str) -> None:
    """The org's teams (one per catalogue team, access to every repo): CODEOWNERS owners resolve."""
    for team, people in TEAMS.items():
        state.add_team(org, team, members=[login for _, login in people])
