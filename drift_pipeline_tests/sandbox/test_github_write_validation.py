"""Write bodies are validated as GitHub validates them, over real HTTP: a label with an invalid
colour, an issue without a title, a comment without a body answer 422 ``Validation Failed`` with
``errors[{resource, field, code}]`` and store nothing; a wrong JSON type is ``Invalid request.``"""

from __future__ import annotations

import pytest
import requests

from drift_pipeline.sandbox.github import conformance
from drift_pipeline.sandbox.github.routes import match
from drift_pipeline.sandbox.github.state import SandboxState
from drift_pipeline.sources.gitutil import commit_files
from drift_pipeline_tests.sandbox.conftest import DEV, day

AUTH = {"Authorization": "token sandbox-token"}
R = "/repos/acme/svc"


def build(st: SandboxState) -> None:
    st.add_org("acme")
    path = st.create_repo("acme", "svc")
    commit_files(path, "main", {"README.md": "x\n"}, "init", DEV, day(1))
    st.create_issue("acme", "svc", title="first", user="drift-bot", when=day(2))


@pytest.fixture(scope="module")
def gh(start_github):
    return start_github(build)[0]


def _call(gh, method: str, path: str, body: object) -> requests.Response:
    return requests.request(method, gh.url + path, headers=AUTH, json=body, timeout=10)


@pytest.mark.parametrize(
    ("method", "path", "body", "error"),
    [
        ("POST", f"{R}/labels", {"name": "ops", "color": "zzz"},
         {"resource": "Label", "field": "color", "code": "invalid"}),
        ("POST", f"{R}/labels", {"name": "ops", "color": "#12345"},
         {"resource": "Label", "field": "color", "code": "invalid"}),
        ("POST", f"{R}/labels", {"name": "x" * 51},
         {"resource": "Label", "field": "name", "code": "custom"}),
        ("POST", f"{R}/labels", {"name": "ops", "description": "d" * 101},
         {"resource": "Label", "field": "description", "code": "custom"}),
        ("POST", f"{R}/issues", {"body": "no title"},
         {"resource": "Issue", "field": "title", "code": "missing_field"}),
        ("POST", f"{R}/issues", {"title": "t" * 257},
         {"resource": "Issue", "field": "title", "code": "custom"}),
        ("POST", f"{R}/issues/1/comments", {},
         {"resource": "IssueComment", "field": "body", "code": "missing_field"}),
    ],
)  # fmt: skip
def test_an_invalid_write_answers_422_naming_resource_field_and_code(gh, method, path, body, error):
    resp = _call(gh, method, path, body)
    assert resp.status_code == 422, resp.text
    answer = resp.json()
    assert answer["message"] == "Validation Failed"
    assert [{k: e[k] for k in ("resource", "field", "code")} for e in answer["errors"]] == [error]
    route, _, _ = match(method, path)
    assert route is not None and conformance.validate(method, route.template, 422, answer) == []


def test_an_invalid_label_colour_stores_nothing_and_a_valid_one_is_created(gh):
    assert _call(gh, "POST", f"{R}/labels", {"name": "ops", "color": "nothex"}).status_code == 422
    assert requests.get(f"{gh.url}{R}/labels/ops", headers=AUTH, timeout=10).status_code == 404
    assert _call(gh, "POST", f"{R}/labels", {"name": "ops", "color": "00ff00"}).status_code == 201
    patched = _call(gh, "PATCH", f"{R}/labels/ops", {"color": "green"})
    assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == "color"
    assert requests.get(f"{gh.url}{R}/labels/ops", headers=AUTH, timeout=10).json()["color"] == "00ff00"


def test_a_wrong_json_type_is_an_invalid_request_without_errors(gh):
    resp = _call(gh, "POST", f"{R}/labels", {"name": "typed", "color": 123})
    assert resp.status_code == 422 and "errors" not in resp.json()
    assert resp.json()["message"].startswith("Invalid request.")
    assert conformance.validate("POST", "/repos/{owner}/{repo}/labels", 422, resp.json()) == []
