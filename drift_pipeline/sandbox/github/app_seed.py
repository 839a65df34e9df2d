"""Register a GitHub App in a sandbox state directory: its key pair, its installations, ``github-app.json``.

Kept apart from ``apps`` (which answers the App routes and is imported by the state itself).
"""

from __future__ import annotations

from typing import Any

from drift_pipeline.sandbox.github.apps import FULL_PERMISSIONS, generate_key
from drift_pipeline.sandbox.github.state import SandboxState


def seed_app(
    state_dir: Any,
    orgs: list[str],
    *,
    app_id: int = 424242,
    slug: str = "drift-pipeline",
    permissions: dict[str, str] | None = None,
    name: str = "github-app",
) -> dict[str, Any]:
    """Register a GitHub App installed on ``orgs`` in the sandbox state at ``state_dir``.

    Writes the private key to ``<name>.pem`` (mode 0600) and ``<name>.json``
    (``app_id``, ``private_key_path``, ``slug``, ``installation_id`` of the first org) beside
    ``state.json``, and returns that JSON.
    """
    import json
    import os
    from pathlib import Path

    root = Path(state_dir)
    private, public = generate_key()
    key_path = root / f"{name}.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private)
    state = SandboxState.open(root)
    inst = {
        app_id * 10 + i + 1: {"account": org, "permissions": dict(permissions or FULL_PERMISSIONS)}
        for i, org in enumerate(orgs)
    }
    state.add_app(app_id, slug=slug, owner=orgs[0], public_key=public, installations=inst)
    state.save()
    config = {
        "app_id": app_id,
        "private_key_path": str(key_path.resolve()),
        "slug": slug,
        "installation_id": min(inst),
    }
    (root / f"{name}.json").write_text(json.dumps(config, indent=2) + "\n")
    return config
