"""Check the sandbox's answers against GitHub's own OpenAPI description (the vendored subset).

:func:`validate` checks one answer: its status must be one the operation documents or one of
:data:`GENERIC`, and a JSON body must match the schema GitHub gives for that status (required
keys, types, ``nullable``, ``oneOf``/``anyOf``/``allOf``, arrays, enums), through ``jsonschema``
with OpenAPI 3.0's ``nullable`` translated. Violations are strings: operation, status, JSON path,
expected, got.

:func:`observe` is the server's opt-in hook: with ``DRIFT_SANDBOX_CONFORMANCE=<dir>`` in its
environment, each sandbox process appends one JSON line per API answer to
``<dir>/conformance-<pid>.jsonl``; :func:`summarize` reads them back (the test session's check,
and ``--report DIR`` for the demo).

    python -m drift_pipeline.sandbox.github.conformance --vendor [--source api.github.com.json]
    python -m drift_pipeline.sandbox.github.conformance --report DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from drift_pipeline.sandbox.github import openapi, routes

ENV = "DRIFT_SANDBOX_CONFORMANCE"
RAW_MEDIA_PREFIXES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")

# Statuses GitHub may give on any operation, documented or not (docs.github.com "Troubleshooting
# the REST API" / "Rate limits"): 304 to a conditional GET (empty body), 401 without valid
# credentials, 403 for a primary/secondary rate limit or missing permission, 404 for a resource
# that does not exist or is hidden from the token, 429 secondary rate limit, and the 5xx GitHub
# answers when it fails (the sandbox's injected faults). Their body, when documented nowhere
# for the operation, must still be GitHub's ``basic-error``.
GENERIC = {304: "conditional GET", 401: "auth", 403: "rate limit / permission", 404: "not found / hidden",
           429: "secondary rate limit", 500: "server error", 502: "bad gateway", 503: "unavailable",
           504: "gateway timeout"}  # fmt: skip
_ERROR_SCHEMA = {"$ref": "#/components/schemas/basic-error"}
# deviations already reported to the renderers' owner: listed, not failing, until fixed (see the file)
KNOWN = openapi.HERE / "known-deviations.json"


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: ``nullable: true`` becomes ``anyOf: [null, schema]``."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("items", "not", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _nullable(out[key])
    for key in ("oneOf", "anyOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = _nullable(out[key])
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _nullable(v) for k, v in out["properties"].items()}
    if out.pop("nullable", False) is True:
        return {"anyOf": [{"type": "null"}, out], "x-nullable": True}
    return out


@cache
def _components() -> dict[str, Any]:
    comps = openapi.load_subset().get("components", {})
    return {"schemas": {k: _nullable(v) for k, v in comps.get("schemas", {}).items()}}


@cache
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = {**_nullable(json.loads(schema_json)), "components": _components()}
    return jsonschema.Draft4Validator(schema)


def _resolve_response(response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return openapi.load_subset().get("components", {}).get("responses", {}).get(name, {})
    return response


def _json_schema(response: dict[str, Any]) -> dict[str, Any] | None:
    for media, content in (response.get("content") or {}).items():
        if "json" in media and "schema" in content:
            return dict(content["schema"])
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(error: Any) -> tuple[str, str, str]:
    """(JSON path, expected, got) for one jsonschema error, looking inside anyOf/oneOf."""
    v, value, inst = error.validator, error.validator_value, error.instance
    if v in ("anyOf", "oneOf") and error.schema.get("x-nullable") and error.context:
        inner = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == 1]
        if inner:
            first = min(inner, key=lambda e: len(e.relative_path))
            path, expected, got = _explain(first)
            return path, f"{expected} (or null)" if not first.relative_path else expected, got
    if v in ("anyOf", "oneOf") and error.context:
        by_alt: dict[int, list[Any]] = {}
        for e in error.context:
            by_alt.setdefault(e.relative_schema_path[0] if e.relative_schema_path else 0, []).append(e)

        # the closest alternative: no discriminator (enum) or shape (type of the whole value)
        # mismatch, then the fewest errors
        def score(es: list[Any]) -> tuple[int, int]:
            return sum(e.validator == "enum" or (e.validator == "type" and not e.relative_path) for e in es), len(es)

        errs = min(by_alt.values(), key=score)
        path, expected, got = _explain(max(errs, key=lambda e: len(e.relative_path)))
        return path, f"{v} of {len(value)} schemas, closest: {expected}", got
    if v == "oneOf":  # valid under several alternatives
        return error.json_path, f"exactly one of {len(value)} schemas", f"{_short(inst)} (matches more than one)"
    path = error.json_path
    if v == "type":
        return path, f"type {value}", _kind(inst) if inst is None else f"{_kind(inst)} {_short(inst)}"
    if v == "required":
        absent = [k for k in value if isinstance(inst, dict) and k not in inst]
        return path, f"required keys {absent}", f"an object without them (it has {len(inst)} keys)"
    if v == "enum":
        return path, f"one of {_short(value)}", _short(inst)
    return path, f"{v} {_short(value)}", _short(inst)


@dataclass(frozen=True)
class Violation:
    """One way an answer differs from GitHub's description; ``str()`` is the line we report."""

    route: str  # the sandbox route key: "GET /repos/{owner}/{repo}"
    operation: str  # GitHub's operationId, "" when GitHub has no such operation
    status: int
    path: str  # JSON path in the body ("$" for the whole body or the status)
    expected: str
    got: str

    def __str__(self) -> str:
        where = f"{self.route} [{self.operation or '?'}] -> {self.status}: at {self.path}"
        return f"{where}: expected {self.expected}; got {self.got}"

    @property
    def key(self) -> str:
        """Stable across array positions and bodies: route, status, path with ``[*]``, expected."""
        path = re.sub(r"\[\d+\]", "[*]", self.path)
        return f"{self.route} -> {self.status}: at {path}: expected {self.expected}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "key": self.key, "text": str(self)}


