"""The ASGI middleware driven directly with hand-written ``receive``/``send`` callables: no
framework, no server, every message visible."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest

import schemaguard as sg
from schemaguard import _asgi as asgi_module
from schemaguard.asgi import GuardMiddleware

from ._support import (
    AUTH_READER,
    AUTH_WRITER,
    DER,
    JSON,
    MTLS_SPEC,
    OPEN_SPEC,
    PEM,
    PETSTORE,
    PROBLEM,
    SPEC_F,
    VALID_ORDER,
    WRITER,
    Answer,
    Verifiers,
    answer_from,
    check_unavailable,
    http_scope,
)

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
EMPTY: Message = {"type": "http.request", "body": b"", "more_body": False}


class Inner:
    """The guarded app: records each call and pulls ``pull`` messages from receive."""

    def __init__(self, pull: int = 1, status: int = 200, body: bytes = b"ok",
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.pull = pull
        self.status = status
        self.body = body
        self.headers = headers
        self.calls: list[tuple[Any, Any, Any]] = []
        self.received: list[Message] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls.append((scope, receive, send))
        if scope["type"] != "http":
            return
        for _ in range(self.pull):
            self.received.append(await receive())
        headers = self.headers if self.headers is not None else [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})

    @property
    def state(self) -> dict[str, Any]:
        return self.calls[-1][0]["state"]


class Script:
    """A receive that serves ``messages`` in order, then ``after`` (default: hang), and logs
    every call into ``events`` (shared with the send below)."""

    def __init__(self, messages: list[Message], events: list[tuple[str, Any]] | None = None,
                 after: Callable[[], Awaitable[Message]] | None = None) -> None:
        self.messages = list(messages)
        self.events = events if events is not None else []
        self.after = after
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        self.events.append(("receive", self.calls))
        if self.messages:
            return self.messages.pop(0)
        if self.after is not None:
            return await self.after()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


def chunks_of(body: bytes, size: int) -> list[Message]:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
            for i, part in enumerate(parts)]


async def drive(middleware: Any, scope: dict[str, Any], receive: Receive,
                events: list[tuple[str, Any]] | None = None) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        if events is not None:
            events.append(("send", message["type"]))
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def guard(app: Any, spec: Any = SPEC_F, verifiers: Verifiers | None = None,
          **options: Any) -> GuardMiddleware:
    mapping = (verifiers or Verifiers()).mapping()
    mapping.update(options.pop("override", {}))
    return GuardMiddleware(app, spec, verifiers=mapping, **options)


def order_scope(*extra: tuple[str, str], length: int | None = len(VALID_ORDER),
                **scope: Any) -> dict[str, Any]:
    headers = [AUTH_WRITER, JSON, *extra]
    if length is not None:
        headers.append(("Content-Length", str(length)))
    return http_scope("POST", "/orders", headers, **scope)


# -- non-HTTP traffic ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_non_http_scopes_pass_through_untouched(kind: str) -> None:
    inner = Inner()
    verifiers = Verifiers()
    middleware = guard(inner, verifiers=verifiers)
    if kind == "lifespan":
        scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    else:  # a path the guard would refuse with 404 over HTTP
        scope = http_scope("GET", "/nope", [("Authorization", "Bearer x")], type="websocket")
    before = dict(scope)
    receive = Script([])

    async def send(message: Message) -> None:
        raise AssertionError("the middleware must not answer non-HTTP traffic")

    asyncio.run(middleware(scope, receive, send))
    assert len(inner.calls) == 1
    got_scope, got_receive, got_send = inner.calls[0]
    assert got_scope is scope
    assert got_receive is receive
    assert got_send is send
    assert scope == before
    assert receive.calls == 0
    assert verifiers.total == 0


# -- the body --------------------------------------------------------------------------------


def test_chunked_body_is_replayed_as_one_message_then_the_disconnect() -> None:
    inner = Inner(pull=2)
    receive = Script([*chunks_of(VALID_ORDER, 3), {"type": "http.disconnect"}])
    sent = asyncio.run(drive(guard(inner), order_scope(), receive))
    assert answer_from(sent).status == 200
    assert inner.received == [
        {"type": "http.request", "body": VALID_ORDER, "more_body": False},
        {"type": "http.disconnect"},
    ]
    validated = inner.state["schemaguard"]
    assert isinstance(validated, sg.ValidatedRequest)
    assert validated.body["amount"] == 19.99


def test_body_is_replayed_byte_identical_not_re_encoded() -> None:
    """Whitespace, a trailing zero and a duplicate key survive: the app gets the bytes sent."""
    body = b'{ "items" : [ ] ,\n\t"amount" : 1.50 , "amount": 2.5 }'
    inner = Inner(pull=1)
    receive = Script(chunks_of(body, 4))
    sent = asyncio.run(drive(guard(inner), order_scope(length=len(body)), receive))
    assert answer_from(sent).status == 200
    assert inner.received[0]["body"] == body


def test_disconnect_before_the_body_completes_calls_nothing() -> None:
    inner = Inner()
    verifiers = Verifiers()
    receive = Script([chunks_of(VALID_ORDER, 10)[0], {"type": "http.disconnect"}])
    sent = asyncio.run(drive(guard(inner, verifiers=verifiers), order_scope(), receive))
    assert sent == []
    assert inner.calls == []
    assert receive.calls == 2
    assert verifiers.calls == {"bearer": 1}  # authentication ran before the body was read


# bad-inputs L02: 413 once the cap is crossed; nothing more is received after the answer.
def test_body_over_the_cap_is_refused_as_soon_as_the_cap_is_crossed() -> None:
    events: list[tuple[str, Any]] = []

    async def forever() -> Message:
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    receive = Script([{"type": "http.request", "body": b"x" * 100, "more_body": True}],
                     events, after=forever)
    inner = Inner()
    scope = order_scope(("Transfer-Encoding", "chunked"), length=None)
    sent = asyncio.run(drive(guard(inner, max_body_bytes=1000), scope, receive, events))
    answer = answer_from(sent)
    assert answer.status == 413
    assert answer.header("content-type") == PROBLEM
    assert answer.json()["errors"][0]["keyword"] == "maxLength"
    assert receive.calls == 11  # 1,100 bytes > 1,000: the eleventh chunk crossed it
    first_send = events.index(("send", "http.response.start"))
    assert all(kind == "send" for kind, _ in events[first_send:])
    assert inner.calls == []


# bad-inputs L02: the cap is exact: max_body_bytes passes, one byte more is a 413.
@pytest.mark.parametrize(("size", "status"), [(1000, 200), (1001, 413)])
def test_streamed_body_cap_is_exact(size: int, status: int) -> None:
    body = VALID_ORDER + b" " * (size - len(VALID_ORDER))
    inner = Inner()
    receive = Script(chunks_of(body, 100))
    scope = order_scope(("Transfer-Encoding", "chunked"), length=None)
    sent = asyncio.run(drive(guard(inner, max_body_bytes=1000), scope, receive))
    assert answer_from(sent).status == status
    assert [m["body"] for m in inner.received] == ([body] if status == 200 else [])


# bad-inputs L02: a 413 sent before the body was fully received carries `connection: close`,
# so the server closes the connection instead of reading (draining) the rest.
def test_413_before_the_end_of_the_body_closes_the_connection() -> None:
    async def forever() -> Message:
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    receive = Script([], after=forever)
    scope = order_scope(("Transfer-Encoding", "chunked"), length=None)
    sent = asyncio.run(drive(guard(Inner(), max_body_bytes=1000), scope, receive))
    answer = answer_from(sent)
    assert answer.status == 413
    assert answer.header("connection") == "close"


@pytest.mark.parametrize(("scope", "messages", "closes"), [
    # refused before the body was read (no credentials): the body is still coming
    (http_scope("POST", "/orders", [JSON, ("Content-Length", str(len(VALID_ORDER)))]),
     [], True),
    # the whole body was read, then refused: the connection can serve the next request
    (order_scope(), [{"type": "http.request", "body": b'{"items": 1}', "more_body": False}],
     False),
    # nothing announced a body
    (http_scope("GET", "/users"), [], False),
], ids=["unread-body", "read-body", "no-body"])
def test_a_refusal_closes_the_connection_only_while_a_body_is_unread(
        scope: dict[str, Any], messages: list[Message], closes: bool) -> None:
    sent = asyncio.run(drive(guard(Inner()), scope, Script(messages)))
    answer = answer_from(sent)
    assert 400 <= answer.status < 500
    assert (answer.header("connection") == "close") is closes


# bad-inputs L12: a body over 256 KiB is decoded and validated in a worker thread, so while a
# body at the default cap is accepted or refused, the event loop is held at most 50 ms (best
# of 3, after a warm-up).
@pytest.mark.parametrize("kind", ["valid", "duplicate"])  # duplicate: uniqueItems fails last
def test_a_body_at_the_cap_holds_the_loop_at_most_50_ms(kind: str) -> None:
    items = [{"sku": str(n), "qty": 1} for n in range(42_000)]
    if kind == "duplicate":
        items.append(items[0])
    body = json.dumps({"items": items, "amount": 1}, separators=(",", ":")).encode()
    assert 900_000 < len(body) <= 1_048_576
    middleware = guard(Inner())

    async def longest_block() -> tuple[float, list[Message]]:
        gaps: list[float] = []
        done = False

        async def ticker() -> None:
            last = time.perf_counter()
            while not done:
                await asyncio.sleep(0)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        sent = await drive(middleware, order_scope(length=len(body)),
                           Script([{"type": "http.request", "body": body,
                                    "more_body": False}]))
        done = True
        await tick
        return max(gaps), sent

    asyncio.run(longest_block())  # warm-up: the first big parse also pays for allocation
    runs = [asyncio.run(longest_block()) for _ in range(3)]
    assert {answer_from(sent).status for _, sent in runs} == {
        200 if kind == "valid" else 400}
    best = min(gap for gap, _ in runs) * 1000
    assert best <= 50, f"the loop was held {best:.0f} ms"


def test_declared_length_over_the_cap_is_refused_without_receiving() -> None:
    receive = Script([])
    inner = Inner()
    scope = order_scope(length=10_000)
    sent = asyncio.run(drive(guard(inner, max_body_bytes=1000), scope, receive))
    assert answer_from(sent).status == 413
    assert receive.calls == 0


@pytest.mark.parametrize(("headers", "path", "status"), [
    ([JSON, ("Content-Length", "10")], "/orders", 401),          # no credentials
    ([AUTH_WRITER, JSON, ("Content-Length", "10")], "/nope", 404),
    ([AUTH_READER, ("Content-Length", "10")], "/orders", 415),   # no Content-Type
])
def test_rejections_before_the_body_never_receive(headers: list[tuple[str, str]], path: str,
                                                   status: int) -> None:
    receive = Script([])
    sent = asyncio.run(drive(guard(Inner()), http_scope("POST", path, headers), receive))
    assert answer_from(sent).status == status
    assert receive.calls == 0


@pytest.mark.parametrize("deadline", ["watchdog", "wait_for"])
def test_slow_body_gets_408_after_body_timeout(deadline: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A body that stops arriving: 408 at the deadline, kept by the loop's watchdog
    (Python 3.11+) and by the wait_for of 3.10 (``wait_for``: as 3.10 runs it)."""
    if deadline == "wait_for":
        monkeypatch.setattr(asgi_module, "timeout", None)
    receive = Script([chunks_of(VALID_ORDER, 10)[0]])  # then hangs
    inner = Inner()
    started = time.monotonic()
    sent = asyncio.run(drive(guard(inner, body_timeout=0.2), order_scope(), receive))
    elapsed = time.monotonic() - started
    answer = answer_from(sent)
    assert answer.status == 408
    assert answer.header("content-type") == PROBLEM
    assert answer.json()["errors"][0]["keyword"] == "timeout"
    assert 0.19 <= elapsed < 1.0
    assert inner.calls == []


