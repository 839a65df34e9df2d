"""The process records as JSON and back: what ``process_scan_status`` keeps so ``process_drift`` can judge a stored day.

Generic over frozen dataclasses, driven by their type hints: tuples, frozensets, mappings (keys
restored to their declared type), optionals, datetimes. Used for ``RepoProcess`` and
``ProcessExpectations`` only, both plain data.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def encode(record: Any) -> str:
    return json.dumps(_plain(record), sort_keys=True)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(tp: Any, value: Any) -> Any:
    if value is None or tp is Any:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _build(options[0], value) if len(options) == 1 else value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value})
    if origin is tuple:
        item = args[0] if args else Any
        return tuple(_build(item, v) for v in value)
    if origin is frozenset:
        return frozenset(_build(args[0], v) for v in value)
    if origin in (dict, Mapping):
        key, val = args if args else (Any, Any)
        return {_build(key, k): _build(val, v) for k, v in value.items()}
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is int and isinstance(value, str):
        return int(value)
    return value


def decode(cls: type[T], text: str | Mapping[str, Any]) -> T:
    """The record of class ``cls`` that :func:`encode` wrote."""
    data = json.loads(text) if isinstance(text, str) else text
    return typing.cast(T, _build(cls, data))