def validate(method: str, template: str, status: int, body: Any, *, has_body: bool = True) -> list[Violation]:
    """Violations of GitHub's description by one answer (``[]`` when it conforms).

    ``template`` is the sandbox route's template (``/repos/{owner}/{repo}/issues/{number}``);
    ``has_body=False`` for an empty body (HEAD, 304), which is then not checked.
    """
    route = f"{method} {template}"
    found = openapi.find_operation(openapi.load_subset(), method, template)
    if found is None:
        hint = f"an operation GitHub describes (or run `{openapi.REGENERATE}`)"
        return [Violation(route, "", status, "$", hint, "no such operation in the vendored description")]
    _path, op = found
    documented, op_id = op.get("responses", {}), op.get("operationId", "")
    if str(status) in documented:
        schema = _json_schema(_resolve_response(documented[str(status)]))
    elif status in GENERIC and (status != 304 or method in ("GET", "HEAD")):
        schema = None if status == 304 else dict(_ERROR_SCHEMA)
    else:
        allowed = sorted(documented) + [f"{s} (generic)" for s in sorted(GENERIC) if s != 304 or method == "GET"]
        return [Violation(route, op_id, status, "$", f"a status in {', '.join(allowed)}", f"undocumented {status}")]
    if schema is None or not has_body:
        return []
    errors = _validator(json.dumps(schema, sort_keys=True)).iter_errors(body)
    out = [Violation(route, op_id, status, *_explain(e)) for e in sorted(errors, key=lambda e: e.json_path)]
    return list(dict.fromkeys(out))  # ``required`` reports each missing key with the same explanation


# -- the server's hook ------------------------------------------------------------------------
_write_lock = threading.Lock()


