"""The ASGI middleware's compiled parts; asgi.py is the interpreted shell around them.

A request goes through ``begin``, one compiled call: the route, the parameters and, when the
body came with the headers, the body too. A request it accepts is handed to the app by the
shell, an interpreted coroutine, which awaits the app natively: a compiled coroutine awaits
an interpreted one through a wrapper and a StopIteration, and adds its own state machine to
every request (measured in a FastAPI app: the shell costs less). Everything else (a body
still on its way, security to await, a refusal to answer, responses to check) goes on in
``proceed``, a compiled coroutine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, cast
from urllib.parse import quote

from ._adapter import (
    SAFE_PATH,
    bodiless,
    check_response,
    content_length,
    internal_error,
    log_rejection,
    problem,
    verifier_timeout,
)
from ._deadline import Relay, first_step, relay, timeout
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
# Read for every request: C statics once compiled, where a name imported from an
# interpreted module is looked up in this module's dict at each use.
_FIRST_STEP: Final = first_step
_TIMEOUTS: Final = timeout is not None  # asyncio.timeout (3.11+); 3.10 uses wait_for


class Disconnected(Exception):
    """The client went away before the body was complete."""


class Exchange:
    """One request between the middleware and the app: how far ``begin`` took it, and its
    body, read for the guard, then handed to the app (``replay``): the bytes once, as one
    message, then whatever the server sends next."""

    __slots__ = ("_buffered", "_complete", "_first", "_receive", "_rest", "_sent", "_stepped",
                 "accepted", "fault", "outcome", "started")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        # What was read, even when reading stopped early (made only when the body did not
        # come whole in one message).
        self._buffered: bytearray | None = None
        self._complete: bytes | None = None  # the whole body, once it was read to its end
        # The first step of receive() taken by hand (``_stepped``): its message, or the rest
        # to await (two fields: a tuple would be made again to be stored).
        self._stepped = False
        self._first: Message | None = None
        self._rest: Relay[Message] | None = None
        self._sent = False
        self.accepted = False  # checked and passed: the app is next, and nothing else
        self.started: Started | None = None  # what proceed goes on from
        self.outcome: ValidatedRequest | RequestError | None = None  # when begin decided
        self.fault: Exception | None = None  # what begin raised

    @property
    def complete(self) -> bool:
        """Whether the body was received to its end."""
        return self._complete is not None

    def ready(self, cap: int) -> bytes | None:
        """The whole body when it came at once, with the headers, within ``cap``: the first
        step of ``receive()`` is taken by hand (_deadline.py), so the usual body costs no
        timer and no lookup of the running loop (on 3.11 a getpid() system call). None: the
        rest is read by ``read``, under the deadline."""
        if self._complete is not None or self._stepped:
            return self._complete
        if not _TIMEOUTS:  # Python 3.10: every read in wait_for's own task (read)
            return None
        message, self._rest = _FIRST_STEP(self._receive())
        self._first, self._stepped = message, True
        if message is not None and (whole := whole_body(message, cap)) is not None:
            self._complete = whole
        return self._complete

    async def read(self, cap: int, seconds: float) -> bytes:
        """The whole body within one deadline of ``seconds`` for all its messages, kept by
        the loop's watchdog (_watch.py) once the first step had to wait or did not bring
        all of it."""
        whole = self.ready(cap)
        if whole is not None:  # read already (a big body goes on to a thread)
            return whole
        receive = self._receive
        buffered = self._buffered = bytearray()
        if not _TIMEOUTS:  # Python 3.10
            try:
                self._complete = await relay(asyncio.wait_for(
                    _receive_rest(receive, cap, buffered), seconds))
            except asyncio.TimeoutError:
                raise body_timeout() from None
            return self._complete
        message, waiting = self._first, self._rest
        self._first, self._rest, self._stepped = None, None, True  # taken on here
        loop = asyncio.get_running_loop()
        task: Any = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("the request body is read outside an asyncio task")
        dog = watchdog(loop)
        dog.watch(loop, task, seconds)
        try:
            if message is None:  # the first step had to wait
                if waiting is None:
                    raise RuntimeError("receive() returned None")
                message = await waiting
            while not take(message, cap, buffered):
                message = await relay(receive())
            self._complete = bytes(buffered)
            return self._complete
        except asyncio.CancelledError:
            # The watchdog's cancellation alone is the deadline (taken back from the task,
            # as asyncio.timeout does); any other goes on.
            if dog.release(task) and task.uncancel() == 0:
                raise body_timeout() from None
            raise
        finally:
            dog.release(task)

    async def replay(self) -> Message:
        """The app's ``receive``."""
        complete, buffered = self._complete, self._buffered
        if self._sent or (complete is None and not buffered):  # nothing (more) to give
            return await relay(self._receive())
        self._sent = True
        return {"type": "http.request",
                "body": complete if complete is not None else bytes(buffered or b""),
                "more_body": complete is None}


