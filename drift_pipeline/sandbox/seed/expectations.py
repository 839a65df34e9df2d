"""The oracle: what a scan of the seeded org should find (scope, projects, process findings).

Computed from the specs and trees the generator wrote, independently of the product's scanners,
so that the product can be tested against it.
"""

from __future__ import annotations

import json
from fnmatch import fnmatch
from typing import Any

from drift_pipeline.sandbox.seed.catalogue import CONVENTIONAL, TEAMS, _Spec
from drift_pipeline.sandbox.seed.report import SeededProject
from drift_pipeline.sandbox.seed.settings import _effective_protection


def _codeowners_problem(text: str, org: str) -> str | None:
    """The first problem of a CODEOWNERS file: a pattern without owners (our content rule), an owner
    that is no @user/@org/team/email (GitHub "Invalid owner"), a team the org does not have
    (GitHub "Unknown owner")."""
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 1:
            return f"line {n}: pattern {parts[0]} has no owner"
        bad = [o for o in parts[1:] if not o.startswith("@") and "@" not in o]
        if bad:
            return f"line {n}: owner {bad[0]!r} is neither @user, @org/team nor an email"
        unknown = [o for o in parts[1:] if o.startswith(f"@{org}/") and o.split("/", 1)[1] not in TEAMS]
        if unknown:
            return f"line {n}: Unknown owner {unknown[0]} (the org has no such team)"
    return None


def _forbidden_match(pattern: str, path: str) -> bool:
    if pattern.startswith("**/"):
        return fnmatch(path.rsplit("/", 1)[-1], pattern[3:]) or fnmatch(path, pattern[3:])
    return fnmatch(path, pattern)


def _process_expectations(spec: _Spec, baseline_cfg: dict[str, Any], org: str) -> list[tuple[str, str]]:
    """What a process scan of this repo should report, from its head config vs its settings and tree."""
    process = spec.cfg.get("process") or {}
    repo = process.get("repo") or {}
    prot = _effective_protection(spec, baseline_cfg)
    if spec.scan_role not in (None, "admin") and spec.protection != "ruleset":
        raise ValueError(f"{spec.name}: the oracle models a scan without admin rights on a ruleset-protected repo only")
    found = _protection_expectations(spec, repo, prot)
    found += _codeowners_expectations(spec, process, org)
    found += _file_expectations(spec, process)
    commits = process.get("commits") or {}
    if commits.get("enabled") and commits.get("conventional"):
        bad = [m for m in spec.window_messages if not CONVENTIONAL.match(m)]
        if bad:
            found.append(
                (
                    "commit_convention_violated",
                    f"{len(bad)} commit(s) in the window are not conventional, e.g. {bad[0]!r}",
                )
            )
    found += _hooks_expectations(spec, process.get("hooks") or {})
    tp = repo.get("tag_protection")
    if repo.get("enabled") and tp and "no_tag_ruleset" in spec.deviations:
        found.append(("tag_protection_missing", f"no tag ruleset for {tp.get('patterns')}"))
    return found


