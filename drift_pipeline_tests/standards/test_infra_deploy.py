"""The deployment convention: ``[infra.deploy]`` validation, release tags by version order, past days.

Pure: ``standards.infra_manifest`` and ``standards.schema`` only (no git, no network).
"""

from __future__ import annotations

import pytest

from drift_pipeline.core.standards.infra_deploy import (
    MAX_TAG_CHECKS,
    EnvRef,
    GitRefs,
    deploy_convention,
    deployed_commits,
    release_key,
    releases,
)
from drift_pipeline.core.standards.infra_manifest import infra_declaration
from drift_pipeline.core.standards.schema import validate

PROD, STAGING = EnvRef.parse("v*"), EnvRef.parse("v*-rc*")


def test_only_versioned_tags_count_and_prod_takes_no_suffix():
    tags = {
        "v1.9.0": "a",
        "v1.10.0": "b",
        "v1.10.0-rc1": "c",
        "v1.11.0-rc2": "d",
        "v1.11.0-rc10": "e",
        "latest": "f",
        "vfoo": "g",  # matches v* but has no version: never "newest"
        "v2.0.0+build.7": "h",  # a suffix: not a prod release
        "version-99": "i",
        "v" + "9" * 300: "j",  # longer than a tag name may be
    }
    assert [t for t, _ in releases(tags, PROD)] == ["version-99", "v1.10.0", "v1.9.0"]
    assert [t for t, _ in releases(tags, STAGING)] == ["v1.11.0-rc10", "v1.11.0-rc2", "v1.10.0-rc1"]
    assert release_key("vfoo", PROD) is None and release_key("v1.2", EnvRef.parse("branch")) is None


def test_a_release_outranks_its_candidates_when_a_pattern_takes_both():
    both = EnvRef.parse("release-*-*")  # "-" after the wildcard: suffixes allowed
    tags = {"release-2.0-rc1": "a", "release-2.0-final": "b", "release-1.0-x": "c"}
    assert [t for t, _ in releases(tags, both)][-1] == "release-1.0-x"
    plain = EnvRef.parse("release-*")  # the prefix's "-" does not allow suffixes
    assert [t for t, _ in releases({"release-2.0": "a", "release-2.1-rc1": "b"}, plain)] == ["release-2.0"]


def test_the_default_branch_is_dev_and_a_past_day_only_sees_releases_made_by_then():
    refs = GitRefs(
        heads={"trunk": "t"}, tags={"v1.0.0": "old", "v1.1.0": "new", "v1.1.0-rc1": "new"}, default_branch="trunk"
    )
    now = deployed_commits(refs)
    assert (now["dev"].commit, now["dev"].ref) == ("t", "trunk")
    assert (now["prod"].ref, now["staging"].ref) == ("v1.1.0", "v1.1.0-rc1")
    past = deployed_commits(refs, existed=lambda sha: sha == "old")
    assert (past["prod"].commit, past["prod"].ref) == ("old", "v1.0.0")
    assert past["staging"].commit is None and "existed by the end of the day" in str(past["staging"].note)


def test_a_huge_tag_list_checks_a_bounded_number_of_commits():
    tags = {f"v1.{i}.0": f"s{i}" for i in range(10_000)}
    asked: list[str] = []

    def existed(sha: str) -> bool:
        asked.append(sha)
        return False

    got = deployed_commits(GitRefs(tags=tags), envs=("prod",), existed=existed)
    assert got["prod"].commit is None and len(asked) == MAX_TAG_CHECKS
    assert f"{MAX_TAG_CHECKS} newest tags" in str(got["prod"].note)


def test_infra_deploy_is_validated_and_overrides_the_defaults():
    config = {"infra": {"stacks": ["api"], "deploy": {"prod": "release-*", "dev": "branch:develop"}}}
    assert validate(config) == []
    decl = infra_declaration(config)
    assert decl is not None
    assert decl.deploy["prod"] == EnvRef("tag", "release-*") and decl.deploy["dev"] == EnvRef("branch", "develop")
    assert decl.deploy["staging"] == EnvRef("tag", "v*-rc*")  # default kept


@pytest.mark.parametrize(
    "value",
    ["", "v 1", "sha:abc", "branch:../x y", "v*\n", "x" * 300, 7, ["v*"], "branch:" + "\u0000"],
)
def test_bad_infra_deploy_values_are_reported_with_their_key_path(value):
    problems = validate({"infra": {"stacks": ["api"], "deploy": {"prod": value}}})
    assert [p for p, _ in problems] == [("infra", "deploy", "prod")]
    assert deploy_convention({"prod": value})["prod"] == EnvRef("tag", "v*")  # never used


def test_unknown_env_in_infra_deploy_and_unicode_digits_in_accounts_are_refused():
    problems = validate(
        {"infra": {"deploy": {"qa": "v*"}, "accounts": {"dev": "\u0661" * 12, "prod": "333333333333\n"}}}
    )
    assert {p for p, _ in problems} == {
        ("infra", "deploy", "qa"),
        ("infra", "accounts", "dev"),
        ("infra", "accounts", "prod"),
    }
