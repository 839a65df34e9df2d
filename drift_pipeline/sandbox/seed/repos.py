"""Each repo of a seeding run: its commits planned, written by git on worker threads, recorded in the state.

``_Seeding`` also tallies what the recorded histories add up to (events, background commits,
process activity) and turns the tallies into the run's ``SeedReport``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sandbox.seed.cases import NOT_SCRIPTED, rule_cases
from drift_pipeline.sandbox.seed.catalogue import CONVENTIONAL, _Spec
from drift_pipeline.sandbox.seed.fastimport import _fast_import
from drift_pipeline.sandbox.seed.history import _background_commits, _baseline_commits, _Commit
from drift_pipeline.sandbox.seed.process_history import PrPlan, record_pulls
from drift_pipeline.sandbox.seed.report import SeededEvent, SeededProcessFinding, SeededRepo, SeedReport
from drift_pipeline.sandbox.seed.settings import _apply_settings
from drift_pipeline.sandbox.seed.trees import _initial_tree
from drift_pipeline.sources.gitutil import init_bare

_GIT_WORKERS = 2  # repositories written at once (git runs outside the GIL)
_AHEAD = 8  # repos planned ahead of the one whose state is being written

_Planned = list[tuple[_Commit, dict[str, str | bytes | None]]]  # a repo's commits, each with the files it changes


@dataclasses.dataclass
class _Seeding:
    """One seeding run: its parameters, and what the repos' histories add up to as each is recorded."""

    state: SandboxState
    org: str
    seed: int
    start: date
    days: int
    scripted: dict[str, list[_Commit]]
    plans: dict[int, PrPlan]  # id(_Commit) -> how it reaches the default branch
    baseline_cfgs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # config on day 1
    events: dict[str, SeededEvent] = dataclasses.field(default_factory=dict)
    ev_order: list[str] = dataclasses.field(default_factory=list)
    background: list[SeededEvent] = dataclasses.field(default_factory=list)
    process_found: list[SeededProcessFinding] = dataclasses.field(default_factory=list)
    pull_requests: int = 0
    bad_messages: dict[str, date] = dataclasses.field(default_factory=dict)  # repo -> day of its first bad message

    @property
    def window_start(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=UTC)

    def write_all(self, specs: list[_Spec]) -> None:
        """Every repo planned here, written by git on a worker thread while the next ones are planned.

        The state is changed in the repos' order only (ids stay what a serial seeding gives), a few
        repos ahead at most (memory stays flat with the org's size).
        """
        pending: deque[tuple[_Spec, _Planned, Future[list[str]]]] = deque()
        with ThreadPoolExecutor(max_workers=_GIT_WORKERS, thread_name_prefix="seed-git") as pool:
            for item in [*specs, None]:
                if item is not None:
                    planned = self.plan(item)
                    pending.append((item, planned, pool.submit(self.write, item, planned)))
                    if len(pending) < _AHEAD:
                        continue
                while pending and (item is None or len(pending) >= _AHEAD):
                    self.record(*pending.popleft())

    def plan(self, spec: _Spec) -> _Planned:
        """A repo's commits and the files each changes (its tree and baseline config kept on the spec)."""
        rng = random.Random(f"{self.seed}:{self.org}:{spec.name}")
        spec.tree = {}
        initial = _initial_tree(spec, self.org)
        commits = _baseline_commits(spec, self.start, rng, self.org)
        commits[0].change = functools.partial(_copy_of, initial)
        commits += _background_commits(spec, self.start, self.days, rng, self.org) + self.scripted.get(spec.name, [])
        commits.sort(key=lambda c: c.when)
        planned: _Planned = []
        for c in commits:
            if c.when >= self.window_start and not self.baseline_cfgs.get(spec.name):
                self.baseline_cfgs[spec.name] = json.loads(json.dumps(spec.cfg))
            files = c.change(spec)
            for path, content in files.items():
                if content is None:
                    spec.tree.pop(path, None)
                else:
                    spec.tree[path] = content
            planned.append((c, files))
        return planned

    def write(self, spec: _Spec, planned: _Planned) -> list[str]:
        """The repo's bare repository with its whole history (git only: runs on a worker thread)."""
        git_dir = init_bare(self.state.repo_git_dir(self.org, spec.name), spec.default_branch)
        return _fast_import(
            git_dir, spec.default_branch, [(files, c.message, c.author, c.when) for c, files in planned]
        )

    def record(self, spec: _Spec, planned: _Planned, shas: Future[list[str]]) -> None:
        """The repo in the state with its settings and pull requests, its commits in the tallies."""
        self.state.create_repo(
            self.org,
            spec.name,
            default_branch=spec.default_branch,
            private=spec.private,
            archived=spec.archived,
            description=spec.description,
            created_at=planned[0][0].when,
            init=False,
        )
        spec.shas = shas.result()
        window = []
        for (c, files), sha in zip(planned, spec.shas, strict=True):
            if c.when >= self.window_start:
                spec.window_messages.append(c.message)
                if not CONVENTIONAL.match(c.message):
                    self.bad_messages.setdefault(spec.name, c.when.date())
                window.append((sha, c.message, c.author, c.when, self.plans.get(id(c), PrPlan())))
            self.tally_events(spec, c, files, sha)
        self.baseline_cfgs.setdefault(spec.name, json.loads(json.dumps(spec.cfg)))
        _apply_settings(self.state, self.org, spec, self.baseline_cfgs[spec.name])
        if spec.product:  # product repos work through pull requests; the others are pushed to
            self.process_found += record_pulls(self.state, self.org, spec, window)
            self.pull_requests += sum(not plan.direct for *_, plan in window)

    def tally_events(self, spec: _Spec, c: _Commit, files: dict[str, str | bytes | None], sha: str) -> None:
        """The drift (or background) events of one commit; a follow-up commit extends its earlier event."""
        for kind, project, description in c.events:
            ev = SeededEvent(c.when.date(), spec.name, project, kind, tuple(sorted(files)), (sha,), description)
            if c.background:
                self.background.append(ev)
                continue
            key = f"{c.event_key or sha}:{kind}"
            self.events[key] = ev
            self.ev_order.append(key)
        if c.event_key and not c.events:  # a follow-up commit of an earlier event
            for key in [k for k in self.events if k.startswith(c.event_key + ":")]:
                old = self.events[key]
                self.events[key] = dataclasses.replace(
                    old,
                    paths=tuple(sorted(set(old.paths) | set(files))),
                    commit_shas=old.commit_shas + (sha,),
                )

    def report(
        self,
        state_dir: Path,
        end: date,
        repos: tuple[SeededRepo, ...],
        expectations: dict[str, tuple[str, ...]],
        details: dict[str, tuple[str, ...]],
        aws: str | None,
        infra_cases: tuple[tuple[str, str, str], ...],
    ) -> SeedReport:
        """The run's ``SeedReport``: the repos' oracle, the tallied events and activity, the AWS scenario."""
        ordered = sorted((self.events[k] for k in dict.fromkeys(self.ev_order)), key=lambda e: (e.day, e.repo, e.kind))
        first_bad = {(name, "commit_convention_violated"): day for name, day in self.bad_messages.items()}
        activity = tuple(sorted(self.process_found, key=lambda f: (f.day, f.repo, f.rule)))
        return SeedReport(
            org=self.org,
            state_dir=str(state_dir),
            start_date=self.start,
            end_date=end,
            days=self.days,
            seed=self.seed,
            repos=repos,
            events=tuple(ordered),
            background_commits=tuple(sorted(self.background, key=lambda e: (e.day, e.repo))),
            process_expectations=expectations,
            process_details=details,
            aws=aws,
            process_activity=activity,
            pull_requests=self.pull_requests,
            cases=rule_cases(end, tuple(ordered), details, tuple(self.process_found), infra_cases, first_bad),
            not_scripted=dict(NOT_SCRIPTED),
        )


def _copy_of(files: dict[str, str | bytes], _spec: _Spec) -> dict[str, str | bytes | None]:
    """The change of a repo's first commit: its whole initial tree."""
    return dict(files)
