"""What the process scan reads of one repo's live settings: only what the repo's expectations need.

The settings the rules judge come from a handful of GitHub reads per repo. Each is made only when
an expectation can depend on it, and a read left out is said, never implied:

- the default branch's effective rules (``/rules/branches/{b}``) and classic protection
  (``/branches/{b}/protection``), only when the repo expects a default-branch setting at all;
- the full rulesets a branch rule names (``/rulesets/{id}``: name, bypass list), only when the
  rules alone do not settle every expected setting (the bypass list, a violated setting's
  sources, are in the full ruleset);
- classic protection, only when the rules (with their rulesets) do not already satisfy every
  expected setting: a source more can only add to what already passes, so it can change no verdict;
- tag rulesets, only with a tag protection expectation;
- CODEOWNERS errors and text, only with a CODEOWNERS expectation (``require_codeowners``, rules,
  code owner reviews) and a CODEOWNERS file.

A read left out is a ``skipped`` entry (setting -> why), which becomes a ``process_settings`` row
of state ``skipped``; in the record the rules judge it is "not read" (``None``, or a classic
protection ``not_readable`` with the reason), never "absent" or "none": if the expectations did
depend on it, the rules would say "not evaluated", not pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from drift_pipeline.core.redaction import mask_secrets
from drift_pipeline.core.rules.process.records import (
    BranchRule,
    ClassicProtection,
    NotReadable,
    ProcessSettings,
    Ruleset,
    Workflow,
)
from drift_pipeline.core.rules.process.settings import branch_statuses
from drift_pipeline.core.standards.process_model import CODEOWNERS_PATHS, ProcessExpectations
from drift_pipeline.scans.reading import SourceTreeReader
from drift_pipeline.sources.github_process import ProcessReader

SKIPPED = "skipped"  # the state of a process_settings row for a read the expectations did not need
NO_BRANCH_EXPECTATION = "not read: the repo's standards expect no default-branch setting"
SETTLED_BY_RULES = "not read: the branch rules settle every expected default-branch setting without it"
SETTLED_WITHOUT_CLASSIC = "not read: the rulesets satisfy every expected default-branch setting"
NO_TAG_EXPECTATION = "not read: the repo's standards expect no tag protection"
NO_CODEOWNERS_EXPECTATION = "not read: the repo's standards expect nothing of CODEOWNERS"


@dataclass
class SettingsRead:
    """The settings as read, what went unread because the token may not, and what was skipped."""

    branch_rules: tuple[BranchRule, ...] | None = None
    rulesets: dict[int, Ruleset] = field(default_factory=dict)
    classic: ClassicProtection = field(default_factory=lambda: _unread(NO_BRANCH_EXPECTATION))
    missing: list[NotReadable] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _unread(why: str) -> ClassicProtection:
    return ClassicProtection(state="not_readable", reason=why)


def settled(settings: ProcessSettings, exp: ProcessExpectations) -> bool:
    """Every expected default-branch setting is satisfied by what ``settings`` holds (none expected: False)."""
    statuses = branch_statuses(settings, exp)
    return bool(statuses) and all(s.state == "ok" for s in statuses)


def read_branch(reader: ProcessReader, full: str, branch: str, head: str, exp: ProcessExpectations) -> SettingsRead:
    """The default branch's protective sources, read as far as the expectations need them."""
    out = SettingsRead()
    if not exp.expects_branch_settings:
        out.skipped.update(branch_rules=NO_BRANCH_EXPECTATION, classic_protection=NO_BRANCH_EXPECTATION)
        return out
    protected = reader.branch_protected(full, branch, head)
    known_classic = reader.classic(full, branch, protected) if protected is False else None  # no request
    rules = reader.branch_rules(full, branch)
    if isinstance(rules, NotReadable):
        out.missing.append(rules)
    else:
        out.branch_rules = rules
    draft = ProcessSettings(
        default_branch=branch, branch_rules=out.branch_rules, classic=known_classic or _unread(SETTLED_BY_RULES)
    )
    named = {r.ruleset_id: r for r in out.branch_rules or ()}
    if named and settled(draft, exp):
        out.skipped.update({f"ruleset {rid}": SETTLED_BY_RULES for rid in named})
    else:
        for rid, rule in named.items():
            found = reader.ruleset(full, rule)
            if isinstance(found, NotReadable):
                out.missing.append(found)
            else:
                out.rulesets[rid] = found
    if known_classic is not None:
        out.classic = known_classic
    elif out.branch_rules and settled(dataclasses.replace(draft, rulesets=out.rulesets), exp):
        out.classic = _unread(SETTLED_WITHOUT_CLASSIC)
        out.skipped["classic_protection"] = SETTLED_WITHOUT_CLASSIC
    else:
        out.classic = reader.classic(full, branch, protected)
    return out


def read_settings(
    reader: ProcessReader,
    full: str,
    branch: str,
    head: str,
    tree: SourceTreeReader,
    exp: ProcessExpectations,
    workflows: Mapping[str, Workflow],
) -> tuple[ProcessSettings, dict[str, str]]:
    """The repo's settings for the rules, and the reads skipped (setting -> why)."""
    got = read_branch(reader, full, branch, head, exp)
    tags: tuple[Ruleset, ...] | NotReadable | None = None
    if exp.tag_protection is None:
        got.skipped["tag_rulesets"] = NO_TAG_EXPECTATION
    else:
        tags = reader.tag_rulesets(full)
        if isinstance(tags, NotReadable):
            got.missing.append(tags)
    paths = frozenset(tree.list_paths())
    co_path = next((p for p in CODEOWNERS_PATHS if p in paths), None)
    wanted = exp.require_codeowners or exp.codeowners_rules is not None or exp.require_code_owner_reviews
    co_errors: object = ()
    co_text = None
    if co_path and not wanted:
        got.skipped["codeowners_errors"] = NO_CODEOWNERS_EXPECTATION
        co_errors = None
    elif co_path:
        co_errors = reader.codeowners_errors(full, head)
        if isinstance(co_errors, NotReadable):
            got.missing.append(co_errors)
        co_text = mask_secrets(tree.read_text(co_path) or "")
    settings = ProcessSettings(
        default_branch=branch,
        branch_rules=got.branch_rules,
        rulesets=got.rulesets,
        classic=got.classic,
        tag_rulesets=tags if isinstance(tags, tuple) else None,
        tree=paths,
        codeowners_path=co_path,
        codeowners_content=co_text,
        codeowners_errors=co_errors if isinstance(co_errors, tuple) else None,
        workflows=dict(workflows),
        not_readable=tuple(got.missing),
    )
    return settings, got.skipped
