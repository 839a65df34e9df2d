"""GitHub Apps in the sandbox: the App's JWT, installations, and minted installation tokens.

An App lives in ``state.json`` under ``apps`` (its id, slug, owner, RSA public key and its
installations with their permissions). A JWT signed with the App's private key authenticates the
``/app`` routes and ``GET /orgs/{org}/installation``; ``POST /app/installations/{id}/access_tokens``
mints an installation token, stored under ``tokens`` with its expiry. GitHub's rules:

- the JWT is RS256, ``iss`` the App id, ``iat`` not in the future (60 s clock skew allowed) and
  ``exp`` in the future but at most 10 minutes ahead; anything else is 401;
- an installation token expires (``expires_at``; 1 hour on GitHub, ``--installation-token-ttl``
  here) and is then 401 ``Bad credentials``; ``DELETE /installation/token`` revokes the token it
  is sent with (:func:`revoke`), which then answers 401 ``Bad credentials`` the same way;
- an installation token may read only what the installation's permissions grant: anything else is
  403 "Resource not accessible by integration";
- all tokens of one installation share one rate-limit budget.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import jwt

from drift_pipeline.sandbox.github.errors import Forbidden, Unauthorized, not_accessible

CLOCK_SKEW = 60
MAX_JWT_LIFETIME = 600
DEFAULT_TOKEN_TTL = 3600
_JWT_SHAPE = re.compile(r"^[\w-]+\.[\w-]+\.[\w-]+$")
_APP_PATH = re.compile(r"^/(app(/.*)?|orgs/[^/]+/installation)$")

# The permission a repository path needs, by the first segment after /repos/{owner}/{repo}/.
_PERMISSION_OF = {
    "contents": "contents",
    "git": "contents",
    "commits": "contents",
    "compare": "contents",
    "tags": "contents",
    "codeowners": "contents",
    "issues": "issues",
    "labels": "issues",
    "pulls": "pull_requests",
}


_STATUSES_PATH = re.compile(r"^/repos/[^/]+/[^/]+/commits/.+/status(?:es)?$")


def is_jwt(token: str) -> bool:
    return bool(_JWT_SHAPE.match(token))


def is_app_path(path: str) -> bool:
    """Whether ``path`` is authenticated by the App's JWT rather than a token."""
    return bool(_APP_PATH.match(path))


def verify_jwt(state_data: dict[str, Any], token: str, now: float | None = None) -> dict[str, Any]:
    """The token info of a valid App JWT; :class:`Unauthorized` (401) for any other."""
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("A JSON web token could not be decoded") from None
    app = (state_data.get("apps") or {}).get(str(claims.get("iss")))
    if app is None:
        raise Unauthorized("Integration not found")
    try:
        claims = jwt.decode(
            token,
            app["public_key"],
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise Unauthorized("A JSON web token could not be decoded") from None
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
        raise Unauthorized("'Issued at' claim ('iat') must be an Integer representing a time in the past.")
    if not isinstance(exp, int | float) or exp <= now - CLOCK_SKEW:
        raise Unauthorized("'Expiration time' claim ('exp') must be a numeric value representing the future time.")
    if exp > now + MAX_JWT_LIFETIME + CLOCK_SKEW or exp - iat > MAX_JWT_LIFETIME + CLOCK_SKEW:
        raise Unauthorized("'Expiration time' claim ('exp') is too far in the future")
    return {"login": f"{app['slug']}[bot]", "kind": "jwt", "admin": False, "app_id": int(app["id"])}


def token_info(info: dict[str, Any] | None, now: float | None = None) -> dict[str, Any] | None:
    """A stored token's info, or None when it is an installation token past its expiry."""
    if info is None or "expires_at" not in info:
        return info
    return info if (time.time() if now is None else now) < info["expires_at"] else None


def installations(state_data: dict[str, Any], app_id: int) -> dict[str, dict[str, Any]]:
    return (state_data.get("apps") or {}).get(str(app_id), {}).get("installations", {})


def find_installation(state_data: dict[str, Any], app_id: int, installation_id: int) -> dict[str, Any] | None:
    return installations(state_data, app_id).get(str(installation_id))


def mint(state_data: dict[str, Any], app_id: int, installation_id: int, token: str, ttl: int) -> dict[str, Any]:
    """Store a new installation token (dropping expired ones) and return its stored info."""
    app = state_data["apps"][str(app_id)]
    inst = app["installations"][str(installation_id)]
    now = time.time()
    tokens = state_data["tokens"]
    for key in [k for k, v in tokens.items() if "expires_at" in v and v["expires_at"] <= now]:
        del tokens[key]
    perms = dict(inst.get("permissions", {}))
    info = {
        "login": f"{app['slug']}[bot]",
        "kind": "app",
        "admin": perms.get("administration") in ("read", "write"),
        "permissions": perms,
        "app_id": int(app_id),
        "installation_id": int(installation_id),
        "rate_key": f"installation:{installation_id}",
        "expires_at": int(now) + int(ttl),
    }
    tokens[token] = info
    return info


def revoke(state_data: dict[str, Any], token: str) -> None:
    """Forget the installation token ``token``: from now on it is 401 ``Bad credentials``."""
    state_data["tokens"].pop(token, None)


def expires_iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def permission_error(info: dict[str, Any], method: str, path: str) -> Forbidden | None:
    """GitHub's 403 when an installation token (or a fine-grained personal access token, which
    GitHub refuses "by personal access token") lacks the permission ``path`` needs."""
    perms = info.get("permissions")
    if info.get("kind") not in ("app", "fine_grained") or perms is None:
        return None
    m = re.match(r"^/repos/[^/]+/[^/]+(?:/([^/]+))?", path)
    if m is None:
        return None
    needed = _PERMISSION_OF.get(m.group(1) or "", "metadata")
    if _STATUSES_PATH.search(path):  # commit statuses are their own permission, not contents
        needed = "statuses"
    if needed == "metadata":  # branches, rulesets, branch rules; classic protection: access.require_admin
        return None
    had = perms.get(needed)
    write = method not in ("GET", "HEAD")
    if had == "write" or (had == "read" and not write):
        return None
    return not_accessible(str(info["kind"]))


FULL_PERMISSIONS = {
    "metadata": "read",
    "contents": "read",
    "administration": "read",
    "pull_requests": "read",
    "issues": "write",
    "members": "read",
    "statuses": "read",
}


def generate_key() -> tuple[str, str]:
    """A new RSA key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
