"""Sending generated requests at an app and judging its answers against the spec.

Targets turn an ``HttpRequest`` into an ``HttpResponse``: an in-process WSGI or ASGI app, or a
server on a URL. ``check`` compares an answer with what the compiled guard (the oracle) says
about the request, and ``fuzz_operation`` runs Hypothesis over one operation: every distinct
failure is shrunk to a minimal request and reported with a curl line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import io
import ipaddress
import os
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import quote, unquote_to_bytes, urlsplit

import orjson
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable

from ._cases import Case, Cases, Credential
from ._guard import Guard
from ._http import HeaderMap, HttpRequest, HttpResponse, parse_media_type
from ._operation import Operation
from ._spec import Spec, load_spec
from .errors import RequestError, ResponseValidationError

CHECKS = (
    "server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "positive_data_acceptance", "unsupported_method", "ignored_auth", "response_time",
)
_PROBLEM = "application/problem+json"


COVERAGE = 100  # cases of the coverage pass per operation and kind, by default


class Target(Protocol):
    """Something that answers requests."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


# -- targets -----------------------------------------------------------------------------------

class WsgiTarget:
    """An in-process WSGI app, called as a server would call it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, host: str = "localhost") -> None:
        self.app = app
        self.host = host

    def send(self, request: HttpRequest) -> HttpResponse:
        path = unquote_to_bytes(request.path).decode("latin-1")
        raw_uri = request.path + (f"?{request.query}" if request.query else "")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method, "SCRIPT_NAME": "", "PATH_INFO": path,
            "QUERY_STRING": request.query, "RAW_URI": raw_uri, "REQUEST_URI": raw_uri,
            "SERVER_NAME": self.host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body), "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(request.body)),
        }
        for name, value in request.headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
                continue
            if key == "CONTENT_LENGTH":
                continue
            key = "HTTP_" + key
            joiner = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = environ[key] + joiner + value if key in environ else value
        environ.setdefault("HTTP_HOST", self.host)
        if request.client_cert:
            environ["SSL_CLIENT_CERT"] = ssl.DER_cert_to_PEM_cert(request.client_cert)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self.app(environ, start_response)
            try:
                for chunk in result:
                    chunks.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # what a server does with an app that raises: a bare 500
            return HttpResponse(500, [("Content-Type", "text/plain")], b"Internal Server Error")
        status, headers = started
        return HttpResponse(int(status.split()[0]), list(headers), b"".join(chunks))


class AsgiTarget:
    """An in-process ASGI app on a private event loop (lifespan started on first use)."""

    def __init__(self, app: Callable[..., Any], *, host: str = "localhost") -> None:
        self.app = app
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._lifespan: asyncio.Task[None] | None = None
        self._messages: asyncio.Queue[dict[str, Any]] | None = None
        self._started = False

    def send(self, request: HttpRequest) -> HttpResponse:
        if not self._started:
            self._started = True
            self._loop.run_until_complete(self._startup())
        return self._loop.run_until_complete(self._call(request))

    def close(self) -> None:
        """Run the app's lifespan shutdown and close the loop."""
        if self._loop.is_closed():
            return
        if self._lifespan is not None and self._messages is not None:
            self._messages.put_nowait({"type": "lifespan.shutdown"})
            # A shutdown that fails or hangs is the app's business, not the run's.
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.wait_for(self._lifespan, 30))
        self._loop.close()

    async def _startup(self) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._messages = queue
        done = asyncio.Event()
        await queue.put({"type": "lifespan.startup"})

        async def receive() -> dict[str, Any]:
            return await queue.get()

        async def send(message: dict[str, Any]) -> None:
            if message["type"].startswith("lifespan.startup"):
                done.set()

        async def run() -> None:
            try:
                await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                               receive, send)
            except Exception:  # an app without lifespan support may raise; that is fine
                pass
            finally:
                done.set()

        self._lifespan = self._loop.create_task(run())
        await asyncio.wait_for(done.wait(), 30)

    async def _call(self, request: HttpRequest) -> HttpResponse:
        headers = [(n.lower().encode("latin-1"), v.encode("latin-1", "replace"))
                   for n, v in request.headers]
        if not any(n == b"host" for n, _ in headers):
            headers.append((b"host", self.host.encode("latin-1")))
        headers.append((b"content-length", str(len(request.body)).encode()))
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method, "scheme": "http",
            "path": unquote_to_bytes(request.path).decode("utf-8", "replace"),
            "raw_path": request.path.encode("latin-1", "replace"),
            "query_string": request.query.encode("latin-1", "replace"), "root_path": "",
            "headers": headers, "client": ("127.0.0.1", 50000), "server": (self.host, 80),
            "state": {}, "extensions": {},
        }
        if request.client_cert:
            scope["extensions"]["tls"] = {
                "client_cert_chain": [ssl.DER_cert_to_PEM_cert(request.client_cert)]}
        sent = False
        finished = asyncio.Event()
        status = 500
        response_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.extend((n.decode("latin-1"), v.decode("latin-1"))
                                        for n, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        try:
            await self.app(scope, receive, send)
        except Exception:  # what a server does with an app that raises: a 500
            if not response_headers and not chunks:
                return HttpResponse(500, [("content-type", "text/plain")],
                                    b"Internal Server Error")
        finally:
            finished.set()
        return HttpResponse(status, response_headers, b"".join(chunks))


class UrlTarget:
    """A server at ``base_url``; loopback only unless ``allow_remote``."""

    def __init__(self, base_url: str, *, allow_remote: bool = False,
                 timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        if not allow_remote and not _loopback(parts.hostname):
            raise ValueError(f"{parts.hostname} is not a loopback address; pass allow_remote "
                             "(--allow-remote) to fuzz another machine")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            cls = (http.client.HTTPSConnection if self.scheme == "https"
                   else http.client.HTTPConnection)
            self._connection = cls(self.host, self.port, timeout=self.timeout)
        return self._connection

    def send(self, request: HttpRequest) -> HttpResponse:
        target = self.prefix + request.path + (f"?{request.query}" if request.query else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            connection = self._connect()
            try:
                connection.putrequest(request.method, target, skip_accept_encoding=True)
                for name, value in request.headers:
                    connection.putheader(name, value.encode("latin-1", "replace"))
                connection.putheader("Content-Length", str(len(request.body)))
                connection.endheaders(request.body or None)
                answer = connection.getresponse()
                body = answer.read()
                headers = list(answer.getheaders())
                if answer.will_close:
                    self.close()
                return HttpResponse(answer.status, headers, body)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


# -- checks ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Failure:
    """One way an answer broke the contract."""

    check: str  # one of CHECKS
    message: str
    case: Case
    status: int

    @property
    def operation(self) -> Operation:
        return self.case.operation


def oracle(spec: str | os.PathLike[str] | Mapping[str, Any] | Spec, **options: Any) -> Guard:
    """A guard for judging requests: every security scheme accepts any credential that is
    present (the app decides whether it is right), everything else as configured."""
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    schemes = (loaded.content.get("components") or {}).get("securitySchemes") or {}
    verifiers: dict[str, Any] = dict.fromkeys(schemes, _present)
    verifiers.update(options.pop("verifiers", {}))
    return Guard(loaded, verifiers=verifiers, **options)


def webhooks(spec: str | os.PathLike[str] | Mapping[str, Any] | Spec,
             **options: Any) -> Guard:
    """An oracle whose operations are the spec's webhooks (OAS 3.1 `webhooks`), each at the
    path ``/{name}``: requests to a webhook receiver, to generate or to judge."""
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    hooks = loaded.content.get("webhooks")
    if not isinstance(hooks, dict) or not hooks:
        raise ValueError("the spec declares no webhooks")
    content = {k: v for k, v in loaded.content.items() if k not in ("paths", "webhooks",
                                                                    "servers")}
    content["paths"] = {"/" + quote(name, safe=""): item for name, item in hooks.items()}
    root = os.fspath(loaded.root_dir) if loaded.root_dir is not None else None
    return oracle(load_spec(content, root=root, retrieve=loaded._retrieve), **options)


def _present(credentials: Any) -> bool:
    return True


def verdict(guard: Guard, request: HttpRequest) -> RequestError | None:
    """What the oracle says: None for a request the spec allows, else the refusal."""
    try:
        guard.check_request(request)
    except RequestError as error:
        return error
    return None


def check(guard: Guard, case: Case, response: HttpResponse, *, elapsed: float | None = None,
          max_response_time: float | None = None) -> list[Failure]:
    """Every contract failure in ``response`` to ``case`` (an empty list when it conforms)."""
    found: list[Failure] = []

    def fail(name: str, message: str) -> None:
        found.append(Failure(name, message, case, response.status))

    refusal = verdict(guard, case.request)
    status = response.status
    broken = f" ({case.rule})" if case.rule else ""
    if status >= 500:
        fail("server_error", f"answered {status} to "
                             f"{'a valid request' if refusal is None else 'a request'}{broken}")
    elif refusal is None:
        if status in (400, 422):
            fail("positive_data_acceptance", f"answered {status} to a valid request")
    elif refusal.status_code == 405:
        if status != 405:
            fail("unsupported_method", f"answered {status} to an undeclared method "
                                       f"(expected 405)")
    elif 200 <= status < 300:
        if refusal.status_code == 401:
            fail("ignored_auth", f"answered {status} without valid credentials")
        else:
            violation = refusal.violations[0] if refusal.violations else None
            what = (f"{violation.keyword} at {violation.location}"
                    + (f" `{violation.name}`" if violation.name else "")
                    + (f" {violation.pointer}" if violation.pointer else "")
                    if violation else "an invalid request")
            fail("negative_data_rejection",
                 f"answered {status} to a request that breaks the spec ({what}; expected "
                 f"{refusal.status_code})")
    if status < 500 and (refusal is None or refusal.status_code != 405) and not _own_problem(
            refusal, response):
        found.extend(_conformance(guard, case, response))
    if elapsed is not None and max_response_time is not None and elapsed > max_response_time:
        fail("response_time", f"answered in {elapsed * 1000:.0f} ms (budget "
                              f"{max_response_time * 1000:.0f} ms)")
    return found


def _own_problem(refusal: RequestError | None, response: HttpResponse) -> bool:
    """A problem+json refusal with the status the guard gives: schemaguard's own answer (or
    one just like it), which counts as conforming (DESIGN.md)."""
    if refusal is None or response.status != refusal.status_code:
        return False
    media = parse_media_type(HeaderMap(response.headers).get("content-type") or "")
    return media is not None and media.essence == _PROBLEM


def _conformance(guard: Guard, case: Case, response: HttpResponse) -> list[Failure]:
    try:
        guard.check_response(case.operation, _decoded(response),
                             head=case.request.method == "HEAD")
    except ResponseValidationError as error:
        by_check: dict[str, list[str]] = {}
        for v in error.violations:
            if v.keyword == "status":
                name = "status_code_conformance"
                text = f"status {response.status} is not declared"
            elif v.name == "Content-Type":
                name = "content_type_conformance"
                media = HeaderMap(response.headers).get("content-type")
                text = f"Content-Type {media or '(none)'!r} is not declared for " \
                       f"{response.status}"
            elif v.name is not None:
                name = "response_headers_conformance"
                text = f"header `{v.name}`: {v.message}"
            else:
                name = "response_schema_conformance"
                text = f"body {v.pointer or '/'}: {v.message}"
            by_check.setdefault(name, []).append(text)
        return [Failure(name, "; ".join(texts[:3]), case, response.status)
                for name, texts in by_check.items()]
    return []


def _decoded(response: HttpResponse) -> HttpResponse:
    """The response with a gzip/deflate Content-Encoding removed (as a client reads it)."""
    headers = HeaderMap(response.headers)
    coding = (headers.get("content-encoding") or "").strip().lower()
    if coding not in ("gzip", "deflate") or not response.body:
        return response
    try:
        wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
        body = zlib.decompress(response.body, wbits)
    except zlib.error:
        return response
    kept = [(n, v) for n, v in response.headers if n.lower() != "content-encoding"]
    return HttpResponse(response.status, kept, body)


# -- running -------------------------------------------------------------------------------------

@dataclass(slots=True)
class OperationReport:
    """What fuzzing one operation found."""

    operation: Operation
    requests: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    note: str | None = None  # what could not be tested, e.g. for want of credentials


class _Found(AssertionError):
    """Raised inside the Hypothesis test; one subclass per check, so Hypothesis shrinks and
    reports each kind of failure separately."""

    failure: Failure


_KINDS: dict[str, type[_Found]] = {
    name: type(f"Found_{name}", (_Found,), {}) for name in CHECKS
}


class _OutOfTime(BaseException):
    """The run's time is up. A BaseException: Hypothesis lets it through at once, where an
    Exception would be taken for a failure and shrunk."""


def fuzz_operation(
    guard: Guard,
    target: Target,
    operation: Operation,
    *,
    credentials: Mapping[str, Credential] | None = None,
    headers: Iterable[tuple[str, str]] = (),
    max_examples: int = 100,
    seed: int = 0,
    deadline: float | None = None,
    max_response_time: float | None = None,
    coverage: int = COVERAGE,
) -> OperationReport:
    """Run generated requests for ``operation`` and report each distinct failure.

    First the coverage pass (``Cases.coverage``: every rule the guard checks broken once,
    then the full valid requests and their edges; at most ``coverage`` of each, 0 for
    none), whose failures are made smaller and reported; then ``max_examples`` random
    draws of each kind, whose failures Hypothesis shrinks.
    """
    report = OperationReport(operation)
    extra = list(headers)
    cases = Cases(guard, operation, _with_header_credentials(guard, operation, credentials or {},
                                                             extra))
    # Invalid requests go first: a valid DELETE would remove what they need to reach.
    strategies = [cases.negative()]
    if cases.requirements or not cases.needs_credentials:
        strategies.append(cases.valid())
    else:
        names = sorted({s.name for r in cases.plan.security.requirements for s, _ in r})
        report.note = (f"no credentials for {' or '.join(names)}: only requests without "
                       "them were sent")
    secret_headers = _credential_headers(cases)
    started = time.monotonic()
    known: set[str] = set()  # checks already reported: later runs look for the others

    def exchange(case: Case) -> list[Failure]:
        """Send ``case`` (with the extra headers); every failure of its answer."""
        if deadline is not None and time.monotonic() > deadline:
            raise _OutOfTime  # stops the engine at once: no more drawing, no shrinking
        request = case.request
        if extra:
            dropping = case.rule is not None and case.rule.location == "security"
            added = [(n, v) for n, v in extra if not (dropping and n.lower() in secret_headers)]
            present = {n.lower() for n, _ in request.headers}
            added = [(n, v) for n, v in added if n.lower() not in present]
            request = HttpRequest(request.method, request.path, request.query,
                                  [*request.headers, *added], request.body,
                                  request.client_cert)
            case = Case(case.operation, request, case.rule)
        begin = time.perf_counter()
        response = target.send(request)
        elapsed = time.perf_counter() - begin
        report.requests += 1
        return check(guard, case, response, elapsed=elapsed,
                     max_response_time=max_response_time)

    def run(case: Case) -> None:
        for failure in exchange(case):
            if failure.check not in known:
                error = _KINDS[failure.check](failure.message)
                error.failure = failure
                raise error

    def sweep(batch: list[Case]) -> bool:
        """Send each case of the coverage pass; False when the run's time is up."""
        for case in batch:
            try:
                run(case)
            except _OutOfTime:
                return False
            except _Found as found:
                known.add(found.failure.check)
                report.failures.append(reduce(found.failure))
        return True

    def reduce(failure: Failure) -> Failure:
        """A coverage failure with its request made smaller (query fields, headers, form
        fields, multipart parts, JSON members left out one at a time) while the guard's
        verdict and the failure stay the same: the coverage pass sends every optional part,
        and the report should show only those the failure needs."""
        budget = _REDUCTIONS
        progress = True
        while progress and budget:
            progress = False
            request = failure.case.request
            answer = _answer(guard, request)
            for smaller in _smaller(request, secret_headers):
                if _answer(guard, smaller) != answer:
                    continue  # no longer the same case (valid, or breaking the same rule)
                budget -= 1
                try:
                    found = exchange(Case(failure.case.operation, smaller,
                                          failure.case.rule))
                except _OutOfTime:
                    return failure
                same = next((f for f in found if f.check == failure.check), None)
                if same is not None:
                    failure, progress = same, True
                    break
                if not budget:
                    break
        return failure

    # The coverage pass first (every rule broken once, then the full valid requests), each
    # batch before the random draws of its kind: invalid requests go before valid ones.
    negatives, valids = cases.coverage(coverage) if coverage > 0 else ([], [])
    if len(strategies) == 1:
        valids = []  # no credentials: valid requests cannot be sent
    # Hypothesis stops generating soon after its first failure, so a failure is found, shrunk
    # and set aside, and the next run looks for the other kinds, until a run finds nothing new.
    for kind, strategy in enumerate(strategies):
        if not sweep(valids if kind else negatives):
            return _stopped(report, started)
        for attempt in range(len(CHECKS) + 1):
            test = settings(
                max_examples=max_examples, database=None, deadline=None,
                verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
                report_multiple_bugs=True,
                phases=(Phase.explicit, Phase.generate, Phase.shrink), print_blob=False,
            )(given(strategy)(run))
            test = hypothesis_seed(seed + 1000 * kind + attempt)(test)
            try:
                test()
            except _OutOfTime:  # --max-time: what was found so far is the report
                return _stopped(report, started)
            except Unsatisfiable:  # nothing of this kind can be built for the operation
                break
            except Exception as error:  # one failure, or a group of distinct ones
                leaves = _leaves(error)
                if not all(isinstance(e, _Found) for e in leaves):
                    raise
                new = [e.failure for e in leaves if isinstance(e, _Found)
                       and e.failure.check not in known]
                if not new:
                    break
                report.failures.extend(new)
                known.update(f.check for f in new)
                continue
            break
    report.seconds = time.monotonic() - started
    return report


_REDUCTIONS = 40  # requests spent making one coverage failure smaller


def _answer(guard: Guard, request: HttpRequest) -> tuple[int, frozenset[Any]] | None:
    """The oracle's verdict on ``request`` as a comparable value."""
    refusal = verdict(guard, request)
    if refusal is None:
        return None
    return refusal.status_code, frozenset(
        (v.location, v.name, v.pointer, v.keyword) for v in refusal.violations)


def _smaller(request: HttpRequest, keep: frozenset[str]) -> Iterable[HttpRequest]:
    """``request`` with one part left out: a query field, a header (not its framing or
    credentials: ``keep``, lower case), a field of its form body, a part of its multipart
    body, a member of its JSON body."""
    fields = request.query.split("&") if request.query else []
    for i in range(len(fields)):
        yield replace(request, query="&".join(fields[:i] + fields[i + 1:]))
    headers = list(request.headers)
    for i, (name, _) in enumerate(headers):
        if name.lower() not in keep and name.lower() not in ("content-type", "host"):
            yield replace(request, headers=headers[:i] + headers[i + 1:])
    media = parse_media_type(HeaderMap(headers).get("content-type") or "")
    if not request.body or media is None:
        return
    if (media.type, media.subtype) == ("application", "x-www-form-urlencoded"):
        pairs = request.body.split(b"&")
        for i in range(len(pairs)):
            yield replace(request, body=b"&".join(pairs[:i] + pairs[i + 1:]))
    elif media.essence == "multipart/form-data" and (boundary := media.parameter("boundary")):
        # Between the preamble and the closing delimiter, each piece is one part.
        delimiter = b"--" + boundary.encode("latin-1")
        pieces = request.body.split(delimiter)
        for i in range(1, len(pieces) - 1):
            yield replace(request, body=delimiter.join(pieces[:i] + pieces[i + 1:]))
    elif media.is_json:
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return
        for smaller in _members_left_out(body):
            yield replace(request, body=orjson.dumps(smaller))


def _members_left_out(value: Any) -> Iterable[Any]:
    """``value`` with one object member or array item (at any depth) left out."""
    if isinstance(value, dict):
        for name in value:
            yield {k: v for k, v in value.items() if k != name}
        for name, item in value.items():
            for smaller in _members_left_out(item):
                yield {**value, name: smaller}
    elif isinstance(value, list):
        for i in range(len(value)):
            yield value[:i] + value[i + 1:]
        for i, item in enumerate(value):
            for smaller in _members_left_out(item):
                yield [*value[:i], smaller, *value[i + 1:]]


def _stopped(report: OperationReport, started: float) -> OperationReport:
    """``report`` of a run whose time limit was reached."""
    stopped = ("not tested: the run's time limit was reached" if not report.requests
               else "stopped early: the run's time limit was reached")
    report.note = f"{report.note}; {stopped}" if report.note else stopped
    report.seconds = time.monotonic() - started
    return report


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions of an exception group, flattened (the error itself otherwise)."""
    inner = getattr(error, "exceptions", None)
    if not isinstance(inner, (list, tuple)):
        return [error]
    return [leaf for e in inner for leaf in _leaves(e)]


def _with_header_credentials(guard: Guard, operation: Operation,
                             credentials: Mapping[str, Credential],
                             headers: list[tuple[str, str]]) -> dict[str, Credential]:
    """The credentials, plus those the extra headers carry (`--header "X-API-Key: ..."` or
    `--header "Authorization: Bearer ..."` counts as the credential of that scheme)."""
    found = dict(credentials)
    by_name = {name.lower(): value for name, value in headers}
    for requirement in guard._plans[operation].security.requirements:
        for scheme, _ in requirement:
            if scheme.name in found:
                continue
            if scheme.type == "apiKey" and scheme.location == "header":
                if scheme.parameter in by_name:
                    found[scheme.name] = by_name[scheme.parameter]
                continue
            auth_scheme, _, value = by_name.get("authorization", "").partition(" ")
            if not value or scheme.type in ("apiKey", "mutualTLS"):
                continue
            if auth_scheme.lower() != scheme.http_scheme:
                continue
            if scheme.http_scheme == "basic":
                try:
                    found[scheme.name] = base64.b64decode(value, validate=True).decode()
                except (ValueError, UnicodeDecodeError):
                    continue
            else:
                found[scheme.name] = value.strip()
    return found


def _credential_headers(cases: Cases) -> frozenset[str]:
    names = {"authorization", "cookie"}
    for requirement in cases.plan.security.requirements:
        for scheme, _ in requirement:
            if scheme.type == "apiKey" and scheme.location == "header":
                names.add(scheme.parameter)
    return frozenset(names)
