"""A repo's own pattern cannot stall the org: config patterns run in linear time (RE2).

Through the real ``drift`` CLI in a subprocess against the sandbox over HTTP, with a timeout, so
a pattern that makes a backtracking engine run for hours fails this suite instead of hanging it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drift_pipeline.core.standards.globs import glob_error, glob_match
from drift_pipeline.core.standards.loader import load_config
from drift_pipeline.core.standards.patterns import PatternError, compile_pattern, pattern_error, search
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.pipeline.processfixture import ALICE, DAY, START, at

META = "tier: production\nstatus: active\nteam: core\n"
STALL_SUBJECT = "a" * 40 + "!"
LONG_NAME = "a" * 100  # a file name the glob below backtracks on for hours in Python's re
SLOW_GLOB = "*a" * 10 + "*b"
CONFIGS = {
    # a commit pattern and a ticket pattern that backtrack exponentially on the day's commit
    "stall": '[process.commits]\nenabled = true\npattern = "^(a+)+$"\n\n'
    '[process.tickets]\nenabled = true\npattern = "^(a|a)+$"\nrequire_in_commits = true\n',
    # a glob that backtracks polynomially (ten stars) on a file of the tree, next to one that matches
    "globstall": f'[process.forbidden_files]\nenabled = true\nfiles = ["{SLOW_GLOB}", "*.secret"]\n',
    # lookbehind: RE2 refuses it, so the config is invalid (and says where)
    "lookbehind": '[process.commits]\nenabled = true\npattern = "(?<=feat): .+"\n',
    # well-behaved: a plain convention violation
    "good": '[process.commits]\nenabled = true\ntypes = ["feat"]\n',
}
DAY_COMMITS = {"stall": STALL_SUBJECT, "globstall": "feat: more", "lookbehind": "feat: x", "good": "oops"}
LOOKBEHIND_KEY = "process.commits.pattern"


def _build(root: Path) -> SandboxState:
    state = SandboxState.open(root)
    state.add_org("acme")
    state.add_user("alice", name="Alice Doe", emails=["alice@example.com"])
    for name, config in CONFIGS.items():
        path = state.create_repo("acme", name)
        files: dict[str, str | bytes | None] = {
            "check.toml": config,
            "repo-metadata.yaml": META,
            "pyproject.toml": "[project]\nname = 'x'\n",
        }
        if name == "globstall":
            files[LONG_NAME] = files["x.secret"] = "x\n"
        commit_files(path, "main", files, "feat: initial", ALICE, at(START, 9))
        day: dict[str, str | bytes | None] = {"day.txt": f"{name}\n"}
        if name == "good":
            day["check.toml"] = config + "max_subject_length = 72\n"  # a code finding of the day
        commit_files(path, "main", day, DAY_COMMITS[name], ALICE, at(DAY, 10))
    state.save()
    return state


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[GitHubSandbox]:
    state = _build(tmp_path_factory.mktemp("patterns"))
    with GitHubSandbox(state.root) as server:
        yield server


def drift(server: GitHubSandbox, tmp_path: Path, *args: str, timeout: float = 90) -> tuple[int, dict, float]:
    """``drift <args> --json`` in its own process; a run past ``timeout`` fails the test (and is killed)."""
    env = dict(os.environ, GITHUB_API_URL=server.url, GITHUB_TOKEN="sandbox-token")
    env["DRIFT_DB_PATH"] = str(tmp_path / "drift.duckdb")
    argv = [sys.executable, "-c", "import sys; from drift_pipeline.cli import main; sys.exit(main())", *args]
    started = time.monotonic()
    try:
        proc = subprocess.run([*argv, "--json"], check=False, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"drift {' '.join(args)} still running after {timeout} s: a config pattern stalls the scan")
    took = time.monotonic() - started
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), took


def test_a_backtracking_pattern_or_glob_costs_its_repo_nothing_and_the_org_is_scanned(sandbox, tmp_path):
    code, payload, took = drift(sandbox, tmp_path, "process", "scan", "--org", "acme", "--date", DAY.isoformat())
    assert code == 1 and payload["errors"] == []
    found = {(f["repo"], f["rule"]) for f in payload["findings"]}
    # the pathological patterns were run to their answer: 41 characters match neither
    assert ("stall", "commit_convention_violated") in found
    assert ("stall", "ticket_reference_missing") in found
    assert [f["subject"] for f in payload["findings"] if f["repo"] == "globstall"] == ["x.secret"]
    assert ("good", "commit_convention_violated") in found
    [stall] = [f for f in payload["findings"] if f["repo"] == "stall" and f["rule"] == "commit_convention_violated"]
    assert STALL_SUBJECT in stall["message"]
    assert took < 60


def test_a_pattern_re2_refuses_is_invalid_config_naming_the_key_and_the_others_are_scanned(sandbox, tmp_path):
    code, payload, _ = drift(sandbox, tmp_path, "code", "scan", "--org", "acme", "--date", DAY.isoformat(), "--dry-run")
    assert code == 1 and payload["errors"] == []
    invalid = [f for f in payload["findings"] if f["rule"] == "invalid_config"]
    assert [f["repo"] for f in invalid] == ["lookbehind"]
    [finding] = invalid
    assert json.loads(finding["details"])["key"] == LOOKBEHIND_KEY
    assert finding["message"].startswith("check.toml:3: ") and "RE2" in finding["message"]
    assert "(?<=" in finding["message"]  # what was found, quoted
    assert ("good", "check_toml_changed") in {(f["repo"], f["rule"]) for f in payload["findings"]}
    assert payload["summary"]["repos_in_scope"] == 4 and payload["summary"]["repos_changed"] == 4
    # the process scan skips the refused pattern (the default convention applies) and reads every repo
    _, process, _ = drift(sandbox, tmp_path, "process", "scan", "--org", "acme", "--date", DAY.isoformat())
    assert process["errors"] == [] and process["summary"]["repos_in_scope"] == 4


def test_drift_config_check_names_the_key_of_a_refused_pattern(tmp_path):
    config = tmp_path / "check.toml"
    config.write_text(CONFIGS["lookbehind"])
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from drift_pipeline.cli import main; sys.exit(main())"]
        + ["config", "check", str(config)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out  # ExitCode.CONFIG
    assert LOOKBEHIND_KEY in out and "RE2" in out and "Traceback" not in out
    assert "re2.cc" not in out  # RE2's own logging stays quiet


# -- the pattern module itself ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(?<=feat): .+", "(?<="),
        ("(?=x)y", "(?="),
        ("(?!x)y", "(?!"),
        (r"(a)\1", r"\1"),
        (r"end\Z", r"\Z"),
        ("a++", "repetition"),
        ("(unclosed", "missing )"),
        ("x" * 1025, "longer than 1024"),
    ],
)
def test_syntax_re2_cannot_run_is_refused_with_the_reason(pattern, says):
    why = pattern_error(pattern)
    assert why and says in why, why
    with pytest.raises(PatternError):
        compile_pattern(pattern)
    assert search(pattern, "feat: x") is False  # a rule never crashes on it


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("^(a+)+$", "a" * 5000 + "!"),
        ("(x+x+)+y", "x" * 100_000),
        ("^(a|a)+$", "a" * 5000 + "!"),
        ("(.*a){20}b", "a" * 10_000),
    ],
)
def test_backtracking_patterns_answer_in_linear_time(pattern, text):
    started = time.monotonic()
    assert search(pattern, text) is False
    assert time.monotonic() - started < 1


def test_globs_answer_in_linear_time_and_keep_their_meaning():
    started = time.monotonic()
    assert glob_match(SLOW_GLOB, "a" * 4000) is False
    assert glob_match("**/" + "*a" * 30 + "*b", "a/" * 1000 + "a" * 2000 + "b") is True
    assert time.monotonic() - started < 1
    assert glob_match("[.-0]", "/") is False and glob_match("[.-0]", "0") is True  # a class never matches '/'
    assert glob_match("[!a]", "/") is False and glob_match("[/]", "/") is False
    assert glob_match("*.py", "caf\u00e9\ud800.py") is True  # a lone surrogate is matched, never raised
    assert glob_error("[z-a]") == "bad character range z-a"


def test_the_config_loader_refuses_lookbehind_with_file_and_key():
    (problem,) = load_config(CONFIGS["lookbehind"], "check.toml").problems
    assert problem.key == LOOKBEHIND_KEY and "RE2" in problem.message
