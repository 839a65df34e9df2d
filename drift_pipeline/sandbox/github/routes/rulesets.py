"""Repository rulesets (with the org rulesets that target the repo), branch rules, CODEOWNERS errors."""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github import render
from drift_pipeline.sandbox.github.errors import NotFound
from drift_pipeline.sandbox.github.routes.context import Ctx, full_name


def _includes_parents(ctx: Ctx) -> bool:
    return ctx.args.get("includes_parents", "true").lower() not in ("false", "0")


def list_rulesets(ctx: Ctx, owner: str, repo: str) -> Any:
    """Ruleset summaries (includes_parents: also the org rulesets that target this repo)."""
    full = full_name(ctx, owner, repo)
    sets = ctx.state.repo_rulesets(owner, repo, includes_parents=_includes_parents(ctx))
    return [render.ruleset(ctx.base, full, rs, summary=True) for rs in ctx.paginate(sets)]


def get_ruleset(ctx: Ctx, owner: str, repo: str, ruleset_id: str) -> Any:
    """One ruleset with conditions, rules and bypass actors."""
    if not ruleset_id.isdigit():
        raise NotFound()
    rs = ctx.state.ruleset(owner, repo, int(ruleset_id), includes_parents=_includes_parents(ctx))
    return render.ruleset(ctx.base, full_name(ctx, owner, repo), rs, summary=False)


def get_branch_rules(ctx: Ctx, owner: str, repo: str, branch: str) -> Any:
    """The active rules for a branch from repo and org rulesets, flattened."""
    return ctx.paginate(ctx.state.branch_rules(owner, repo, branch))


def get_codeowners_errors(ctx: Ctx, owner: str, repo: str) -> Any:
    """CODEOWNERS errors: Invalid owner, Unknown owner (an org with teams); 404 when there is no CODEOWNERS."""
    return {"errors": ctx.state.codeowners_errors(owner, repo, ctx.args.get("ref") or None)}
