"""What a run would be able to see, checked against the live APIs before the first run.

:func:`diagnose` returns one report: the GitHub identity (token or App installation, rate budget),
per domain what it can read (probe reads on one in-scope repo, never a write), the store, the AWS
identity and roles, and the Dagster instance. :func:`exit_code`: 0 every domain can run, 1 some
domain will be ``*_not_evaluated`` (the report says what to grant), 3 nothing can run.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, Github

from drift_pipeline.core.errors import DriftError
from drift_pipeline.sources.github_auth import app_credentials_from_env, installation_auth

# domain -> (what it reads, the App permission / classic-token right to grant)
DOMAINS = {
    "code": ("repository contents", "Contents: read (classic token: repo scope)"),
    "process": (
        "branch protection and pull requests",
        "Administration: read and Pull requests: read (classic: admin on the repos)",
    ),
    "issues": ("filing drift issues", "Issues: write (classic token: repo scope)"),
}


def _client(api_url: str, env: Any, org: str) -> tuple[Github, dict[str, Any]]:
    app = app_credentials_from_env(env)
    if app is not None:
        auth: Auth.Auth = installation_auth(api_url, app, org)
        kind = {"kind": "app", "app_id": app.app_id, "installation_id": auth.installation_id}  # type: ignore[attr-defined]
    else:
        token = (env.get("GITHUB_TOKEN") or "").strip()
        if not token:
            raise DriftError("no GitHub credentials: set GITHUB_TOKEN or GITHUB_APP_ID and its key")
        auth, kind = Auth.Token(token), {"kind": "token"}
    return Github(base_url=api_url, auth=auth, retry=None, seconds_between_requests=0), kind


def _get(gh: Github, path: str) -> tuple[int, dict[str, Any], Any]:
    status, headers, body = gh.requester.requestJson("GET", path)
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    return status, {k.lower(): v for k, v in headers.items()}, data


def check_github(api_url: str, org: str, env: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"org": org}
    try:
        gh, identity = _client(api_url, env, org)
        status, headers, _ = _get(gh, "/rate_limit")
    except DriftError as exc:
        return {**out, "ok": False, "error": str(exc)}
    except requests.RequestException as exc:
        return {**out, "ok": False, "error": f"cannot reach {api_url} ({type(exc).__name__})"}
    if status == 401:
        return {**out, "ok": False, "error": "GitHub answered 401 Bad credentials"}
    identity["rate_remaining"] = int(headers.get("x-ratelimit-remaining", 0) or 0)
    if identity["kind"] == "token":
        s, h, user = _get(gh, "/user")
        identity["login"] = (user or {}).get("login") if s == 200 else None
        identity["scopes"] = h.get("x-oauth-scopes")
    out["identity"] = identity
    s, _, repos = _get(gh, f"/orgs/{quote(org)}/repos?per_page=100")
    out["repos_listable"] = s == 200
    if s != 200 or not isinstance(repos, list):
        return {**out, "ok": False, "error": f"GET /orgs/{org}/repos answered {s}"}
    out["repos"] = len(repos)
    names = {r.get("name") for r in repos if isinstance(r, dict)}
    out["drift_config"] = "drift-config" in names
    probe = next((r for r in repos if isinstance(r, dict) and r.get("name") != "drift-config"), None)
    out["domains"] = _probe(gh, org, probe, identity["kind"]) if probe else {}
    out["ok"] = True
    return out


def _probe(gh: Github, org: str, repo: dict[str, Any], kind: str) -> dict[str, Any]:
    name, branch = repo["name"], repo.get("default_branch") or "main"
    base = f"/repos/{quote(org)}/{quote(name)}"
    contents = _get(gh, f"{base}/contents/")[0]
    pulls = _get(gh, f"{base}/pulls?per_page=1")[0]
    issues = _get(gh, f"{base}/issues?per_page=1")[0]
    protection = _get(gh, f"{base}/branches/{quote(branch, safe='')}/protection")[0]
    if kind == "app":
        admin = protection != 403
    else:  # a classic token's 404 hides both "not protected" and "not yours": the repo's own flag says
        admin = bool((repo.get("permissions") or {}).get("admin"))
    can = {"code": contents == 200, "process": admin and pulls == 200, "issues": issues == 200}
    return {d: {"probe_repo": name, "can_run": ok, **({} if ok else {"grant": DOMAINS[d][1]})} for d, ok in can.items()}


def check_store(path: str) -> dict[str, Any]:
    from drift_pipeline.store import DriftStore, StoreBusy

    try:
        with DriftStore(path, lock_timeout=1.0) as store:
            store.rows("SELECT 1 AS one")
    except StoreBusy:
        return {"path": path, "ok": False, "error": "locked by another process"}
    except (OSError, DriftError, Exception) as exc:
        return {"path": path, "ok": False, "error": type(exc).__name__}
    return {"path": path, "ok": True, "writable": True, "lock_free": True}


def check_aws(env: Any) -> dict[str, Any]:
    from drift_pipeline.sources.aws import DEFAULT_ROLE, AwsAccess, account_refs, aws_settings_from_env

    settings = aws_settings_from_env(env)
    access = AwsAccess(
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None, role_name=settings.get("role_name", DEFAULT_ROLE)
    )
    try:
        ident = access.base_session().client("sts", endpoint_url=access.endpoint_url).get_caller_identity()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__, "roles": {}}
    roles = {ref.env: _check_role(access, ref.account_id) for ref in account_refs(settings.get("accounts"))}
    return {"ok": all(r["assumable"] for r in roles.values()), "arn": ident.get("Arn"), "roles": roles}


def _check_role(access: Any, account_id: str) -> dict[str, Any]:
    """One account's role: assumed, then looked up in that account (``iam:GetRole``), because an
    emulator (moto) hands out credentials for any role ARN. ``NoSuchEntity`` means the role is not
    there; a refused lookup (``AccessDenied``) leaves the assumption as the proof. Each account is
    checked on its own: one missing role never stops the others."""
    from botocore.exceptions import ClientError

    out: dict[str, Any] = {"account": account_id, "role": access.role_name}
    try:
        session = access.connect(account_id)
    except Exception as exc:  # AssumeRoleError, or the endpoint unreachable
        return {**out, "assumable": False, "error": type(exc).__name__}
    try:
        session.client("iam").get_role(RoleName=access.role_name)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code != "NoSuchEntity":
            return {**out, "assumable": True, "lookup": code or "refused"}
        return {**out, "assumable": False, "error": f"role {access.role_name} does not exist in {account_id}"}
    except Exception as exc:
        return {**out, "assumable": False, "error": type(exc).__name__}
    return {**out, "assumable": True}


def check_dagster(env: Any) -> dict[str, Any]:
    home = env.get("DAGSTER_HOME")
    if not home:
        return {"ok": False, "error": "DAGSTER_HOME not set (runs use an ephemeral instance)"}
    ok = os.path.isdir(home)
    return {"ok": ok, "home": home, **({} if ok else {"error": "DAGSTER_HOME is not a directory"})}


def diagnose(api_url: str, org: str, db_path: str, env: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "github": check_github(api_url, org, env),
        "store": check_store(db_path),
        "aws": check_aws(env),
        "dagster": check_dagster(env),
    }
    report["exit_code"] = exit_code(report)
    return report


def exit_code(report: dict[str, Any]) -> int:
    github = report["github"]
    domains = github.get("domains") or {}
    if not github.get("ok") or not report["store"]["ok"] or not any(d["can_run"] for d in domains.values()):
        return 3
    if not all(d["can_run"] for d in domains.values()) or not report["aws"]["ok"]:
        return 1
    return 0
