"""`drift code scan` files issues and `drift scan audit` audits them: through `cli.main`, over the sandbox.

The org of the pipeline tests (real git repos served by the GitHub sandbox), PyGithub over HTTP,
the filed_issues bookkeeping in a real DuckDB file.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from drift_pipeline.cli import main
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline_tests.pipeline.conftest import github, org, sandbox  # noqa: F401  (fixtures)
from drift_pipeline_tests.pipeline.orgfixture import DAY2, DAY3
from drift_pipeline_tests.sandbox.conftest import github_client

ISSUE_POSTS = "POST /repos/{owner}/{repo}/issues"


@pytest.fixture
def env(sandbox, monkeypatch, tmp_path):  # noqa: F811
    db = tmp_path / "drift.duckdb"
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    monkeypatch.setenv("DRIFT_DB_PATH", str(db))
    # one installation's key across the module's tests (they share the sandbox, each has its own --db)
    monkeypatch.setenv("DRIFT_MARKER_KEY", "k" * 40)
    monkeypatch.delenv("DRIFT_ORGS", raising=False)
    return sandbox, db


def scan(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["code", "scan", "--org", "acme", *args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def posts(server: GitHubSandbox) -> dict[str, int]:
    return {k: v for k, v in server.request_counts()["by_route"].items() if k.startswith("POST")}


def drift_issues(server: GitHubSandbox, repo: str) -> list:
    gh = github_client(server.url)
    return [i for i in gh.get_repo(f"acme/{repo}").get_issues(state="all") if i.pull_request is None]


def test_a_scan_files_one_issue_per_repo_and_category_and_a_second_run_files_nothing(env, capsys):
    server, db = env
    code, payload, _ = scan(capsys, "--date", DAY2.isoformat())
    assert code == 1 and {k for k in payload} >= {"findings", "summary", "errors", "issues"}
    filed = sorted((i["repo"], i["category"], i["action"]) for i in payload["issues"])
    assert filed == [("acme/broken", "code", "created"), ("acme/web", "code", "created")]
    assert posts(server).get(ISSUE_POSTS) == 2
    for repo in ("broken", "web"):
        [issue] = drift_issues(server, repo)
        assert issue.title == "[drift:code] Configuration changes detected"
        assert [label.name for label in issue.labels] == ["drift:code"]
        assert issue.html_url in {i["url"] for i in payload["issues"]}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM filed_issues WHERE action = 'created'").fetchone() == (2,)

    server.reset_counts()
    code, again, _ = scan(capsys, "--date", DAY2.isoformat())
    assert code == 1 and {i["action"] for i in again["issues"]} == {"already_filed"}
    assert posts(server) == {} and len(drift_issues(server, "web")) == 1

    # the text output names every issue with its action and URL
    assert main(["code", "scan", "--org", "acme", "--date", DAY2.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "issue already_filed acme/web drift:code: http" in out


def test_dry_run_prints_the_rendered_issues_and_posts_nothing(env, capsys):
    server, db = env
    code = main(["code", "scan", "--org", "acme", "--date", DAY3.isoformat(), "--repo", "mono", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1
    assert "would file in acme/mono: [drift:code] Configuration changes detected (label drift:code)" in out
    assert "    <!-- drift-pipeline: " in out and "project_without_standards" in out  # the body, marker included
    assert posts(server) == {} and drift_issues(server, "mono") == [] and not db.exists()
    code, payload, _ = scan(capsys, "--date", DAY3.isoformat(), "--repo", "mono", "--dry-run")
    [plan] = payload["would_file"]
    assert (plan["repo"], plan["category"]) == ("acme/mono", "code") and "issues" not in payload
    assert plan["title"].startswith("[drift:code]") and "drift-pipeline" in plan["body"]
    assert posts(server) == {}


def test_local_clones_file_nothing_and_say_so_once(org, env, capsys):  # noqa: F811
    code = main(["code", "scan", "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat()])
    err = capsys.readouterr().err
    assert code == 1 and err.count("no issues filed: local clones (--path)") == 1


def test_a_filing_failure_exits_3_naming_the_repo_and_a_retry_files_what_is_missing(env, capsys):
    server, _ = env
    server.set_faults(fail_path={"pattern": r"^/repos/acme/mono/issues$", "status": 500, "method": "POST"})
    code, payload, err = scan(capsys, "--date", DAY3.isoformat(), "--repo", "mono")
    assert code == 3 and payload["findings"] and payload["issues"] == []
    assert "filing failed for acme/mono code: GitHub 500" in err and "1 repo(s) not filed: acme/mono" in err
    server.clear_faults()
    code, payload, _ = scan(capsys, "--date", DAY3.isoformat(), "--repo", "mono")
    assert code == 1 and [i["action"] for i in payload["issues"]] == ["created"]
    assert len(drift_issues(server, "mono")) == 1


def test_an_unusable_db_is_a_filing_failure_not_a_traceback(env, capsys, tmp_path):
    code, payload, err = scan(capsys, "--date", DAY2.isoformat(), "--repo", "web", "--db", str(tmp_path))
    assert code == 3 and payload["findings"] and "1 repo(s) not filed: acme/web" in err
    assert "Traceback" not in err


def test_auto_close_closes_the_issue_of_an_evaluated_repo_whose_finding_is_gone(env, capsys):
    server, _ = env
    assert scan(capsys, "--date", DAY2.isoformat())[0] == 1  # files (or finds) broken's and web's issues
    server.reset_counts()
    # DAY3: web's change of DAY2 is gone; broken's invalid config is still there (a standing finding)
    code, payload, _ = scan(capsys, "--date", DAY3.isoformat(), "--auto-close", "--dry-run")
    assert code == 1 and [(i["repo"], i["action"]) for i in payload["would_close"]] == [("acme/web", "would_close")]
    writes = [k for k in server.request_counts()["by_route"] if k.split(" ", 1)[0] in ("POST", "PATCH")]
    assert writes == []
    code, payload, _ = scan(capsys, "--date", DAY3.isoformat(), "--auto-close")
    closed = [(i["repo"], i["category"]) for i in payload["issues"] if i["action"] == "closed"]
    assert code == 1 and closed == [("acme/web", "code")]
    assert [i.state for i in drift_issues(server, "web")] == ["closed"]
    assert [i.state for i in drift_issues(server, "broken")] == ["open"]
    # without the flag nothing is closed: a later scan leaves the re-opened issue alone
    drift_issues(server, "web")[0].edit(state="open")
    scan(capsys, "--date", DAY3.isoformat())
    assert [i.state for i in drift_issues(server, "web")] == ["open"]


# -- drift scan audit ---------------------------------------------------------------------------
def audit(capsys, *args: str) -> tuple[int, dict]:
    code = main(["scan", "audit", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_audit_lists_exactly_the_repos_above_the_threshold_and_opens_one_summary_a_week(env, capsys):
    server, _ = env
    gh = github_client(server.url)
    for repo, n in (("nometa", 4), ("quiet", 2)):  # 4 is above 3; 2 is not
        for k in range(n):
            gh.get_repo(f"acme/{repo}").create_issue(f"{repo} drift {k}", labels=["drift:process"])
    server.reset_counts()
    code, payload = audit(capsys, "--org", "acme", "--threshold", "3", "--config-repo", "broken")
    [result] = payload["audits"]
    assert code == 1 and [r["repo"] for r in result["repos"]] == ["acme/nometa"]
    assert result["repos"][0]["open"]["process"] == 4 and result["action"] == "created"
    assert posts(server).get(ISSUE_POSTS) == 1
    summary = [i for i in drift_issues(server, "broken") if i.title.startswith("[drift:audit]")]
    assert [i.html_url for i in summary] == [result["url"]]

    server.reset_counts()
    code, payload = audit(capsys, "--org", "acme", "--threshold", "3", "--config-repo", "broken")
    assert code == 1 and payload["audits"][0]["action"] == "already_done" and posts(server) == {}
    code, payload = audit(capsys, "--org", "acme", "--threshold", "50", "--dry-run")
    assert code == 0 and payload["audits"][0]["repos"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threshold", "0"], "--threshold '0'"),
        (["--threshold", "-3"], "--threshold '-3'"),
        (["--threshold", "many"], "--threshold 'many'"),
        (["--org", ""], "--org ''"),
        (["--org", "-bad org; rm"], "--org '-bad org; rm'"),
        (["--org", "acme", "--config-repo", "../etc"], "--config-repo '../etc'"),
        (["--org", "no-such-org"], "--org no-such-org: no such org"),
        ([], "give --org ORG"),
    ],
)
def test_hostile_audit_flags_exit_2_with_one_line(env, capsys, args, message):
    server, _ = env
    assert main(["scan", "audit", *args]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert captured.out == "" and len(lines) == 1 and message in lines[0], captured.err
    assert posts(server) == {}
