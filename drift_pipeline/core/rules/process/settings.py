"""Branch and tag settings: the default branch's effective protection against the expectations.

Every protective *source* of the default branch is one of: a repo ruleset, an org ruleset (each
through the rules of ``/rules/branches/{b}`` it contributes) or classic protection. A setting is
satisfied when some source satisfies it (rules from several sources all apply, so status checks
are their union), and the finding or the status names the source (``satisfied_by``). When no
known source satisfies it and a source could not be read, the setting is *not evaluated*: the
unread source might satisfy it, so no violation is claimed.

Only rules that gate what reaches the branch make a ruleset a protective source
(:data:`PROTECTIVE_RULES`); an org ruleset that only forbids deletion and force pushes leaves the
branch unprotected. With no protective source at all (and nothing unread), the one finding is
``branch_protection_missing``, listing every expected setting, rather than one finding per setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drift_pipeline.core.rules.process.common import Context
from drift_pipeline.core.rules.process.records import (
    BranchRule,
    BypassActorSeen,
    NotReadable,
    ProcessSettings,
    Ruleset,
)
from drift_pipeline.core.standards.process_model import BypassActor, ProcessExpectations

PROTECTIVE_RULES = frozenset(
    {"pull_request", "required_status_checks", "required_signatures", "required_deployments", "merge_queue", "update"}
)


@dataclass(frozen=True)
class Source:
    """What one protective source of the default branch enforces."""

    label: str  # "ruleset <name>/<id>", "org ruleset <name>/<id>", "classic protection"
    reviews: int = 0
    dismiss_stale: bool = False
    code_owner: bool = False
    checks: tuple[str, ...] = ()
    strict: bool = False
    signed: bool = False
    admins_bound: bool | None = False  # None: unknown (bypass list not readable)
    ruleset: Ruleset | None = None
    ruleset_known: bool = True  # False: a rule names a ruleset we hold no record of


@dataclass(frozen=True)
class SettingStatus:
    """One expected setting's verdict: ok, violation or not_evaluated, with where it was satisfied."""

    rule: str
    setting: str
    state: str  # ok | violation | not_evaluated
    expected: Any
    actual: Any
    satisfied_by: tuple[str, ...] = ()
    not_readable: tuple[NotReadable, ...] = ()


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _contexts(params: Any) -> tuple[str, ...]:
    items = params.get("required_status_checks") if isinstance(params, dict) else None
    return tuple(c["context"] for c in items or () if isinstance(c, dict) and isinstance(c.get("context"), str))


def _ruleset_sources(settings: ProcessSettings, exp: ProcessExpectations) -> list[Source]:
    grouped: dict[int, list[BranchRule]] = {}
    for rule in settings.branch_rules or ():
        grouped.setdefault(rule.ruleset_id, []).append(rule)
    allowed = ("active", "evaluate") if exp.enforcement == "evaluate" else ("active",)
    out = []
    for rid, rules in sorted(grouped.items()):
        ruleset = settings.rulesets.get(rid)
        if ruleset is not None and ruleset.enforcement not in allowed:
            continue
        if not any(r.type in PROTECTIVE_RULES for r in rules):
            continue
        first = rules[0]
        kind = "org ruleset" if first.ruleset_source_type == "Organization" else "ruleset"
        values: dict[str, Any] = {}
        for rule in rules:
            params = dict(rule.parameters)
            if rule.type == "pull_request":
                values["reviews"] = max(values.get("reviews", 0), _int(params.get("required_approving_review_count")))
                values["dismiss_stale"] = (
                    values.get("dismiss_stale") or params.get("dismiss_stale_reviews_on_push") is True
                )
                values["code_owner"] = values.get("code_owner") or params.get("require_code_owner_review") is True
            elif rule.type == "required_status_checks":
                values["checks"] = values.get("checks", ()) + _contexts(params)
                values["strict"] = values.get("strict") or params.get("strict_required_status_checks_policy") is True
            elif rule.type == "required_signatures":
                values["signed"] = True
        bound = None if ruleset is None or ruleset.bypass_actors is None else not ruleset.bypass_actors
        out.append(
            Source(
                label=ruleset.label if ruleset else f"{kind} #{rid}",
                admins_bound=bound,
                ruleset=ruleset,
                ruleset_known=ruleset is not None,
                **values,
            )
        )
    return out


