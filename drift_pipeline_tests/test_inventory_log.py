"""The inventory step's log lines about the org's config repo show its text, never obey it.

``drift.config.yaml`` is a watched repo's file, and the run log is printed to the operator's
terminal by ``dagster asset materialize``: a terminal escape (a screen clear, an OSC 8 hyperlink,
a carriage return that rewrites the line, a bidi override) must arrive as visible text.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from drift_pipeline.core.standards import Problem
from drift_pipeline.core.standards.org_config import OrgConfig, parse_org_config
from drift_pipeline.defs.assets.inventory import _log_org
from drift_pipeline.scans.inventory import InventoryResult

HOSTILE = "\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\rok\u202e"
RAW = ("\x1b", "\x07", "\r", "\u202e")
FILE = "drift-config/drift.config.yaml"


def logged_warnings(capfd, config: OrgConfig) -> str:
    """What the run's console logger wrote to the terminal (file descriptor 2) for these problems."""
    capfd.readouterr()
    _log_org(dg.build_asset_context(), "acme", date(2026, 6, 1), InventoryResult([], [], config))
    err = capfd.readouterr().err
    return "\n".join(line for line in err.splitlines() if " - WARNING - " in line)


def test_a_problem_holding_raw_controls_is_logged_with_them_visible(capfd):
    problem = Problem(FILE, "exclude[0]", None, f"{HOSTILE}: unclosed '['")
    text = logged_warnings(capfd, OrgConfig(problems=(problem,)))
    assert "acme: error: drift-config/drift.config.yaml [exclude[0]]" in text
    assert not any(c in text for c in RAW), repr(text)
    assert "\\u001b[2J" in text  # shown, escaped


def test_the_org_configs_own_pattern_problem_arrives_escaped_too(capfd):
    yaml_text = r'exclude: ["\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\rok\u202e["]' + "\n"
    config = parse_org_config(yaml_text)  # YAML's own escapes: the pattern holds the raw controls
    assert config.problems and config.problems[0].key == "exclude[0]"
    text = logged_warnings(capfd, config)
    assert "unclosed '['" in text and not any(c in text for c in RAW), repr(text)
