"""A registry clone never follows a redirect to another host (git would hand it the token), and
owner/repo names from a config cannot point the clone elsewhere. Real git against real servers."""

from __future__ import annotations

import pytest

from drift_pipeline.core.standards.registry import RegistryUnavailable
from drift_pipeline.sources.registry_clone import GitCloneFetcher
from drift_pipeline_tests.sources.hostile import Answer, Seen, hostile_api

TOKEN = "ghp_" + "C" * 36


def test_a_clone_redirected_to_another_host_never_reaches_it(tmp_path):
    with hostile_api(lambda r, n: Answer(401, {}, {"WWW-Authenticate": 'Basic realm="x"'}), host="localhost") as other:

        def answer(request: Seen, count: int) -> Answer:
            return Answer(301, {}, {"Location": f"{other.url}{request.path}"})

        with hostile_api(answer) as api:
            fetcher = GitCloneFetcher(cache_dir=tmp_path, base_url=api.url, env={"GITHUB_TOKEN": TOKEN}, timeout=20)
            with pytest.raises(RegistryUnavailable) as err:
                fetcher.fetch("acme", "registry", None)
    assert api.hits() >= 1
    assert other.seen == []  # git did not follow: the token never had a chance to go there
    assert TOKEN not in str(err.value)


@pytest.mark.parametrize(("owner", "repo"), [("@evil.example", "r"), ("acme", "../../x"), ("..", "r"), ("a b", "r")])
def test_owner_and_repo_must_be_github_names(tmp_path, owner, repo):
    with hostile_api(lambda r, n: Answer(404, {})) as api:
        with pytest.raises(RegistryUnavailable):
            GitCloneFetcher(cache_dir=tmp_path, base_url=api.url, env={}, timeout=20).fetch(owner, repo, None)
    assert api.seen == []
