"""The Guard: a compiled spec that answers "may this request reach the handler?".

Every request gets one predictable answer, checked in this order (DESIGN.md): route (404,
405) -> declared Content-Length over the cap (413) -> rate limits by client, API key or globally
(429) -> security (401, 403) -> rate limits by principal (429) -> Content-Type and
Content-Encoding (415) -> parameters (400) -> body cap (413) -> body (400).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, SupportsFloat

from ._assemble import MODES, RESPONSE_MODES, assemble, choice, positive, rate, seconds
from ._body import json_decoder
from ._content import BodyPolicy
from ._deadline import relay
from ._drift import DriftRecorder
from ._http import (
    HeaderGroup,
    HeaderMap,
    HeaderNames,
    HttpRequest,
    HttpResponse,
    ScopeHeaders,
    decode_path,
    parse_cookies,
    parse_query,
)
from ._limits import RateLimit, limiter_for
from ._logs import LogGate, request_id
from ._operation import (
    COOKIE,
    HEADER,
    PATH,
    QUERY,
    Found,
    Operation,
    OperationPlan,
)
from ._recording import record_refusal, record_request, record_response
from ._response import Inspection, ResponsePlan
from ._router import Router
from ._scan import DETECTORS, SCAN_MODES, Detector, Scanner
from ._security import (
    AuthResult,
    RequestContext,
    Verifier,
    authenticate,
    certificate_from_header,
)
from ._spec import Spec, load_spec
from ._verify import future_returned, verify, verify_within
from ._violations import refusal, violation
from .errors import (
    InsufficientScope,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestError,
    RequestValidationError,
    VerifierTimeout,
    Violation,
)

logger = logging.getLogger("schemaguard")

UNKNOWN_PATHS = ("reject", "report", "pass")
CODINGS = ("gzip", "deflate")
# Method-override headers let a client smuggle one method past the checks of another.
OVERRIDE_HEADERS: Final = ("x-http-method-override", "x-http-method", "x-method-override")
OVERRIDES: Final = HeaderGroup(OVERRIDE_HEADERS)
# Bodies larger than this are decoded and validated in a worker thread by check_request_async.
OFFLOAD_BYTES: Final = 262_144


class Started(RequestContext):
    """A request ``Guard.start`` routed and took apart: its parts (a RequestContext, so
    no second object is made per request), its operation and route parameters; ``head``:
    what the checks before the body found, when they are done (only the body is left)."""

    __slots__ = ("head", "plan", "route_params")

    def __init__(self, plan: OperationPlan, route_params: dict[str, str],
                 request: HttpRequest, headers: HeaderMap, query: dict[str, list[str]],
                 cookies: dict[str, list[str]], too_many_fields: bool,
                 content_length: str | None) -> None:
        super().__init__(request, headers, query, cookies, too_many_fields, content_length)
        self.plan = plan
        self.route_params = route_params
        self.head: Found | None = None


def _declares_body(context: RequestContext) -> bool:
    length = context.content_length
    if length is not None:
        if length.isdigit():  # the usual value, read without a copy
            return length != "0"
        return length.strip() not in ("", "0")
    return "transfer-encoding" in context.headers


class ValidatedRequest:
    """What the guard let through: the operation and its decoded, typed inputs.

    ``path_params``, ``query``, ``headers`` and ``cookies`` map declared parameter names to
    typed values (defaults applied; the guard's are made the first time one of them is read,
    each default a fresh copy); ``body`` is the decoded body; ``principal`` is what the
    verifier of the first scheme of the satisfied requirement returned, ``principals`` all of
    them by scheme name; ``media_type`` the declared media type the body matched.
    (A plain slotted class: it is built for every request, and frozen dataclasses are slow
    to build; treat it as read-only.)
    """

    __slots__ = ("_by_location", "_found", "body", "media_type", "operation", "principal",
                 "principals")

    def __init__(
        self,
        operation: Operation,
        path_params: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        cookies: dict[str, Any] | None = None,
        body: Any = None,
        principal: Any = None,
        principals: dict[str, Any] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.operation = operation
        self._by_location: list[dict[str, Any]] | None = [
            path_params if path_params is not None else {},
            query if query is not None else {},
            headers if headers is not None else {},
            cookies if cookies is not None else {}]
        self._found: Found | None = None
        self.body = body
        self.principal = principal
        self.principals = principals if principals is not None else {}
        self.media_type = media_type

    def _locations(self) -> list[dict[str, Any]]:
        split = self._by_location
        if split is None:  # the guard's: split by location on first use
            found = self._found
            split = self._by_location = found.split() if found is not None else [{}, {}, {}, {}]
        return split

    @property
    def path_params(self) -> dict[str, Any]:
        return self._locations()[PATH]

    @property
    def query(self) -> dict[str, Any]:
        return self._locations()[QUERY]

    @property
    def headers(self) -> dict[str, Any]:
        return self._locations()[HEADER]

    @property
    def cookies(self) -> dict[str, Any]:
        return self._locations()[COOKIE]

    def __repr__(self) -> str:
        return (f"ValidatedRequest(operation={self.operation!r}, "
                f"path_params={self.path_params!r}, query={self.query!r}, "
                f"headers={self.headers!r}, cookies={self.cookies!r}, "
                f"media_type={self.media_type!r})")


class _Checked(ValidatedRequest):
    """The guard's ValidatedRequest: its parameters are split by location only when the
    handler asks for them."""

    __slots__ = ()

    def __init__(self, operation: Operation, found: Found, body: Any, auth: AuthResult,
                 media_type: str | None) -> None:  # no super().__init__: no dicts to make
        self.operation = operation
        self._by_location = None
        self._found = found
        self.body = body
        self.principal = auth.principal
        self.principals = auth.principals
        self.media_type = media_type


class Guard:
    """A spec compiled into request checks. Immutable and shared by threads."""

    def __init__(
        self,
        spec: str | os.PathLike[str] | Mapping[str, Any] | Spec,
        *,
        verifiers: Mapping[str, Verifier] | None = None,
        mode: str = "enforce",
        validate_responses: str = "off",
        operations: Mapping[str, Mapping[str, Any]] | None = None,
        unknown_paths: str = "reject",
        ignore_paths: Iterable[str] = (),
        max_body_bytes: int = 1_048_576,
        max_json_depth: int = 64,
        max_fields: int = 200,
        max_errors: int = 20,
        body_timeout: SupportsFloat = 30.0,
        verifier_timeout: SupportsFloat | None = 5.0,
        invalid_status: int = 400,
        content_encodings: Iterable[str] = (),
        reject_unknown_query: bool = False,
        allow_unexpected_body: bool = False,
        reject_duplicate_keys: bool = False,
        formats: Mapping[str, Callable[[str], bool]] | None = None,
        trusted_proxy_cert_header: str | None = None,
        on_violation: Callable[[RequestError, Operation | None], None] | None = None,
        max_log_rate: SupportsFloat | None = None,
        scan_responses: str = "off",
        detectors: Iterable[Detector] | None = None,
        rate_limits: Iterable[RateLimit] = (),
        rate_limit_storage: Any = "memory://",
        drift: DriftRecorder | None = None,
        eager: bool = False,
    ) -> None:
        self.spec = spec if isinstance(spec, Spec) else load_spec(spec)
        self.verifiers: dict[str, Verifier] = dict(verifiers or {})
        self.mode = choice("mode", mode, MODES)
        self.validate_responses = choice("validate_responses", validate_responses,
                                          RESPONSE_MODES)
        self.unknown_paths = choice("unknown_paths", unknown_paths, UNKNOWN_PATHS)
        self.ignore_paths = tuple(ignore_paths)
        self.max_body_bytes = positive("max_body_bytes", max_body_bytes)
        self.max_json_depth = positive("max_json_depth", max_json_depth)
        self.max_fields = positive("max_fields", max_fields)
        self.max_errors = positive("max_errors", max_errors)
        # The durations are typed SupportsFloat, not float, so that the compiled build passes
        # them on as given: a float parameter is converted on entry, and True would arrive
        # here as 1.0 seconds instead of being refused.
        self.body_timeout = seconds("body_timeout", body_timeout)
        self.verifier_timeout = (seconds("verifier_timeout", verifier_timeout)
                                 if verifier_timeout is not None else None)
        self.invalid_status = choice("invalid_status", invalid_status, (400, 422))
        self.content_encodings = tuple(choice("content_encodings", c.lower(), CODINGS)
                                       for c in content_encodings)
        self.reject_unknown_query = bool(reject_unknown_query)
        self.allow_unexpected_body = bool(allow_unexpected_body)
        self.formats = dict(formats or {})
        self.trusted_proxy_cert_header = (trusted_proxy_cert_header.lower()
                                          if trusted_proxy_cert_header else None)
        self.on_violation = on_violation
        self.log_gate = LogGate(None if max_log_rate is None else
                                rate("max_log_rate", max_log_rate))
        self.scan_responses = choice("scan_responses", scan_responses, SCAN_MODES)
        self.scanner = (Scanner(DETECTORS if detectors is None else tuple(detectors))
                        if self.scan_responses != "off" else None)
        self.decode_json = json_decoder(self.max_json_depth, bool(reject_duplicate_keys))
        self.bodies = BodyPolicy(self.content_encodings, self.decode_json, self.invalid_status,
                                 self.allow_unexpected_body,
                                 None if reject_duplicate_keys else self.max_json_depth)
        defaults = {"mode": self.mode, "validate_responses": self.validate_responses,
                    "max_body_bytes": self.max_body_bytes, "max_fields": self.max_fields,
                    "max_errors": self.max_errors, "body_timeout": self.body_timeout,
                    "verifier_timeout": self.verifier_timeout}
        assembly = assemble(self.spec, self.verifiers, self.formats, self.decode_json,
                            defaults, dict(operations or {}))
        self.router: Router[OperationPlan] = assembly.router
        self.operations: list[Operation] = assembly.operations
        self._plans: dict[Operation, OperationPlan] = assembly.plans
        self._responses: dict[Operation, ResponsePlan] = assembly.responses
        self.limiter = limiter_for(self.spec, self._plans, rate_limits, rate_limit_storage)
        if drift is not None and not isinstance(drift, DriftRecorder):
            raise ValueError("drift must be a schemaguard DriftRecorder")
        self.drift = drift
        # raw path -> method -> plan, for paths the router matched to a template without
        # parameters: the usual request skips the base paths and the trie. Filled on first
        # match; only the spec's literal paths (times base paths, then methods) can enter.
        self._exact: dict[str, dict[str, OperationPlan]] = {}
        # Read by adapters for every request: whether any operation authenticates with a
        # client certificate (else the server's certificate is not looked up), and whether
        # any response is inspected (else none is buffered).
        self.needs_client_cert = any(
            scheme.type == "mutualTLS" for plan in self._plans.values()
            for requirement in plan.security.requirements for scheme, _ in requirement)
        # The headers a request's checks read (an ASGI request's others are passed over;
        # a lookup of one of them still answers, from the whole map: _http.py).
        self.header_names = HeaderNames([
            "content-length", "content-type", "content-encoding", "transfer-encoding",
            "authorization", "cookie", "x-request-id",
            *([self.trusted_proxy_cert_header] if self.trusted_proxy_cert_header else []),
            *(parameter.name for plan in self._plans.values() for parameter in plan.parameters
              if parameter.location == "header"),
            *(scheme.parameter for plan in self._plans.values()
              for requirement in plan.security.requirements for scheme, _ in requirement
              if scheme.type == "apiKey" and scheme.location == "header")], [OVERRIDES])
        self._inspects_any = (self.scanner is not None or drift is not None or any(
            plan.settings.validate_responses != "off" for plan in self._plans.values()))
        if eager:
            self.compile_all()

    # -- construction ----------------------------------------------------------------------

    def _limit(self, plan: OperationPlan, context: RequestContext,
               auth: AuthResult | None) -> None:
        """Count the request against the operation's rate limits (429 when exhausted):
        before authentication (auth None) the client, API key and global limits, after it
        the principal ones."""
        limiter = self.limiter
        if limiter is None:
            return
        rules = (limiter.before if auth is None else limiter.after).get(plan.operation)
        if rules:
            limiter.check(rules, plan.operation, context,
                          auth.principal if auth is not None else None)

    async def _limit_async(self, plan: OperationPlan, context: RequestContext,
                           auth: AuthResult | None) -> None:
        if self.limiter is None or self.limiter.memory:
            self._limit(plan, context, auth)
        else:  # a network storage (Redis): keep the event loop free
            await relay(asyncio.to_thread(self._limit, plan, context, auth))

    def compile_all(self) -> None:
        """Compile every operation's validators now (for pre-fork servers)."""
        for plan in self._plans.values():
            plan.validators()
        for responses in self._responses.values():
            responses.compile_all()

    def operation(self, method: str, path_template: str) -> Operation:
        """The operation declared for ``method`` and ``path_template``; KeyError if none."""
        for route in self.router.routes:
            if route.template == path_template and method.upper() in route.operations:
                return route.operations[method.upper()].operation
        raise KeyError(f"{method.upper()} {path_template}")

    # -- responses -------------------------------------------------------------------------

    def response_mode(self, operation: Operation) -> str:
        """validate_responses for ``operation`` ("off", "report" or "enforce")."""
        return self._plans[operation].settings.validate_responses

    def inspects_responses(self, operation: Operation) -> bool:
        """Whether responses of ``operation`` are validated or scanned (so buffered)."""
        return self._inspects_any and (self.scanner is not None or self.drift is not None
                or self.response_mode(operation) != "off")

    def inspect_response(self, operation: Operation, response: HttpResponse, *,
                         head: bool = False) -> Inspection:
        """Validate (per validate_responses) and scan (per scan_responses) a response with
        one parse of its body: violations, sensitive-data findings, and the redacted body
        when scan_responses is "redact" and something was found."""
        responses = self._responses.get(operation)
        if responses is None:
            raise ValueError(f"{operation!r} is not an operation of this guard")
        inspection = responses.inspect(
            response, self._plans[operation].settings.max_errors, head=head,
            validate=self.response_mode(operation) != "off", scanner=self.scanner,
            redact=self.scan_responses == "redact", closed=self.drift is not None)
        if self.drift is not None:
            record_response(self.drift, self._responses[operation], operation, response,
                            inspection)
            if self.scanner is None:
                inspection.findings.clear()  # recorded as drift, not sensitive-data findings
        return inspection

    def check_response(self, operation: Operation, response: HttpResponse, *,
                       head: bool = False) -> None:
        """Raise ResponseValidationError when ``response`` breaks ``operation``'s spec:
        an undeclared status or media type, a missing or invalid header, or a body that does
        not conform (in the response context: writeOnly properties are violations). For a
        ``head`` request the body is not checked (HEAD answers carry none)."""
        responses = self._responses.get(operation)
        if responses is None:
            raise ValueError(f"{operation!r} is not an operation of this guard")
        responses.check(response, self._plans[operation].settings.max_errors, head=head)

    # -- requests --------------------------------------------------------------------------

    def check_request(self, request: HttpRequest) -> ValidatedRequest | None:
        """Validate ``request``; raise a RequestError, or return what was validated.

        Returns None when the guard lets the request through without an operation (mode
        "off", an ignored path, report mode, or unknown paths passed on). Verifiers are called
        directly; a coroutine-function verifier raises ValueError (use check_request_async).
        A verifier that answers after ``verifier_timeout`` raises VerifierTimeout: it cannot
        be interrupted here, so it runs to its end and its answer is discarded.
        """
        outcome = self.decide(request, None)
        if isinstance(outcome, RequestError):
            raise outcome
        return outcome

    async def check_request_async(self, request: HttpRequest) -> ValidatedRequest | None:
        """check_request for async servers: async verifiers are awaited, sync ones run in a
        worker thread so they never block the event loop. A verifier still running at
        ``verifier_timeout`` is cancelled (a sync one's thread runs on, its answer discarded)
        and VerifierTimeout is raised."""
        outcome = await self.decide_async(request, None)
        if isinstance(outcome, RequestError):
            raise outcome
        return outcome

    # The refusal is returned, not raised, on the way out: an exception that crosses the
    # compiled phases collects a traceback entry (a frame object) in each, about a fifth of
    # what a refused GET costs. The usual refusals (parameters, body) are returned from
    # their phase too; the rarer ones are raised where they are found and caught here.

    def decide(self, request: HttpRequest, read_body: Callable[[int], bytes] | None
               ) -> ValidatedRequest | RequestError | None:
        """check_request for adapters, without the raise: the refusal to answer with is
        returned (None: let the request through without an operation, or only report the
        refusal). With ``read_body``, the body is read (at most the operation's cap) only
        after the route, security and parameters passed."""
        plan: OperationPlan | None = None
        try:
            routed = self._route(request)
            if routed is None:
                return None
            plan, route_params = routed
            context = self._prepare(plan, request, route_params)
        except RequestError as error:
            return self._refused(error, plan, request)
        return self._decide_rest(context, read_body)

    def resume(self, started: Started, read_body: Callable[[int], bytes] | None
               ) -> ValidatedRequest | RequestError | None:
        """The rest of decide after ``start``, for a sync adapter: rate limits and security
        (verifiers called) and the checks before the body, unless ``start`` did them; the
        body, read with ``read_body`` (None: the request's own)."""
        return self._decide_rest(started, read_body)

    def _decide_rest(self, context: Started, read_body: Callable[[int], bytes] | None
                     ) -> ValidatedRequest | RequestError | None:
        """decide's phases after the route (and ``start``'s, after its own)."""
        plan, head = context.plan, context.head
        try:
            auth = _ANONYMOUS
            if head is None:
                if self.limiter is not None:
                    self._limit(plan, context, None)
                if not plan.open:
                    auth = self._authenticate(plan, context)
                if self.limiter is not None:
                    self._limit(plan, context, auth)
                checked = self._head(plan, context, read_body is not None)
                if not isinstance(checked, Found):  # a refusal
                    return self._refused(checked, plan, context.request)
                head = checked
            body = context.request.body
            if read_body is not None:
                body = read_body(plan.settings.max_body_bytes)
            validated = self._finish(plan, context, head, auth, body, read_body is not None)
            if not isinstance(validated, ValidatedRequest):  # a refusal
                return self._refused(validated, plan, context.request)
            return validated
        except RequestError as error:
            return self._refused(error, plan, context.request)

    async def decide_async(
        self, request: HttpRequest,
        read_body: Callable[[int, float], Awaitable[bytes]] | None
    ) -> ValidatedRequest | RequestError | None:
        """decide() for async adapters: awaits verifiers and the body reader."""
        started = self.start(request, read_body is not None)
        if not isinstance(started, Started):
            return started
        return await self.resume_async(started, read_body)

    # decide_async in parts, for the ASGI middleware: ``start`` takes a request as far as it
    # goes without an await; when only the body is left (``Started.head``), the middleware
    # reads it and ``complete`` checks it, and no coroutine of the guard's runs at all.

    def start(self, request: HttpRequest, deferred: bool = True
              ) -> Started | RequestError | None:
        """The route and the request's parts, then, for an operation without security and
        without rate limits, the checks before the body too (``Started.head`` set). A
        refusal is returned; None lets the request through without an operation.
        ``deferred``: the body is read afterwards (adapters)."""
        plan: OperationPlan | None = None
        try:
            routed = self._route(request)
            if routed is None:
                return None
            plan, route_params = routed
            started = self._prepare(plan, request, route_params)
            if self.limiter is not None or not plan.open:
                return started
            head = self._head(plan, started, deferred)
            if not isinstance(head, Found):  # a refusal
                return self._refused(head, plan, request)
            started.head = head
            return started
        except RequestError as error:
            return self._refused(error, plan, request)

    async def resume_async(
        self, started: Started, read_body: Callable[[int, float], Awaitable[bytes]] | None
    ) -> ValidatedRequest | RequestError | None:
        """The rest of decide_async after ``start``: rate limits and security (verifiers
        awaited) and the checks before the body, unless ``start`` did them; the body, read
        with ``read_body`` (None: the request's own)."""
        plan, context = started.plan, started
        request = context.request
        try:
            head = started.head
            auth = _ANONYMOUS
            if head is None:
                if self.limiter is not None:
                    await self._limit_async(plan, context, None)
                if not plan.open:
                    auth = await self._authenticate_async(plan, context)
                if self.limiter is not None:
                    await self._limit_async(plan, context, auth)
                checked = self._head(plan, context, read_body is not None)
                if not isinstance(checked, Found):  # a refusal
                    return self._refused(checked, plan, request)
                head = checked
            body = request.body
            if read_body is not None:
                body = await read_body(plan.settings.max_body_bytes, plan.settings.body_timeout)
            if len(body) > OFFLOAD_BYTES:
                # Parsing and validating a big body takes milliseconds of CPU: done in a
                # worker thread, so the event loop keeps serving (bad-inputs L12).
                validated = await relay(asyncio.to_thread(
                    self._finish, plan, context, head, auth, body, read_body is not None))
            else:
                validated = self._finish(plan, context, head, auth, body,
                                         read_body is not None)
            if not isinstance(validated, ValidatedRequest):  # a refusal
                return self._refused(validated, plan, request)
            return validated
        except RequestError as error:
            return self._refused(error, plan, request)

    def complete(self, started: Started, body: bytes) -> ValidatedRequest | RequestError | None:
        """The body phase of a request ``start`` took up to its body (``started.head`` set),
        read by the adapter. It runs here, whatever the body's size: an async adapter hands a
        body over OFFLOAD_BYTES to ``resume_async`` instead, which checks it in a worker
        thread."""
        plan, context, head = started.plan, started, started.head
        if head is None:
            raise ValueError("complete() takes a started request's body after the checks "
                             "before it (start() did them: Started.head is set)")
        try:
            validated = self._finish(plan, context, head, _ANONYMOUS, body, True)
            if not isinstance(validated, ValidatedRequest):  # a refusal
                return self._refused(validated, plan, context.request)
            return validated
        except RequestError as error:
            return self._refused(error, plan, context.request)

    def refuse(self, started: Started, error: RequestError) -> RequestError | None:
        """``error``, met by the adapter while reading a started request's body (413, 408),
        as the guard answers it (None in report mode: passed on)."""
        return self._refused(error, started.plan, started.request)

    # The phases of a check, in DESIGN.md's order. Each raises a RequestError to refuse, or
    # (head, finish: the usual refusals) returns it.

    def _route(self, request: HttpRequest) -> tuple[OperationPlan, dict[str, str]] | None:
        """The operation for the request; None to let it through without one."""
        if self.mode == "off" or (self.ignore_paths and self._ignored(request.path)):
            return None
        raw = request.path
        exact = self._exact.get(raw)
        if exact is not None:
            remembered = exact.get(request.method)
            if remembered is not None:
                return remembered, _NO_ROUTE_PARAMS
        path = decode_path(raw) if "%" in raw else raw  # no call when nothing is encoded
        if path is None:
            raise RequestValidationError(
                "the request path is not valid UTF-8",
                (violation("path", None, "", "encoding",
                           "path is not valid percent-encoded UTF-8", ""),),
                status_code=self.invalid_status)
        match = self.router.match(request.method, path)
        if match is None:
            error = NotFound("no operation of the spec matches this path", (
                violation("route", None, "", "path", "no path of the spec matches", ""),))
            if self.drift is not None and self.unknown_paths != "reject":  # not refused
                record_refusal(self.drift, self.router, error, None, request)
            if self.unknown_paths == "pass":
                return None
            if self.unknown_paths == "report":
                self._report(error, None, request)
                return None
            raise error
        plan = match.operation
        if plan is None:
            raise MethodNotAllowed(
                "the method is not allowed for this path",
                (violation("route", None, "", "method", "method not declared for this path",
                           ""),),
                [("Allow", ", ".join(match.allow))])
        if plan.settings.mode == "off":
            return None
        route = match.route
        if not match.params and path is raw and route is not None and \
                "{" not in route.template and len(self._exact) < _EXACT_ROUTES:
            self._exact.setdefault(raw, {})[request.method] = plan
        return plan, match.params

    def _refused(self, error: RequestError, plan: OperationPlan | None,
                 request: HttpRequest) -> RequestError | None:
        """``error`` to answer with, or None when it is only reported (report mode) and the
        request goes on."""
        if self.drift is not None:
            record_refusal(self.drift, self.router, error, plan, request)
        operation = plan.operation if plan is not None else None
        error.operation = operation
        if self.on_violation is not None:
            self.on_violation(error, operation)
        mode = plan.settings.mode if plan is not None else self.mode
        if mode != "report":
            return error
        self._report(error, operation, request)
        return None

    def _prepare(self, plan: OperationPlan, request: HttpRequest,
                 route_params: dict[str, str]) -> Started:
        sent = request.headers
        headers = (sent.select(self.header_names) if type(sent) is ScopeHeaders
                   else HeaderMap.of(sent))
        settings = plan.settings
        declared = headers.get("content-length")
        if declared is not None or request.body:
            cap = settings.max_body_bytes
            if len(request.body) > cap or (declared is not None and
                                           _declares_over(declared, cap)):
                raise _too_large(cap)
        raw_query = request.query
        if raw_query:
            too_many = raw_query.count("&") >= settings.max_fields
            query = _NO_VALUES if too_many else parse_query(raw_query)
        else:
            too_many, query = False, _NO_VALUES
        cookies = (parse_cookies(headers.get_all("cookie")) if plan.needs_cookies
                   else _NO_VALUES)
        if self.trusted_proxy_cert_header is not None:
            request = self._with_proxy_cert(request, headers)
        return Started(plan, route_params, request, headers, query, cookies, too_many, declared)

    def _authenticate(self, plan: OperationPlan, context: RequestContext) -> AuthResult:
        steps = authenticate(plan.security, context, self.verifiers)
        limit = plan.settings.verifier_timeout
        try:
            call = next(steps)
            while True:
                verifier, credentials = call
                if inspect.iscoroutinefunction(verifier):
                    steps.close()
                    raise ValueError(f"the verifier for `{credentials.scheme}` is a coroutine "
                                     "function: use check_request_async (an ASGI server)")
                # A sync call cannot be interrupted (WSGI): it is timed instead, and whatever
                # it answers after the deadline is discarded (a slow "yes" is not a yes).
                started = time.monotonic() if limit is not None else 0.0
                try:
                    result = verifier(credentials)
                except Exception as exc:
                    if limit is not None and time.monotonic() - started > limit:
                        steps.close()
                        raise VerifierTimeout(credentials.scheme, limit) from exc
                    if not isinstance(exc, InsufficientScope):
                        raise
                    call = steps.throw(exc)
                    continue
                if inspect.isawaitable(result):
                    if inspect.iscoroutine(result):
                        result.close()
                    steps.close()
                    raise ValueError(f"the verifier for `{credentials.scheme}` returned an "
                                     "awaitable: use check_request_async")
                if isinstance(result, concurrent.futures.Future):
                    steps.close()
                    raise future_returned(credentials.scheme)
                if limit is not None and time.monotonic() - started > limit:
                    steps.close()
                    raise VerifierTimeout(credentials.scheme, limit)
                call = steps.send(result)
        except StopIteration as stop:
            done: AuthResult = stop.value
            return done
        except RequestValidationError as exc:  # an ambiguous credential
            raise self._invalid(exc.detail, list(exc.violations)) from None

    async def _authenticate_async(self, plan: OperationPlan,
                                  context: RequestContext) -> AuthResult:
        steps = authenticate(plan.security, context, self.verifiers)
        limit = plan.settings.verifier_timeout
        try:
            call = next(steps)
            while True:
                verifier, credentials = call
                try:
                    if limit is None:
                        result = await verify(verifier, credentials)
                    else:
                        result = await verify_within(verifier, credentials, limit)
                except InsufficientScope as exc:
                    call = steps.throw(exc)
                    continue
                call = steps.send(result)
        except StopIteration as stop:
            done: AuthResult = stop.value
            return done
        except RequestValidationError as exc:  # an ambiguous credential
            raise self._invalid(exc.detail, list(exc.violations)) from None

    def _head(self, plan: OperationPlan, context: Started, deferred: bool
              ) -> Found | RequestError:
        """Everything after security that needs no body: overrides, field count,
        Content-Type and Content-Encoding (415), parameters (400); a refusal is returned
        (415s are raised)."""
        headers, settings = context.headers, plan.settings
        if headers.sends_any(OVERRIDES):
            name = sorted(n for n in OVERRIDE_HEADERS if n in headers)[0]
            return self._invalid("method override headers are not accepted", [
                violation("header", name, "", "methodOverride",
                          "method override headers are not accepted", "")])
        if context.too_many_fields:
            return self._invalid("too many query fields", [violation(
                "query", None, "", "maxProperties",
                f"more than {settings.max_fields} query fields", "")])
        if context.request.body or (deferred and _declares_body(context)):
            entry, media_type = self.bodies.media_type(plan, headers)
        else:
            entry, media_type = None, None
        validators = plan.compiled or plan.validators()
        found = plan.read_parameters(context, context.route_params, self.reject_unknown_query)
        violations, values, valid = found.violations, found.values, validators.parameters_valid
        if violations is None and values and valid is not None and not valid(values):
            violations = plan.parameter_violations(values, settings.max_errors)
        if violations:
            return self._invalid("the request parameters do not conform to the spec",
                                 violations[:settings.max_errors])
        found.entry, found.media_type = entry, media_type
        return found

    def _finish(self, plan: OperationPlan, context: RequestContext, head: Found,
                auth: AuthResult, body: bytes, deferred: bool) -> ValidatedRequest | RequestError:
        """The body phase: cap, Content-Type for a body the headers did not announce,
        content codings, decoding and validation; a body that does not conform is returned
        as its refusal (the rarer ones are raised)."""
        settings, headers = plan.settings, context.headers
        entry, media_type = head.entry, head.media_type
        if deferred:
            # Adapters cannot trust framing headers (HTTP/2 needs no Content-Length): the
            # body is always read, after everything that does not need it has passed. A
            # declared Content-Length was checked already (_prepare): only the bytes remain.
            if len(body) > settings.max_body_bytes:
                raise _too_large(settings.max_body_bytes)
            if body and entry is None:
                entry, media_type = self.bodies.media_type(plan, headers)
        if body and "content-encoding" in headers:
            body = self.bodies.decode_codings(headers, body, settings.max_body_bytes)
        value = (None if not body and plan.body is None  # the usual GET: nothing to read
                 else self.bodies.value(plan, body, entry, media_type, settings))
        if type(value) is RequestValidationError:  # never a decoded body: _content's refusal
            return value
        validated = _Checked(plan.operation, head, value, auth, entry.key if entry else None)
        if self.drift is not None:
            record_request(self.drift, plan, context, validated)
        return validated

    def _ignored(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.ignore_paths)

    def _report(self, error: RequestError, operation: Operation | None,
                request: HttpRequest) -> None:
        if not self.log_gate.admit(logging.WARNING):
            return
        named = request_id(HeaderMap.of(request.headers).get("x-request-id"))
        logger.warning(
            "schemaguard would reject a request: %s %s (request %s)",
            error.status_code, error.detail, named,
            extra={"schemaguard": {
                "request_id": named,
                "status": error.status_code,
                "operation": operation.operation_id if operation else None,
                "violations": [v.to_dict() for v in error.violations],
            }},
        )

    def _invalid(self, detail: str, violations: list[Violation]) -> RequestValidationError:
        return refusal(detail, violations, self.invalid_status)

    def _with_proxy_cert(self, request: HttpRequest, headers: HeaderMap) -> HttpRequest:
        if self.trusted_proxy_cert_header is None or request.client_cert:
            return request
        values = headers.get_all(self.trusted_proxy_cert_header)
        if not values:
            return request
        if len(values) > 1:
            # A client can add the header too; only one copy can be the proxy's.
            raise self._invalid("ambiguous client certificate", [violation(
                "security", None, "", "ambiguous", "client certificate header sent twice",
                "")])
        value = values[0]
        cert = certificate_from_header(value)
        if cert is None:
            return request
        return HttpRequest(request.method, request.path, request.query, request.headers,
                           request.body, cert, request.client)

    # -- content type and encoding ---------------------------------------------------------

    # -- parameters ------------------------------------------------------------------------


_ANONYMOUS: Final = AuthResult(None, {})
_NO_ROUTE_PARAMS: Final[dict[str, str]] = {}  # a literal path's; only ever read
_NO_VALUES: Final[dict[str, list[str]]] = {}  # no query, no cookies read; only ever read
_EXACT_ROUTES: Final = 4096


def _declares_over(declared: str, cap: int) -> bool:
    """Whether a Content-Length value announces more than ``cap`` bytes (one that is not a
    number is left to the body phase and the server)."""
    if len(declared) < 7 and cap >= 999_999:  # the usual case, read without a call
        return False
    declared = declared.strip()
    return declared.isascii() and declared.isdigit() and int(declared) > cap


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {cap} bytes", (
        violation("body", None, "", "maxLength", f"body larger than {cap} bytes", ""),))
