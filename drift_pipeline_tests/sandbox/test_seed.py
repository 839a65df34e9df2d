"""The demo org generator: real git repositories and a real state file, no mocks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import tomli

from drift_pipeline.cli import main
from drift_pipeline.core.errors import ExitCode, UsageError
from drift_pipeline.core.standards.loader import load_config
from drift_pipeline.sandbox.seed import (
    DEFAULT_END_DATE,
    REGISTRY_DATA,
    SeedReport,
    scripted_days,
    seed_org,
)
from drift_pipeline.sources.gitutil import git_text

END = date(2026, 3, 13)
ARGS = {"org": "acme", "repos": 8, "days": 7, "end_date": END}


def git_dir(report: SeedReport, repo: str) -> Path:
    return Path(report.state_dir) / "repos" / report.org / f"{repo}.git"


def head(report: SeedReport, repo: str) -> str:
    return git_text(git_dir(report, repo), "rev-parse", "HEAD").strip()


def all_repo_names(state_dir: Path, org: str) -> list[str]:
    return sorted(p.name[:-4] for p in (state_dir / "repos" / org).glob("*.git"))


def settings(state_dir: Path) -> dict:
    data = json.loads((state_dir / "state.json").read_text())
    return {k: data[k] for k in ("orgs", "users", "repos", "protections", "rulesets", "org_rulesets")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeedReport:
    return seed_org(tmp_path_factory.mktemp("seed-a"), **ARGS)


# -- determinism -----------------------------------------------------------------------------------


def test_seed_twice_with_same_arguments_gives_identical_heads_and_settings(seeded: SeedReport, tmp_path: Path) -> None:
    again = seed_org(tmp_path, **ARGS)
    first_dir = Path(seeded.state_dir)
    names = all_repo_names(first_dir, "acme")
    assert names == all_repo_names(tmp_path, "acme")
    assert {n: head(seeded, n) for n in names} == {n: head(again, n) for n in names}
    assert settings(first_dir) == settings(tmp_path)
    assert again.to_dict() | {"state_dir": ""} == seeded.to_dict() | {"state_dir": ""}


def test_seed_with_another_seed_gives_other_shas(seeded: SeedReport, tmp_path: Path) -> None:
    other = seed_org(tmp_path, **ARGS, seed=1)
    assert head(other, "orders-api") != head(seeded, "orders-api")
    # the scenario itself does not depend on the seed
    assert [(e.day, e.repo, e.kind) for e in other.events] == [(e.day, e.repo, e.kind) for e in seeded.events]


# -- history ------------------------------------------------------------------------------------------


def test_every_scripted_event_commit_is_on_its_day_and_touches_its_paths(seeded: SeedReport) -> None:
    assert seeded.start_date == END - timedelta(days=6)
    for event in seeded.events:
        repo = git_dir(seeded, event.repo)
        for sha in event.commit_shas:
            when = git_text(repo, "show", "-s", "--format=%cI", sha).strip()
            assert when.startswith(event.day.isoformat()), (event, when)
            touched = set(git_text(repo, "show", "--format=", "--name-only", sha).split())
            assert touched & set(event.paths), (event, touched)
            # on the default branch
            branch = seeded.repo(event.repo).default_branch
            assert git_text(repo, "merge-base", "--is-ancestor", sha, branch, check=False) == ""


def test_scripted_events_fall_on_days_three_to_six(seeded: SeedReport) -> None:
    day = {n: seeded.start_date + timedelta(days=n - 1) for n in range(1, 8)}
    found = {(e.kind, e.repo): e.day for e in seeded.events}
    assert found[("dependency_changed", "web-storefront")] == day[3]  # eslint.config.js
    assert found[("dependency_changed", "orders-api")] == day[3]  # tsconfig.json
    assert found[("check_toml_changed", "payments-service")] == day[4]
    assert found[("workflow_changed", "inventory-service")] == day[4]
    assert found[("dependency_changed", "notifications-worker")] == day[4]
    assert found[("check_toml_removed", "web-storefront")] == day[5]
    assert found[("project_without_standards", "data-platform")] == day[5]
    assert found[("tier_ruleset_mismatch", "admin-console")] == day[6]
    assert found[("invalid_config", "data-platform")] == day[6]
    assert {e.day for e in seeded.events if e.repo == "web-storefront"} == {day[3], day[5]}
    two = next(e for e in seeded.events if e.repo == "notifications-worker")
    assert len(two.commit_shas) == 2 and two.paths == ("pyproject.toml",)


def test_every_repo_starts_before_the_window(seeded: SeedReport) -> None:
    state_dir = Path(seeded.state_dir)
    for name in all_repo_names(state_dir, "acme"):
        first = git_text(
            state_dir / "repos" / "acme" / f"{name}.git", "log", "--reverse", "--format=%cI", "HEAD"
        ).split()[0]
        assert date.fromisoformat(first[:10]) < seeded.start_date, name


def test_deleted_check_toml_is_gone_at_head_but_present_the_day_before(seeded: SeedReport) -> None:
    event = seeded.events_of("check_toml_removed")[0]
    repo = git_dir(seeded, event.repo)
    assert "check.toml" not in git_text(repo, "ls-tree", "--name-only", "HEAD").split()
    before = git_text(repo, "rev-list", "-1", f"--before={event.day.isoformat()}T00:00:00Z", "HEAD").strip()
    assert "check.toml" in git_text(repo, "ls-tree", "--name-only", before).split()
    assert git_text(repo, "ls-tree", "--name-only", f"{event.commit_shas[0]}~1").split().count("check.toml") == 1


def test_broken_check_toml_fails_to_parse_at_head(seeded: SeedReport) -> None:
    event = seeded.events_of("invalid_config")[0]
    text = git_text(git_dir(seeded, event.repo), "show", f"HEAD:{event.paths[0]}")
    with pytest.raises(tomli.TOMLDecodeError):
        tomli.loads(text)


def test_every_other_config_parses_and_passes_the_strict_schema(seeded: SeedReport) -> None:
    broken = {(e.repo, e.paths[0]) for e in seeded.events_of("invalid_config")}
    checked = 0
    state_dir = Path(seeded.state_dir)
    for name in all_repo_names(state_dir, "acme"):
        repo = state_dir / "repos" / "acme" / f"{name}.git"
        for sha in git_text(repo, "rev-list", "--all").split():
            for path in git_text(repo, "ls-tree", "-r", "--name-only", sha).split():
                if not path.endswith(("check.toml", "standards.toml")) or (name, path) in broken:
                    continue
                text = git_text(repo, "show", f"{sha}:{path}")
                tomli.loads(text)
                problems = load_config(text, path).problems
                assert not problems, (name, path, [p.describe() for p in problems])
                checked += 1
    assert checked > 20


def test_monorepo_has_a_workspace_root_and_packages_with_and_without_config(seeded: SeedReport) -> None:
    repo = seeded.repo("data-platform")
    assert json.loads(git_text(git_dir(seeded, "data-platform"), "show", "HEAD:package.json"))["workspaces"]
    projects = {p.path: p for p in repo.projects}
    assert projects["services/ingest"].language == "python" and projects["services/ingest"].config
    assert projects["packages/metrics-client"].config is None
    # ui-kit got its check.toml on the last day, extending a ruleset the registry does not have
    assert projects["packages/ui-kit"].config == "check.toml"
    (added,) = seeded.events_of("check_toml_added")
    assert (added.repo, added.project, added.day) == ("data-platform", "packages/ui-kit", END)
    ui_kit = tomli.loads(git_text(git_dir(seeded, "data-platform"), "show", "HEAD:packages/ui-kit/check.toml"))
    assert ui_kit["extends"]["rulesets"] == ["typescript-library-internal"]
    assert not (REGISTRY_DATA / "rulesets" / "typescript-library-internal.toml").exists()
    assert "." not in projects


# -- repos and settings -----------------------------------------------------------------------------


def test_out_of_scope_repos_are_present(seeded: SeedReport) -> None:
    state = json.loads((Path(seeded.state_dir) / "state.json").read_text())
    out = {r.name: r.scope_reason for r in seeded.repos if not r.in_scope}
    assert {"shared-scripts", "ops-runbooks", "checkout-v1", "legacy-monolith"} <= set(out)
    assert state["repos"]["acme/checkout-v1"]["archived"] is True
    assert "exclude" in git_text(git_dir(seeded, "drift-config"), "show", "HEAD:drift.config.yaml")
    assert sum(r.in_scope for r in seeded.repos) == 7  # 8 product repos, one lost its check.toml
    tiers = {r.tier for r in seeded.repos if r.in_scope}
    statuses = {r.status for r in seeded.repos if r.in_scope}
    assert tiers == {"production", "internal", "prototype"}
    assert statuses == {"active", "pre-release", "deprecated"}


def test_registry_repo_holds_the_community_rulesets_verbatim(seeded: SeedReport) -> None:
    repo = git_dir(seeded, "standards-community")
    files = sorted((REGISTRY_DATA / "rulesets").glob("*.toml"))
    assert git_text(repo, "ls-tree", "--name-only", "HEAD:rulesets").split() == [p.name for p in files]
    for path in files:
        assert git_text(repo, "show", f"HEAD:rulesets/{path.name}") == path.read_text()
    assert git_text(repo, "show", "HEAD:LICENSE") == (REGISTRY_DATA / "LICENSE").read_text()


def test_process_settings_mirror_configs_except_the_deliberate_violations(seeded: SeedReport) -> None:
    state = json.loads((Path(seeded.state_dir) / "state.json").read_text())
    orders = state["protections"]["acme/orders-api"]["main"]
    assert orders["required_pull_request_reviews"]["required_approving_review_count"] == 2
    assert orders["restrictions"] is None and orders["required_signatures"] == {"enabled": False}
    for per_branch in state["protections"].values():
        for body in per_branch.values():
            assert body.get("required_signatures", {"enabled": False}) is not None
    storefront = state["rulesets"]["acme/web-storefront"][0]
    assert storefront["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
    rule_types = {r["type"] for r in storefront["rules"]}
    assert {"pull_request", "required_status_checks", "required_signatures"} <= rule_types
    tags = [r for r in state["rulesets"]["acme/inventory-service"] if r["target"] == "tag"]
    assert tags and tags[0]["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
    org_rs = state["org_rulesets"]["acme"][0]
    assert org_rs["conditions"]["repository_name"] == {"include": ["*"], "exclude": ["legacy-*"], "protected": False}
    assert "acme/reporting-service" not in state["protections"] and "acme/reporting-service" not in state["rulesets"]
    assert seeded.process_expectations == {
        "orders-api": ("branches_not_up_to_date", "hooks_missing", "tag_protection_missing"),
        "payments-service": ("required_reviews_too_low", "signed_commits_not_required", "codeowners_rule_mismatch"),
        "data-platform": ("code_owner_review_not_required", "codeowners_invalid", "required_file_missing"),
        "inventory-service": ("stale_reviews_not_dismissed", "bypass_actor_mismatch", "commit_convention_violated"),
        "admin-console": ("status_checks_missing", "admins_not_enforced", "forbidden_file_present"),
        "notifications-worker": ("process_not_evaluated", "codeowners_invalid"),
        "reporting-service": ("branch_protection_missing", "codeowners_missing", "required_workflow_missing"),
    }
    # each deviation is in the stored settings, not only in the oracle
    assert orders["required_status_checks"]["strict"] is False
    assert not [r for r in state["rulesets"].get("acme/orders-api", []) if r["target"] == "tag"]
    payments = state["protections"]["acme/payments-service"]["main"]
    assert payments["required_signatures"] == {"enabled": False}
    assert state["protections"]["acme/admin-console"]["main"]["enforce_admins"] is False
    platform = state["rulesets"]["acme/data-platform"][0]
    pull = next(r for r in platform["rules"] if r["type"] == "pull_request")
    assert pull["parameters"]["require_code_owner_review"] is False
    inventory = next(r for r in state["rulesets"]["acme/inventory-service"] if r["target"] == "branch")
    assert {(a["actor_type"], a["actor_id"]) for a in inventory["bypass_actors"]} == {
        ("Integration", 901),
        ("RepositoryRole", 5),
    }
    pull = next(r for r in inventory["rules"] if r["type"] == "pull_request")
    assert pull["parameters"]["dismiss_stale_reviews_on_push"] is False
    # the scan token's user reads notifications-worker as a writer, every other repo as an admin
    roles = {k: r["roles"] for k, r in state["repos"].items() if r.get("roles")}
    assert roles == {"acme/notifications-worker": {"drift-bot": "write"}}


def test_infra_files_are_committed_without_aws(seeded: SeedReport) -> None:
    infra = [r for r in seeded.repos if r.infra_stacks and r.in_scope]
    assert {r.status for r in infra} == {"active", "pre-release", "deprecated"}
    assert sum(r.status == "active" for r in infra) >= 3
    for r in infra:
        cfg = tomli.loads(git_text(git_dir(seeded, r.name), "show", f"HEAD:{r.config_file}"))
        assert cfg["infra"]["stacks"] == list(r.infra_stacks)
        template = json.loads(git_text(git_dir(seeded, r.name), "show", f"HEAD:infra/{r.infra_stacks[0]}.json"))
        assert template["Resources"]
    assert seeded.aws is None


def test_short_window_keeps_every_event_inside_it(tmp_path: Path) -> None:
    assert scripted_days(14) == {3: 3, 4: 4, 5: 5, 6: 6}
    assert scripted_days(4) == {3: 1, 4: 2, 5: 3, 6: 4}
    assert set(scripted_days(2).values()) <= {1, 2}
    report = seed_org(tmp_path, org="tiny", repos=8, days=2, end_date=END)
    assert all(report.start_date <= e.day <= END for e in report.events)
    assert report.events_of("invalid_config") and report.events_of("check_toml_removed")


def test_existing_org_is_refused_unless_forced(tmp_path: Path) -> None:
    first = seed_org(tmp_path, **ARGS)
    with pytest.raises(UsageError, match="already exists"):
        seed_org(tmp_path, **ARGS)
    again = seed_org(tmp_path, **ARGS, force=True)
    assert head(again, "orders-api") == head(first, "orders-api")
    with pytest.raises(UsageError, match="at least 8"):
        seed_org(tmp_path / "x", org="acme", repos=7)


def test_extra_repos_are_added_as_quiet_variations(tmp_path: Path) -> None:
    report = seed_org(tmp_path, org="big", repos=12, days=7, end_date=END)
    product = [
        r for r in report.repos if r.name not in {"shared-scripts", "ops-runbooks", "checkout-v1", "legacy-monolith"}
    ]
    assert len(product) == 12
    assert {e.repo for e in report.events} <= {r.name for r in product[:8]}
    assert any(r.config_file == "standards.toml" for r in product[8:])


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_seed_writes_the_state_and_prints_the_report(tmp_path: Path, capsys) -> None:
    args = [
        "sandbox",
        "seed",
        "--state",
        str(tmp_path),
        "--org",
        "demo",
        "--repos",
        "8",
        "--days",
        "7",
        "--end-date",
        END.isoformat(),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "state.json").exists()
    assert "# Demo org `demo`" in out and "tier_ruleset_mismatch" in out
    assert main(["sandbox", "seed", "--state", str(tmp_path), "--org", "demo"]) == ExitCode.CONFIG
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["report"]["org"] == "demo" and payload["report"]["end_date"] == END.isoformat()
    assert {e["kind"] for e in payload["report"]["events"]} >= {"check_toml_removed", "invalid_config"}


def test_library_default_end_date_is_fixed() -> None:
    assert DEFAULT_END_DATE.isoformat() == "2026-02-27"


# -- served over HTTP --------------------------------------------------------------------------------


@pytest.mark.integration
def test_seeded_org_reads_back_through_the_github_sandbox_with_pygithub(seeded: SeedReport) -> None:
    from github import Auth, Github, GithubException

    from drift_pipeline.sandbox.github.server import GitHubSandbox

    gh = GitHubSandbox(seeded.state_dir).start()
    try:
        client = Github(
            base_url=gh.url,
            auth=Auth.Token("sandbox-token"),
            per_page=100,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )
        names = {r.name for r in client.get_organization("acme").get_repos(type="all")}
        assert names == {r.name for r in seeded.repos} | {"standards-community", "drift-config"}
        payments = client.get_repo("acme/payments-service")
        protection = payments.get_branch("main").get_protection()
        assert protection.required_pull_request_reviews.required_approving_review_count == 1
        assert "required_reviews = 2" in payments.get_contents("check.toml").decoded_content.decode()
        with pytest.raises(GithubException) as err:
            client.get_repo("acme/reporting-service").get_branch("master").get_protection()
        assert err.value.status == 404
        commits = client.get_repo("acme/notifications-worker").get_commits(
            since=datetime.combine(seeded.start_date, time(0), tzinfo=UTC)
        )
        event = next(e for e in seeded.events if e.repo == "notifications-worker")
        assert set(event.commit_shas) <= {c.sha for c in commits}
    finally:
        gh.stop()


@pytest.mark.integration
def test_every_seeded_commit_names_its_author_and_committer_by_login(seeded: SeedReport) -> None:
    from drift_pipeline.sandbox.github.server import GitHubSandbox
    from drift_pipeline.sandbox.seed import TEAMS
    from drift_pipeline_tests.sandbox.conftest import github_client

    logins = {login: name for team in TEAMS.values() for name, login in team}
    with GitHubSandbox(seeded.state_dir) as gh:
        client = github_client(gh.url)
        for repo in ("orders-api", "data-platform", "drift-config"):
            commits = list(client.get_repo(f"acme/{repo}").get_commits())
            assert commits
            for c in commits:
                assert c.author is not None and c.committer is not None, (repo, c.sha)
                assert logins[c.author.login] == c.commit.author.name
                assert c.committer.login == c.author.login and c.author.type == "User"
        head = client.get_repo("acme/payments-service").get_commit(seeded.repo("payments-service").head_sha)
        assert head.author.login in logins


# -- AWS ----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_seed_with_aws_deploys_the_infra_repos_at_their_head_commits(tmp_path: Path) -> None:
    from drift_pipeline.sandbox.aws import AwsSandbox

    with AwsSandbox() as aws:
        aws.reset()  # moto's in-process backends are shared by every server of this process
        report = seed_org(tmp_path, **ARGS, aws=aws)
    assert report.aws and "resource_orphaned" in report.aws and "deprecated_resources_remaining" in report.aws
    for r in report.repos:
        if r.infra_stacks:
            assert f"{r.full_name}" in report.aws


def test_readme_demo_scenario_matches_the_default_seed(tmp_path: Path) -> None:
    from drift_pipeline.sandbox.seed import README_BEGIN, README_END, readme_scenario

    readme = (Path(__file__).parents[2] / "drift_pipeline" / "sandbox" / "README.md").read_text()
    block = readme[readme.index(README_BEGIN) : readme.index(README_END) + len(README_END)]
    assert block == readme_scenario(seed_org(tmp_path)), (
        "README demo scenario is stale: run `uv run --frozen python -m drift_pipeline.sandbox.seed`"
    )
