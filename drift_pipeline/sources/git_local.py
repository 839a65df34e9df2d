"""The GitHub source's reads, answered from a folder of local git clones.

``GitLocalSource(path)`` serves one repository (``path`` is a clone) or every clone directly
under ``path``. It makes no network request; what it returns has the same shape as
:class:`drift_pipeline.sources.github.GitHubSource`, so the scans run unchanged on either.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from drift_pipeline.errors import NotFound, SourceError, UsageError
from drift_pipeline.gitutil import GitError, git, git_text, last_commit_before, ls_tree, rev_parse
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry

_LOG_FORMAT = "%H%x1f%ct%x1f%an%x1f%s%x1e"


def _is_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


class GitLocalSource:
    def __init__(self, path: Path | str, org: str | None = None):
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise UsageError(f"--path {path}: not a directory")
        self.org = org or (self.root.parent.name if _is_repo(self.root) else self.root.name)
        self.requests: Counter[str] = Counter()      # always empty: no API requests
        self.not_modified = 0
        self._dirs: dict[str, Path] = {}

    def _repo_dirs(self) -> list[Path]:
        if _is_repo(self.root):
            return [self.root]
        dirs = sorted(p for p in self.root.iterdir() if p.is_dir() and _is_repo(p))
        if not dirs:
            raise UsageError(f"--path {self.root}: neither a git repository nor a folder of clones")
        return dirs

    def list_repos(self, org: str | None = None) -> list[RepoRecord]:
        records = []
        for path in self._repo_dirs():
            name = path.name.removesuffix(".git")
            branch = self._default_branch(path)
            head = rev_parse(path, f"refs/heads/{branch}")
            pushed = self._commit(path, head).date if head else None
            owner = org or self.org
            self._dirs[f"{owner}/{name}"] = path
            records.append(RepoRecord(org=owner, name=name, owner=owner, default_branch=branch,
                                      pushed_at=pushed, html_url=None))
        return records

    def get_repo(self, org: str, name: str) -> RepoRecord:
        if not self._dirs:
            self.list_repos()
        for record in self.list_repos(org):
            if record.name == name:
                return record
        raise NotFound(f"{org}/{name}: no clone named {name} under {self.root}")

    @staticmethod
    def _default_branch(path: Path) -> str:
        for ref in ("refs/remotes/origin/HEAD", "HEAD"):
            out = git_text(path, "symbolic-ref", "--quiet", "--short", ref, check=False).strip()
            if out:
                return out.removeprefix("origin/")
        return "main"

    def _dir(self, full_name: str) -> Path:
        if not self._dirs:
            self.list_repos()
        try:
            return self._dirs[full_name]
        except KeyError:
            raise SourceError(f"{full_name}: no such clone under {self.root}") from None

    def _commit(self, path: Path, sha: str) -> CommitRecord:
        out = git_text(path, "log", "-1", f"--format={_LOG_FORMAT}", sha)
        return self._parse_log(out)[0]

    @staticmethod
    def _parse_log(out: str) -> list[CommitRecord]:
        commits = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, ts, author, subject = record.split("\x1f")
            commits.append(CommitRecord(sha=sha, date=datetime.fromtimestamp(int(ts), timezone.utc),
                                        author=author, message=subject))
        return commits

    def plan_window(self, start: datetime, end: datetime) -> None:
        """Nothing to plan: local history costs no request."""

    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        path = self._dir(repo.full_name)
        sha = last_commit_before(path, repo.default_branch, until)
        return self._commit(path, sha) if sha else None

    def path_commits(self, full_name: str, head_sha: str, path: str, since: datetime | None,
                     until: datetime) -> list[CommitRecord]:
        args = ["log", f"--format={_LOG_FORMAT}", f"--before={int(until.timestamp())}"]
        if since is not None:
            args.append(f"--after={int(since.timestamp())}")
        out = git_text(self._dir(full_name), *args, head_sha, "--", path)
        return [c for c in self._parse_log(out) if since is None or c.date > since]

    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]:
        return tuple(TreeEntry(e.path, e.sha, e.size) for e in ls_tree(self._dir(full_name), sha)
                     if e.type == "blob")

    def blob_text(self, full_name: str, sha: str) -> str | None:
        try:
            raw = self._blob(full_name, sha)
        except GitError as exc:
            raise SourceError(f"{full_name}: cannot read blob {sha[:12]}: {exc}") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _blob(self, full_name: str, sha: str) -> bytes:
        return git(self._dir(full_name), "cat-file", "blob", sha)

    def commit_url(self, repo: RepoRecord, sha: str) -> str | None:
        return None
