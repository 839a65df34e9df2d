"""What the default branch's tree must and must not hold: CODEOWNERS, required and forbidden files,
required workflows and their jobs, git hooks."""

from __future__ import annotations

import re

from drift_pipeline.core.rules.process.common import Context
from drift_pipeline.core.rules.process.records import NotReadable, ProcessSettings
from drift_pipeline.core.standards.globs import GlobError, glob_match
from drift_pipeline.core.standards.process_model import CODEOWNERS_PATHS, RequiredWorkflow

_COMMENT = re.compile(r"(?<!\\)#.*$")
WORKFLOW_DIR = ".github/workflows/"


def parse_codeowners(text: str) -> dict[str, tuple[int, tuple[str, ...]]]:
    """``pattern -> (line, owners)``; GitHub uses the last line for a pattern, so the last one wins."""
    rules: dict[str, tuple[int, tuple[str, ...]]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = _COMMENT.sub("", raw).split()
        if tokens:
            rules[tokens[0]] = (number, tuple(tokens[1:]))
    return rules


def _tree_missing(ctx: Context, settings: ProcessSettings, setting: str, rule: str, expected: object) -> bool:
    if settings.tree is not None:
        return False
    why = settings.unreadable("tree") or [NotReadable("tree", "default branch tree not read")]
    ctx.not_evaluated(setting, rule, expected, why)
    return True


def _present(tree: frozenset[str], path: str) -> bool:
    if path.endswith("/"):
        return any(p.startswith(path) for p in tree)
    return path in tree


def codeowners_findings(ctx: Context, settings: ProcessSettings) -> None:
    exp = ctx.exp
    wanted = exp.require_codeowners or exp.codeowners_rules is not None
    if not (wanted or exp.require_code_owner_reviews):
        return
    path = settings.codeowners_path
    if path is None and settings.tree is not None:
        path = next((p for p in CODEOWNERS_PATHS if p in settings.tree), None)
    if path is None:
        if not wanted:
            return
        expected = {"one_of": list(CODEOWNERS_PATHS)}
        if not _tree_missing(ctx, settings, "codeowners", "codeowners_missing", expected):
            ctx.add(
                "codeowners_missing",
                "codeowners",
                f"no CODEOWNERS file ({', '.join(CODEOWNERS_PATHS)})",
                expected,
                None,
            )
        return
    invalid = [
        {"kind": e.kind, "line": e.line, "message": e.message, "source": "github"}
        for e in settings.codeowners_errors or ()
    ]
    if settings.codeowners_content is not None:
        invalid += [
            {"kind": "No owners", "line": line, "message": f"pattern {pattern} has no owners", "source": "content"}
            for pattern, (line, owners) in parse_codeowners(settings.codeowners_content).items()
            if not owners
        ]
    if settings.codeowners_errors is None:
        why = settings.unreadable("codeowners_errors") or [NotReadable("codeowners_errors", "not read")]
        ctx.not_evaluated("codeowners_errors", "codeowners_invalid", "no errors", why)
    if invalid:
        invalid.sort(key=lambda e: (e["line"] or 0, e["kind"]))
        first = invalid[0]
        more = f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else ""
        ctx.add(
            "codeowners_invalid",
            path,
            f"{path}:{first['line'] or '?'}: {first['kind']}: {first['message']}{more}",
            "no errors",
            invalid,
        )
    if exp.codeowners_rules is not None:
        _rule_findings(ctx, settings, path)


def _rule_findings(ctx: Context, settings: ProcessSettings, path: str) -> None:
    assert ctx.exp.codeowners_rules is not None
    if settings.codeowners_content is None:
        why = settings.unreadable("codeowners_content") or [NotReadable("codeowners_content", f"{path} not read")]
        ctx.not_evaluated(
            "codeowners_rules",
            "codeowners_rule_mismatch",
            [{"pattern": r.pattern, "owners": list(r.owners)} for r in ctx.exp.codeowners_rules],
            why,
        )
        return
    have = parse_codeowners(settings.codeowners_content)
    configured = {r.pattern: r.owners for r in ctx.exp.codeowners_rules}
    for pattern in list(configured) + [p for p in have if p not in configured]:
        want = configured.get(pattern)
        line, owners = have.get(pattern, (None, None))
        if want is not None and owners == want:
            continue
        if want is None and not owners:
            continue  # a pattern without owners that the standard does not list: codeowners_invalid says it
        if want is None:
            problem = "not in the standard"
        elif owners is None:
            problem = "missing"
        elif not owners:
            problem = "has no owners (malformed line)"
        else:
            problem = "owners differ"
        where = f"{path}:{line}" if line else path
        ctx.add(
            "codeowners_rule_mismatch",
            f"{path}:{pattern}",
            f"{where}: rule {pattern} {problem}: expected {list(want) if want is not None else 'no rule'}, "
            f"found {list(owners) if owners is not None else 'no rule'}",
            list(want) if want is not None else None,
            list(owners) if owners is not None else None,
            pattern=pattern,
            line=line,
            file=path,
        )


def _matches(pattern: str, path: str) -> bool:
    try:
        return glob_match(pattern, path)
    except GlobError:
        return False  # refused by the strict schema already; never crash on it


def tree_findings(ctx: Context, settings: ProcessSettings) -> None:
    exp = ctx.exp
    if exp.forbidden_files and not _tree_missing(
        ctx, settings, "forbidden_files", "forbidden_file_present", list(exp.forbidden_files)
    ):
        assert settings.tree is not None
        for path in sorted(settings.tree):
            hit = next((g for g in exp.forbidden_files if _matches(g, path)), None)
            if hit is None or any(_matches(i, path) for i in exp.forbidden_ignore):
                continue
            ctx.add(
                "forbidden_file_present",
                path,
                f"{path} is forbidden ({hit})" + (f": {exp.forbidden_message}" if exp.forbidden_message else ""),
                "absent",
                "present",
                glob=hit,
            )
    if exp.required_files and not _tree_missing(
        ctx, settings, "required_files", "required_file_missing", [list(r.paths) for r in exp.required_files]
    ):
        assert settings.tree is not None
        for req in exp.required_files:
            if not any(_present(settings.tree, p) for p in req.paths):
                ctx.add(
                    "required_file_missing",
                    req.paths[0],
                    f"{' or '.join(req.paths)} missing (needed by {req.key})",
                    {"one_of": list(req.paths)},
                    None,
                    key=req.key,
                )
    if exp.required_workflows and not _tree_missing(
        ctx, settings, "required_workflows", "required_workflow_missing", [w.name for w in exp.required_workflows]
    ):
        for wf in exp.required_workflows:
            _workflow(ctx, settings, wf)
    if (
        exp.hooks is not None
        and exp.hooks.require_husky
        and not _tree_missing(
            ctx, settings, "hooks", "hooks_missing", {"husky": True, "hooks": list(exp.hooks.require_hooks)}
        )
    ):
        assert settings.tree is not None
        wanted = [".husky/"] + [f".husky/{h}" for h in exp.hooks.require_hooks]
        missing = [p for p in wanted if not _present(settings.tree, p)]
        if missing:
            ctx.add(
                "hooks_missing",
                "hooks",
                f"git hooks missing: {', '.join(missing)}",
                {"husky": True, "hooks": list(exp.hooks.require_hooks)},
                {"missing": missing},
            )


def workflow_candidates(name: str) -> tuple[str, ...]:
    """The tree paths a configured workflow name may refer to."""
    path = name if "/" in name else WORKFLOW_DIR + name
    if path.endswith((".yml", ".yaml")):
        return (path,)
    return (path + ".yml", path + ".yaml")


def _workflow(ctx: Context, settings: ProcessSettings, wf: RequiredWorkflow) -> None:
    assert settings.tree is not None
    candidates = workflow_candidates(wf.name)
    path = next((p for p in candidates if p in settings.tree), None)
    expected = {"workflow": wf.name, "jobs": list(wf.jobs)}
    if path is None:
        ctx.add(
            "required_workflow_missing",
            candidates[0],
            f"workflow {wf.name} missing ({wf.key})",
            expected,
            None,
            key=wf.key,
        )
        return
    if not wf.jobs:
        return
    seen = settings.workflows.get(path)
    if seen is None:
        why = settings.unreadable(path) or [NotReadable(path, "workflow file not read")]
        ctx.not_evaluated(path, "required_workflow_missing", expected, why)
        return
    if seen.jobs is None:
        ctx.add(
            "required_workflow_missing",
            path,
            f"{path} could not be parsed: {seen.error or 'invalid'}",
            expected,
            {"error": seen.error},
            key=wf.key,
        )
        return
    missing = [j for j in wf.jobs if j not in seen.jobs]
    if missing:
        ctx.add(
            "required_workflow_missing",
            path,
            f"{path} lacks job(s) {', '.join(missing)}",
            expected,
            {"workflow": path, "jobs": list(seen.jobs)},
            missing_jobs=missing,
            key=wf.key,
        )
