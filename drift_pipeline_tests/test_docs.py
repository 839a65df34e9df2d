"""The README and docs/ stay true: every `drift` command line they show names a real command and
real options, and every relative link points at a file of the repository. (Their SQL is checked
against exact rows by test_trends and on the demo database by test_demo.)"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from drift_pipeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(text: str) -> list[str]:
    return re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", text, flags=re.M | re.S)


def _command_lines(text: str) -> list[str]:
    """The `drift ...` invocations of a page's shell blocks, continuation lines joined."""
    lines = []
    for block in _blocks(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            m = re.search(r"(?:^|\s|uv run |uvx --from \S+ )drift\s+([a-z].*)$", line.split("#", 1)[0].strip())
            if m:
                lines.append(m.group(1))
    return lines


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = cli
    path: list[str] = []
    for word in words:
        if not isinstance(command, click.Group) or word.startswith("-"):
            break
        sub = command.commands.get(word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return command, path


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


CASES = [(page.relative_to(ROOT).as_posix(), line) for page in PAGES for line in _command_lines(page.read_text())]


def test_docs_show_drift_commands():
    assert len(CASES) >= 10, CASES


@pytest.mark.parametrize(("page", "line"), CASES, ids=[f"{p}:{line[:40]}" for p, line in CASES])
def test_each_drift_command_in_the_docs_names_a_real_command_and_real_options(page, line):
    words = line.replace("|", " ").replace("[", " ").replace("]", " ").split()
    command, path = _resolve(words)
    assert path, f"{page}: `drift {line}` names no drift command"
    assert not isinstance(command, click.Group), f"{page}: `drift {line}` stops at the group {' '.join(path)}"
    known = _options(command)
    shown = {w.split("=", 1)[0] for w in words if re.fullmatch(r"--?[a-z][a-z0-9-]*(=.*)?", w)}
    unknown = sorted(shown - known)
    assert not unknown, f"{page}: `drift {' '.join(path)}` has no option {unknown} (it has {sorted(known)})"


def _links(text: str) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_point_at_files(page):
    missing = [t for t in _links(page.read_text()) if not (page.parent / t.split("#", 1)[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"
