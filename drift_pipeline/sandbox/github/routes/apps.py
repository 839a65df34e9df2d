"""GitHub App routes: ``/app``, its installations, an org's installation, installation tokens
(minted with the App's JWT, revoked with themselves)."""

from __future__ import annotations

import secrets
import string
from typing import Any

from drift_pipeline.sandbox.github import apps, render
from drift_pipeline.sandbox.github.errors import Forbidden, NotFound, Unauthorized
from drift_pipeline.sandbox.github.routes.context import Ctx, Reply

_STAMP = "2024-01-01T00:00:00Z"


def _jwt_app(ctx: Ctx) -> dict[str, Any]:
    """The App the request's JWT names (the server verified it); 401 for any other credential."""
    if ctx.token.get("kind") != "jwt":
        raise Unauthorized(
            "A JSON web token could not be decoded",
            documentation_url="https://docs.github.com/rest/apps/apps#get-the-authenticated-app",
        )
    return ctx.state.data["apps"][str(ctx.token["app_id"])]


def app_json(ctx: Ctx, app: dict[str, Any]) -> dict[str, Any]:
    """The App as GitHub renders it (GET /app, and an issue's ``performed_via_github_app``)."""
    perms = {}
    for inst in app.get("installations", {}).values():
        perms.update(inst.get("permissions", {}))
    return {
        "id": int(app["id"]),
        "slug": app["slug"],
        "node_id": render.node_id("Integration", int(app["id"])),
        "client_id": f"Iv1.{int(app['id']):016x}",
        "owner": ctx.owner_json(app["owner"]),
        "name": app.get("name", app["slug"]),
        "description": app.get("description"),
        "external_url": f"{ctx.base}/apps/{app['slug']}",
        "html_url": f"{ctx.base}/apps/{app['slug']}",
        "created_at": _STAMP,
        "updated_at": _STAMP,
        "permissions": perms,
        "events": [],
        "installations_count": len(app.get("installations", {})),
    }


def _installation_json(ctx: Ctx, app: dict[str, Any], inst_id: str, inst: dict[str, Any]) -> dict[str, Any]:
    account = inst["account"]
    return {
        "id": int(inst_id),
        "account": ctx.owner_json(account),
        "repository_selection": "all",
        "access_tokens_url": f"{ctx.base}/app/installations/{inst_id}/access_tokens",
        "repositories_url": f"{ctx.base}/installation/repositories",
        "html_url": f"{ctx.base}/organizations/{account}/settings/installations/{inst_id}",
        "app_id": int(app["id"]),
        "app_slug": app["slug"],
        "target_id": ctx.ids(account),
        "target_type": "Organization",
        "permissions": dict(inst.get("permissions", {})),
        "events": [],
        "created_at": _STAMP,
        "updated_at": _STAMP,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def get_app(ctx: Ctx) -> Any:
    """Get the authenticated app (JWT only).

    The App the JWT's ``iss`` names, with the union of its installations' permissions."""
    return app_json(ctx, _jwt_app(ctx))


def list_installations(ctx: Ctx) -> Any:
    """List installations for the authenticated app (JWT only), paginated by installation id."""
    app = _jwt_app(ctx)
    items = sorted(app.get("installations", {}).items(), key=lambda kv: int(kv[0]))
    return [_installation_json(ctx, app, i, inst) for i, inst in ctx.paginate(items)]


def get_org_installation(ctx: Ctx, org: str) -> Any:
    """Get an organization installation for the authenticated app (JWT only); 404 when not installed."""
    app = _jwt_app(ctx)
    for inst_id, inst in app.get("installations", {}).items():
        if inst["account"].lower() == org.lower():
            return _installation_json(ctx, app, inst_id, inst)
    raise NotFound(
        documentation_url="https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app"
    )


def create_access_token(ctx: Ctx, installation_id: str) -> Any:
    """Create an installation access token for an app (JWT only).

    A ``ghs_`` token with the installation's permissions, expiring after the server's token TTL."""
    app = _jwt_app(ctx)
    if (
        not installation_id.isdigit()
        or apps.find_installation(ctx.state.data, int(app["id"]), int(installation_id)) is None
    ):
        raise NotFound(
            documentation_url="https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
        )
    token = "ghs_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
    ttl, revoked = ctx.app_token_ttl, ctx.revoke_minted

    def mint(s: Any) -> dict[str, Any]:
        info = apps.mint(s.data, int(app["id"]), int(installation_id), token, ttl)
        if revoked:  # the fault ``revoke_minted``: GitHub refuses it from its first use
            apps.revoke(s.data, token)
        return info

    info = ctx.mutate(mint)
    return Reply(
        {
            "token": token,
            "expires_at": apps.expires_iso(info["expires_at"]),
            "permissions": info["permissions"],
            "repository_selection": "all",
        },
        status=201,
    )


_REVOKE_DOCS = "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token"


def revoke_access_token(ctx: Ctx) -> Any:
    """Revoke an installation access token (the one the request is sent with) → 204.

    Afterwards the token answers 401 ``Bad credentials``, as an expired one does. GitHub's
    description documents only the 204 ("You must use an installation access token"); a personal
    token is refused 403 ``Resource not accessible by personal access token`` (403 is among the
    statuses every operation may answer), a JWT or an unknown token 401 ``Bad credentials`` before
    any route."""
    if ctx.token.get("kind") != "app":
        raise Forbidden("Resource not accessible by personal access token", documentation_url=_REVOKE_DOCS)
    token = str(ctx.token["credential"])
    ctx.mutate(lambda s: apps.revoke(s.data, token))
    return Reply(b"", status=204)
