"""Tier validation: the rulesets a config extends must match the repository's tier.

Valid when ``[extends]`` is absent or names no rulesets (the latter with a warning), or when at
least one ruleset name ends with ``-<tier>`` (a suffix at the very end; ``prod-internal-x`` does
not match ``internal``).
"""

from __future__ import annotations

from collections.abc import Sequence

from drift_pipeline.core.standards.model import TierCheck


def check_tier(tier: str, rulesets: Sequence[str] | None) -> TierCheck:
    names = tuple(rulesets or ())
    suffix = f"-{tier}"
    if not names:
        message = (
            "no rulesets extended; nothing to check against tier " + repr(tier)
            if rulesets is None
            else "[extends] names no rulesets; nothing to check against tier " + repr(tier)
        )
        return TierCheck(True, tier, names, suffix, (), message)
    matched = tuple(n for n in names if n.endswith(suffix))
    if matched:
        return TierCheck(True, tier, names, suffix, matched, f"tier {tier!r} matched by {', '.join(matched)}")
    return TierCheck(
        False,
        tier,
        names,
        suffix,
        (),
        f"tier is {tier!r} but no extended ruleset ends with {suffix!r} (rulesets: {', '.join(names)})",
    )
