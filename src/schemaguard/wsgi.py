"""WSGI middleware: ``app.wsgi_app = GuardMiddleware(app.wsgi_app, "openapi.yaml")``.

The request reaches the app only when the guard accepts it; the app finds the
``ValidatedRequest`` at ``environ["schemaguard"]`` and reads the same body bytes the guard
checked (``wsgi.input`` is re-wrapped). The body is read only after the route, security and
parameters passed, never more than ``CONTENT_LENGTH`` (or, for chunked requests the server
terminates, until EOF) and never past the cap.

What WSGI cannot see: servers merge repeated headers into one comma-joined value and map
``X_Api_Key`` and ``X-Api-Key`` to the same ``HTTP_X_API_KEY``, so a duplicated credential
reaches the verifier as one opaque value (it then fails), and the underscore spoof must be
refused by the server (gunicorn >= 22 and Werkzeug drop such headers).
"""

from __future__ import annotations

import inspect
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final
from urllib.parse import quote, urlsplit

from mypy_extensions import mypyc_attr

from ._adapter import (
    SAFE_PATH,
    bodiless,
    check_response,
    content_length,
    internal_error,
    log_rejection,
    make_guard,
    problem,
    verifier_timeout,
)
from ._guard import Guard, Started, ValidatedRequest
from ._http import EnvironHeaders, HttpRequest
from ._logs import request_id
from ._security import certificate_from_header
from .errors import (
    PayloadTooLarge,
    RequestError,
    RequestValidationError,
    VerifierTimeout,
    Violation,
)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
_CHUNK: Final = 65_536
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
            415: "Unsupported Media Type", 422: "Unprocessable Content",
            429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}
_NEEDS_QUOTING: Final = re.compile(r"[^A-Za-z0-9/:@!$&'()*+,;=\-._~]")
# Called for every request with a body: a C static once compiled (``io.BytesIO`` would look
# its name up on the module each time).
_BYTES_IO: Final = io.BytesIO


@mypyc_attr(allow_interpreted_subclasses=True)  # a Python subclass works in both builds
class GuardMiddleware:
    """Guard a WSGI app with an OpenAPI spec (a path, mapping, Spec or a ready Guard)."""

    def __init__(self, app: WSGIApp, spec: Any = None, **options: Any) -> None:
        self.app = app
        self.guard: Guard = make_guard(spec, options)
        for name, verifier in self.guard.verifiers.items():
            if inspect.iscoroutinefunction(verifier):
                raise ValueError(f"the verifier for `{name}` is a coroutine function; a WSGI "
                                 "server can only run synchronous verifiers")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        guard = self.guard
        chunks: list[bytes] = []  # what was read, even when reading stopped at the cap
        body: bytes | None = None  # the whole body, once it was read
        validated: ValidatedRequest | RequestError | None
        try:
            started = guard.start(_request(environ, guard.needs_client_cert))
            if not isinstance(started, Started):  # refused, or passed on without a check
                validated = started
            elif started.head is None:  # security or rate limits first
                validated, body = _resume(guard, started, environ, chunks)
            else:  # only the body is left: read here (no reader to hand over)
                try:
                    body = _read_body(environ, started.plan.settings.max_body_bytes, chunks)
                except RequestError as error:  # too large, cut short, a bad length
                    validated = guard.refuse(started, error)
                else:
                    validated = guard.complete(started, body)
        except VerifierTimeout as exc:  # a slow verifier: unavailable, not broken (503)
            report = self.guard.mode == "report"
            answer = verifier_timeout(exc, self.guard.log_gate, passed_on=report)
            if not report:
                return _answer(start_response, *answer)
            validated = None  # report mode: a fault in the guard never blocks traffic
        except Exception as exc:
            answer = internal_error(exc, "the guard", self.guard.log_gate)
            if self.guard.mode != "report":
                return _answer(start_response, *answer)
            validated = None  # report mode: a fault in the guard never blocks traffic
        # A native class checked first: the usual answer costs no generic isinstance().
        if not isinstance(validated, ValidatedRequest) and isinstance(validated, RequestError):
            # returned, not raised: no traceback to build
            if self.guard.log_gate.admit(logging.INFO):
                log_rejection(validated, request_id(environ.get("HTTP_X_REQUEST_ID")))
            return _answer(start_response, *problem(validated))
        if body is not None:
            environ["wsgi.input"] = _BYTES_IO(body)
            length = str(len(body))
            if environ.get("CONTENT_LENGTH") != length:
                environ["CONTENT_LENGTH"] = length
        elif chunks:  # report mode let a body through that was only partly read
            environ["wsgi.input"] = _Replay(b"".join(chunks), environ["wsgi.input"])
        environ["schemaguard"] = validated
        if validated is None or not self.guard.inspects_responses(validated.operation):
            return self.app(environ, start_response)
        return self._validated(environ, start_response, validated)

    def _validated(self, environ: Environ, start_response: StartResponse,
                   validated: ValidatedRequest) -> Iterable[bytes]:
        captured: list[Any] = []
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers, exc_info]
            return written.append

        result = self.app(environ, capture)
        chunks = iter(result)
        cap = self.guard.max_body_bytes
        first = next(chunks, None)  # WSGI apps call start_response before the first chunk
        if first is not None:
            written.append(first)
        if not captured:  # pragma: no cover - a broken app; let the server report it
            return _closing(written, chunks, result)
        status, headers, exc_info = captured
        length = content_length(headers)
        head = environ.get("REQUEST_METHOD") == "HEAD"
        if (length is None and not bodiless(int(status[:3]))) or (length or 0) > cap:
            # Streaming or too large to buffer: passed through unvalidated (documented).
            start_response(status, headers, exc_info)
            return _closing(written, chunks, result)
        try:
            body = b"".join([*written, *chunks])
        finally:
            if hasattr(result, "close"):
                result.close()
        try:
            allowed = check_response(self.guard, validated.operation, int(status[:3]),
                                     headers, body, head=head)
        except Exception as exc:
            return _answer(start_response, *internal_error(exc, "response validation",
                                                           self.guard.log_gate))
        if allowed is None:
            return _answer(start_response, *internal_error(
                RuntimeError("response breaks the spec"), "response validation",
                self.guard.log_gate))
        headers, body = allowed
        start_response(status, headers, exc_info)
        return [body]