def observe(request: Any, response: Any) -> None:
    """Validate and record one sandbox answer when ``DRIFT_SANDBOX_CONFORMANCE`` names a directory.

    ``request``/``response`` are werkzeug objects. Control-plane paths and paths no route
    serves are skipped. Never raises: a broken check is recorded as a violation, not a 500.
    """
    target = os.environ.get(ENV)
    if not target or target in ("0", "off"):
        return
    path = request.path
    if path.startswith("/api/v3"):
        path = path[len("/api/v3") :] or "/"
    if path.startswith("/_sandbox/"):
        return
    route, _params, _ = routes.match(request.method, path)
    if route is None:
        return
    status = response.status_code
    record: dict[str, Any] = {"route": route.key, "status": status}
    try:
        data = response.get_data()
        mimetype = response.mimetype or ""
        # the raw media type (``application/vnd.github.raw+json`` too) carries a file's bytes, not JSON
        is_json = mimetype.endswith("json") and not mimetype.startswith(RAW_MEDIA_PREFIXES)
        body = json.loads(data) if data and is_json else None
        has_body = bool(data) and is_json and request.method != "HEAD"
        record["violations"] = [
            v.to_json() for v in validate(route.method, route.template, status, body, has_body=has_body)
        ]
    except Exception as err:  # the hook must never break the server's answer
        broken = Violation(
            route.key, "", status, "$", "a checkable answer", f"check failed: {type(err).__name__}: {err}"
        )
        record["violations"] = [broken.to_json()]
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock:
        try:
            directory = Path(target)
            directory.mkdir(parents=True, exist_ok=True)
            with open(directory / f"conformance-{os.getpid()}.jsonl", "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            pass  # an unwritable directory cannot fail the sandbox's answer; summarize sees no records


def known_deviations(path: Path = KNOWN) -> dict[str, dict[str, str]]:
    """The deviations already reported (``known-deviations.json``), by :attr:`Violation.key`."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as err:
        raise openapi.SubsetError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in items):
        raise openapi.SubsetError(f"{path}: expected a list of objects with a string 'key'")
    return {i["key"]: i for i in items}


def summarize(directory: Path, known: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """What every process recorded under ``directory``: answers per route and status, and each
    distinct violation with how often it was seen, split into ``new`` and ``known`` (by key)."""
    known = known_deviations() if known is None else known
    answers: Counter[str] = Counter()
    new: Counter[str] = Counter()
    seen_known: Counter[str] = Counter()
    example: dict[str, str] = {}  # key -> the first answer's text
    unreadable: list[str] = []
    for file in sorted(Path(directory).glob("conformance-*.jsonl")):
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            try:
                rec = json.loads(line)
                answers[f"{rec['route']} -> {rec['status']}"] += 1
                for v in rec.get("violations") or []:
                    if v["key"] in known:
                        seen_known[v["key"]] += 1
                    else:
                        new[v["key"]] += 1
                        example.setdefault(v["key"], v["text"])
            except (ValueError, KeyError, TypeError):
                unreadable.append(f"{file.name}:{n}")
    return {
        "answers": sum(answers.values()),
        "by_route_status": dict(sorted(answers.items())),
        "violations": {example[k]: n for k, n in sorted(new.items())},
        "known": dict(sorted(seen_known.items())),
        "unreadable_lines": unreadable,
    }


def failed(summary: dict[str, Any]) -> bool:
    """A new violation, or a record we could not read."""
    return bool(summary["violations"] or summary["unreadable_lines"])


def report_lines(summary: dict[str, Any], limit: int = 60) -> list[str]:
    """Human lines for a summary: one per distinct new violation (with how often it was seen)."""
    routes_seen = {k.split(" -> ")[0] for k in summary["by_route_status"]}
    lines = [
        f"OpenAPI conformance: {summary['answers']} sandbox answers on {len(routes_seen)} of {len(routes.ROUTES)} "
        f"routes; {len(summary['violations'])} distinct new violations, {len(summary['known'])} known deviations "
        f"seen ({KNOWN.name})"
    ]
    items = list(summary["violations"].items())
    lines += [f"  {text}  (x{count})" for text, count in items[:limit]]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    lines += [f"  unreadable record {where}" for where in summary["unreadable_lines"][:10]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drift_pipeline.sandbox.github.conformance", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--vendor", action="store_true", help="regenerate the vendored subset from the route table")
    group.add_argument("--report", metavar="DIR", type=Path, help=f"summarize the records a {ENV}=DIR run left")
    parser.add_argument("--source", type=Path, default=openapi.DEFAULT_SOURCE, help="GitHub's api.github.com.json")
    args = parser.parse_args(argv)
    if args.vendor:
        try:
            count, size, missing = openapi.vendor(args.source)
        except openapi.SubsetError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"wrote {openapi.SUBSET} ({count} operations, {size / 1e6:.2f} MB)")
        for key in missing:
            print(f"warning: {key}: no such operation in GitHub's description", file=sys.stderr)
        return 1 if missing else 0
    if not args.report.is_dir():
        print(f"error: {args.report}: not a directory", file=sys.stderr)
        return 2
    summary = summarize(args.report)
    print("\n".join(report_lines(summary)))
    return 1 if failed(summary) else 0


if __name__ == "__main__":
    raise SystemExit(main())