def _protection_expectations(spec: _Spec, repo: dict[str, Any], prot: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``[process.repo]`` against the default branch's effective protection (``prot``; None: none)."""
    if not repo.get("enabled"):
        return []
    if repo.get("require_branch_protection") and prot is None:
        return [
            (
                "branch_protection_missing",
                f"{spec.default_branch} has no classic protection and no repo ruleset "
                "(only the org ruleset's deletion/non_fast_forward rules)",
            )
        ]
    if (rs := repo.get("ruleset")) and prot is not None:
        branch = _branch_settings(rs, prot)
        return branch if spec.scan_role in (None, "admin") else _without_admin(spec, rs, branch)
    return []


def _codeowners_expectations(spec: _Spec, process: dict[str, Any], org: str) -> list[tuple[str, str]]:
    """A CODEOWNERS file missing or invalid where ``[process.repo]`` requires one, then its rules' mismatches."""
    found: list[tuple[str, str]] = []
    repo = process.get("repo") or {}
    if repo.get("enabled") and repo.get("require_codeowners"):
        owners = next(
            (spec.tree[p] for p in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS") if p in spec.tree), None
        )
        if owners is None:
            found.append(("codeowners_missing", "require_codeowners = true but there is no CODEOWNERS file"))
        elif (problem := _codeowners_problem(str(owners), org)) is not None:
            found.append(("codeowners_invalid", f".github/CODEOWNERS {problem}"))
    return found + _codeowners_rules(spec, process.get("codeowners") or {})


def _file_expectations(spec: _Spec, process: dict[str, Any]) -> list[tuple[str, str]]:
    """The head tree against the file rules: forbidden files, the changeset config, required workflows."""
    found: list[tuple[str, str]] = []
    ff = process.get("forbidden_files") or {}
    if ff.get("enabled"):
        hits = sorted(p for p in spec.tree for g in ff.get("files", []) if _forbidden_match(g, p))
        if hits:
            found.append(("forbidden_file_present", f"{', '.join(hits)} matches {ff['files']}"))
    if (process.get("changesets") or {}).get("enabled") and ".changeset/config.json" not in spec.tree:
        found.append(("required_file_missing", ".changeset/config.json is missing ([process.changesets] enabled)"))
    ci = process.get("ci") or {}
    if ci.get("enabled"):
        for wf in ci.get("require_workflows", []):
            if f".github/workflows/{wf}" not in spec.tree:
                found.append(("required_workflow_missing", f".github/workflows/{wf} is missing"))
    return found


def _hooks_expectations(spec: _Spec, hooks: dict[str, Any]) -> list[tuple[str, str]]:
    """``hooks_missing`` when ``[process.hooks]`` wants husky and hooks the tree does not have."""
    if not (hooks.get("enabled") and hooks.get("require_husky", True)):
        return []
    wanted = [".husky/"] + [f".husky/{h}" for h in hooks.get("require_hooks", [])]
    missing = [
        p for p in wanted if not (any(t.startswith(p) for t in spec.tree) if p.endswith("/") else p in spec.tree)
    ]
    return [("hooks_missing", f"git hooks missing: {', '.join(missing)}")] if missing else []


def _branch_settings(rs: dict[str, Any], prot: dict[str, Any]) -> list[tuple[str, str]]:
    """The default branch's settings against the ``[process.repo.ruleset]`` table, read in full."""
    found: list[tuple[str, str]] = []
    if prot["reviews"] < rs.get("required_reviews", 0):
        found.append(
            (
                "required_reviews_too_low",
                f"expected {rs['required_reviews']} approving reviews, actual {prot['reviews']}",
            )
        )
    if rs.get("dismiss_stale_reviews") and not prot["dismiss"]:
        found.append(("stale_reviews_not_dismissed", "expected stale reviews dismissed on push, actual not"))
    if rs.get("require_code_owner_reviews") and not prot["code_owners"]:
        found.append(("code_owner_review_not_required", "expected code owner review"))
    missing = [c for c in rs.get("require_status_checks", []) if c not in prot["checks"]]
    if missing:
        found.append(
            (
                "status_checks_missing",
                f"expected status checks {rs['require_status_checks']}, actual {prot['checks']} (missing {missing})",
            )
        )
    if rs.get("require_branches_up_to_date") and not prot["strict"]:
        found.append(("branches_not_up_to_date", "expected strict status checks"))
    if rs.get("require_signed_commits") and not prot["signed"]:
        found.append(("signed_commits_not_required", "expected signed commits"))
    if rs.get("enforce_admins") and not prot["admins"]:
        found.append(("admins_not_enforced", "expected admins included"))
    if "bypass_actors" in rs:
        want = sorted((a["actor_type"], a.get("actor_id"), a.get("bypass_mode", "always")) for a in rs["bypass_actors"])
        have = sorted((a["actor_type"], a.get("actor_id"), a.get("bypass_mode", "always")) for a in prot["bypass"])
        if want != have:
            found.append(("bypass_actor_mismatch", f"expected bypass actors {want}, actual {have}"))
    return found


def _without_admin(spec: _Spec, rs: dict[str, Any], branch: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a scan whose token has no admin rights on the repo reports of its branch settings: classic
    protection (404) and the ruleset's bypass list (omitted) are unreadable, so what the repo
    ruleset's rules satisfy is judged, and the rest is ``process_not_evaluated``, never a violation."""
    out = [("process_not_evaluated", f"{rule}: {what}") for rule, what in branch]
    unseen = "the ruleset's bypass list is not readable without admin rights on the repo"
    if rs.get("enforce_admins") and all(rule != "admins_not_enforced" for rule, _ in branch):
        out.append(("process_not_evaluated", f"admins_not_enforced: whether admins may bypass ({unseen})"))
    if "bypass_actors" in rs and all(rule != "bypass_actor_mismatch" for rule, _ in branch):
        out.append(("process_not_evaluated", f"bypass_actor_mismatch: who may bypass ({unseen})"))
    return out


def _codeowners_rules(spec: _Spec, table: dict[str, Any]) -> list[tuple[str, str]]:
    """``codeowners_rule_mismatch`` per pattern whose owners differ from ``[process.codeowners]`` rules."""
    text = next((spec.tree[p] for p in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS") if p in spec.tree), None)
    if not table.get("enabled") or text is None:
        return []
    have: dict[str, list[str]] = {}
    for line in str(text).splitlines():
        parts = line.split("#", 1)[0].split()
        if parts:
            have[parts[0]] = parts[1:]
    want = {r["pattern"]: list(r["owners"]) for r in table.get("rules", [])}
    out = []
    for pattern in list(want) + [p for p in have if p not in want]:
        if have.get(pattern) != want.get(pattern) and (pattern in want or have[pattern]):
            out.append(
                (
                    "codeowners_rule_mismatch",
                    f"rule {pattern}: expected {want.get(pattern)}, found {have.get(pattern)}",
                )
            )
    return out


# -- scope and projects ---------------------------------------------------------------------------


def _projects(spec: _Spec) -> tuple[SeededProject, ...]:
    paths = set(spec.tree)
    dirs: dict[str, str] = {}
    for marker, lang in (("package.json", "typescript"), ("pyproject.toml", "python")):
        for p in sorted(paths):
            if p == marker or p.endswith("/" + marker):
                d = p[: -len(marker) - 1] if "/" in p else "."
                if any(part in {"node_modules", "dist", "build"} for part in d.split("/")):
                    continue
                if d in dirs:
                    continue
                if marker == "package.json" and json.loads(spec.tree[p]).get("workspaces"):
                    dirs[d] = "workspace-root"
                    continue
                dirs[d] = lang
    out = []
    for d, lang in sorted(dirs.items()):
        if lang == "workspace-root":
            continue
        prefix = "" if d == "." else d + "/"
        config = next((name for name in ("standards.toml", "check.toml") if prefix + name in paths), None)
        out.append(SeededProject(d, lang, config))
    return tuple(out)


def _scope(spec: _Spec) -> tuple[bool, str]:
    if spec.archived:
        return False, "archived"
    if spec.excluded:
        return False, "excluded by drift.config.yaml (legacy-*)"
    root_cfg = next((n for n in ("standards.toml", "check.toml") if n in spec.tree), None)
    has_meta = "repo-metadata.yaml" in spec.tree or (root_cfg == "standards.toml" and spec.metadata)
    if not has_meta and root_cfg is None:
        return False, "no repo metadata and no standards config"
    if not has_meta:
        return False, "no repo metadata (repo-metadata.yaml or standards.toml [metadata])"
    if root_cfg is None:
        return False, "no check.toml / standards.toml at the root"
    meta = "repo-metadata.yaml" if "repo-metadata.yaml" in spec.tree else "standards.toml [metadata]"
    return True, f"{meta} + {root_cfg}"
