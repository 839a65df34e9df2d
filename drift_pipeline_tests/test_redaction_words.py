"""The redactor masks credentials and leaves ordinary words after "token" / "Bearer" alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from drift_pipeline.core.redaction import MASK, mask_secrets

GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GHS = "ghs_" + "M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5a6P7o8"
PAT = "github_pat_" + "11ABCDEFG0123456789abc_" + "PlantedFineGrainedToken0123456789abcdefghijklmnopqrstuvwx"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplanted0123456789\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "text",
    [
        "drift: --org needs a token in the GITHUB_TOKEN environment variable",
        "the token provided by the installation expired",
        "a Bearer authentication scheme is required",
        "pass the token through GITHUB_TOKEN, never on the command line",
        "token: ${{ secrets.GITHUB_TOKEN }}",
    ],
)
def test_ordinary_words_after_token_are_kept(text):
    assert mask_secrets(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GITHUB_TOKEN={GHP}", GHP),
        (f"installation token {GHS} issued", GHS),
        (f"export PAT={PAT}", PAT),
        ("token: s3cretPlantedValue99", "s3cretPlantedValue99"),
        ("Authorization: token abcdef0123456789abcdef", "abcdef0123456789abcdef"),
        ("Authorization: Bearer PlantedBearerToken0123", "PlantedBearerToken0123"),
        ('curl -H "token deadbeef0123456789"', "deadbeef0123456789"),
        ("token QwErTyUiOpAsDfGhJkLzXcVbNm", "QwErTyUiOpAsDfGhJkLzXcVbNm"),  # letters only, but 26 of them
        (f"key:\n{PEM}\n", "MIIEowIBAAKCAQEAplanted0123456789"),
    ],
)
def test_credentials_are_still_masked(text, secret):
    masked = mask_secrets(text)
    assert secret not in masked and MASK in masked


def test_the_cli_says_which_variable_needs_a_token_unmangled(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_TOKEN", "GITHUB_APP"))}
    env["DRIFT_DB_PATH"] = str(tmp_path / "drift.duckdb")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from drift_pipeline.cli import main; sys.exit(main())"]
        + ["process", "scan", "--org", "acme"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "GITHUB_TOKEN environment variable" in proc.stderr and MASK not in proc.stderr, proc.stderr