def sources(settings: ProcessSettings, exp: ProcessExpectations) -> list[Source]:
    out = _ruleset_sources(settings, exp)
    c = settings.classic
    if c.state == "present":
        out.append(
            Source(
                "classic protection",
                c.required_reviews,
                c.dismiss_stale_reviews,
                c.require_code_owner_reviews,
                c.status_checks or (),
                c.strict,
                c.signed_commits,
                c.enforce_admins,
            )
        )
    return out


def _unknown_sides(settings: ProcessSettings) -> list[NotReadable]:
    """The protective sources that could not be read (each might satisfy what the others do not)."""
    out = []
    if settings.branch_rules is None:
        out += settings.unreadable("branch_rules") or [NotReadable("branch_rules", "effective branch rules not read")]
    if settings.classic.state == "not_readable":
        out.append(
            NotReadable("classic_protection", settings.classic.reason or "not readable", settings.classic.status)
        )
    return out


_Check = tuple[str, str, Any, Callable[[Source], bool], Callable[[list[Source]], Any]]


def _checks(exp: ProcessExpectations) -> list[_Check]:
    """(rule, setting, expected, source satisfies it, actual over all sources) per expected setting."""
    out: list[_Check] = []
    if exp.require_branch_protection:
        out.append(
            (
                "branch_protection_missing",
                "branch_protection",
                True,
                lambda s: True,
                lambda ss: [s.label for s in ss] or None,
            )
        )
    if exp.requires_reviews:
        need = exp.required_reviews or 0
        out.append(
            (
                "required_reviews_too_low",
                "required_reviews",
                need,
                lambda s: s.reviews >= need,
                lambda ss: max((s.reviews for s in ss), default=0),
            )
        )
    flags: list[tuple[bool, str, str, Callable[[Source], bool]]] = [
        (exp.dismiss_stale_reviews, "stale_reviews_not_dismissed", "dismiss_stale_reviews", lambda s: s.dismiss_stale),
        (
            exp.require_code_owner_reviews,
            "code_owner_review_not_required",
            "require_code_owner_reviews",
            lambda s: s.code_owner,
        ),
        (exp.require_branches_up_to_date, "branches_not_up_to_date", "require_branches_up_to_date", lambda s: s.strict),
        (exp.require_signed_commits, "signed_commits_not_required", "require_signed_commits", lambda s: s.signed),
        (exp.enforce_admins, "admins_not_enforced", "enforce_admins", lambda s: s.admins_bound is True),
    ]
    for wanted, rule, setting, ok in flags:
        if wanted:
            out.append((rule, setting, True, ok, lambda ss, ok=ok: any(ok(s) for s in ss)))  # type: ignore[misc]
    return out


def branch_statuses(settings: ProcessSettings, exp: ProcessExpectations) -> list[SettingStatus]:
    """The verdict of every expected branch setting of the default branch (for findings and metadata)."""
    found = sources(settings, exp)
    unknown = _unknown_sides(settings)
    if not found and not unknown and exp.expects_branch_settings:
        expected = {c[1]: c[2] for c in _checks(exp)}
        if exp.require_status_checks:
            expected["require_status_checks"] = list(exp.require_status_checks)
        if exp.bypass_actors is not None:
            expected["bypass_actors"] = [_actor(a) for a in exp.bypass_actors]
        return [SettingStatus("branch_protection_missing", "branch_protection", "violation", expected, None)]
    statuses = []
    for rule, setting, expected, ok, actual in _checks(exp):
        by = tuple(s.label for s in found if ok(s))
        why = list(unknown)
        if rule == "admins_not_enforced":
            why += [
                NotReadable(f"{s.label} bypass_actors", "bypass list not readable (no write access to the ruleset)")
                for s in found
                if s.admins_bound is None
            ]
        state = "ok" if by else ("not_evaluated" if why else "violation")
        statuses.append(SettingStatus(rule, setting, state, expected, actual(found), by, tuple(why)))
    if exp.require_status_checks:
        have = {c: s.label for s in reversed(found) for c in s.checks}
        missing = [c for c in exp.require_status_checks if c not in have]
        by = tuple(dict.fromkeys(have[c] for c in exp.require_status_checks if c in have))
        state = "ok" if not missing else ("not_evaluated" if unknown else "violation")
        statuses.append(
            SettingStatus(
                "status_checks_missing",
                "require_status_checks",
                state,
                list(exp.require_status_checks),
                sorted(have),
                by,
                tuple(unknown),
            )
        )
    if exp.bypass_actors is not None:
        statuses.append(_bypass_status(settings, exp.bypass_actors, found, unknown))
    return statuses


def _matches(want: BypassActor, seen: BypassActorSeen) -> bool:
    return (
        want.actor_type == seen.actor_type
        and want.actor_id in (None, seen.actor_id)
        and want.bypass_mode == seen.bypass_mode
    )


