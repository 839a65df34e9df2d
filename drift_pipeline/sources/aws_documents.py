"""Policy documents from AWS answers, decoded as data when they are data, else kept as (masked) text."""

from __future__ import annotations

import ast
import json
from typing import Any

from drift_pipeline.core.redaction import mask_json, mask_secrets


def document(raw: Any) -> Any:
    """A policy document as data. boto3 decodes AWS's URL-encoded JSON; moto 5.2.5 answers the inline
    policies of CloudFormation-made roles as a Python literal (``str(dict)``), which is read with
    ``ast.literal_eval`` (literals only, nothing is executed). Anything else stays text."""
    if not isinstance(raw, str):
        return mask_json(raw)
    if _nesting(raw) > MAX_DOCUMENT_NESTING:  # a decoder would recurse that deep: kept as text
        return mask_secrets(raw)
    try:
        return mask_json(json.loads(raw))
    except ValueError:
        pass
    try:
        return mask_json(ast.literal_eval(raw)) if len(raw) <= 131_072 else mask_secrets(raw)
    except (ValueError, SyntaxError, MemoryError):
        return mask_secrets(raw)


MAX_DOCUMENT_NESTING = 64  # IAM allows far less; deeper is no policy a person wrote


def _nesting(raw: str) -> int:
    """The deepest bracket nesting of ``raw``, counting brackets inside strings too (an upper bound).

    Checked before decoding: ``json.loads`` raises ``RecursionError`` on deep input, and on CPython
    3.11 a ``RecursionError`` inside ``ast.literal_eval`` leaves the interpreter's AST depth counter
    unbalanced (python/cpython#106905), so every later ``ast.parse`` in the process (werkzeug's
    routing, Dagster) fails with ``SystemError``. A hostile answer must not get that far."""
    depth = deepest = 0
    for char in raw:
        if char in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]})":
            depth -= 1
    return deepest
