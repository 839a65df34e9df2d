"""The infra manifest parser (v1, v2, text; lines kept) and the deployment convention."""

from __future__ import annotations

import json
import time

import pytest

from drift_pipeline.core.standards.infra_deploy import EnvRef, GitRefs, deployed_commits
from drift_pipeline.core.standards.infra_manifest import MAX_MANIFEST_BYTES, infra_declaration, parse_manifest

QUEUE = "arn:aws:sqs:eu-west-2:111111111111:orders-dev-events"
BUCKET = "arn:aws:s3:::orders-dev-111111111111"
ROLE = "arn:aws:iam::333333333333:role/orders-prod-app"


def test_v1_json_keeps_each_entry_with_its_line_and_account():
    text = "\n".join(
        [
            "{",
            '  "version": 1,',
            '  "project": "orders",',
            '  "resources": [',
            f'    "{QUEUE}",',
            f'    "{BUCKET}"',
            "  ]",
            "}",
        ]
    )
    manifest, problems = parse_manifest("infra-manifest.json", text)
    assert problems == []
    assert manifest is not None and manifest.format == "v1" and manifest.project == "orders"
    assert [(e.resource, e.line, e.account) for e in manifest.entries] == [
        (QUEUE, 5, "aws:111111111111"),
        (BUCKET, 6, None),  # S3 ARNs carry no account: every account's entry
    ]
    assert [e.resource for e in manifest.for_account("111111111111")] == [QUEUE]
    assert manifest.for_account("333333333333") == ()
    assert [e.resource for e in manifest.accountless()] == [BUCKET]


def test_v2_json_maps_entries_to_their_account_and_alias():
    data = {
        "version": 2,
        "accounts": {
            "aws:111111111111": {"alias": "dev", "resources": [QUEUE]},
            "aws:333333333333": {"alias": "prod", "resources": [ROLE, "sg-0123456789abcdef0"]},
        },
    }
    manifest, problems = parse_manifest("infra/manifest.json", json.dumps(data, indent=2))
    assert problems == []
    assert manifest is not None and manifest.format == "v2"
    got = [(e.resource, e.account, e.alias, e.line) for e in manifest.entries]
    assert got == [
        (QUEUE, "aws:111111111111", "dev", 7),
        (ROLE, "aws:333333333333", "prod", 13),
        ("sg-0123456789abcdef0", "aws:333333333333", "prod", 14),
    ]
    assert [e.resource for e in manifest.for_account("333333333333")] == [ROLE, "sg-0123456789abcdef0"]


def test_text_manifest_skips_blanks_and_comments():
    text = f"# orders service\n\n{QUEUE}\n  {BUCKET}   # the data bucket\nsg-0abc\n"
    manifest, problems = parse_manifest("infra.txt", text)
    assert problems == []
    assert manifest is not None and manifest.format == "text"
    assert [(e.resource, e.line) for e in manifest.entries] == [(QUEUE, 3), (BUCKET, 4), ("sg-0abc", 5)]


def test_unknown_extension_tries_json_then_text():
    manifest, _ = parse_manifest("infra.manifest", json.dumps({"resources": [QUEUE]}))
    assert manifest is not None and manifest.format == "v1"
    manifest, _ = parse_manifest("infra.manifest", QUEUE + "\n")
    assert manifest is not None and manifest.format == "text"


@pytest.mark.parametrize(
    ("name", "text", "line", "words"),
    [
        ("m.txt", f"{QUEUE}\n# ok\narn:aws:sqs:eu-west-2\n", 3, "invalid ARN"),
        ("m.txt", f"{QUEUE}\nmy bucket name\n", 2, "resource id"),
        ("m.json", '{\n "resources": [\n  "@Q",\n  42\n ]\n}'.replace("@Q", QUEUE), 4, "expected a string"),
        ("m.json", '{\n "resources": [\n  "@Q",\n  "arn:aws:s3"\n ]\n}'.replace("@Q", QUEUE), 4, "invalid ARN"),
        ("m.json", '{\n "resources": [\n  "@Q"\n  "x"\n ]\n}'.replace("@Q", QUEUE), 4, "not valid JSON"),
        ("m.json", '{"version": 2,\n "accounts": {\n  "azure:x": {"resources": []}}}', 3, "account key"),
    ],
)
def test_malformed_entry_gives_invalid_config_with_file_and_line(name, text, line, words):
    manifest, problems = parse_manifest(name, text)
    assert len(problems) == 1
    (problem,) = problems
    assert (problem.file, problem.line, problem.rule) == (name, line, "invalid_config")
    assert words in problem.message
    if manifest is not None:  # the good entries survive
        assert [e.resource for e in manifest.entries] == [QUEUE] or manifest.format == "v2"