def test_body_timeout_per_operation() -> None:
    """An operation's own body_timeout (operations=) is the deadline of its bodies only."""
    short = {"operations": {"POST /orders": {"body_timeout": 0.2}}, "body_timeout": 30}
    inner = Inner()
    started = time.monotonic()
    sent = asyncio.run(drive(guard(inner, **short), order_scope(),
                             Script([chunks_of(VALID_ORDER, 10)[0]])))
    assert answer_from(sent).status == 408
    assert 0.19 <= time.monotonic() - started < 1.0
    assert inner.calls == []
    # The other way round: a long upload deadline for one operation beside a short default.
    chunks = chunks_of(VALID_ORDER, -(-len(VALID_ORDER) // 5))  # 5 chunks, 0.4 s in all

    async def slowly() -> Message:
        await asyncio.sleep(0.08 if chunks else 3600)
        return chunks.pop(0)

    long = {"operations": {"POST /orders": {"body_timeout": 30}}, "body_timeout": 0.2}
    sent = asyncio.run(drive(guard(inner, **long), order_scope(), Script([], after=slowly)))
    assert answer_from(sent).status == 200
    assert len(inner.calls) == 1


@pytest.mark.parametrize("value", [0, -1, True, float("nan"), "1"])
def test_body_timeout_per_operation_is_checked_at_start(value: Any) -> None:
    with pytest.raises(ValueError, match="body_timeout must be a positive number"):
        guard(Inner(), operations={"POST /orders": {"body_timeout": value}})


def test_body_timeout_is_a_deadline_not_an_idle_timeout() -> None:
    """A trickle that never pauses longer than the timeout still gets 408 at the deadline."""
    async def trickle() -> Message:
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b" ", "more_body": True}

    receive = Script([], after=trickle)
    started = time.monotonic()
    sent = asyncio.run(drive(guard(Inner(), body_timeout=0.3), order_scope(length=None),
                             receive))
    assert answer_from(sent).status == 408
    assert time.monotonic() - started < 1.0
    assert receive.calls >= 4


# -- verifiers -------------------------------------------------------------------------------


# bad-inputs L07: fail closed: generic 500 with a request id, one log line naming it, no
# message or traceback anywhere, handler not called.
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_raising_verifier_is_a_generic_500(kind: str, caplog: pytest.LogCaptureFixture
                                          ) -> None:
    secret = "tok-3f9a-SECRET-in-exception"

    def boom(credentials: sg.Credentials) -> Any:
        raise RuntimeError(f"database said no for {secret}")

    async def aboom(credentials: sg.Credentials) -> Any:
        raise RuntimeError(f"database said no for {secret}")

    inner = Inner()
    receive = Script([])
    middleware = guard(inner, override={"bearer": boom if kind == "sync" else aboom})
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        sent = asyncio.run(drive(middleware, order_scope(), receive))
    answer = answer_from(sent)
    assert answer.status == 500
    assert answer.header("content-type") == PROBLEM
    request_id = answer.header("x-request-id")
    assert request_id
    assert secret.encode() not in answer.body
    assert b"database" not in answer.body
    assert answer.json() == {"type": "about:blank", "title": "Internal Server Error",
                             "status": 500, "detail": "the request could not be processed"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "schemaguard"
    assert secret not in errors[0].getMessage()
    assert "database" not in errors[0].getMessage()
    assert errors[0].exc_info is None
    assert request_id in errors[0].getMessage()
    assert errors[0].schemaguard["request_id"] == request_id
    assert inner.calls == []
    assert receive.calls == 0


# bad-inputs L08: a concurrent.futures.Future from a sync verifier is truthy but never a
# principal: a configuration error (500), the app is not called.
def test_sync_verifier_returning_a_concurrent_future_is_a_500() -> None:
    def verifier(credentials: sg.Credentials) -> Any:
        return concurrent.futures.Future()

    inner = Inner()
    sent = asyncio.run(drive(guard(inner, override={"bearer": verifier}), order_scope(),
                             Script([])))
    assert answer_from(sent).status == 500
    assert inner.calls == []


def test_async_verifier_is_awaited_on_the_loop() -> None:
    seen: list[threading.Thread] = []

    async def verifier(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(0)
        seen.append(threading.current_thread())
        return {"sub": "async-user", "token": credentials.value}

    inner = Inner()
    loop_thread: list[threading.Thread] = []

    async def main() -> list[Message]:
        loop_thread.append(threading.current_thread())
        return await drive(guard(inner, override={"bearer": verifier}), order_scope(),
                           Script(chunks_of(VALID_ORDER, 50)))

    sent = asyncio.run(main())
    assert answer_from(sent).status == 200
    assert seen == loop_thread
    assert inner.state["schemaguard"].principal == {"sub": "async-user",
                                                    "token": "writer-token"}


# bad-inputs L07: a sync verifier under ASGI runs in a thread pool.
def test_sync_verifier_runs_in_a_worker_thread() -> None:
    verifiers = Verifiers()
    inner = Inner()
    loop_thread: list[threading.Thread] = []

    async def main() -> list[Message]:
        loop_thread.append(threading.current_thread())
        return await drive(guard(inner, verifiers=verifiers), order_scope(),
                           Script(chunks_of(VALID_ORDER, 50)))

    sent = asyncio.run(main())
    assert answer_from(sent).status == 200
    assert len(verifiers.threads) == 1
    assert verifiers.threads[0] is not loop_thread[0]
    assert inner.state["schemaguard"].principal == {"sub": "bob", "scopes": ["users:write"]}


# bad-inputs L07: a slow sync verifier does not block the loop.
def test_slow_sync_verifier_does_not_block_the_loop() -> None:
    def slow(credentials: sg.Credentials) -> Any:
        time.sleep(0.3)
        return {"sub": "slow"}

    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(10):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    async def main() -> list[Message]:
        tick = asyncio.create_task(ticker())
        sent = await drive(guard(Inner(), override={"bearer": slow}), order_scope(),
                           Script(chunks_of(VALID_ORDER, 50)))
        await tick
        return sent

    sent = asyncio.run(main())
    assert answer_from(sent).status == 200
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.15


def _slow_verifier(kind: str) -> Any:
    """A verifier far slower than the 0.05 s limit the tests below set."""

    async def aslow(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(30)
        return {"sub": "late"}

    def slow(credentials: sg.Credentials) -> Any:
        time.sleep(0.3)
        return {"sub": "late"}

    return aslow if kind == "async" else slow


# bad-inputs L07: a verifier past verifier_timeout fails closed: a generic 503 with a request
# id, one warning naming the request id, the scheme and the limit (never the credential),
# the app not called, the body not read.
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_slow_verifier_is_a_generic_503(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    inner = Inner()
    receive = Script([])
    middleware = guard(inner, override={"bearer": _slow_verifier(kind)}, verifier_timeout=0.05)

    async def main() -> tuple[list[Message], float]:
        started = time.monotonic()
        sent = await drive(middleware, order_scope(), receive)
        return sent, time.monotonic() - started

    with caplog.at_level(logging.INFO, logger="schemaguard"):
        sent, waited = asyncio.run(main())
    answer = answer_from(sent)
    assert waited < 0.25  # the answer did not wait for the verifier
    check_unavailable(answer, caplog, WRITER)
    assert inner.calls == []
    assert receive.calls == 0


# bad-inputs L07: report mode never blocks traffic: the slow verifier is logged and the
# request, body included, reaches the app (without a ValidatedRequest).
def test_slow_verifier_in_report_mode_passes_the_request_on(
        caplog: pytest.LogCaptureFixture) -> None:
    inner = Inner()
    receive = Script([{"type": "http.request", "body": VALID_ORDER, "more_body": False}])
    middleware = guard(inner, override={"bearer": _slow_verifier("async")},
                       verifier_timeout=0.05, mode="report")
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        sent = asyncio.run(drive(middleware, order_scope(), receive))
    assert answer_from(sent).status == 200
    assert len(inner.calls) == 1
    assert inner.state["schemaguard"] is None
    assert inner.received == [{"type": "http.request", "body": VALID_ORDER,
                               "more_body": False}]
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1
    assert "report mode" in logged[0].getMessage()
    assert "`bearer`" in logged[0].getMessage()


# -- paths -----------------------------------------------------------------------------------


def test_scope_without_raw_path_uses_root_path_and_path() -> None:
    inner = Inner()
    scope = http_scope("GET", "/pets", [("X-API-Key", "k")], raw_path=False, root_path="/api")
    middleware = GuardMiddleware(inner, PETSTORE,
                                 verifiers={"apiKey": lambda c: "svc", "bearer": lambda c: None})
    sent = asyncio.run(drive(middleware, scope, Script([EMPTY])))
    assert answer_from(sent).status == 200
    validated = inner.state["schemaguard"]
    assert validated.operation.operation_id == "listPets"
    assert validated.query == {"limit": 20, "offset": 0}


def test_raw_path_is_preferred_over_path() -> None:
    inner = Inner()
    scope = http_scope("GET", "/nope", raw_path=False)
    scope["raw_path"] = b"/public/ping"
    sent = asyncio.run(drive(guard(inner), scope, Script([EMPTY])))
    assert answer_from(sent).status == 200


@pytest.mark.parametrize("raw", [True, False])
def test_percent_encoded_path_is_decoded_once(raw: bool) -> None:
    """/files/%252e%252e is the name "%2e%2e" (refused by the pattern), never "..";
    without raw_path the decoded ``path`` "/files/%2e%2e" is re-quoted first."""
    inner = Inner()
    if raw:
        scope = http_scope("GET", "/files/%252e%252e", [AUTH_READER])
        scope["path"] = "/files/%2e%2e"
    else:
        scope = http_scope("GET", "/files/%2e%2e", [AUTH_READER], raw_path=False)
    sent = asyncio.run(drive(guard(inner), scope, Script([EMPTY])))
    answer = answer_from(sent)
    assert answer.status == 400
    first = answer.json()["errors"][0]
    assert (first["location"], first["name"], first["keyword"]) == ("path", "name", "pattern")
    assert inner.calls == []


def test_query_string_comes_from_the_scope() -> None:
    inner = Inner()
    scope = http_scope("GET", "/users", [AUTH_READER], query="limit=3&tag=a&tag=b")
    sent = asyncio.run(drive(guard(inner), scope, Script([EMPTY])))
    assert answer_from(sent).status == 200
    assert inner.state["schemaguard"].query == {"limit": 3, "tag": ["a", "b"]}


# -- mutual TLS ------------------------------------------------------------------------------

class CertVerifier:
    def __init__(self) -> None:
        self.certs: list[bytes | None] = []

    def __call__(self, credentials: sg.Credentials) -> Any:
        self.certs.append(credentials.client_cert)
        return {"cn": "client"} if credentials.client_cert == DER else None


def test_mutual_tls_reads_the_tls_extension() -> None:
    verifier = CertVerifier()
    inner = Inner()
    scope = http_scope("GET", "/whoami",
                       extensions={"tls": {"client_cert_chain": [PEM], "tls_version": 0x0304}})
    sent = asyncio.run(drive(GuardMiddleware(inner, MTLS_SPEC, verifiers={"mtls": verifier}),
                             scope, Script([EMPTY])))
    assert answer_from(sent).status == 200
    assert verifier.certs == [DER]
    assert inner.state["schemaguard"].principal == {"cn": "client"}


def test_a_spec_without_mutual_tls_never_reads_the_tls_extension() -> None:
    """Looking the certificate up costs every request: only specs that use it do."""

    class Watched(dict[str, Any]):
        reads = 0

        def get(self, key: str, default: Any = None) -> Any:
            Watched.reads += 1
            return super().get(key, default)

    middleware = GuardMiddleware(Inner(), OPEN_SPEC)
    assert middleware.guard.needs_client_cert is False
    scope = http_scope("GET", "/open", extensions=Watched(
        {"tls": {"client_cert_chain": [PEM], "tls_version": 0x0304}}))
    sent = asyncio.run(drive(middleware, scope, Script([EMPTY])))
    assert answer_from(sent).status == 200
    assert Watched.reads == 0
    assert GuardMiddleware(Inner(), MTLS_SPEC,
                           verifiers={"mtls": CertVerifier()}).guard.needs_client_cert is True


@pytest.mark.parametrize("header", ["X-Client-Cert", "X-SSL-Client-Cert", "SSL-Client-Cert"])
def test_mutual_tls_never_reads_a_certificate_header(header: str) -> None:
    verifier = CertVerifier()
    inner = Inner()
    scope = http_scope("GET", "/whoami", [(header, PEM.replace("\n", " "))])
    sent = asyncio.run(drive(GuardMiddleware(inner, MTLS_SPEC, verifiers={"mtls": verifier}),
                             scope, Script([EMPTY])))
    answer: Answer = answer_from(sent)
    assert answer.status == 401
    assert answer.all("www-authenticate") == ['MutualTLS realm="api"']
    assert verifier.certs == []
    assert inner.calls == []


# -- response validation ---------------------------------------------------------------------


def test_enforced_response_is_not_sent_before_it_is_checked() -> None:
    """The start message is held until the body is complete and valid."""
    leak = b'{"id": 1, "name": "a", "password": "pw"}'
    events: list[tuple[str, Any]] = []

    class Chunky:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(leak)).encode())]})
            events.append(("app", "started"))
            await send({"type": "http.response.body", "body": leak[:10], "more_body": True})
            events.append(("app", "chunk"))
            await send({"type": "http.response.body", "body": leak[10:], "more_body": False})

    scope = http_scope("GET", "/users/1", [AUTH_READER])
    sent = asyncio.run(drive(guard(Chunky(), validate_responses="enforce"), scope,
                             Script([EMPTY]), events))
    answer = answer_from(sent)
    assert answer.status == 500
    assert b"password" not in answer.body
    assert events.index(("app", "chunk")) < events.index(("send", "http.response.start"))


