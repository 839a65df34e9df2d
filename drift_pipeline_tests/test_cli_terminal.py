"""What the ``drift`` command prints is shown, never obeyed: escape sequences, carriage returns
and bidi overrides that a watched repo wrote (a config key, a stored commit subject) reach the
terminal as visible escapes, in text, CSV and error output alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from drift_pipeline.cli import main
from drift_pipeline.core.redaction import visible_controls
from drift_pipeline.store import DriftStore

# an OSC 8 hyperlink around "click", a screen clear, a carriage return that overwrites the line, a
# right-to-left override, a zero-width space and a BEL
HOSTILE = "ok\x1b]8;;http://e.example/\x07click\x1b]8;;\x07\x1b[2J\rfine\u202egnp.exe\u200b\x07"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\u200b")


def _assert_inert(text: str) -> None:
    for c in RAW:
        assert c not in text, f"{c!r} reached the terminal"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("plain ascii, tab\tand newline\n", "plain ascii, tab\tand newline\n"),
        ("é ü 日本 ✓", "é ü 日本 ✓"),
        ("a\x1b[31mb", "a\\u001b[31mb"),
        ("x\ry", "x\\u000dy"),
        ("\u202eabc\ufeff", "\\u202eabc\\ufeff"),
    ],
)
def test_visible_controls(text, shown):
    assert visible_controls(text) == shown


def test_config_check_shows_a_hostile_key(tmp_path: Path, capsys):
    # TOML decodes \u001b in a quoted key into a real ESC: the unknown-key error names it
    (tmp_path / "check.toml").write_text(
        '[code]\n"evil\\u001b]8;;http://e.example/\\u0007click\\u001b]8;;\\u0007" = 1\n', encoding="utf-8"
    )
    code = main(["config", "check", str(tmp_path / "check.toml")])
    out, err = capsys.readouterr()
    assert code == 2  # an invalid config
    assert "unknown key" in out and "evil\\u001b]8;;http://e.example/" in out
    _assert_inert(out + err)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "drift.duckdb"
    with DriftStore(path) as store:
        store.replace_day(date(2026, 1, 1), "acme", {"repo_inventory": [{"repo": "r", "team": HOSTILE}]})
    return path


@pytest.mark.parametrize("fmt", [[], ["--csv"], ["--json"]])
def test_sql_shows_a_hostile_stored_value(db: Path, capsys, fmt):
    code = main(["sql", "SELECT team FROM repo_inventory", "--db", str(db), *fmt])
    out, err = capsys.readouterr()
    assert code == 0 and "click" in out and "gnp.exe" in out
    _assert_inert(out + err)


def test_errors_show_a_hostile_value(db: Path, capsys):
    # a usage error that quotes what it was given goes through the same funnel
    code = main(["sql", "SELECT * FROM no_such_table_\x1b[2J", "--db", str(db)])
    out, err = capsys.readouterr()
    assert code != 0 and "drift:" in err
    _assert_inert(out + err)
