"""How drift-pipeline authenticates to GitHub: a token, or a GitHub App's installation.

Configuration (environment only):

- ``GITHUB_TOKEN``: a personal (classic or fine-grained) token;
- ``GITHUB_APP_ID`` with the App's private key as ``GITHUB_APP_PRIVATE_KEY`` (PEM text) or
  ``GITHUB_APP_PRIVATE_KEY_PATH`` (a PEM file); optional ``GITHUB_APP_INSTALLATION_ID``, else the
  installation on the org is found through ``GET /orgs/{org}/installation``.

App variables set and ``GITHUB_TOKEN`` not: the App. Both set: the token wins, said once in the
log. The App path uses :class:`InstallationAuth`, PyGithub's own
:class:`github.Auth.AppInstallationAuth` that mints an installation token and mints a new one
before it expires (PyGithub's threshold, 20 s), so a long scan never sends an expired token; it
also keeps the token where it can be re-minted on demand. GitHub may still refuse a token before
its ``expires_at`` (revoked, a skewed clock): every request GitHub answers 401 while the client
is an installation gets one re-mint and is sent once more (:func:`remint_for_retry`, used by the
source's transport and the issue client); a second 401, or any 401 to a personal token, is the
error it always was. The private key and minted tokens never appear in a message:
:class:`AppCredentials` hides the key from ``repr`` and every error says which variable is
wrong, never its value.

An App's issues and comments are authored by its bot account, ``<slug>[bot]``; an installation
token cannot read ``GET /user`` (GitHub answers 403), so the filer learns the slug from the App's
own ``GET /app`` answer (:func:`app_slug`), signed with the App's JWT.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from github import Auth, Github, GithubException, GithubIntegration
from github.InstallationAuthorization import InstallationAuthorization
from github.Requester import Requester

from drift_pipeline.core.errors import UsageError
from drift_pipeline.sources.http_bounds import RetryBudget

log = logging.getLogger(__name__)

APP_ENV = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_APP_INSTALLATION_ID")
_said_both = threading.Event()


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App's id, private key (PEM, hidden from ``repr``) and optional installation."""

    app_id: int
    private_key: str = field(repr=False)
    installation_id: int | None = None


