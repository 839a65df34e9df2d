"""Several orgs, one App, one installation each: every installation has its own rate budget
(GitHub's ``X-RateLimit-*`` are per installation), through the product's App authentication
(``sources.github_auth.installation_auth``) and PyGithub over HTTP."""

from __future__ import annotations

from pathlib import Path

from github import Github

from drift_pipeline.sandbox.github.app_seed import seed_app
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.github_auth import AppCredentials, installation_auth
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day

ORGS = ("acme", "beta")


def test_each_orgs_installation_draws_on_its_own_rate_budget(tmp_path: Path) -> None:
    st = SandboxState.open(tmp_path)
    for org in ORGS:
        st.add_org(org)
        commit_files(st.create_repo(org, "svc"), "main", {"README.md": "x\n"}, "init", DEV, day(1))
    st.save()
    app = seed_app(tmp_path, list(ORGS), app_id=9, slug="drift-budgets")
    creds = AppCredentials(int(app["app_id"]), Path(app["private_key_path"]).read_text())
    with GitHubSandbox(tmp_path, rate_limits={"core": 40}) as gh:
        clients = {
            org: Github(base_url=gh.url, auth=installation_auth(gh.url, creds, org), seconds_between_requests=0)
            for org in ORGS
        }
        for _ in range(10):
            clients["acme"].get_repo("acme/svc").get_branch("main")
        clients["beta"].get_repo("beta/svc")
        acme = clients["acme"].get_rate_limit().resources.core
        beta = clients["beta"].get_rate_limit().resources.core
    assert acme.limit == beta.limit == 40
    assert acme.remaining <= 40 - 20  # acme's twenty reads (two per round) drew on acme's budget only
    assert beta.remaining == 40 - 1  # beta's one read, whatever acme spent
