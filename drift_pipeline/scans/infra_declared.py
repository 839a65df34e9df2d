"""The declared side of infra drift: one repo's ``[infra]``, templates and manifest at each env's deployed commit.

Per in-scope repo (the day's inventory row), through the source like every scan: the tree at the
day's head, the standards engine over it (registries through ``[extends]``), and for each project
declaring ``[infra]``:

- the commit deployed to each env: the ``drift:commit`` tag of the env's deployed stack when it has
  one, else the trunk-based convention of ``[infra.deploy]`` (``standards.infra_manifest.deployed_commits``:
  dev = head of the default branch, staging = newest ``v*-rc*`` tag, prod = newest ``v*`` tag without
  a suffix), the repo's tags read through ``sources.github_tags`` (only when an env needs them; for a
  past day only tags whose commit existed by the end of that day). No matching tag, or tags that
  cannot be read, means nothing is deployed there by the convention: nothing is expected (never a
  false ``resource_missing``), and ``deployed_from`` says why;
- the templates ``<path>/<stack>.json`` (or ``.yaml`` / ``.yml`` / ``.template``: ``scans.infra_templates``)
  as committed at that commit (a stack whose template is not in that commit is not expected in that
  env: it was added after the deployment);
- the manifest (``[infra] manifest``, config-relative) as committed at each env's deployed commit,
  with every entry's line (its problems, and its account-less entries, from the head);
- ``[process.backups]`` (bucket, prefix, max_age_hours).

A malformed manifest or template is an ``invalid_config`` problem with file and line; the repo's
other declarations are still judged.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drift_pipeline.core.errors import SourceError
from drift_pipeline.core.rules.infra.records import (
    TAG_COMMIT,
    AccountInventory,
    BackupExpectation,
    ExpectedEnv,
    ObservedStack,
    RepoInfra,
)
from drift_pipeline.core.rules.infra.template import expected_env
from drift_pipeline.core.standards import RegistryResolver, analyse_repo
from drift_pipeline.core.standards.infra_deploy import Deployment, GitRefs, deployed_commits
from drift_pipeline.core.standards.infra_manifest import (
    InfraDeclaration,
    Manifest,
    ManifestEntry,
    infra_declaration,
    parse_manifest,
)
from drift_pipeline.scans.infra_templates import EXTENSIONS, parse_template
from drift_pipeline.scans.reading import CodeSource, SourceRegistryFetcher, SourceTreeReader
from drift_pipeline.sources.github_tags import TagReader
from drift_pipeline.sources.records import RepoRecord


@dataclass
class Declared:
    """One repo's declared infra: a record per project with ``[infra]``, its rows and problems."""

    repos: list[RepoInfra] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # declared_infra rows
    problems: list[dict[str, Any]] = field(default_factory=list)  # invalid_config: project, file, line, key, message


def _problem(project: str, file: str, line: int | None, key: str | None, message: str) -> dict[str, Any]:
    return {"project": project, "file": file, "line": line, "key": key, "message": message}


def _join(project: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(project, path)) if project != "." else posixpath.normpath(path)
    return joined.lstrip("/")


def _template(tree: SourceTreeReader, base: str, project: str, out: Declared) -> Mapping[str, Any] | None:
    """The stack's template at ``base`` + the first extension the tree has (JSON or YAML)."""
    for ext in EXTENSIONS:
        text = tree.read_text(base + ext)
        if text is None:
            continue
        data, problem = parse_template(base + ext, text)
        if problem is not None:
            found = _problem(project, base + ext, *problem)
            if found not in out.problems:  # one per file, however many envs run that commit
                out.problems.append(found)
        return data
    return None


def _stack_commits(
    decl: InfraDeclaration, accounts: Mapping[str, str], observed: Mapping[str, AccountInventory]
) -> tuple[dict[str, str | None], dict[str, dict[str, ObservedStack]]]:
    """Per env: the commit tag of its deployed stacks (first found), and the deployed stacks by name."""
    commits: dict[str, str | None] = {}
    deployed: dict[str, dict[str, ObservedStack]] = {}
    for env, account in accounts.items():
        inv = observed.get(account)
        by_name = {s.name: s for s in inv.stacks} if inv else {}
        deployed[env] = by_name
        tagged = [by_name[f"{s}-{env}"].tags.get(TAG_COMMIT) for s in decl.stacks if f"{s}-{env}" in by_name]
        commits[env] = next((c for c in tagged if c), None)
    return commits, deployed


