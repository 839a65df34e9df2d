"""CloudFormation's own drift detection, where the service offers it; the project's comparison where not.

Per region of an account: ``detect_stack_drift`` is started for every stack at once, then
``describe_stack_drift_detection_status`` is polled for all of them (bounded: ``timeout`` seconds
in all, a clear message per stack that did not finish), and for each completed detection
``describe_stack_resource_drifts`` (``MODIFIED`` and ``DELETED`` only, paged by ``NextToken``)
gives the per-resource result as :class:`~drift_pipeline.core.rules.infra.records.ResourceDrift`
records. Property documents are parsed and masked as they are read. The rules turn them into the
same ``attribute_drift`` / ``resource_missing`` findings as the project's comparison
(``rules.infra.cfn``).

"Not offered" is decided on structured facts only, never on message text: botocore could not
parse the answer (``ResponseParserError``: the emulator answers HTTP 500 with a page), the HTTP
status is 500 or 501, or AWS's ``Error.Code`` says the action is unknown or refused to this role
(:data:`NOT_OFFERED`). Then the account's stacks are judged by the project's comparison. A stack
whose detection fails or does not finish in time falls back to the project's comparison alone
(its reason is logged and kept in :attr:`Detection.fallbacks`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drift_pipeline.core.redaction import mask_json, redact
from drift_pipeline.core.rules.infra.records import ObservedStack, PropertyDrift, ResourceDrift
from drift_pipeline.sources.aws import error_code

log = logging.getLogger(__name__)

NOT_OFFERED = frozenset(
    {
        "NotImplemented",
        "InvalidAction",
        "UnsupportedOperation",
        "AccessDenied",  # the read-only role may not run detection: the project's comparison instead
        "AccessDeniedException",
        "UnauthorizedOperation",
    }
)
NOT_OFFERED_STATUS = frozenset({500, 501})
DEFAULT_TIMEOUT = 300.0  # seconds for every stack of a region together
POLL_SECONDS = 5.0
MAX_DRIFT_PAGES = 100
MAX_PROPERTIES_CHARS = 256 * 1024  # a property document larger than this is not parsed (differences kept)
_AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)  # ResponseParserError is not a BotoCoreError


class NotOffered(Exception):
    """The service does not offer drift detection here (emulator, or refused to this role)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def not_offered(exc: BaseException) -> str | None:
    """The structured reason ``exc`` means "drift detection is not offered here", else None."""
    if isinstance(exc, ResponseParserError):
        return "ResponseParserError"
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error_code(exc)
        if code in NOT_OFFERED:
            return code
        if status in NOT_OFFERED_STATUS:
            return f"HTTP{status}"
    return None


@dataclass
class Detection:
    """One region's detection: per stack name, its resources' results (only stacks that completed)."""

    drifts: dict[str, dict[str, ResourceDrift]] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)  # stack name -> why the project's comparison judges it


def _properties(text: Any) -> Mapping[str, Any] | None:
    if not isinstance(text, str) or len(text) > MAX_PROPERTIES_CHARS:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return mask_json(data) if isinstance(data, dict) else None


def _value(value: Any) -> str | None:
    return None if value is None else redact(str(value))[:2048]


def resource_drift(item: Mapping[str, Any]) -> ResourceDrift:
    """One ``StackResourceDrift`` of the documented response shape as a record (values masked)."""
    return ResourceDrift(
        logical_id=str(item["LogicalResourceId"]),
        physical_id=str(item.get("PhysicalResourceId", "")),
        type=str(item.get("ResourceType", "")),
        status=str(item.get("StackResourceDriftStatus", "UNKNOWN")),
        expected=_properties(item.get("ExpectedProperties")),
        actual=_properties(item.get("ActualProperties")),
        differences=tuple(
            PropertyDrift(
                path=str(d.get("PropertyPath", "")),
                expected=_value(d.get("ExpectedValue")),
                actual=_value(d.get("ActualValue")),
                kind=str(d.get("DifferenceType", "")),
            )
            for d in item.get("PropertyDifferences") or []
        ),
    )


def _resource_drifts(client: Any, stack: str) -> dict[str, ResourceDrift]:
    out: dict[str, ResourceDrift] = {}
    kwargs: dict[str, Any] = {"StackName": stack, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
    for _ in range(MAX_DRIFT_PAGES):
        page = client.describe_stack_resource_drifts(**kwargs)
        for item in page.get("StackResourceDrifts", []):
            drift = resource_drift(item)
            out[drift.logical_id] = drift
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return out


def detect_region(
    client: Any,
    stacks: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Detection:
    """CloudFormation drift detection for ``stacks`` of one region (raises :class:`NotOffered`)."""
    result = Detection()
    started: dict[str, str] = {}
    for stack in stacks:
        try:
            started[stack] = client.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        except _AWS_ERRORS as exc:
            reason = not_offered(exc)
            if reason is not None:
                raise NotOffered(reason) from exc
            result.fallbacks[stack] = f"detect_stack_drift: {error_code(exc)}"
    deadline = clock() + timeout
    pending = dict(started)
    while pending:
        for stack, detection_id in list(pending.items()):
            try:
                status = client.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
            except _AWS_ERRORS as exc:
                result.fallbacks[stack] = f"describe_stack_drift_detection_status: {error_code(exc)}"
                del pending[stack]
                continue
            state = status.get("DetectionStatus")
            if state == "DETECTION_IN_PROGRESS":
                continue
            del pending[stack]
            if state != "DETECTION_COMPLETE":  # DETECTION_FAILED: some resources could not be checked
                reason = redact(str(status.get("DetectionStatusReason") or ""))[:200]
                result.fallbacks[stack] = f"{state}: {reason}".rstrip(": ")
                continue
            try:
                result.drifts[stack] = _resource_drifts(client, stack)
            except _AWS_ERRORS as exc:
                result.fallbacks[stack] = f"describe_stack_resource_drifts: {error_code(exc)}"
        if not pending:
            break
        if clock() >= deadline:
            for stack in pending:
                result.fallbacks[stack] = f"drift detection did not complete within {timeout:g} s"
            break
        sleep(min(poll, max(deadline - clock(), 0.0)))
    for stack, why in sorted(result.fallbacks.items()):
        log.warning("CloudFormation drift detection of stack %s not used (project comparison): %s", stack, why)
    return result


def with_detection(
    client: Any, stacks: list[ObservedStack], region: str, timeout: float
) -> tuple[bool | None, list[ObservedStack], int]:
    """``stacks`` with the detection results of those in ``region`` attached.

    Returns (offered: None when the region has no stack to ask about, the stacks, how many stacks
    of the region fell back to the project's comparison)."""
    mine = [i for i, s in enumerate(stacks) if s.region == region]
    if not mine:
        return None, stacks, 0
    try:
        found = detect_region(client, [stacks[i].name for i in mine], timeout=timeout)
    except NotOffered as exc:
        log.info("CloudFormation drift detection not offered in %s (%s): project comparison", region, exc.code)
        return False, stacks, 0
    out = list(stacks)
    for i in mine:
        drift = found.drifts.get(out[i].name)
        if drift is not None:
            out[i] = dataclasses.replace(out[i], drift=drift)
    return True, out, len(found.fallbacks)
