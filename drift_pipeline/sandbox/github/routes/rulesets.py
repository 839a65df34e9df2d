"""Repository rulesets (with the org rulesets that target the repo), branch rules, CODEOWNERS errors."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import access, render_rules
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name


def _includes_parents(ctx: Ctx) -> bool:
    return ctx.args.get("includes_parents", "true").lower() not in ("false", "0")


def _targets(ctx: Ctx, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``?targets=branch,tag``: only rulesets with those targets (none given: all)."""
    raw = ctx.args.get("targets")
    if not raw:
        return sets
    wanted = {t.strip() for t in raw.split(",") if t.strip()}  # an unknown target matches nothing
    return [rs for rs in sets if rs.get("target", "branch") in wanted]


def _can_edit(ctx: Ctx, repo: dict[str, Any] | None = None) -> bool:
    """Write access to a ruleset (an admin of ``repo``, or of the org for its own rulesets):
    without it GitHub omits ``bypass_actors``."""
    return access.is_admin(ctx.token, repo)


def list_rulesets(ctx: Ctx, owner: str, repo: str) -> Any:
    """Ruleset summaries (includes_parents: also the org rulesets that target this repo; targets=branch,tag,push)."""
    full = full_name(ctx, owner, repo)
    sets = _targets(ctx, ctx.state.repo_rulesets(owner, repo, includes_parents=_includes_parents(ctx)))
    return [render_rules.ruleset(ctx.base, full, rs, summary=True) for rs in ctx.paginate(sets)]


def get_ruleset(ctx: Ctx, owner: str, repo: str, ruleset_id: str) -> Any:
    """One ruleset with conditions and rules; bypass_actors only with write access to it."""
    if not ruleset_id.isdigit():
        raise NotFound()
    rs = ctx.state.ruleset(owner, repo, int(ruleset_id), includes_parents=_includes_parents(ctx))
    return render_rules.ruleset(
        ctx.base, full_name(ctx, owner, repo), rs, summary=False, bypass=_can_edit(ctx, ctx.state.get_repo(owner, repo))
    )


def list_org_rulesets(ctx: Ctx, org: str) -> Any:
    """An organization's ruleset summaries (targets=branch,tag,push); org admins only."""
    login = ctx.state.org(org)["login"]
    sets = _targets(ctx, ctx.state.org_rulesets(login, token=ctx.token))
    return [render_rules.ruleset(ctx.base, login, rs, summary=True) for rs in ctx.paginate(sets)]


def get_org_ruleset(ctx: Ctx, org: str, ruleset_id: str) -> Any:
    """One organization ruleset with conditions (repository_name), rules and bypass actors; org admins only."""
    if not ruleset_id.isdigit():
        raise NotFound()
    login = ctx.state.org(org)["login"]
    rs = ctx.state.org_ruleset(login, int(ruleset_id), token=ctx.token)
    return render_rules.ruleset(ctx.base, login, rs, summary=False, bypass=_can_edit(ctx))


def get_branch_rules(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """The active rules for a branch from repo and org rulesets, flattened."""
    return ctx.paginate(ctx.state.branch_rules(owner, repo, branch))


def get_codeowners_errors(ctx: Ctx, owner: str, repo: str) -> Any:
    """CODEOWNERS errors: Invalid owner, Unknown owner (an org with teams); 404 when there is no CODEOWNERS."""
    return {"errors": ctx.state.codeowners_errors(owner, repo, ctx.args.get("ref") or None)}
