"""A registry fetcher that shallow-clones a ``github:`` registry with the git command line.

``git clone --depth 1 [--branch ref] <base_url>/owner/repo`` into a per-(owner, repo, ref) folder
under the user cache, with a timeout (30 s by default). The base URL is the web host of the
GitHub the pipeline points at (:func:`clone_base_for` maps the API URL: GitHub Enterprise Server
``https://HOST/api/v3`` clones from ``https://HOST``). A token from ``CM_REGISTRY_TOKEN`` (first)
or ``GITHUB_TOKEN`` is handed to git through ``GIT_ASKPASS`` and the environment: it never appears
in a URL, a command line, a stored path or an error message. Prompts are disabled, so a clone
without access fails instead of waiting; redirects are not followed (git would hand the token to
the host redirected to), and owner, repo and ref must be plain GitHub names. Any failure raises :class:`RegistryUnavailable`.

The sandbox (``drift_pipeline.sandbox.github``) serves the REST API only, not git's smart HTTP:
with ``GITHUB_API_URL`` at the sandbox, a clone fails with a clear RegistryUnavailable, and
``drift config check --registry-dir`` is the way to point at a registry. (The scans never clone:
they read registries through the API, :class:`drift_pipeline.scans.reading.SourceRegistryFetcher`.)

Subprocess is used directly (not :func:`drift_pipeline.sources.gitutil.git`) because a clone needs a
timeout; the git environment is gitutil's.
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
from urllib.parse import urlsplit

from drift_pipeline.core.redaction import redact
from drift_pipeline.core.standards.readers import LocalDirReader, TreeReader
from drift_pipeline.core.standards.registry import RegistryUnavailable
from drift_pipeline.sources.gitutil import GIT_ENV
from drift_pipeline.sources.http_bounds import same_origin

TOKEN_ENV_VARS = ("CM_REGISTRY_TOKEN", "GITHUB_TOKEN")
PUBLIC_API_URL = "https://api.github.com"
PUBLIC_WEB_URL = "https://github.com"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_REF = re.compile(r"^[A-Za-z0-9._/+-]{1,200}$")
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) echo "x-access-token" ;;
  *) printf '%s\\n' "$DRIFT_REGISTRY_ASKPASS_TOKEN" ;;
esac
"""


def clone_base_for(api_url: str | None) -> str:
    """The web base that serves ``owner/repo`` clones for a GitHub REST API base URL.

    ``https://api.github.com`` -> ``https://github.com``; GitHub Enterprise Server
    ``https://HOST/api/v3`` -> ``https://HOST``; GHE.com ``https://api.SUB.ghe.com`` ->
    ``https://SUB.ghe.com``; any other URL (e.g. the sandbox) is used as it is, minus a trailing
    ``/api/v3``. Credentials written into the URL are dropped. ValueError for a non-http(s) URL.
    """
    if not api_url or not api_url.strip():
        return PUBLIC_WEB_URL
    parts = urlsplit(api_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"GITHUB_API_URL must be an http(s) URL, found {redact(api_url)[:200]!r}")
    host = parts.hostname.lower()
    if host == "api.github.com":
        return PUBLIC_WEB_URL
    if host.startswith("api.") and host.endswith(".ghe.com"):
        host = host[len("api.") :]
    netloc = host + (f":{parts.port}" if parts.port else "")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/api/v3")
    return f"{parts.scheme}://{netloc}{path}"


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drift-pipeline" / "registries"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", part)


class GitCloneFetcher:
    """Clones registries from ``base_url``; ``env`` is the environment (default: the process's)."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        timeout: float = 30.0,
        base_url: str = PUBLIC_WEB_URL,
        env: Mapping[str, str] | None = None,
    ):
        self._env = dict(os.environ if env is None else env)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir(self._env)
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")

    @classmethod
    def for_api_url(cls, api_url: str | None, **kw) -> GitCloneFetcher:
        """A fetcher cloning from the web host of the GitHub whose REST API is ``api_url``."""
        return cls(base_url=clone_base_for(api_url), **kw)

    def _token(self) -> str | None:
        for name in TOKEN_ENV_VARS:
            if self._env.get(name):
                return self._env[name]
        return None

    def fetch(self, owner: str, repo: str, ref: str | None) -> TreeReader:
        label = f"{owner[:100]}/{repo[:100]}" + (f"@{ref[:200]}" if ref else "")
        if not (_NAME.match(owner) and _NAME.match(repo)) or owner in (".", "..") or repo in (".", ".."):
            raise RegistryUnavailable(f"registry {label!r}: owner and repo must be GitHub names ([A-Za-z0-9._-])")
        if ref is not None and (ref.startswith("-") or not _REF.match(ref)):
            raise RegistryUnavailable(f"registry {label!r}: the ref is not a branch or tag name")
        url = f"{self.base_url}/{owner}/{repo}"
        if not same_origin(self.base_url, url):  # the token only goes to the clone host
            raise RegistryUnavailable(f"registry {label!r}: the clone URL leaves {self.base_url}")
        target = self.cache_dir / (_safe(owner) + "-" + _safe(repo) + (f"@{_safe(ref)}" if ref else ""))
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryUnavailable(f"cannot create registry cache {self.cache_dir}: {exc.strerror}") from None
        token = self._token()
        with tempfile.TemporaryDirectory(prefix="clone-", dir=self.cache_dir) as work:
            env = {k: v for k, v in self._env.items() if k not in ("GIT_ASKPASS", "SSH_ASKPASS", *TOKEN_ENV_VARS)}
            env.update(GIT_ENV)
            if token:
                askpass = Path(work) / "askpass.sh"
                askpass.write_text(_ASKPASS)
                askpass.chmod(stat.S_IRWXU)
                env["GIT_ASKPASS"] = str(askpass)
                env["DRIFT_REGISTRY_ASKPASS_TOKEN"] = token
            dest = Path(work) / "tree"
            # never follow a redirect: git would hand the token (askpass) to the host redirected to
            args = ["git", "-c", "credential.helper=", "-c", "http.followRedirects=false"]
            args += ["clone", "--quiet", "--depth", "1"]
            if ref:
                args += ["--branch", ref]
            args += ["--", url, str(dest)]
            try:
                proc = subprocess.run(
                    args, capture_output=True, env=env, timeout=self.timeout, stdin=subprocess.DEVNULL, check=False
                )
            except subprocess.TimeoutExpired:
                raise RegistryUnavailable(f"cloning {label} timed out after {self.timeout:g} s") from None
            except OSError as exc:
                raise RegistryUnavailable(f"cannot run git to clone {label}: {exc.strerror}") from None
            if proc.returncode != 0:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                detail = redact(err[-1] if err else f"exit {proc.returncode}", token)
                raise RegistryUnavailable(f"could not clone {label}: {detail[:300]}")
            shutil.rmtree(dest / ".git", ignore_errors=True)
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            dest.rename(target)
        return LocalDirReader(target)
