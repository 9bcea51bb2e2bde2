"""What the WSGI and ASGI middlewares share: building the guard, rendering answers, logging.

Answers are RFC 9457 problem documents. A fault inside schemaguard or a user callback is a
generic 500 whose body says nothing about the cause; the log gets one line with a request id
and the exception's type, never its message (it may hold a secret) or request values. A
verifier that does not answer within ``verifier_timeout`` is a generic 503, logged the same
way with the scheme's name and the limit.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Mapping
from typing import Any, Final

import orjson

from ._guard import Guard
from ._http import HttpResponse
from ._logs import LogGate
from ._operation import Operation
from .errors import RequestError, VerifierTimeout

logger = logging.getLogger("schemaguard")

PROBLEM_TYPE = "application/problem+json"
# What a path keeps unquoted when an adapter rebuilds it from decoded text (RFC 3986 pchar).
SAFE_PATH: Final = "/:@!$&'()*+,;=-._~"
_INTERNAL = orjson.dumps({
    "type": "about:blank",
    "title": "Internal Server Error",
    "status": 500,
    "detail": "the request could not be processed",
})
_UNAVAILABLE = orjson.dumps({
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "authentication did not complete in time",
})


def make_guard(spec: Any, options: Mapping[str, Any]) -> Guard:
    """The guard a middleware uses: ``spec`` is a path, mapping, Spec or a ready Guard."""
    if isinstance(spec, Guard):
        if options:
            raise ValueError("options go to the Guard when a ready Guard is given, not to the "
                             f"middleware (got {', '.join(sorted(options))})")
        return spec
    if spec is None:
        raise ValueError("GuardMiddleware needs `spec`: a path, a mapping, a Spec or a Guard")
    return Guard(spec, **options)


def problem(error: RequestError) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the problem+json answer for ``error``."""
    body = orjson.dumps(error.to_problem())
    headers = [("content-type", PROBLEM_TYPE), ("content-length", str(len(body))),
               *error.headers]
    return error.status_code, headers, body


def internal_error(exc: BaseException, where: str, gate: LogGate
                   ) -> tuple[int, list[tuple[str, str]], bytes]:
    """The generic 500 answer, logged once with a request id (no message, no values)."""
    request_id = uuid.uuid4().hex
    if gate.admit(logging.ERROR):
        _log_internal_error(exc, where, request_id)
    return 500, [("content-type", PROBLEM_TYPE), ("content-length", str(len(_INTERNAL))),
                 ("x-request-id", request_id)], _INTERNAL


def _log_internal_error(exc: BaseException, where: str, request_id: str) -> None:
    logger.error("schemaguard answered 500 (request %s): %s raised in %s", request_id,
                 type(exc).__name__, where,
                 extra={"schemaguard": {"request_id": request_id, "status": 500}})
    # Frames only: the exception's message may hold a secret (a DSN, a token, a host).
    logger.debug("schemaguard 500 details (request %s):\n%s", request_id,
                 "".join(traceback.format_tb(exc.__traceback__)))


def verifier_timeout(exc: VerifierTimeout, gate: LogGate, *, passed_on: bool = False
                     ) -> tuple[int, list[tuple[str, str]], bytes]:
    """The generic 503 answer to a verifier that ran out of time, logged once (a warning:
    the verifier's backend is slow, schemaguard is not broken) with a request id, the
    scheme and the limit; ``passed_on`` when report mode lets the request through instead."""
    request_id = uuid.uuid4().hex
    outcome = "passed on (report mode)" if passed_on else "answered 503"
    if gate.admit(logging.WARNING):
        logger.warning("schemaguard %s (request %s): the verifier for `%s` did not answer "
                       "within %g s", outcome, request_id, exc.scheme, exc.seconds,
                       extra={"schemaguard": {"request_id": request_id, "status": 503,
                                              "scheme": exc.scheme, "timeout": exc.seconds}})
    return 503, [("content-type", PROBLEM_TYPE), ("content-length", str(len(_UNAVAILABLE))),
                 ("x-request-id", request_id)], _UNAVAILABLE


def log_rejection(error: RequestError, request_id: str) -> None:
    """The INFO line of a refused request (callers ask the guard's LogGate first)."""
    logger.info("schemaguard rejected a request: %s %s (request %s)", error.status_code,
                error.detail, request_id, extra={"schemaguard": {
                    "request_id": request_id,
                    "status": error.status_code,
                    "operation": _name(error.operation),
                    "violations": [v.to_dict() for v in error.violations],
                }})


def check_response(guard: Guard, operation: Operation, status: int,
                   headers: list[tuple[str, str]], body: bytes, *, head: bool = False
                   ) -> tuple[list[tuple[str, str]], bytes] | None:
    """Validate and scan a buffered response: the headers and body to send (redacted when
    scan_responses says so), or None when it must not be sent (enforce, block)."""
    inspection = guard.inspect_response(operation, HttpResponse(status, headers, body),
                                        head=head)
    send = True
    gate = guard.log_gate
    if inspection.violations:
        if gate.admit(logging.WARNING):
            logger.warning("schemaguard: response of %s breaks the spec: %s", _name(operation),
                           "the response does not conform to the spec", extra={"schemaguard": {
                               "operation": _name(operation), "status": status,
                               "violations": [v.to_dict() for v in
                                              inspection.violations[:guard.max_errors]]}})
        send = guard.response_mode(operation) != "enforce"
    if inspection.findings:
        if gate.admit(logging.WARNING):
            findings = inspection.findings[:guard.max_errors]
            logger.warning("schemaguard: response of %s exposes sensitive data (%s)",
                           _name(operation), ", ".join(sorted({f.detector for f in findings})),
                           extra={"schemaguard": {
                               "operation": _name(operation), "status": status,
                               "findings": [f.to_dict() for f in findings]}})
        if guard.scan_responses == "block":
            send = False
    if not send:
        return None
    if inspection.body is not None:
        body = inspection.body
        headers = [(n, str(len(body)) if n.lower() == "content-length" else v)
                   for n, v in headers]
    return headers, body


def bodiless(status: int) -> bool:
    """Statuses that never carry a body (RFC 9110 §6.4.1), so they can be checked unbuffered."""
    return status in (204, 304) or 100 <= status < 200


def content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            value = value.strip()
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def _name(operation: Operation | None) -> str | None:
    if operation is None:
        return None
    return operation.operation_id or f"{operation.method} {operation.path_template}"