def begin(guard: Guard, scope: Scope, receive: Receive) -> Exchange:
    """The request in ``scope`` as far as it goes without waiting. ``accepted``: it passed
    (``scope["state"]["schemaguard"]`` is set) and the app is next, called with ``replay``;
    otherwise ``proceed`` takes it on."""
    exchange = Exchange(receive)
    passed: ValidatedRequest | None = None  # None: passed on without a check
    try:
        started = guard.start(request_of(scope, guard.needs_client_cert,
                                         guard.limiter is not None))
        if not isinstance(started, Started):  # refused, or passed on without a check
            if started is not None:
                exchange.outcome = started
                return exchange
        elif started.head is None:  # security or rate limits to await first
            exchange.started = started
            return exchange
        else:  # only the body is left
            whole = exchange.ready(started.plan.settings.max_body_bytes)
            if whole is None or len(whole) > OFFLOAD_BYTES:
                exchange.started = started
                return exchange
            validated = exchange.outcome = guard.complete(started, whole)
            if isinstance(validated, ValidatedRequest):  # a native class: the cheaper check
                if guard.inspects_responses(validated.operation):
                    return exchange
                passed = validated
            elif validated is not None:  # refused
                return exchange
    except Exception as exc:  # answered by proceed
        exchange.fault = exc
        return exchange
    _publish(scope, passed)
    exchange.accepted = True
    return exchange


def _publish(scope: Scope, validated: ValidatedRequest | None) -> None:
    """Where the app finds what the guard let through (``request.state.schemaguard``)."""
    if type(scope) is dict:  # what servers send: typed as one, direct dict calls
        values = cast(dict[str, Any], scope)
        state = values.get("state")
        if state is None:
            state = values["state"] = {}
    else:
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
    if type(state) is dict:
        cast(dict[str, Any], state)["schemaguard"] = validated
    else:
        state["schemaguard"] = validated


async def proceed(guard: Guard, app: ASGIApp, exchange: Exchange, scope: Scope,
                  send: Send) -> None:
    """A request ``begin`` did not accept, to its end: its body read, security awaited, a
    refusal answered, or the app called with its response checked."""
    validated: ValidatedRequest | RequestError | None = exchange.outcome
    try:
        if exchange.fault is not None:
            raise exchange.fault
        started = exchange.started
        if started is None:
            pass  # begin decided
        elif started.head is None:  # security or rate limits to await first
            validated = await guard.resume_async(started, exchange.read)
        else:  # only the body is left
            settings = started.plan.settings
            try:
                whole = await exchange.read(settings.max_body_bytes, settings.body_timeout)
            except RequestError as error:  # too large (413), too slow (408)
                validated = guard.refuse(started, error)
            else:
                validated = (guard.complete(started, whole) if len(whole) <= OFFLOAD_BYTES
                             else await guard.resume_async(started, exchange.read))
    except Disconnected:
        return
    except VerifierTimeout as exc:  # a slow verifier: unavailable, not broken (503)
        report = guard.mode == "report"
        response = verifier_timeout(exc, guard.log_gate, passed_on=report)
        if not report:
            await answer(send, *response)
            return
        validated = None  # report mode: a fault in the guard never blocks traffic
    except Exception as exc:
        response = internal_error(exc, "the guard", guard.log_gate)
        if guard.mode != "report":
            await answer(send, *response)
            return
        validated = None  # report mode: a fault in the guard never blocks traffic
    if isinstance(validated, RequestError):  # returned, not raised: no traceback to build
        if guard.log_gate.admit(logging.INFO):
            log_rejection(validated, request_id(header(scope, b"x-request-id")))
        status, headers, content = problem(validated)
        if not exchange.complete and announces_body(scope):
            # The rest of the body is still on its way: the server closes the connection
            # after this answer instead of reading it (bad-inputs L02).
            headers = [*headers, ("Connection", "close")]
        await answer(send, status, headers, content)
        return
    _publish(scope, validated)
    # Report mode may pass on a body read only in part: the rest follows from the server.
    if validated is None or not guard.inspects_responses(validated.operation):
        await relay(app(scope, exchange.replay, send))
        return
    head = scope.get("method") == "HEAD"
    await relay(app(scope, exchange.replay, ResponseCheck(guard, validated, send, head)))


