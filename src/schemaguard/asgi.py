"""ASGI middleware: ``app.add_middleware(GuardMiddleware, spec="openapi.yaml")``.

A pure ASGI middleware (no BaseHTTPMiddleware): non-HTTP traffic (lifespan, websockets) passes
through; an HTTP request reaches the app only when the guard accepts it. The body is read
after the route, security and parameters passed, within ``body_timeout`` (408) and the cap
(413, as soon as the cap is crossed); a client that disconnects first gets nothing and the app
is never called. The app receives the exact body bytes the guard checked, then the server's
own later messages (a disconnect is still delivered), and finds the ``ValidatedRequest`` at
``scope["state"]["schemaguard"]`` (``request.state.schemaguard`` in Starlette and FastAPI).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from mypy_extensions import mypyc_attr

from ._adapter import (
    bodiless,
    check_response,
    content_length,
    internal_error,
    log_rejection,
    make_guard,
    problem,
    verifier_timeout,
)
from ._deadline import first_step, relay, timeout
from ._guard import OFFLOAD_BYTES, Guard, Started, ValidatedRequest
from ._http import HttpRequest, ScopeHeaders
from ._logs import request_id
from ._security import certificate_from_header
from ._watch import watchdog
from .errors import PayloadTooLarge, RequestError, RequestTimeout, VerifierTimeout, Violation

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_SAFE_PATH = "/:@!$&'()*+,;=-._~"


class _Disconnected(Exception):
    """The client went away before the body was complete."""


@mypyc_attr(allow_interpreted_subclasses=True)  # a Python subclass works in both builds
class GuardMiddleware:
    """Guard an ASGI app with an OpenAPI spec (a path, mapping, Spec or a ready Guard)."""

    def __init__(self, app: ASGIApp, spec: Any = None, **options: Any) -> None:
        self.app = app
        self.guard: Guard = make_guard(spec, options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await relay(self.app(scope, receive, send))
            return
        guard = self.guard
        body = _Body(receive)
        validated: ValidatedRequest | RequestError | None
        try:
            started = guard.start(_request(scope, guard.needs_client_cert))
            if not isinstance(started, Started):
                validated = started
            elif started.head is None:  # security or rate limits to await first
                validated = await guard.resume_async(started, body.read)
            else:  # only the body is left
                settings = started.plan.settings
                try:
                    whole = await body.read(settings.max_body_bytes, settings.body_timeout)
                except RequestError as error:  # too large (413), too slow (408)
                    validated = guard.refuse(started, error)
                else:
                    validated = (guard.complete(started, whole) if len(whole) <= OFFLOAD_BYTES
                                 else await guard.resume_async(started, body.read))
        except _Disconnected:
            return
        except VerifierTimeout as exc:  # a slow verifier: unavailable, not broken (503)
            report = self.guard.mode == "report"
            answer = verifier_timeout(exc, self.guard.log_gate, passed_on=report)
            if not report:
                await _answer(send, *answer)
                return
            validated = None  # report mode: a fault in the guard never blocks traffic
        except Exception as exc:
            answer = internal_error(exc, "the guard", self.guard.log_gate)
            if self.guard.mode != "report":
                await _answer(send, *answer)
                return
            validated = None  # report mode: a fault in the guard never blocks traffic
        if isinstance(validated, RequestError):  # returned, not raised: no traceback to build
            if self.guard.log_gate.admit(logging.INFO):
                log_rejection(validated, request_id(_header(scope, b"x-request-id")))
            status, headers, content = problem(validated)
            if not body.complete and _announces_body(scope):
                # The rest of the body is still on its way: the server closes the connection
                # after this answer instead of reading it (bad-inputs L02).
                headers = [*headers, ("Connection", "close")]
            await _answer(send, status, headers, content)
            return
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["schemaguard"] = validated
        # Report mode may pass on a body read only in part: the rest follows from the server.
        app_receive = body.replay if body.started else receive
        if validated is None or not self.guard.inspects_responses(validated.operation):
            await relay(self.app(scope, app_receive, send))
            return
        head = scope.get("method") == "HEAD"
        await relay(self.app(scope, app_receive,
                             _ResponseCheck(self.guard, validated, send, head)))


class _Body:
    """One request's body: read for the guard (``read``), then handed to the app
    (``replay``): the bytes once, as one message, then whatever the server sends next."""

    __slots__ = ("_buffered", "_complete", "_receive", "_sent")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._buffered = bytearray()  # what was read, even when reading stopped early
        self._complete: bytes | None = None  # the whole body, once it was read to its end
        self._sent = False

    @property
    def complete(self) -> bool:
        """Whether the body was received to its end."""
        return self._complete is not None

    @property
    def started(self) -> bool:
        return self._complete is not None or bool(self._buffered)

    async def read(self, cap: int, seconds: float) -> bytes:
        """The whole body within one deadline of ``seconds`` for all its messages, kept by
        the loop's watchdog (_watch.py). The usual body, one message already there when the
        app is called, costs no timer and no lookup of the running loop: the first step of
        ``receive()`` is taken by hand, and only a body that was not all there is watched.
        (On 3.11 the running loop's lookup is a getpid() system call, which costs more inside
        an app than the step; on 3.12+ compiled code would await through a Relay,
        _deadline.py, which costs more than the step too.)"""
        if self._complete is not None:  # read already (a big body goes on to a thread)
            return self._complete
        receive, buffered = self._receive, self._buffered
        if timeout is None:  # Python 3.10: every read in wait_for's own task (_deadline.py)
            try:
                self._complete = await relay(asyncio.wait_for(
                    _receive_rest(receive, cap, buffered), seconds))
            except asyncio.TimeoutError:
                raise _timeout() from None
            return self._complete
        message, rest = first_step(receive())
        if message is not None and (whole := self._whole(message, cap)) is not None:
            return whole
        loop = asyncio.get_running_loop()
        task: Any = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("the request body is read outside an asyncio task")
        dog = watchdog(loop)
        dog.watch(loop, task, seconds)
        try:
            if message is None:  # the first step has to wait
                if rest is None:
                    raise RuntimeError("receive() returned None")
                message = await rest
            while not _take(message, cap, buffered):
                message = await relay(receive())
            self._complete = bytes(buffered)
            return self._complete
        except asyncio.CancelledError:
            # The watchdog's cancellation alone is the deadline (taken back from the task,
            # as asyncio.timeout does); any other goes on.
            if dog.release(task) and task.uncancel() == 0:
                raise _timeout() from None
            raise
        finally:
            dog.release(task)

    def _whole(self, message: Message, cap: int) -> bytes | None:
        """The body, when ``message`` is all of it within the cap (kept, uncopied)."""
        whole: bytes = message.get("body", b"")
        if message["type"] == "http.request" and not message.get("more_body", False) \
                and len(whole) <= cap:
            self._complete = whole
            return whole
        return None

    async def replay(self) -> Message:
        if self._sent:
            return await relay(self._receive())
        self._sent = True
        complete = self._complete
        return {"type": "http.request",
                "body": bytes(self._buffered) if complete is None else complete,
                "more_body": complete is None}


async def _receive_rest(receive: Receive, cap: int, body: bytearray) -> bytes:
    while not _take(await relay(receive()), cap, body):
        pass
    return bytes(body)


def _take(message: Message, cap: int, body: bytearray) -> bool:
    """Add one message's bytes to ``body``; whether it was the last one."""
    if message["type"] == "http.disconnect":
        raise _Disconnected
    body += message.get("body", b"")
    if len(body) > cap:
        raise PayloadTooLarge(f"the request body is larger than {cap} bytes", (
            Violation("body", None, "", "maxLength", f"body larger than {cap} bytes", ""),))
    return not message.get("more_body", False)


