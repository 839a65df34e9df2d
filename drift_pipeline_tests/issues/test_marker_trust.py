"""Forged filing markers never silence the filer: through the real Dagster job, over the sandbox's HTTP.

The fingerprints an attacker needs are public (a hash of org, repo, rule and subject), so each
forgery below carries the right ones. Only markers the filing identity wrote, at the end of its
own text, signed with the installation's key, count.
"""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from github import Github

from drift_pipeline.commands._filing import app_slug
from drift_pipeline.core.rules.findings import RULES
from drift_pipeline.issues.client import IssueClient
from drift_pipeline.issues.filing import IssueFiler, findings_of_day
from drift_pipeline.issues.identity import IdentityUnknown, bot_login, filer_identity
from drift_pipeline.issues.markers import PART_MARKER, REPEAT_MARKER, marker, parse_markers
from drift_pipeline.issues.render import group_findings, render
from drift_pipeline.sandbox.github.server import GitHubSandbox
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.issues.conftest import DAY1, DAY2, code_finding, issues_of, run_job, write_findings
from drift_pipeline_tests.sandbox.conftest import github_client

MALLORY = "mallory-token"


@pytest.fixture
def mallory(sandbox: GitHubSandbox) -> Github:
    """A second user of the sandbox (a contributor of the watched repo), with her own token."""
    state = SandboxState.open(sandbox.app.store.root)
    state.add_user("mallory")
    state.add_token(MALLORY, login="mallory", admin=False, kind="classic")
    state.save()  # the server reloads state.json when it changes on disk
    return github_client(sandbox.url, token=MALLORY)


def svc_rows(day_: date, message: str = "Lower the tier") -> list[dict]:
    row = code_finding(day_, "svc")
    details = json.loads(row["details"]) if isinstance(row["details"], str) else row["details"]
    details["commits"][0]["message"] = message
    return [{**row, "details": json.dumps(details)}]


def forged(day_: date, kind: str = "drift-pipeline", sig: str | None = None) -> str:
    """A copy of the product's marker for svc's code finding of ``day_`` (optionally with a made-up sig)."""
    text = marker(day_, "code", [code_finding(day_, "svc")["fingerprint"]], kind)
    return text if sig is None else text.replace(' -->', "").rstrip("}") + f', "sig": "{sig}"}} -->'


def outcome(result) -> dict[str, int]:
    assert result.success
    return result.output_for_node("file_drift_issues_op")


def test_a_marker_copied_into_a_commit_subject_does_not_stop_the_next_days_filing(sandbox, gh, tmp_path):
    db = tmp_path / "drift.duckdb"
    # day 1: a commit subject carries the marker the real finding of day 2 will have
    write_findings(db, DAY1, svc_rows(DAY1, message=f"chore: tidy {forged(DAY2)}"))
    assert outcome(run_job(sandbox, db, DAY1)) == {"created": 1}
    [issue] = issues_of(gh, "svc", "drift:code")
    # the renderer breaks the copy's comment opener, so the body holds the real marker only, last
    assert len(parse_markers(issue.body)) == 1 and issue.body.count("<!--") == 1
    assert issue.body.rstrip().rsplit("\n", 1)[-1].startswith("<!-- drift-pipeline: ")
    # day 2: the same finding is still there; the forged marker must not pass for the day's issue
    write_findings(db, DAY2, svc_rows(DAY2))
    assert outcome(run_job(sandbox, db, DAY2)) == {"commented": 1}
    assert [c.body.split(":")[0] for c in issue.get_comments()] == ["Still present on 2026-03-06"]
    assert outcome(run_job(sandbox, db, DAY2)) == {"commented": 1}  # and once only
    assert len(list(issue.get_comments())) == 1 and len(issues_of(gh, "svc", "drift:code")) == 1


@pytest.mark.parametrize("state", ["open", "closed"])
@pytest.mark.parametrize("sig", [None, "0" * 64])
def test_an_issue_opened_by_another_user_with_a_copied_marker_is_ignored(sandbox, gh, mallory, tmp_path, state, sig):
    fake = mallory.get_repo("acme/svc").create_issue(
        "[drift:code] Configuration changes detected",
        body=f"nothing to see\n\n{forged(DAY1, sig=sig)}",
        labels=["drift:code"],
    )
    if state == "closed":
        fake.edit(state="closed")
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, svc_rows(DAY1))
    assert outcome(run_job(sandbox, db, DAY1)) == {"created": 1}
    ours = [i for i in issues_of(gh, "svc", "drift:code") if i.number != fake.number]
    assert [i.user.login for i in ours] == ["drift-bot"]
    assert outcome(run_job(sandbox, db, DAY1)) == {"already_filed": 1}
    # a fresh store (no ledger): found by its own signed marker, never by the forged one
    fresh = tmp_path / "fresh.duckdb"
    write_findings(fresh, DAY1, svc_rows(DAY1))
    assert outcome(run_job(sandbox, fresh, DAY1)) in ({"found": 1}, {"created": 1})
    assert not fake.get_comments().totalCount


