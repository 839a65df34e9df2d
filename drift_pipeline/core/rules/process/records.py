"""The records of what process drift observes: a repo's GitHub settings and its day's activity.

Plain frozen data, filled by the process scan (sources) and judged by the rules. Unknown is never
"off": every value that a token may not read is ``None`` (or a ``not_readable`` state) with the
reason, and the rules turn it into ``process_not_evaluated``, never into a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RULESET_SOURCES = ("Repository", "Organization")


@dataclass(frozen=True)
class NotReadable:
    """A setting the token could not read: which, why, and the HTTP status that said so."""

    setting: str  # "classic_protection", "branch_rules", "ruleset 12", "codeowners_errors", "tree", ...
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class BypassActorSeen:
    actor_type: str
    actor_id: int | None
    bypass_mode: str = "always"


@dataclass(frozen=True)
class Ruleset:
    """One ruleset as read from ``/rulesets/{id}`` (repo) or ``/orgs/{org}/rulesets/{id}``."""

    id: int
    name: str
    source_type: str  # Repository | Organization
    source: str  # "acme/web" or "acme"
    target: str  # branch | tag | push
    enforcement: str  # active | evaluate | disabled
    include: tuple[str, ...] = ()  # conditions.ref_name.include
    exclude: tuple[str, ...] = ()
    rule_types: tuple[str, ...] = ()  # e.g. ("deletion", "update", "pull_request")
    # None: NOT READABLE (GitHub omits bypass_actors without write access to the ruleset);
    # () means known to be empty.
    bypass_actors: tuple[BypassActorSeen, ...] | None = None

    @property
    def label(self) -> str:
        kind = "org ruleset" if self.source_type == "Organization" else "ruleset"
        return f"{kind} {self.name}/{self.id}"


@dataclass(frozen=True)
class BranchRule:
    """One effective rule of ``/rules/branches/{branch}`` with the ruleset it came from."""

    type: str  # pull_request | required_status_checks | required_signatures | ...
    ruleset_id: int
    ruleset_source_type: str = "Repository"
    ruleset_source: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


CLASSIC_STATES = ("present", "absent", "not_readable")


@dataclass(frozen=True)
class ClassicProtection:
    """Classic branch protection of the default branch.

    ``absent`` only when GitHub said the branch is not protected to a reader with admin rights
    (404 "Branch not protected"); a 404 to a non-admin classic token or a 403 to an App token is
    ``not_readable`` with ``status`` and ``reason`` kept.
    """

    state: str
    status: int | None = None
    reason: str | None = None
    required_reviews: int = 0
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    status_checks: tuple[str, ...] | None = None  # None: no required status checks configured
    strict: bool = False
    signed_commits: bool = False
    enforce_admins: bool = False

    def __post_init__(self) -> None:
        if self.state not in CLASSIC_STATES:
            raise ValueError(f"classic protection state {self.state!r} not one of {CLASSIC_STATES}")


def classic_protection_unavailable(status: int, reason: str, *, admin: bool | None) -> ClassicProtection:
    """The record for an error answer to ``GET /branches/{b}/protection``, decided on structured facts.

    Only a 404 to a reader known to have admin rights on the repo (``permissions.admin``) means
    "not protected"; any other answer (404 without admin rights, 403, 5xx) means not readable.
    """
    if status == 404 and admin is True:
        return ClassicProtection(state="absent", status=status, reason=reason)
    return ClassicProtection(state="not_readable", status=status, reason=reason)


@dataclass(frozen=True)
class CodeownersError:
    kind: str  # e.g. "Unknown owner", "Invalid pattern"
    line: int | None
    message: str
    path: str | None = None


@dataclass(frozen=True)
class Workflow:
    path: str  # .github/workflows/ci.yml
    jobs: tuple[str, ...] | None  # None: the file could not be parsed
    error: str | None = None


@dataclass(frozen=True)
class ProcessSettings:
    """One repo's live GitHub settings as read now (only ever for today's partition)."""

    default_branch: str
    branch_rules: tuple[BranchRule, ...] | None = None  # None: /rules/branches not readable
    rulesets: Mapping[int, Ruleset] = field(default_factory=dict)  # every ruleset a branch rule names
    classic: ClassicProtection = ClassicProtection(state="not_readable", reason="not read")
    tag_rulesets: tuple[Ruleset, ...] | None = None  # None: not readable
    tree: frozenset[str] | None = None  # default-branch tree paths; None: not readable
    codeowners_path: str | None = None
    codeowners_content: str | None = None
    codeowners_errors: tuple[CodeownersError, ...] | None = None  # None: not readable
    workflows: Mapping[str, Workflow] = field(default_factory=dict)
    not_readable: tuple[NotReadable, ...] = ()

    def unreadable(self, *settings: str) -> list[NotReadable]:
        return [n for n in self.not_readable if n.setting in settings]


@dataclass(frozen=True)
class Review:
    login: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    submitted_at: datetime | None


@dataclass(frozen=True)
class ChangedFile:
    path: str
    additions: int
    deletions: int


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    body: str
    head_branch: str
    author: str | None
    merged_by: str | None
    merged_at: datetime | None
    reviews: tuple[Review, ...] = ()
    files: tuple[ChangedFile, ...] = ()
    additions: int = 0
    deletions: int = 0
    linked_issues: tuple[str, ...] = ()  # issue/ticket refs GitHub links to the PR (e.g. "#12", "acme/web#3")
    url: str | None = None

    def approvals_at_merge(self) -> tuple[str, ...]:
        """Reviewers whose last decisive review before the merge is an approval."""
        last: dict[str, str] = {}
        ordered = sorted((r for r in self.reviews if r.submitted_at is not None), key=lambda r: r.submitted_at)  # type: ignore[arg-type,return-value]
        for review in ordered:
            if self.merged_at is not None and review.submitted_at is not None and review.submitted_at > self.merged_at:
                continue
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                last[review.login] = review.state
        return tuple(sorted(login for login, state in last.items() if state == "APPROVED" and login != self.author))


@dataclass(frozen=True)
class ActivityCommit:
    sha: str
    message: str
    author: str | None  # GitHub login, None when the email maps to no account
    committer: str | None
    url: str | None = None
    is_merge: bool = False
    pull_request: PullRequest | None = None  # None: a direct push

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


@dataclass(frozen=True)
class ProcessActivity:
    """The commits that reached the default branch during the day (first-parent), oldest first."""

    branch: str
    commits: tuple[ActivityCommit, ...] = ()


@dataclass(frozen=True)
class RepoProcess:
    """Everything process drift observed for one repo on one day."""

    org: str
    repo: str
    observed_settings: bool  # False for a past day: live-only settings were not observed
    settings: ProcessSettings | None = None
    activity: ProcessActivity | None = None
    project: str = "."