def _timeout() -> RequestTimeout:
    return RequestTimeout("the request body did not arrive in time", (
        Violation("body", None, "", "timeout", "body not received before the deadline", ""),))


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    await relay(send({"type": "http.response.start", "status": status,
                      "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                  for k, v in headers]}))
    await relay(send({"type": "http.response.body", "body": body, "more_body": False}))


class _ResponseCheck:
    """A ``send`` that buffers a bounded response, validates it, then sends it (or a 500)."""

    def __init__(self, guard: Guard, validated: ValidatedRequest, send: Send,
                 head: bool) -> None:
        self.guard = guard
        self.validated = validated
        self.send = send
        self.head = head
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.passing = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await relay(self.send(message))
            return
        if message["type"] == "http.response.start":
            headers = [(k.decode("latin-1"), v.decode("latin-1"))
                       for k, v in message.get("headers", [])]
            length = content_length(headers)
            if (length is None and not bodiless(message["status"])) or \
                    (length or 0) > self.guard.max_body_bytes:
                # Streaming or too large to buffer: passed through unvalidated (documented).
                self.passing = True
                await relay(self.send(message))
                return
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            if self.start is not None:  # e.g. http.response.pathsend: no body to check
                await relay(self.send(self.start))
                self.start = None
                self.passing = True
            await relay(self.send(message))
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        start, body = self.start, b"".join(self.chunks)
        headers = [(k.decode("latin-1"), v.decode("latin-1"))
                   for k, v in start.get("headers", [])]
        try:
            allowed = check_response(self.guard, self.validated.operation, start["status"],
                                     headers, body, head=self.head)
        except Exception as exc:
            await _answer(self.send, *internal_error(exc, "response validation",
                                                     self.guard.log_gate))
            return
        if allowed is None:
            await _answer(self.send, *internal_error(RuntimeError("response breaks the spec"),
                                                     "response validation", self.guard.log_gate))
            return
        if allowed[1] is not body:  # redacted: the length changed
            body = allowed[1]
            start = {**start, "headers": [
                (k, str(len(body)).encode("latin-1") if k.lower() == b"content-length" else v)
                for k, v in start.get("headers", [])]}
        await relay(self.send(start))
        await relay(self.send({"type": "http.response.body", "body": body, "more_body": False}))


def _request(scope: Scope, certificate: bool) -> HttpRequest:
    """The request in ``scope``; the client certificate only when ``certificate`` (no
    operation authenticates with one otherwise)."""
    # Servers send a dict: typed as one, its lookups compile to direct calls.
    values: dict[str, Any] = scope if type(scope) is dict else dict(scope)
    raw_path: bytes | None = values.get("raw_path")
    if raw_path:
        path = raw_path.decode("latin-1").split("?", 1)[0]
    else:
        root, decoded = values.get("root_path", ""), values.get("path", "/")
        # Newer servers put root_path inside path already; older ones do not.
        full = decoded if decoded.startswith(root) else root + decoded
        path = quote(full.encode("utf-8"), safe=_SAFE_PATH)
    query: bytes = values.get("query_string", b"")
    client = values.get("client")
    return HttpRequest(values.get("method", "GET"), path or "/", query.decode("latin-1"),
                       ScopeHeaders(values.get("headers", ())), b"",
                       _client_cert(scope) if certificate else None,
                       str(client[0]) if client else None)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case, as ASGI sends names)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            found: str = value.decode("latin-1")
            return found
    return None


def _announces_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and
                                            value.strip() not in (b"", b"0")):
            return True
    return False


def _client_cert(scope: Scope) -> bytes | None:
    """The client certificate from the ASGI TLS extension (never from request headers)."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    chain = tls.get("client_cert_chain") if tls else None
    if chain and isinstance(chain[0], str):
        return certificate_from_header(chain[0])
    return None


__all__ = ["GuardMiddleware"]
