from __future__ import annotations

import pytest

from drift_pipeline.core.standards.globs import GlobError, glob_error, glob_match, glob_to_regex


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),
        ("*.md", ".hidden.md", True),  # dot files matched
        ("**/node_modules/**", "node_modules/a/b.js", True),
        ("**/node_modules/**", "apps/web/node_modules/x", True),
        ("**/node_modules/**", "apps/web/src/x", False),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**", "a", True),
        ("a/**", "a/b/c", True),
        ("a/**", "ab", False),
        ("**", "any/thing/at/all", True),
        ("src/**/*.ts", "src/x.ts", True),
        ("src/**/*.ts", "src/a/b/x.ts", True),
        ("src/**/*.ts", "src/a/b/x.tsx", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[abc].py", "b.py", True),
        ("[!abc].py", "b.py", False),
        ("[^abc].py", "d.py", True),
        ("[a-c]x", "bx", True),
        ("eslint.config.{js,mjs,cjs}", "eslint.config.cjs", True),
        ("eslint.config.{js,mjs,cjs}", "eslint.config.ts", False),
        ("{apps,libs}/{web,api}", "libs/api", True),
        ("{a,{b,c}}.txt", "c.txt", True),
        ("{a}", "{a}", True),
        ("\\[x]", "[x]", True),
        ("./x.txt", "x.txt", True),
        ("tsconfig.*.json", "tsconfig.build.json", True),
        ("tsconfig.*.json", "tsconfig.json", False),
        ("a**b", "axxb", True),
        ("a**b", "ax/xb", False),
    ],
)
def test_glob_match_when_pattern_given_then_minimatch_like(pattern, path, expected):
    assert glob_match(pattern, path) is expected


@pytest.mark.parametrize("pattern", ["", "[abc", "{a,b", "src/[x", "a\\"])
def test_glob_error_when_pattern_invalid_then_reason_given(pattern):
    assert glob_error(pattern)
    with pytest.raises(GlobError):
        glob_to_regex(pattern)


@pytest.mark.parametrize("pattern", ["\\[abc", "\\{a", "**/*.{ts,tsx}", "[]]"])
def test_glob_error_when_escaped_or_valid_then_none(pattern):
    assert glob_error(pattern) is None


def test_glob_error_when_not_a_string_then_reason():
    assert glob_error(3) == "a glob pattern must be a string"
