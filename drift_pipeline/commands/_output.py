"""One output layer for every command: results to stdout (text or JSON), progress to stderr."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from drift_pipeline.core.errors import DriftError
from drift_pipeline.core.redaction import redact, visible_controls

SCHEMA_VERSION = 1


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(payload: dict[str, Any]) -> str:
    return json.dumps({"schema_version": SCHEMA_VERSION, **payload}, default=_default, indent=2, sort_keys=False)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` (which may hold what a watched repo or an API answer wrote) with its control
    characters visible: an escape sequence in a commit subject or a stored value is shown, never
    obeyed by the terminal. Every command prints through here."""
    click.echo(visible_controls(text), err=err, nl=nl)


def emit(payload: dict[str, Any], *, as_json: bool, text: Callable[[dict[str, Any]], str]) -> None:
    """Print ``payload`` as JSON, or as the text ``text(payload)`` renders, on stdout."""
    echo(to_json(payload) if as_json else text(payload))


def progress(message: str) -> None:
    echo(message, err=True)


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


def runtime_failure(what: str, exc: BaseException) -> DriftError:
    """A runtime failure (exit 3) as one redacted line: ``<what>: <ExceptionType>: <message>``."""
    detail = " ".join(str(exc).split()) or "no detail"
    if not isinstance(exc, DriftError):
        detail = f"{type(exc).__name__}: {detail}"
    return DriftError(redact(f"{what}: {detail}"))
