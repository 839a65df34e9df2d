"""`drift code scan` through `cli.main`, on local clones and on the sandbox GitHub."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading

import pytest

from drift_pipeline.cli import main
from drift_pipeline_tests.pipeline.orgfixture import DAY1, DAY2, DAY3


@pytest.fixture(autouse=True)
def cli_db(monkeypatch, tmp_path):
    """Scans of the org file issues: their filed_issues bookkeeping goes to a file of the test."""
    monkeypatch.setenv("DRIFT_DB_PATH", str(tmp_path / "cli.duckdb"))


def scan_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["code", "scan", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def rules(payload: dict) -> list[tuple[str, str, str]]:
    return sorted((f["repo"], f["project"], f["rule"]) for f in payload["findings"])


def test_scan_of_local_clones_reports_the_days_drift_and_exits_1(org, capsys):
    code, payload = scan_json(capsys, "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat())
    assert code == 1
    assert rules(payload) == [
        ("broken", ".", "check_toml_changed"),
        ("broken", ".", "invalid_config"),
        ("web", ".", "dependency_changed"),
    ]
    assert payload["schema_version"] == 1 and payload["errors"] == []
    assert payload["summary"]["repos_changed"] == 2


def test_scan_of_the_org_over_the_api_matches_the_local_scan(org, sandbox, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    code, remote = scan_json(capsys, "--org", "acme", "--date", DAY3.isoformat())
    _, local = scan_json(capsys, "--path", str(org.state.root / "repos" / "acme"), "--date", DAY3.isoformat())
    assert code == 1
    assert (
        rules(remote)
        == rules(local)
        == [
            ("mono", "packages/jobs", "project_without_standards"),
            ("mono", "packages/ui", "check_toml_removed"),
            ("mono", "packages/ui", "project_without_standards"),
        ]
    )
    assert remote["summary"]["api_requests"] > 0 and local["summary"]["api_requests"] == 0
    # the org scan filed its findings (one drift:code issue for mono); the local scan could not
    assert [(i["repo"], i["category"], i["action"]) for i in remote["issues"]] == [("acme/mono", "code", "created")]
    assert "issues" not in local


def test_a_quiet_day_exits_0_and_all_adds_standing_findings(org, capsys):
    repos = str(org.state.root / "repos" / "acme")
    code, payload = scan_json(capsys, "--path", repos, "--date", DAY1.isoformat())
    assert (code, payload["findings"]) == (0, [])
    code, payload = scan_json(capsys, "--path", repos, "--date", DAY3.isoformat(), "--all", "--repo", "broken")
    assert code == 1 and rules(payload) == [("broken", ".", "invalid_config")]


def test_dry_run_lists_the_issues_that_would_be_filed(org, capsys):
    code = main(
        ["code", "scan", "--path", str(org.state.root / "repos" / "acme"), "--date", DAY2.isoformat(), "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "would file in acme/web: [drift:code] Configuration changes detected (label drift:code)" in out
    assert "    <!-- drift-pipeline:" in out  # the body, marker included, from the filing renderer
    assert "fix: Check that the tool config" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--date", "yesterday", "--path", "."], "--date 'yesterday': expected YYYY-MM-DD"),
        ([], "give --path DIR"),
        (["--org", "acme"], "GITHUB_TOKEN"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(["code", "scan", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_github_exits_3_without_traceback_or_token(sandbox, monkeypatch, capsys):
    secret = "ghp_" + "x" * 36
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    assert main(["code", "scan", "--org", "acme", "--date", DAY1.isoformat()]) == 3
    captured = capsys.readouterr()
    assert "401" in captured.err and "Bad credentials" in captured.err
    assert secret not in captured.err + captured.out and "Traceback" not in captured.err


# -- hostile flag values: one clear line, exit 2 for bad input and 3 for runtime failures --------
def one_line_error(args: list[str], code: int, capsys) -> str:
    assert main(["code", "scan", *args]) == code
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "-5"], "--since '-5': expected a number of hours above 0"),
        (["--since", "0"], "--since '0': expected a number of hours above 0"),
        (["--since", "1e9"], "--since '1e9': expected a number of hours above 0 and at most 175680"),
        (["--since", "nan"], "--since 'nan'"),
        (["--since", "inf"], "--since 'inf'"),
        (["--since", "a day"], "--since 'a day'"),
        (["--date", "2026-13-45"], "--date '2026-13-45': expected YYYY-MM-DD"),
        (["--date", "2999-01-01"], "--date 2999-01-01: in the future"),
        (["--date", "1970-01-01"], "the baseline falls before 1970"),
        (["--date", "0001-01-01"], "the baseline falls before 1970"),
        (["--repo", ""], "--repo '': expected a repository name"),
        (["--repo", "../web"], "--repo '../web': expected a repository name"),
        (["--repo", "nope"], "--repo nope: no such repository under --path"),
        (["--concurrency", "0"], "--concurrency '0': expected a whole number from 1 to 32"),
        (["--concurrency", "33"], "--concurrency '33'"),
        (["--concurrency", "many"], "--concurrency 'many'"),
    ],
)
def test_hostile_flag_values_exit_2_with_one_line(org, args, message, capsys):
    line = one_line_error(["--path", str(org.state.root / "repos" / "acme"), *args], 2, capsys)
    assert message in line


def test_hostile_paths_exit_2_with_one_line(tmp_path, capsys):
    file = tmp_path / "a-file"
    file.write_text("x")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "a file, not a directory" in one_line_error(["--path", str(file)], 2, capsys)
    assert "no such directory" in one_line_error(["--path", str(tmp_path / "missing")], 2, capsys)
    assert "--path ''" in one_line_error(["--path", ""], 2, capsys)
    assert "neither a git repository nor a folder of clones" in one_line_error(["--path", str(empty)], 2, capsys)
    assert "not both" in one_line_error(["--path", str(empty), "--org", "acme"], 2, capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory; permissions cannot make one unreadable")
def test_an_unreadable_path_exits_2(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert "not readable" in one_line_error(["--path", str(locked)], 2, capsys)
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("org_name", ["", "   ", "acme/web", "..", "a" * 101])
def test_a_malformed_org_exits_2(org_name, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    assert f"--org {org_name!r}: expected a GitHub org" in one_line_error(["--org", org_name], 2, capsys)


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://example.com", "http://", "https://host:port/api/v3", "//api.github.com"]
)
def test_a_github_api_url_that_is_no_url_exits_2(url, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    monkeypatch.setenv("GITHUB_API_URL", url)
    assert "GITHUB_API_URL" in one_line_error(["--org", "acme"], 2, capsys)


def test_an_unreachable_github_api_url_exits_3_with_one_line(monkeypatch, capsys):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "u" * 36)
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    line = one_line_error(["--org", "acme", "--date", DAY1.isoformat()], 3, capsys)
    assert line.startswith("drift: ") and "/orgs/acme/repos" in line and "ghp_" not in line


def test_a_github_api_url_answering_html_exits_3_with_one_line(monkeypatch, capsys):
    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
        monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_address[1]}")
        line = one_line_error(["--org", "acme", "--date", DAY1.isoformat()], 3, capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert line.startswith("drift: ") and "KeyError" not in line


def test_repo_not_in_the_org_exits_2_and_concurrency_reaches_the_source(org, sandbox, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_API_URL", sandbox.url)
    monkeypatch.setenv("GITHUB_TOKEN", "sandbox-token")
    assert "--repo nope: no such repository in acme" in one_line_error(["--org", "acme", "--repo", "nope"], 2, capsys)
    assert "--org nobody: no such org or user" in one_line_error(["--org", "nobody"], 2, capsys)
    code, serial = scan_json(capsys, "--org", "acme", "--date", DAY3.isoformat(), "--concurrency", "1")
    _, concurrent = scan_json(capsys, "--org", "acme", "--date", DAY3.isoformat(), "--concurrency", "32")
    assert code == 1 and serial["findings"] == concurrent["findings"] and serial["errors"] == concurrent["errors"]
    assert serial["summary"]["api_requests"] == concurrent["summary"]["api_requests"]


@pytest.mark.parametrize("token", ["ghp_" + "a" * 36 + "\nx", "two tokens", "t\u00f6ken"])
def test_a_malformed_token_exits_2_without_echoing_it(token, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    line = one_line_error(["--org", "acme"], 2, capsys)
    assert "GITHUB_TOKEN" in line and token.split()[0] not in line