def _positive_int(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise UsageError(
            f"{name}: expected a positive whole number (the App's numeric id), got a value of {len(raw)} characters"
        )
    return int(raw)


def _private_key(env: Mapping[str, str]) -> str:
    text = (env.get("GITHUB_APP_PRIVATE_KEY") or "").strip()
    path = (env.get("GITHUB_APP_PRIVATE_KEY_PATH") or "").strip()
    if text and path:
        raise UsageError("set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH, not both")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"GITHUB_APP_PRIVATE_KEY_PATH {path}: cannot read the key file ({type(exc).__name__})"
            ) from None
        where = f"GITHUB_APP_PRIVATE_KEY_PATH {path}"
    else:
        where = "GITHUB_APP_PRIVATE_KEY"
    if not text:
        raise UsageError(
            "GITHUB_APP_ID is set but no key: set GITHUB_APP_PRIVATE_KEY (PEM) or GITHUB_APP_PRIVATE_KEY_PATH"
        )
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise UsageError(f"{where}: expected a PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise UsageError(f"{where}: not a readable unencrypted PEM private key") from None
    return text


def app_credentials_from_env(env: Mapping[str, str] | None = None) -> AppCredentials | None:
    """The App configured in ``env`` (default: the process environment), or None when none is.

    A token in ``GITHUB_TOKEN`` wins over App variables; the choice is logged once."""
    env = os.environ if env is None else env
    app_id = _positive_int(env, "GITHUB_APP_ID")
    if app_id is None:
        if any((env.get(n) or "").strip() for n in APP_ENV[1:]):
            raise UsageError("GitHub App key or installation set without GITHUB_APP_ID")
        return None
    if (env.get("GITHUB_TOKEN") or "").strip():
        if not _said_both.is_set():
            _said_both.set()
            log.warning("both GITHUB_TOKEN and GITHUB_APP_ID are set: authenticating with GITHUB_TOKEN")
        return None
    return AppCredentials(app_id, _private_key(env), _positive_int(env, "GITHUB_APP_INSTALLATION_ID"))


def _integration(api_url: str, creds: AppCredentials) -> GithubIntegration:
    return GithubIntegration(base_url=api_url.rstrip("/"), auth=Auth.AppAuth(creds.app_id, creds.private_key))


def installation_id(api_url: str, creds: AppCredentials, org: str | None) -> int:
    """The installation to authenticate as: the configured one, else the App's installation on ``org``."""
    if creds.installation_id is not None:
        return creds.installation_id
    if not org:
        raise UsageError("GitHub App: set GITHUB_APP_INSTALLATION_ID or name the org (DRIFT_ORGS / --org)")
    try:
        return int(_integration(api_url, creds).get_org_installation(org).id)
    except GithubException as exc:
        if exc.status == 404:
            raise UsageError(
                f"GitHub App {creds.app_id} is not installed on {org!r} (GET /orgs/{org}/installation: 404)"
            ) from None
        if exc.status == 401:
            raise UsageError(
                f"GitHub App {creds.app_id}: GitHub refused its JWT (401); check GITHUB_APP_ID and the key"
            ) from None
        raise UsageError(f"GitHub App {creds.app_id}: GET /orgs/{org}/installation answered {exc.status}") from None


class InstallationAuth(Auth.AppInstallationAuth):
    """PyGithub's installation auth whose token can be re-minted on demand (:meth:`refresh`).

    PyGithub keeps the minted token in a name-mangled attribute of its own and re-mints only
    near ``expires_at``; here the token lives in this class, behind a lock (one mint at a time
    for all threads), minted through PyGithub's own ``_get_installation_authorization``. Each
    thread remembers which mint it last sent, so that after a 401 only the first thread to see
    the refused token mints a new one: the others find it replaced and just send again."""

    def __init__(self, app_auth: Auth.AppAuth, installation_id: int):
        super().__init__(app_auth, installation_id)
        self._lock = threading.Lock()
        self._minted: InstallationAuthorization | None = None
        self._mints = 0  # tokens minted so far: the number of the current one
        self._sent = threading.local()  # .mint: the number of the token this thread last sent

    @property
    def token(self) -> str:
        with self._lock:
            if self._minted is None or self._is_expired:
                self._mint()
            assert self._minted is not None
            self._sent.mint = self._mints
            return self._minted.token

    @property
    def _is_expired(self) -> bool:
        if self._minted is None:
            return True
        return self._minted.expires_at - Auth.TOKEN_REFRESH_THRESHOLD_TIMEDELTA < datetime.now(UTC)

    def _mint(self) -> None:
        self._minted = self._get_installation_authorization()
        self._mints += 1

    def refresh(self) -> None:
        """Mint a new token in place of the one this thread last sent, which GitHub refused;
        nothing when another thread has replaced it since. A failed mint raises PyGithub's
        :class:`GithubException` and keeps the current token."""
        with self._lock:
            if self._minted is not None and getattr(self._sent, "mint", None) == self._mints:
                self._mint()


def installation_auth(api_url: str, creds: AppCredentials, org: str | None) -> InstallationAuth:
    """The installation auth (mints, refreshes and re-mints tokens) for ``org``'s installation."""
    inst = installation_id(api_url, creds, org)
    return InstallationAuth(Auth.AppAuth(creds.app_id, creds.private_key), inst)


def remint_for_retry(requester: Requester, status: int, budget: RetryBudget, what: str) -> bool:
    """Whether to send once more a request GitHub answered ``status``: True for a 401 while
    ``requester`` authenticates as an App installation, after its token is re-minted (the resend
    counted against the run's ``budget``; :class:`RetryBudgetSpent` when none is left). False
    (the answer stands) for any other status, a personal token, or an App that cannot mint.

    The caller asks at most once per request: a second 401 is the error."""
    auth = requester.auth
    if status != 401 or not isinstance(auth, InstallationAuth):
        return False
    budget.spend(what, status)
    try:
        auth.refresh()
    except GithubException:  # uninstalled, or the App's JWT refused: the 401 is the answer
        return False
    return True


def bot_login(api_url: str, creds: AppCredentials) -> str:
    """The login GitHub gives the App's issues and comments: ``<slug>[bot]``."""
    return f"{_integration(api_url, creds).get_app().slug}[bot]"


def app_slug(gh: object) -> str | None:
    """The slug of the GitHub App whose installation ``gh`` (a PyGithub client) authenticates as,
    from ``GET /app`` with the App's JWT; None for a token (or anything that is not a client)."""
    if not isinstance(gh, Github):
        return None
    auth = gh.requester.auth
    if not isinstance(auth, Auth.AppInstallationAuth):
        return None
    # the installation auth keeps a requester authenticated with the App's JWT (PyGithub mints with it)
    slug = GithubIntegration(**auth.requester.kwargs).get_app().slug
    return slug if isinstance(slug, str) and slug else None