async def _receive_rest(receive: Receive, cap: int, body: bytearray) -> bytes:
    while not take(await relay(receive()), cap, body):
        pass
    return bytes(body)


def request_of(scope: Scope, certificate: bool, peer: bool = True) -> HttpRequest:
    """The request in ``scope``; the client certificate only when ``certificate`` (no
    operation authenticates with one otherwise), the client's address only when ``peer``
    (only rate limits read it)."""
    # Servers send a dict: typed as one, its lookups compile to direct calls.
    values: dict[str, Any] = scope if type(scope) is dict else dict(scope)
    raw_path: bytes | None = values.get("raw_path")
    if raw_path:
        # Servers send the path alone; a few older ones sent the query string with it.
        # (``in`` on the str: on bytes it first tries the operand as an integer, and makes
        # and drops a TypeError for it.)
        path = raw_path.decode("latin-1")
        if "?" in path:
            path = path.split("?", 1)[0]
    else:
        root, decoded = values.get("root_path", ""), values.get("path", "/")
        # Newer servers put root_path inside path already; older ones do not.
        full = decoded if decoded.startswith(root) else root + decoded
        path = quote(full.encode("utf-8"), safe=SAFE_PATH)
    query: bytes = values.get("query_string", b"")
    client = values.get("client") if peer else None
    return HttpRequest(values.get("method", "GET"), path or "/",
                       query.decode("latin-1") if len(query) else "",
                       ScopeHeaders(values.get("headers", ())), b"",
                       client_cert(scope) if certificate else None,
                       str(client[0]) if client else None)


def whole_body(message: Message, cap: int) -> bytes | None:
    """The body, when ``message`` is all of it within the cap."""
    # ASGI messages are dicts: typed as one, the lookups compile to direct calls.
    values: dict[str, Any] = message if type(message) is dict else dict(message)
    whole: bytes = values.get("body", b"")
    if values["type"] == "http.request" and not values.get("more_body", False) \
            and len(whole) <= cap:
        return whole
    return None


def take(message: Message, cap: int, body: bytearray) -> bool:
    """Add one message's bytes to ``body``; whether it was the last one."""
    if message["type"] == "http.disconnect":
        raise Disconnected
    body += message.get("body", b"")
    if len(body) > cap:
        raise PayloadTooLarge(f"the request body is larger than {cap} bytes", (
            Violation("body", None, "", "maxLength", f"body larger than {cap} bytes", ""),))
    return not message.get("more_body", False)


def body_timeout() -> RequestTimeout:
    return RequestTimeout("the request body did not arrive in time", (
        Violation("body", None, "", "timeout", "body not received before the deadline", ""),))


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case, as ASGI sends names)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            found: str = value.decode("latin-1")
            return found
    return None


def announces_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and
                                            value.strip() not in (b"", b"0")):
            return True
    return False


def client_cert(scope: Scope) -> bytes | None:
    """The client certificate from the ASGI TLS extension (never from request headers)."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    chain = tls.get("client_cert_chain") if tls else None
    if chain and isinstance(chain[0], str):
        return certificate_from_header(chain[0])
    return None


async def answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    await relay(send({"type": "http.response.start", "status": status,
                      "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                  for k, v in headers]}))
    await relay(send({"type": "http.response.body", "body": body, "more_body": False}))


class ResponseCheck:
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
            await answer(self.send, *internal_error(exc, "response validation",
                                                    self.guard.log_gate))
            return
        if allowed is None:
            await answer(self.send, *internal_error(RuntimeError("response breaks the spec"),
                                                    "response validation", self.guard.log_gate))
            return
        if allowed[1] is not body:  # redacted: the length changed
            body = allowed[1]
            start = {**start, "headers": [
                (k, str(len(body)).encode("latin-1") if k.lower() == b"content-length" else v)
                for k, v in start.get("headers", [])]}
        await relay(self.send(start))
        await relay(self.send({"type": "http.response.body", "body": body, "more_body": False}))
