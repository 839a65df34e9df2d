"""``Fn::Sub`` in a repo's template: the same substitutions as CloudFormation's ``${name}``, in linear time."""

from __future__ import annotations

import itertools
import random
import re
import time

import pytest

from drift_pipeline.core.rules.infra.template import declared_stack, substitute

# The pattern the scanner replaced: the oracle of what is substituted (on small inputs only).
OLD = re.compile(r"\$\{([^}!][^}]*)\}")


def brackets(name: str) -> str:
    return f"<{name}>"


def test_substitute_agrees_with_the_regex_on_every_short_text():
    alphabet = "${}!a"
    for size in range(8):
        for chars in itertools.product(alphabet, repeat=size):
            text = "".join(chars)
            assert substitute(text, brackets) == OLD.sub(lambda m: brackets(m.group(1)), text), text


def test_substitute_agrees_with_the_regex_on_random_texts():
    rng = random.Random(18)
    for _ in range(2000):
        text = "".join(rng.choice(["${", "}", "!", "a", "::", ".Arn", "$", "{"]) for _ in range(rng.randrange(40)))
        assert substitute(text, brackets) == OLD.sub(lambda m: brackets(m.group(1)), text), text


HOSTILE = 60_000  # the old regex needs tens of seconds for this many (3 s for 20,000; it grows with the square)


@pytest.mark.parametrize(
    "text",
    [
        "${" * HOSTILE,  # unclosed, the reported case
        "${a" * HOSTILE,  # unclosed names
        "${!" * HOSTILE + "}",  # escapes, closed once at the end
        "${}" * HOSTILE + "${" * HOSTILE,  # empty names, then unclosed
        "x${Env}" * HOSTILE,  # many real substitutions
    ],
    ids=["unclosed", "unclosed-names", "escapes", "empty-then-unclosed", "many"],
)
def test_hostile_sub_texts_take_well_under_a_second(text):
    started = time.perf_counter()
    out = substitute(text, lambda name: "dev")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f}s for {len(text)} characters"
    assert len(out) <= len(text)


def test_a_template_with_a_hostile_sub_is_read_and_leaves_that_value_literal():
    hostile = "arn:aws:s3:::" + "${" * HOSTILE
    template = {
        "Parameters": {"Env": {"Type": "String"}},
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": hostile}},
                                    {"Effect": "Allow", "Action": "sqs:*", "Resource": {"Fn::Sub": "q-${Env}"}},
                                ]
                            },
                        }
                    ]
                },
            }
        },
    }
    started = time.perf_counter()
    (role,) = declared_stack(
        "s",
        "s-dev",
        template,
        physical_ids={"R": "role"},
        account="1" * 12,
        region="eu-west-2",
        parameters={"Env": "dev"},
    ).resources
    assert time.perf_counter() - started < 1.0
    policy = role.attributes["inline_policies"]["p"]
    assert [s["Resource"] for s in policy.values()] == [[hostile], ["q-dev"]]
