"""The GitHub source's reads, answered from a folder of local git clones.

``GitLocalSource(path)`` serves one repository (``path`` is a clone) or every clone directly
under ``path``. It makes no network request; what it returns has the same shape as
:class:`drift_pipeline.sources.github.GitHubSource`, so the scans run unchanged on either.

What "the default branch" is in a local clone, never the checked-out branch by accident:
``origin/HEAD`` when the clone has it; in a bare repository its ``HEAD``; otherwise ``main`` or
``master`` when either exists (remote-tracking or local); only then the checked-out branch. A
branch is read from ``refs/remotes/origin/<branch>`` when the clone has it (what the remote
holds as of the last fetch, whatever is checked out), else from ``refs/heads/<branch>``, else
from a tag of that name. A branch that cannot be found in a repository that has commits is a
:class:`SourceError` (that repo's recorded failure), not "no commit yet".

Shallow clones (``git clone --depth N``) hold no history before their boundary: asking for the
state at, or the commits since, an instant before the oldest commit they hold is a
:class:`SourceError` saying so ("run git fetch --unshallow"), never a config that looks
"added" because its history is missing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from drift_pipeline.core.errors import NotFound, SourceError, UsageError
from drift_pipeline.sources.gitutil import GitError, git, git_text, ls_tree, rev_parse
from drift_pipeline.sources.records import CommitRecord, RepoRecord, TreeEntry

_LOG_FORMAT = "%H%n%ct%n%an%n%s"  # with -z: NUL between commits; name and subject hold no newline


def _is_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


class GitLocalSource:
    concurrency = 1  # git subprocesses on one disk: the scans read these repos one at a time

    def __init__(self, path: Path | str, org: str | None = None):
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise UsageError(f"--path {path}: not a directory")
        self.org = org or (self.root.parent.name if _is_repo(self.root) else self.root.name)
        self.requests: Counter[str] = Counter()  # always empty: no API requests
        self.not_modified = 0
        self._dirs: dict[str, Path] = {}
        self._shallow: dict[Path, datetime | None] = {}

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
            ref = self._branch_ref(path, branch)
            head = rev_parse(path, ref) if ref else None
            pushed = self._commit(path, head).date if head else None
            owner = org or self.org
            self._dirs[f"{owner}/{name}"] = path
            records.append(
                RepoRecord(org=owner, name=name, owner=owner, default_branch=branch, pushed_at=pushed, html_url=None)
            )
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
        out = git_text(path, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False).strip()
        if out:
            return out.removeprefix("origin/")
        head = git_text(path, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        bare = git_text(path, "rev-parse", "--is-bare-repository", check=False).strip() == "true"
        if bare and head:
            return head
        for name in ("main", "master"):
            if rev_parse(path, f"refs/remotes/origin/{name}") or rev_parse(path, f"refs/heads/{name}"):
                return name
        return head or "main"

    @staticmethod
    def _branch_ref(path: Path, branch: str) -> str | None:
        """The ref that holds ``branch`` in this clone, or None."""
        for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}", f"refs/tags/{branch}"):
            if rev_parse(path, ref):
                return ref
        return None

    def shallow_boundary(self, path: Path) -> datetime | None:
        """For a shallow clone, the date of the oldest commit it holds; None for a full clone."""
        if path not in self._shallow:
            boundary = None
            shallow = git_text(path, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"
            if shallow:
                common = Path(git_text(path, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
                shas = (common / "shallow").read_text().split() if (common / "shallow").is_file() else []
                dates = [self._commit(path, sha).date for sha in shas if rev_parse(path, sha)]
                boundary = min(dates) if dates else datetime.now(UTC)
            self._shallow[path] = boundary
        return self._shallow[path]

    def _require_history(self, path: Path, full_name: str, at: datetime) -> None:
        boundary = self.shallow_boundary(path)
        if boundary is not None and at < boundary:
            raise SourceError(
                f"{full_name}: shallow clone: history before {boundary:%Y-%m-%d %H:%M} UTC "
                f"unavailable (asked for {at:%Y-%m-%d %H:%M}); run git fetch --unshallow in {path}"
            )

    def _dir(self, full_name: str) -> Path:
        if not self._dirs:
            self.list_repos()
        try:
            return self._dirs[full_name]
        except KeyError:
            raise SourceError(f"{full_name}: no such clone under {self.root}") from None

    def _commit(self, path: Path, sha: str) -> CommitRecord:
        out = git_text(path, "log", "-1", "-z", f"--format={_LOG_FORMAT}", sha)
        return self._parse_log(out)[0]

    @staticmethod
    def _parse_log(out: str) -> list[CommitRecord]:
        commits = []
        for record in out.split("\x00"):
            record = record.strip("\n")
            if not record:
                continue
            sha, ts, author, subject = (record.split("\n", 3) + ["", "", ""])[:4]
            commits.append(
                CommitRecord(sha=sha, date=datetime.fromtimestamp(int(ts), UTC), author=author, message=subject)
            )
        return commits

    def plan_window(self, start: datetime, end: datetime) -> None:
        """Nothing to plan: local history costs no request."""

    def head_at(self, repo: RepoRecord, until: datetime) -> CommitRecord | None:
        path = self._dir(repo.full_name)
        ref = self._branch_ref(path, repo.default_branch)
        if ref is None:
            if rev_parse(path, "HEAD") is None:
                return None  # an empty repository: no commit yet
            raise SourceError(
                f"{repo.full_name}: branch {repo.default_branch!r} not found in {path} "
                "(neither origin/" + repo.default_branch + " nor a local branch or tag)"
            )
        sha = git_text(path, "rev-list", "-1", f"--before={int(until.timestamp())}", ref).strip()
        if not sha:
            self._require_history(path, repo.full_name, until)
            return None
        return self._commit(path, sha)

    def path_commits(
        self, full_name: str, head_sha: str, path: str, since: datetime | None, until: datetime
    ) -> list[CommitRecord]:
        repo_dir = self._dir(full_name)
        if since is not None:
            self._require_history(repo_dir, full_name, since)
        args = ["log", "-z", f"--format={_LOG_FORMAT}", f"--before={int(until.timestamp())}"]
        if since is not None:
            args.append(f"--after={int(since.timestamp())}")
        out = git_text(repo_dir, *args, head_sha, "--", path)
        return [c for c in self._parse_log(out) if since is None or c.date > since]

    def tree(self, full_name: str, sha: str) -> tuple[TreeEntry, ...]:
        return tuple(TreeEntry(e.path, e.sha, e.size) for e in ls_tree(self._dir(full_name), sha) if e.type == "blob")

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