def declare_repo(
    source: CodeSource,
    fetcher: SourceRegistryFetcher,
    org: str,
    row: Mapping[str, Any],
    *,
    accounts: Mapping[str, str],
    observed: Mapping[str, AccountInventory],
    region: str,
    tags: TagReader | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Declared:
    """What one repo declares per env (raises on an unreadable tree: the caller records the failure).

    ``tags`` reads the repo's release tags (None: a source without tags; tag conventions then find
    nothing); ``until`` is the end of the scanned day and ``now`` the scan instant."""
    name, head = row["repo"], row["head_sha"]
    owner = row.get("owner") or org
    full = f"{owner}/{name}"
    tree = SourceTreeReader(source, full, source.tree(full, head))
    standards = analyse_repo(tree, RegistryResolver(fetcher=fetcher.for_repo()))
    out = Declared()
    trees = _Trees(source, full, tree, {head: tree})
    base = f"{row['html_url']}/commit/" if row.get("html_url") else None
    for project in standards.projects:
        decl = infra_declaration(project.config or {})
        if decl is None:
            continue
        # the repo's own account map (or the pipeline's), limited to the envs this scan reads
        envs_accounts = {e: a for e, a in (dict(decl.accounts) or dict(accounts)).items() if e in accounts}
        commits, deployed = _stack_commits(decl, envs_accounts, observed)
        plan = _deployment_plan(source, tags, full, row, decl, commits, envs_accounts, until, now)
        manifest = _manifest(tree, project.path, decl, out)
        envs: list[ExpectedEnv] = []
        for env, account in envs_accounts.items():
            dep = plan[env]
            expected = _expected_env(trees, project.path, decl, env, account, dep, manifest, deployed, region, out)
            envs.append(expected)
            out.rows += _rows(name, project.path, expected, dep)
        out.repos.append(
            RepoInfra(
                org=org,
                repo=name,
                project=project.path,
                status=project.metadata.status,
                tier=project.metadata.tier,
                envs=tuple(envs),
                backups=_backups(project.config or {}),
                manifest_file=manifest.file if manifest else None,
                manifest_anywhere=manifest.accountless() if manifest else (),
                commit_url_base=base,
            )
        )
    return out


@dataclass
class _Trees:
    """One repo's trees by commit, each read once (the head's first: the standards are read there)."""

    source: CodeSource
    full: str
    head: SourceTreeReader
    read: dict[str, SourceTreeReader]

    def at(self, commit: str) -> SourceTreeReader:
        found = self.read.get(commit)
        if found is None:
            found = self.read[commit] = SourceTreeReader(self.source, self.full, self.source.tree(self.full, commit))
        return found


def _deployment_plan(
    source: CodeSource,
    tags: TagReader | None,
    full: str,
    row: Mapping[str, Any],
    decl: InfraDeclaration,
    commits: Mapping[str, str | None],
    envs: Mapping[str, str],
    until: datetime | None,
    now: datetime | None,
) -> dict[str, Deployment]:
    """Per env, the commit deployed there: its stacks' commit tag (``commits``), else the convention."""
    refs = _git_refs(source, tags, full, row, decl, commits, envs, until)
    existed = tags.existed_by(full, until, now) if tags and until and now and refs.tags else None
    return deployed_commits(refs, envs=tuple(envs), convention=decl.deploy, stack_commits=commits, existed=existed)


def _expected_env(
    trees: _Trees,
    project: str,
    decl: InfraDeclaration,
    env: str,
    account: str,
    dep: Deployment,
    manifest: Manifest | None,
    deployed: Mapping[str, Mapping[str, ObservedStack]],
    region: str,
    out: Declared,
) -> ExpectedEnv:
    """What ``env`` should hold: the stacks' templates and the manifest's entries for its account,
    as committed at its deployed commit (nothing without one; template problems into ``out``)."""
    templates: dict[str, Mapping[str, Any]] = {}
    entries: tuple[ManifestEntry, ...] = ()
    if dep.commit:
        at = trees.at(dep.commit)
        for stack in decl.stacks:
            base_name = _join(project, posixpath.join(decl.path or "infra", stack))
            found = _template(at, base_name, project, out)
            if found is not None:
                templates[stack] = found
        # the manifest as committed at the env's deployed commit (its problems: the head's)
        deployed_manifest = manifest if at is trees.head else _manifest(at, project, decl, None)
        entries = deployed_manifest.for_account(account) if deployed_manifest else ()
    return expected_env(env, account, dep.commit, templates, deployed.get(env, {}), region=region, manifest=entries)


def _git_refs(
    source: CodeSource,
    tags: TagReader | None,
    full: str,
    row: Mapping[str, Any],
    decl: InfraDeclaration,
    commits: Mapping[str, str | None],
    envs: Mapping[str, str],
    until: datetime | None,
) -> GitRefs:
    """The branch heads and tags the convention needs for the envs without a stack commit tag."""
    branch = row.get("default_branch") or "main"
    heads: dict[str, str] = {branch: row["head_sha"]}
    rules = [decl.deploy.get(env) for env in envs if not commits.get(env)]
    for rule in rules:
        if rule is not None and rule.kind == "branch" and rule.pattern and rule.pattern not in heads and until:
            owner, _, name = full.partition("/")
            other = RepoRecord(org=owner, name=name, owner=owner, default_branch=rule.pattern)
            try:
                head = source.head_at(other, until)
            except SourceError:
                head = None
            if head is not None:
                heads[rule.pattern] = head.sha
    found: Mapping[str, str] = {}
    if tags is not None and any(r is not None and r.kind == "tag" for r in rules):
        try:
            found = tags.tags(full).tags
        except SourceError as exc:
            raise SourceError(f"{full}: its tags (for the deployed commits) could not be read: {exc}") from exc
    return GitRefs(heads=heads, tags=found, default_branch=branch)


def _manifest(tree: SourceTreeReader, project: str, decl: InfraDeclaration, out: Declared | None) -> Manifest | None:
    """The manifest in ``tree`` (its problems recorded in ``out`` when given)."""
    if not decl.manifest:
        return None
    file = _join(project, decl.manifest)
    text = tree.read_text(file)
    if text is None:
        return None
    manifest, problems = parse_manifest(file, text)
    if out is not None:
        out.problems += [_problem(project, p.file, p.line, p.key, p.message) for p in problems]
    return manifest


def _backups(config: Mapping[str, Any]) -> BackupExpectation | None:
    process = config.get("process")
    backups = process.get("backups") if isinstance(process, Mapping) else None
    if not isinstance(backups, Mapping) or not backups.get("enabled") or not backups.get("bucket"):
        return None
    return BackupExpectation(
        bucket=str(backups["bucket"]),
        prefix=str(backups.get("prefix") or ""),
        max_age_hours=int(backups.get("max_age_hours") or 24),
    )


def _deployed_from(dep: Deployment) -> str:
    """``stack_tag``, ``tag:v1.2.0``, ``branch:main``: where the env's deployed commit came from."""
    return f"{dep.source}:{dep.ref}" if dep.ref else dep.source


def _rows(repo: str, project: str, env: ExpectedEnv, dep: Deployment) -> list[dict[str, Any]]:
    common: dict[str, Any] = {
        "repo": repo,
        "project": project,
        "env": env.env,
        "account": env.account,
        "deployed_commit": env.commit,
        "deployed_from": _deployed_from(dep) if env.commit else f"none: {dep.note}" if dep.note else "none",
    }
    rows: list[dict[str, Any]] = []
    for stack in env.stacks:
        if not stack.deployed:
            rows.append({**common, "stack": stack.stack, "stack_name": stack.name, "source": "stack_not_deployed"})
        for r in stack.resources:
            rows.append(
                {
                    **common,
                    "stack": stack.stack,
                    "stack_name": stack.name,
                    "logical_id": r.logical_id,
                    "type": r.type,
                    "physical_id": r.physical_id,
                    "arn": r.arn,
                    "properties": dict(r.attributes),
                    "source": "stack",
                }
            )
    for entry in env.manifest:
        rows.append({**common, "arn": entry.resource, "source": "manifest", "line": entry.line})
    return rows
