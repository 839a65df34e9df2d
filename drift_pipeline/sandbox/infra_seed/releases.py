"""Release tags in a scenario repo's git history: what a scan reads to find staging's and prod's commits.

Trunk-based deployment tracking: dev runs the head of the default branch, staging the newest
release candidate (``v1.1.0-rc1``), prod the newest release (``v1.0.0``). ``tag_releases`` writes an
:class:`~drift_pipeline.sandbox.infra_seed.InfraRepo`'s ``release_tags`` into its bare repository
(annotated tags, as release tooling makes them: the GitHub API peels them to their commit).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from drift_pipeline.sources.gitutil import git, git_text


def tag_releases(git_dir: Path | str, tags: Mapping[str, str], *, annotated: bool = True) -> None:
    """Create (or move) each ``tag -> commit sha`` in the bare repository ``git_dir``."""
    for name, sha in tags.items():
        git(git_dir, "check-ref-format", f"refs/tags/{name}")  # raises GitError on a name git refuses
        if not annotated:
            git(git_dir, "update-ref", f"refs/tags/{name}", sha)
            continue
        env = {
            "GIT_COMMITTER_NAME": "release-bot",
            "GIT_COMMITTER_EMAIL": "release-bot@example.com",
            "GIT_COMMITTER_DATE": git_text(git_dir, "show", "-s", "--format=%ct +0000", sha).strip(),
        }
        git(git_dir, "tag", "-f", "-a", "-m", f"release {name}", name, sha, env=env)
