"""Plain records the sources return. Sources read the world; they decide nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RepoRecord:
    org: str  # the org (or user) the scan was asked for
    name: str
    owner: str  # the repo's real owner login (other-owner repos are out of scope)
    default_branch: str
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    private: bool = True
    pushed_at: datetime | None = None
    html_url: str | None = None
    admin: bool | None = None  # the token's ``permissions.admin`` on the repo; None: not said

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class CommitRecord:
    sha: str
    date: datetime  # committer date, UTC
    author: str
    message: str  # first line
    url: str | None = None  # web URL of the commit


@dataclass(frozen=True)
class TreeEntry:
    path: str
    sha: str
    size: int | None = None