def _actor(a: BypassActor | BypassActorSeen) -> dict[str, Any]:
    return {"actor_type": a.actor_type, "actor_id": a.actor_id, "bypass_mode": a.bypass_mode}


def _bypass_status(
    settings: ProcessSettings, wanted: tuple[BypassActor, ...], found: list[Source], unknown: list[NotReadable]
) -> SettingStatus:
    expected = [_actor(a) for a in wanted]
    rulesets = [s for s in found if s.ruleset is not None or not s.ruleset_known]
    why = [
        NotReadable(
            f"{s.label} bypass_actors",
            "bypass list not readable (GitHub omits bypass_actors without write access to the ruleset)",
        )
        for s in rulesets
        if s.admins_bound is None
    ]
    if settings.branch_rules is None:
        why += [n for n in unknown if n.setting == "branch_rules"]
    if why:
        return SettingStatus("bypass_actor_mismatch", "bypass_actors", "not_evaluated", expected, None, (), tuple(why))
    seen = [a for s in rulesets for a in (s.ruleset.bypass_actors or () if s.ruleset else ())]
    missing = [_actor(a) for a in wanted if not any(_matches(a, s) for s in seen)]
    extra = [_actor(s) for s in seen if not any(_matches(a, s) for a in wanted)]
    labels = tuple(s.label for s in rulesets)
    actual = {
        "actors": [_actor(s) for s in seen],
        "missing": missing,
        "unexpected": extra,
        "from": list(labels)
        or (["classic protection (no bypass list)"] if settings.classic.state == "present" else []),
    }
    state = "violation" if missing or extra else "ok"
    by = labels or (("classic protection",) if settings.classic.state == "present" else ())
    return SettingStatus("bypass_actor_mismatch", "bypass_actors", state, expected, actual, by if state == "ok" else ())


_ACTUAL_TEXT = {
    "branch_protection_missing": "no ruleset or classic protection gates it (reviews, status checks, signatures)",
}


def branch_findings(ctx: Context, settings: ProcessSettings) -> None:
    branch = settings.default_branch
    for st in branch_statuses(settings, ctx.exp):
        if st.state == "ok":
            continue
        expected = {"branch": branch, "value": st.expected}
        if st.state == "not_evaluated":
            ctx.not_evaluated(st.setting, st.rule, expected, list(st.not_readable))
            continue
        what = _ACTUAL_TEXT.get(st.rule) or f"expected {st.expected!r}, found {st.actual!r}"
        ctx.add(
            st.rule,
            st.setting,
            f"{st.setting} on {branch}: {what}",
            expected,
            st.actual,
            satisfied_by=list(st.satisfied_by) or None,
            sources=[s.label for s in sources(settings, ctx.exp)],
        )


def tag_findings(ctx: Context, settings: ProcessSettings) -> None:
    tag = ctx.exp.tag_protection
    if tag is None:
        return
    expected = {
        "patterns": list(tag.patterns),
        "prevent_deletion": tag.prevent_deletion,
        "prevent_update": tag.prevent_update,
    }
    if settings.tag_rulesets is None:
        why = settings.unreadable("tag_rulesets") or [NotReadable("tag_rulesets", "tag rulesets not read")]
        ctx.not_evaluated("tag_protection", "tag_protection_missing", expected, why)
        return
    needed = {t for t, on in (("deletion", tag.prevent_deletion), ("update", tag.prevent_update)) if on}
    active = [r for r in settings.tag_rulesets if r.target == "tag" and r.enforcement == "active"]
    missing: list[str] = []
    by: list[str] = []
    for pattern in tag.patterns:
        refs = {pattern, f"refs/tags/{pattern}", "~ALL"}
        covering = [r for r in active if refs & set(r.include) and not refs & set(r.exclude)]
        rules = {t for r in covering for t in r.rule_types}
        if covering and needed <= rules:
            by += [r.label for r in covering]
        else:
            missing.append(pattern)
    if not missing:
        return
    actual = [
        {"ruleset": r.label, "enforcement": r.enforcement, "include": list(r.include), "rules": list(r.rule_types)}
        for r in settings.tag_rulesets
    ]
    ctx.add(
        "tag_protection_missing",
        "tag_protection",
        f"tag patterns not protected by an active tag ruleset with {sorted(needed) or 'any rule'}: "
        f"{', '.join(missing)}",
        expected,
        actual,
        missing=missing,
        satisfied_by=sorted(set(by)) or None,
    )