def test_streamed_response_without_length_passes_unvalidated() -> None:
    leak = b'{"id": 1, "name": "a", "password": "pw"}'
    inner = Inner(body=leak, headers=[(b"content-type", b"application/json")])
    scope = http_scope("GET", "/users/1", [AUTH_READER])
    sent = asyncio.run(drive(guard(inner, validate_responses="enforce"), scope, Script([EMPTY])))
    assert answer_from(sent).status == 200
    assert answer_from(sent).body == leak


def test_pathsend_after_a_buffered_start_keeps_the_start_first() -> None:
    class FileApp:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/plain"), (b"content-length", b"4")]})
            await send({"type": "http.response.pathsend", "path": "/srv/files/ping.txt"})

    scope = http_scope("GET", "/public/ping",
                       extensions={"http.response.pathsend": {}})
    sent = asyncio.run(drive(guard(FileApp(), validate_responses="enforce"), scope,
                             Script([EMPTY])))
    assert sent
    assert sent[0]["type"] == "http.response.start"


# -- where the app finds the validated request -------------------------------------------------

OPEN = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/items": {
    "post": {"parameters": [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}}],
             "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
             "responses": {"200": {"description": "ok"}}}}}}


class _Scope(MutableMapping[str, Any]):
    """A scope that is a mapping but not a dict (ASGI says dict; the guard copes)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value

    def __delitem__(self, key: str) -> None:
        del self.values[key]

    def __iter__(self) -> Any:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


@pytest.mark.parametrize("kind", ["server state", "no state", "not a dict"])
def test_the_validated_request_is_published_in_the_scope_state(kind: str) -> None:
    inner = Inner()
    middleware = GuardMiddleware(inner, OPEN)
    scope: Any = http_scope("POST", "/items", [JSON, ("X-Trace", "t1")])
    server_state = {"db": "pool"}
    if kind == "server state":  # uvicorn gives every request its own copy of the app state
        scope["state"] = server_state
    elif kind == "not a dict":
        scope = _Scope(scope)
    message = {"type": "http.request", "body": b'{"a": 1}', "more_body": False}
    sent = asyncio.run(drive(middleware, scope, Script([message])))
    assert sent[0]["status"] == 200
    assert len(inner.calls) == 1
    state = inner.state
    validated = state["schemaguard"]
    assert validated.body == {"a": 1}
    assert validated.headers == {"X-Trace": "t1"}
    if kind == "server state":
        assert state is server_state
        assert state["db"] == "pool"
