"""What a guard tells its DriftRecorder: accepted requests (parameters sent, undeclared query
parameters and body properties), refusals (unknown paths and methods, media types, undeclared
properties) and responses (undeclared statuses, media types and properties)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._body import select
from ._drift import DriftRecorder, Report, fold_pointer, normalize_path, operation_pointer
from ._http import HeaderMap, HttpRequest, HttpResponse, decode_path, parse_media_type
from ._operation import Operation, OperationPlan
from ._response import Inspection, ResponsePlan
from ._router import base_paths
from ._security import RequestContext
from .errors import MethodNotAllowed, NotFound, RequestError

if TYPE_CHECKING:  # the guard imports this module
    from ._guard import Guard, ValidatedRequest


DRIFT_PROPERTIES = 64  # undeclared body properties read from one request


def record_request(drift: DriftRecorder, plan: OperationPlan, context: RequestContext,
                   validated: ValidatedRequest) -> None:
    """What an accepted request shows: parameters sent, undeclared query parameters and
    body properties (names only)."""
    label = f"{plan.operation.method} {plan.operation.path_template}"
    drift.add("operations_seen", label)
    for location, values in (("path", validated.path_params), ("query", validated.query),
                             ("header", validated.headers), ("cookie", validated.cookies)):
        for name in values:
            sent = (context.query if location == "query" else
                    context.cookies if location == "cookie" else None)
            if sent is None or name in sent or (location == "query" and any(
                    k.startswith(name + "[") for k in sent)):
                drift.add("parameters_sent", f"{label} {location}:{name}")
    for name in context.query:
        if name not in plan.query_names and not name.startswith(plan.deep_prefixes):
            drift.add("unknown_query_parameters", f"{label} {name[:64]}")
    if validated.media_type is not None and isinstance(validated.body, (dict, list)):
        entry = next((e for e in plan.body.entries if e.key == validated.media_type),
                     None) if plan.body else None
        if entry is not None and entry.schema_pointer is not None:
            closed = plan.closed_validator(entry)
            # Bounded like a refusal's report: a body with thousands of undeclared
            # properties adds at most DRIFT_PROPERTIES of them, at that cost.
            found = [] if closed.is_valid(validated.body) else closed.first_violations(
                validated.body, DRIFT_PROPERTIES)
            # Counted once per request that carries them, however many items do.
            for pointer in dict.fromkeys(fold_pointer(v.pointer) for v in found
                                         if v.keyword == "additionalProperties"):
                drift.add("request_properties", f"{label} {pointer}")


def record_refusal(drift: DriftRecorder, router: Any, error: RequestError,
                   plan: OperationPlan | None, request: HttpRequest) -> None:
    """What a refused request shows: an unknown path or method, an undeclared media type,
    undeclared body properties or query parameters."""
    if isinstance(error, NotFound):
        drift.add("unknown_paths", f"{request.method} {normalize_path(request.path)}")
        return
    if isinstance(error, MethodNotAllowed):
        match = router.match(request.method, decode_path(request.path) or "")
        template = (match.route.template if match is not None and match.route is not None
                    else normalize_path(request.path))
        drift.add("unknown_methods", f"{request.method} {template}")
        return
    if plan is None:
        return
    label = f"{plan.operation.method} {plan.operation.path_template}"
    drift.add("operations_seen", label)
    found: dict[tuple[str, str], None] = {}  # each once per request, in order
    for violation in error.violations:
        if violation.keyword == "contentMediaType" and violation.name == "Content-Type":
            media = parse_media_type(HeaderMap.of(request.headers).get("content-type") or "")
            found["request_media_types", f"{label} {media.essence if media else '(none)'}"] = None
        elif violation.keyword == "additionalProperties" and violation.location == "body":
            found["request_properties", f"{label} {fold_pointer(violation.pointer)}"] = None
        elif violation.keyword == "additionalProperties" and violation.location == "query" \
                and violation.name:
            found["unknown_query_parameters", f"{label} {violation.name}"] = None
    for kind, key in found:
        drift.add(kind, key)


def record_response(drift: DriftRecorder, responses: ResponsePlan, operation: Operation,
                    response: HttpResponse, inspection: Inspection) -> None:
    """What a response shows: an undeclared status, media type or property."""
    label = f"{operation.method} {operation.path_template}"
    status_ok, media_ok = responses.declares(response)
    if not status_ok:
        drift.add("response_statuses", f"{label} {response.status}")
    elif not media_ok:
        media = parse_media_type(HeaderMap(response.headers).get("content-type") or "")
        drift.add("response_media_types", f"{label} {response.status} "
                                          f"{media.essence if media else '(none)'}")
    for pointer in dict.fromkeys(fold_pointer(f.pointer) for f in inspection.findings
                                 if f.detector == "undeclared_property"):
        drift.add("response_properties", f"{label} {response.status} {pointer}")


def drift_report(guard: Guard, recording: dict[str, dict[str, int]]) -> Report:
    """The drift of ``recording`` from the guard's spec (``schemaguard drift``); an entry
    the spec covers by now (the recording is older than the spec) is not reported."""
    content = guard.spec.content
    parameters = {f"{op.method} {op.path_template}": [
        f"{p.location}:{p.name}" for p in guard._plans[op].parameters if p.location != "path"]
        for op in guard.operations}
    report = Report(content, recording, parameters, base_paths(content.get("servers")))
    report.covered = lambda kind, key: _covered(guard, report, kind, key)
    return report


def _covered(guard: Guard, report: Report, kind: str, key: str) -> bool:
    """Whether the spec now says what a recording entry found missing."""
    method, _, rest = key.partition(" ")
    template, _, extra = rest.partition(" ")
    try:
        if kind == "unknown_paths":
            path = template.replace("{id}", "1")
            match = guard.router.match(method, path)
            return match is not None and match.operation is not None
        operation = guard.operation(method, template)
    except KeyError:
        return False
    plan = guard._plans[operation]
    if kind == "unknown_methods":
        return True
    if kind == "unknown_query_parameters":
        return extra in plan.query_names
    if kind == "request_media_types":
        media = parse_media_type(extra)
        return bool(plan.body and media and select(plan.body.entries, media))
    pointer = operation_pointer(f"{method} {template}")
    if kind == "request_properties":
        return bool(report.declares_property(f"{pointer}/requestBody", extra))
    status, _, detail = extra.partition(" ")
    if not status.isdigit():
        return False
    if kind == "response_statuses":
        return bool(guard._responses[operation].declares(HttpResponse(int(status)))[0])
    if kind == "response_media_types":
        answer = HttpResponse(int(status), [("content-type", detail)], b"x")
        return bool(guard._responses[operation].declares(answer)[1])
    if kind == "response_properties":
        return bool(report.declares_property(f"{pointer}/responses/{status}", detail))
    return False