def test_a_forged_still_present_comment_does_not_stand_in_for_the_real_one(sandbox, gh, mallory, tmp_path):
    db = tmp_path / "drift.duckdb"
    write_findings(db, DAY1, svc_rows(DAY1))
    assert outcome(run_job(sandbox, db, DAY1)) == {"created": 1}
    [issue] = issues_of(gh, "svc", "drift:code")
    mallory.get_repo("acme/svc").get_issue(issue.number).create_comment(
        f"Still present.\n\n{forged(DAY2, REPEAT_MARKER)}"
    )
    write_findings(db, DAY2, svc_rows(DAY2))
    assert outcome(run_job(sandbox, db, DAY2)) == {"commented": 1}
    ours = [c for c in issue.get_comments() if c.user.login == "drift-bot"]
    assert len(ours) == 1 and ours[0].body.startswith("Still present on 2026-03-06")
    assert outcome(run_job(sandbox, db, DAY2)) == {"commented": 1}
    assert len([c for c in issue.get_comments() if c.user.login == "drift-bot"]) == 1


@pytest.mark.parametrize("sig", [None, "0" * 64])
def test_forged_continuation_parts_do_not_stand_in_for_the_missing_ones(sandbox, gh, mallory, tmp_path, sig):
    """The filer crashed after the create; another user posts copies of every continuation part."""
    db = tmp_path / "drift.duckdb"
    big = "+x = 1\n" * 2_500
    write_findings(db, DAY1, [code_finding(DAY1, "svc", path=f"p{i}/check.toml", diff_extra=big) for i in range(8)])

    def crash(number: int) -> None:  # the documented seam: after the create call, before the parts
        raise RuntimeError(f"process killed after creating #{number}")

    with DriftStore(db) as store:
        [group] = group_findings(findings_of_day(store, DAY1))
        parts = render(group, RULES).comments
        report = IssueFiler(github_client(sandbox.url), store, RULES, after_create=crash).file_day(DAY1, [group])
    assert len(parts) >= 1 and "RuntimeError" in report.failures["acme/svc code"]
    [issue] = issues_of(gh, "svc", "drift:code")
    theirs = mallory.get_repo("acme/svc").get_issue(issue.number)
    for k, text in enumerate(parts, 2):  # the renderer's exact text, its part marker last
        [copied] = parse_markers(text, PART_MARKER)
        assert copied["part"] == k
        if sig is not None:
            text = text.rstrip().removesuffix(" -->").removesuffix("}") + f', "sig": "{sig}"}} -->'
        theirs.create_comment(text)

    # the retry finds the issue by its own signed marker and posts every part: the copies stand in for none
    assert outcome(run_job(sandbox, db, DAY1)) == {"found": 1}
    ours = [c for c in issue.get_comments() if c.user.login == "drift-bot"]
    assert [c.body.split(")")[0] for c in ours] == [
        f"_Continued ({k}/{len(parts) + 1}" for k in range(2, len(parts) + 2)
    ]
    assert [parse_markers(c.body, PART_MARKER)[0]["part"] for c in ours] == list(range(2, len(parts) + 2))
    # with the record lost again, the filer's own parts count (nothing reposted) and the copies still do not
    with DriftStore(db) as store:
        store.write(lambda con: con.execute("DELETE FROM filed_issues"))
    assert outcome(run_job(sandbox, db, DAY1)) == {"found": 1}
    assert len([c for c in issue.get_comments() if c.user.login == "drift-bot"]) == len(parts)
    assert len([c for c in issue.get_comments() if c.user.login == "mallory"]) == len(parts)


def test_an_issue_of_the_previous_version_is_found_and_an_unsigned_marker_written_later_is_not(sandbox, gh, tmp_path):
    # filed by the version before signing: the filer's own account, an unsigned marker at the end
    legacy = gh.get_repo("acme/svc").create_issue(
        "[drift:code] Configuration changes detected", body=f"old body\n\n{forged(DAY1)}", labels=["drift:code"]
    )
    db = tmp_path / "drift.duckdb"
    time.sleep(1.1)  # GitHub's created_at has whole seconds
    write_findings(db, DAY1, svc_rows(DAY1))
    assert outcome(run_job(sandbox, db, DAY1)) == {"found": 1}  # upgrading files no duplicate
    # an unsigned marker in a text of the filer's account created after signing began: ignored
    time.sleep(1.1)
    legacy.edit(state="closed")
    gh.get_repo("acme/svc").create_issue("copy", body=f"x\n\n{forged(DAY2)}", labels=["drift:code"])
    write_findings(db, DAY2, svc_rows(DAY2))
    assert outcome(run_job(sandbox, db, DAY2)) == {"created": 1}


def test_the_identity_is_learnt_from_the_api(sandbox, gh, mallory):
    assert filer_identity(IssueClient(gh)) == "drift-bot"
    assert filer_identity(IssueClient(mallory)) == "mallory"
    assert (
        filer_identity(IssueClient(gh), app_slug="drift-pipeline")
        == bot_login("drift-pipeline")
        == "drift-pipeline[bot]"
    )
    with pytest.raises(ValueError):
        bot_login("Evil Slug<>")
    with pytest.raises(IdentityUnknown) as caught:
        filer_identity(IssueClient(github_client(sandbox.url, token="no-such-token")))
    assert caught.value.status == 401
    assert app_slug(object()) is None


def test_a_marker_whose_values_hold_comment_delimiters_stays_one_comment_and_reads_back():
    """The marker's JSON escapes <, > and &: a value can neither close the hidden comment nor open one."""
    from datetime import date as _date

    from drift_pipeline.issues.markers import marker, parse_markers

    hostile = ["--> <img src=x> <!-- & @octocat", "a" * 64]
    text = marker(_date(2026, 12, 7), "code-->", hostile)
    assert text.count("<!--") == 1 and text.count("-->") == 1 and text.endswith("-->")
    assert "<img" not in text
    [read] = parse_markers(text)
    assert read["category"] == "code-->" and read["fingerprints"] == sorted(hostile)
