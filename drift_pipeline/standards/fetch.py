"""A :class:`RegistryFetcher` that shallow-clones a GitHub registry with the git command line.

``git clone --depth 1 [--branch ref] <base_url>/owner/repo`` into a per-(owner, repo, ref) folder
under the user cache, with a timeout (30 s by default). A token from ``CM_REGISTRY_TOKEN`` (first)
or ``GITHUB_TOKEN`` is handed to git through ``GIT_ASKPASS`` and the environment: it never appears
in a URL, a command line or an error message. Prompts are disabled, so a clone without access
fails instead of waiting. Any failure raises :class:`RegistryUnavailable`.

Subprocess is used directly here (not :func:`drift_pipeline.gitutil.git`) only because a clone
needs a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from drift_pipeline.errors import redact
from drift_pipeline.standards.readers import LocalDirReader, TreeReader
from drift_pipeline.standards.registry import RegistryUnavailable

TOKEN_ENV_VARS = ("CM_REGISTRY_TOKEN", "GITHUB_TOKEN")
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) echo "x-access-token" ;;
  *) printf '%s\\n' "$DRIFT_REGISTRY_ASKPASS_TOKEN" ;;
esac
"""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drift-pipeline" / "registries"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", part)


class GitCloneFetcher:
    def __init__(self, cache_dir: Path | None = None, timeout: float = 30.0,
                 base_url: str = "https://github.com", env: Mapping[str, str] | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")
        self._env = dict(os.environ if env is None else env)

    def _token(self) -> str | None:
        for name in TOKEN_ENV_VARS:
            if self._env.get(name):
                return self._env[name]
        return None

    def fetch(self, owner: str, repo: str, ref: str | None) -> TreeReader:
        label = f"{owner}/{repo}" + (f"@{ref}" if ref else "")
        target = self.cache_dir / (_safe(owner) + "-" + _safe(repo) + (f"@{_safe(ref)}" if ref else ""))
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryUnavailable(f"cannot create registry cache {self.cache_dir}: {exc.strerror}") from None
        token = self._token()
        with tempfile.TemporaryDirectory(prefix="clone-", dir=self.cache_dir) as work:
            env = {k: v for k, v in self._env.items() if k not in ("GIT_ASKPASS", "SSH_ASKPASS")}
            env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"})
            if token:
                askpass = Path(work) / "askpass.sh"
                askpass.write_text(_ASKPASS)
                askpass.chmod(stat.S_IRWXU)
                env["GIT_ASKPASS"] = str(askpass)
                env["DRIFT_REGISTRY_ASKPASS_TOKEN"] = token
            dest = Path(work) / "tree"
            args = ["git", "-c", "credential.helper=", "clone", "--quiet", "--depth", "1"]
            if ref:
                args += ["--branch", ref]
            args += [f"{self.base_url}/{owner}/{repo}", str(dest)]
            try:
                proc = subprocess.run(args, capture_output=True, env=env, timeout=self.timeout,
                                      stdin=subprocess.DEVNULL, check=False)
            except subprocess.TimeoutExpired:
                raise RegistryUnavailable(f"cloning {label} timed out after {self.timeout:g} s") from None
            except OSError as exc:
                raise RegistryUnavailable(f"cannot run git to clone {label}: {exc.strerror}") from None
            if proc.returncode != 0:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                detail = redact(err[-1] if err else f"exit {proc.returncode}", token)
                raise RegistryUnavailable(f"could not clone {label}: {detail}")
            shutil.rmtree(dest / ".git", ignore_errors=True)
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            dest.rename(target)
        return LocalDirReader(target)