def _closing(head: list[bytes], rest: Iterator[bytes], result: Iterable[bytes]
             ) -> Iterator[bytes]:
    try:
        yield from head
        yield from rest
    finally:
        if hasattr(result, "close"):
            result.close()


def _answer(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
            body: bytes) -> list[bytes]:
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [body]


def _request(environ: Environ, certificate: bool) -> HttpRequest:
    """The request in ``environ``; the client certificate only when ``certificate`` (no
    operation authenticates with one otherwise)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:
            raw = urlsplit(raw).path or "/"
        path = raw.split("?", 1)[0]
    else:
        # PEP 3333: PATH_INFO holds the decoded bytes as latin-1; quote them back (a path of
        # characters that need no quoting, the usual one, is used as it is).
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if _NEEDS_QUOTING.search(path) is not None:
            path = quote(path.encode("latin-1"), safe=SAFE_PATH)
    return HttpRequest(environ.get("REQUEST_METHOD", "GET"), path or "/",
                       environ.get("QUERY_STRING", ""), EnvironHeaders(environ), b"",
                       _client_cert(environ) if certificate else None,
                       environ.get("REMOTE_ADDR") or None)


def _resume(guard: Guard, started: Started, environ: Environ, chunks: list[bytes]
            ) -> tuple[ValidatedRequest | RequestError | None, bytes | None]:
    """A started request's security and the rest, with its body read only once they passed
    (what the guard answered, and the body when it was read whole)."""
    complete: list[bytes] = []

    def read_body(cap: int) -> bytes:
        body = _read_body(environ, cap, chunks)
        complete.append(body)
        return body

    validated = guard.resume(started, read_body)
    return validated, complete[0] if complete else None


def _client_cert(environ: Environ) -> bytes | None:
    """The TLS client certificate the server verified (never a request header)."""
    pem = environ.get("SSL_CLIENT_CERT")
    if isinstance(pem, str) and pem:
        return certificate_from_header(pem)
    sock = environ.get("gunicorn.socket")
    getpeercert = getattr(sock, "getpeercert", None)
    if getpeercert is not None:
        try:
            der = getpeercert(binary_form=True)
        except (ValueError, OSError):
            return None
        return der or None
    return None


# A plain Python class in the compiled build too: an extension class cannot derive from io's
# classes on CPython 3.13 (its managed instance dict).
@mypyc_attr(native_class=False)
class _Replay(io.RawIOBase):
    """The bytes already read, then the rest of the server's input stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = io.BytesIO(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data: bytes = self._head.read(size if size is not None else -1)
        if size is None or size < 0:
            rest: bytes = self._rest.read()
            return data + rest
        if len(data) < size:
            more: bytes = self._rest.read(size - len(data))
            data += more
        return data

    def readinto(self, buffer: Any) -> int:  # pragma: no cover - read() serves WSGI apps
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _incomplete() -> RequestValidationError:
    return RequestValidationError("the request body ended before its Content-Length", (
        Violation("body", None, "", "contentLength", "body shorter than Content-Length", ""),))


def _read_body(environ: Environ, cap: int, chunks: list[bytes]) -> bytes:
    """At most ``cap`` bytes of the body, as PEP 3333 allows reading it (kept in ``chunks``).

    A body that ends before its declared length was cut (a client gone or a broken proxy):
    it is refused rather than passed on as a shorter, possibly still valid, document.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    declared = environ.get("CONTENT_LENGTH", "")
    if declared:
        if not (declared.isdigit() and declared.isascii()):  # the usual value passes as is
            declared = declared.strip()
            if not (declared.isascii() and declared.isdigit()):
                raise RequestValidationError("invalid Content-Length", (
                    Violation("header", "Content-Length", "", "type", "expected an integer",
                              ""),))
        remaining = int(declared)
        if remaining > cap:
            raise _too_large(cap)
    elif environ.get("wsgi.input_terminated"):
        remaining = cap + 1  # chunked: read to EOF, one byte past the cap at most
    else:
        return b""
    size = 0
    while remaining > 0:
        try:
            chunk = stream.read(min(_CHUNK, remaining))
        except OSError:  # the client reset the connection mid-body
            raise _incomplete() from None
        if not chunk:
            if declared:
                raise _incomplete()
            break
        chunks.append(chunk)
        size += len(chunk)
        remaining -= len(chunk)
        if size > cap:
            raise _too_large(cap)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # the usual body: one read


def _too_large(cap: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {cap} bytes", (
        Violation("body", None, "", "maxLength", f"body larger than {cap} bytes", ""),))


__all__ = ["GuardMiddleware"]
