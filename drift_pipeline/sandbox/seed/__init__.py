"""``drift sandbox seed``: a realistic demo organisation, with a scripted drift history.

``seed_org(state_dir, org=..., repos=..., days=..., seed=...)`` fills a sandbox state directory
(``SandboxState``: settings in ``state.json``, real bare git repositories on disk) with:

- ``standards-community``: the real community rulesets, verbatim, plus LICENSE and README;
- ``drift-config``: ``drift.config.yaml`` with ``exclude`` globs (``legacy-*``, ...);
- ``repos`` product repos (TypeScript services and frontends, Python services, a workspace
  monorepo) of every tier and status, extending the registry with tier-matching rulesets, some
  with ``standards.toml`` + ``[metadata]`` instead of ``repo-metadata.yaml`` + ``check.toml``;
- out-of-scope repos: config without metadata, no config at all, archived, ``legacy-*``;
- a history of ``days`` days ending at ``end_date`` (every repo's first commit lies before day
  1) with scripted drift events on fixed days, background source changes, and process
  settings (classic protection, repo rulesets, an org ruleset, a tag ruleset) that mostly
  follow each repo's ``[process.repo]`` table and deliberately do not in a few repos;
- optionally the AWS side (``deploy_org_infra``) for the repos that declare ``[infra]``.

Everything is a function of ``(org, repos, days, seed, end_date)``: commit dates are explicit,
randomness comes from ``random.Random`` seeded from ``seed`` (one stream per repo, so adding a
repo does not reshuffle the others), and the library never reads the clock. The returned
:class:`SeedReport` says what a scan of the result should find.

Modules: ``catalogue`` (the cast, repo specs), ``configs`` (their standards configs), ``trees`` (file trees),
``history`` (baseline, background and scripted commits), ``fastimport`` (``git fast-import``), ``settings``
(protection and rulesets, and their deliberate ``DEVIATIONS``), ``expectations`` (the oracle: scope,
projects, process findings), ``cases`` (every rule id's case with its day and cause, and the rule ids
seed data cannot show), ``report`` (``SeedReport`` and its rendering), ``repos`` (each repo planned, written
by git and recorded in the state, and the run's tallies), ``build`` (``seed_org``).
"""

from __future__ import annotations

from drift_pipeline.sandbox.seed.build import seed_org, update_readme
from drift_pipeline.sandbox.seed.catalogue import (
    DEFAULT_END_DATE,
    MIN_REPOS,
    REGISTRY_DATA,
    REGISTRY_REPO,
    TEAMS,
)
from drift_pipeline.sandbox.seed.history import scripted_days
from drift_pipeline.sandbox.seed.report import (
    README_BEGIN,
    README_END,
    README_STATE_DIR,
    SeededCase,
    SeededEvent,
    SeededProject,
    SeededRepo,
    SeedReport,
    readme_scenario,
)

__all__ = [
    "DEFAULT_END_DATE",
    "MIN_REPOS",
    "README_BEGIN",
    "README_END",
    "README_STATE_DIR",
    "REGISTRY_DATA",
    "REGISTRY_REPO",
    "TEAMS",
    "SeedReport",
    "SeededCase",
    "SeededEvent",
    "SeededProject",
    "SeededRepo",
    "readme_scenario",
    "scripted_days",
    "seed_org",
    "update_readme",
]