def test_bounds_refuse_oversized_and_deeply_nested_json():
    manifest, problems = parse_manifest("m.txt", "x" * (MAX_MANIFEST_BYTES + 1))
    assert manifest is None and "larger than" in problems[0].message
    manifest, problems = parse_manifest("m.json", "[" * 100 + "]" * 100)
    assert manifest is None and "nested deeper" in problems[0].message


def test_wrong_version_is_a_problem():
    manifest, problems = parse_manifest("m.json", '{"version": 3, "resources": []}')
    assert manifest is None and problems[0].key == "version"


def test_infra_declaration_from_validated_config():
    decl = infra_declaration(
        {
            "infra": {
                "enabled": True,
                "manifest": "infra-manifest.json",
                "path": "infra",
                "stacks": ["orders-api"],
                "accounts": {"dev": "111111111111"},
            }
        }
    )
    assert decl is not None
    assert (decl.path, decl.stacks, dict(decl.accounts), decl.manifest) == (
        "infra",
        ("orders-api",),
        {"dev": "111111111111"},
        "infra-manifest.json",
    )
    # vision keys alone enable it, and the default manifest path is not assumed to exist then
    decl = infra_declaration({"infra": {"enabled": False, "manifest": "infra-manifest.json", "stacks": ["a"]}})
    assert decl is not None and decl.manifest is None and decl.stacks == ("a",)
    assert infra_declaration({"infra": {"enabled": False, "manifest": "infra-manifest.json"}}) is None
    assert infra_declaration({}) is None


# -- deployment convention ---------------------------------------------------------------------

REFS = GitRefs(
    heads={"main": "m" * 40, "feature": "f" * 40},
    tags={
        "v1.9.0": "1" * 40,
        "v1.10.0": "2" * 40,
        "v1.10.0-rc1": "3" * 40,
        "v1.11.0-rc2": "4" * 40,
        "v1.11.0-rc10": "5" * 40,
        "latest": "6" * 40,
    },
)


def test_default_convention_dev_head_staging_newest_rc_prod_newest_release():
    got = deployed_commits(REFS)
    assert (got["dev"].commit, got["dev"].source, got["dev"].ref) == ("m" * 40, "branch", "main")
    assert (got["staging"].commit, got["staging"].ref) == ("5" * 40, "v1.11.0-rc10")  # numeric, not lexical
    assert (got["prod"].commit, got["prod"].ref) == ("2" * 40, "v1.10.0")  # no suffix


def test_stack_commit_tag_wins_over_git_refs_and_missing_refs_mean_not_deployed():
    got = deployed_commits(REFS, stack_commits={"prod": "a" * 40, "dev": None})
    assert (got["prod"].commit, got["prod"].source) == ("a" * 40, "stack_tag")
    assert got["dev"].source == "branch"
    empty = deployed_commits(GitRefs(heads={"trunk": "t" * 40}))
    assert all(d.commit is None and d.source == "none" for d in empty.values())


def test_convention_is_configurable():
    convention = {"dev": EnvRef.parse("branch:feature"), "prod": EnvRef.parse("tag:release-*")}
    refs = GitRefs(heads=REFS.heads, tags={"release-2024.1": "r" * 40, "release-2024.10": "s" * 40})
    got = deployed_commits(refs, convention=convention)
    assert got["dev"].commit == "f" * 40
    assert (got["prod"].commit, got["prod"].ref) == ("s" * 40, "release-2024.10")
    with pytest.raises(ValueError, match="branch:<name> or tag:<pattern>"):
        EnvRef.parse("sha:abc")


def test_large_json_manifest_parses_in_linear_time_with_lines():
    count = 9_000
    text = '{"resources": [\n' + ",\n".join(f'"arn:aws:sqs:eu-west-2:111111111111:q{i}"' for i in range(count)) + "\n]}"
    started = time.perf_counter()
    manifest, problems = parse_manifest("m.json", text)
    assert time.perf_counter() - started < 2.0
    assert problems == [] and manifest is not None
    assert (manifest.entries[0].line, manifest.entries[-1].line) == (2, count + 1)
