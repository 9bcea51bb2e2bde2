"""The WSGI middleware driven with hand-built PEP 3333 environs: how much of ``wsgi.input`` it
reads, what the app gets back, which path it routes, and how it buffers responses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

import schemaguard as sg
from schemaguard.wsgi import GuardMiddleware

from ._support import (
    DER,
    MTLS_SPEC,
    OPEN_SPEC,
    PEM,
    PETSTORE,
    PROBLEM,
    SPEC_F,
    VALID_ORDER,
    WRITER,
    Stream,
    Verifiers,
    check_unavailable,
)
from ._support import wsgi_call as call
from ._support import wsgi_environ as environ


class App:
    """The guarded WSGI app: records environ and the body it read from wsgi.input."""

    def __init__(self, body: bytes = b"ok", headers: list[tuple[str, str]] | None = None
                 ) -> None:
        self.body = body
        self.headers = headers
        self.calls: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls.append(environ)
        length = environ.get("CONTENT_LENGTH")
        self.bodies.append(environ["wsgi.input"].read(int(length)) if length else b"")
        headers = self.headers if self.headers is not None else [
            ("Content-Type", "text/plain"), ("Content-Length", str(len(self.body)))]
        start_response("200 OK", headers)
        return [self.body]


def guard(app: Any, spec: Any = SPEC_F, **options: Any) -> GuardMiddleware:
    verifiers = options.pop("verifiers", None) or Verifiers()
    mapping = verifiers.mapping()
    mapping.update(options.pop("override", {}))
    return GuardMiddleware(app, spec, verifiers=mapping, **options)


ORDER_HEADERS = [("Authorization", f"Bearer {WRITER}"), ("Content-Type", "application/json")]


# -- reading the body ------------------------------------------------------------------------


# bad-inputs L06: at most CONTENT_LENGTH bytes are read, never with a bare read().
def test_content_length_bounds_the_read() -> None:
    stream = Stream(VALID_ORDER + b"POST /next-pipelined-request HTTP/1.1\r\n\r\n")
    app = App()
    env = environ("POST", "/orders", ORDER_HEADERS, stream=stream,
                  CONTENT_LENGTH=str(len(VALID_ORDER)))
    answer = call(guard(app), env)
    assert answer.status == 200
    assert stream.consumed == len(VALID_ORDER)
    assert all(size is not None and 0 <= size <= len(VALID_ORDER) for size in stream.reads)
    assert app.bodies == [VALID_ORDER]


def test_body_shorter_than_content_length_never_reaches_the_app() -> None:
    body = b'{"items":[],"amount":1}'  # valid JSON on its own
    app = App()
    env = environ("POST", "/orders", ORDER_HEADERS, stream=Stream(body),
                  CONTENT_LENGTH=str(len(body) + 10))
    answer = call(guard(app), env)
    assert app.calls == []
    assert answer.status >= 400


# bad-inputs L06: the app gets the body re-wrapped (a BytesIO), not the spent stream.
def test_app_gets_a_rewrapped_input_with_identical_bytes() -> None:
    body = b'{"items":[{"sku":"\\u00e9","qty":1}],\r\n "amount":  0.10}'
    stream = Stream(body)
    app = App()
    answer = call(guard(app), environ("POST", "/orders", ORDER_HEADERS, body, stream=stream))
    assert answer.status == 200
    seen = app.calls[0]
    assert seen["wsgi.input"] is not stream
    assert seen["CONTENT_LENGTH"] == str(len(body))
    assert app.bodies == [body]
    assert seen["schemaguard"].body == {"items": [{"sku": "\u00e9", "qty": 1}], "amount": 0.1}


# bad-inputs L06: chunked input the server terminates (wsgi.input_terminated) is read to EOF.
def test_chunked_input_is_read_to_eof() -> None:
    stream = Stream(VALID_ORDER)
    app = App()
    env = environ("POST", "/orders", [*ORDER_HEADERS, ("Transfer-Encoding", "chunked")],
                  stream=stream, **{"wsgi.input_terminated": True})
    answer = call(guard(app), env)
    assert answer.status == 200
    assert app.calls[0]["CONTENT_LENGTH"] == str(len(VALID_ORDER))
    assert app.bodies == [VALID_ORDER]


# bad-inputs L02, L06: the cap applies to chunked input; the rest of the body is not read.
def test_chunked_input_over_the_cap_is_413_and_reads_at_most_one_byte_more() -> None:
    stream = Stream(b'{"items":[],"amount":1,"x":"' + b"x" * 50_000 + b'"}')
    app = App()
    env = environ("POST", "/orders", [*ORDER_HEADERS, ("Transfer-Encoding", "chunked")],
                  stream=stream, **{"wsgi.input_terminated": True})
    answer = call(guard(app, max_body_bytes=1000), env)
    assert answer.status == 413
    assert answer.header("content-type") == PROBLEM
    assert stream.consumed <= 1001
    assert app.calls == []


# bad-inputs L02: the cap is exact: max_body_bytes passes, one byte more is a 413.
@pytest.mark.parametrize(("size", "status"), [(1000, 200), (1001, 413)])
def test_chunked_input_cap_is_exact(size: int, status: int) -> None:
    body = VALID_ORDER + b" " * (size - len(VALID_ORDER))
    app = App()
    env = environ("POST", "/orders", [*ORDER_HEADERS, ("Transfer-Encoding", "chunked")],
                  stream=Stream(body), **{"wsgi.input_terminated": True})
    answer = call(guard(app, max_body_bytes=1000), env)
    assert answer.status == status
    assert app.bodies == ([body] if status == 200 else [])


# bad-inputs L06: without CONTENT_LENGTH or wsgi.input_terminated PEP 3333 gives no body to
# read; the input is left alone (a read could block on the socket) and the app is not called.
def test_chunked_input_without_input_terminated_is_not_read() -> None:
    stream = Stream(VALID_ORDER, forbidden=True)
    app = App()
    env = environ("POST", "/orders", [*ORDER_HEADERS, ("Transfer-Encoding", "chunked")],
                  stream=stream)
    answer = call(guard(app), env)
    assert answer.status == 400
    assert answer.json()["errors"][0]["keyword"] == "required"
    assert stream.reads == []
    assert app.calls == []


# bad-inputs L06: the cap applies before anything is read.
def test_declared_length_over_the_cap_is_413_without_reading() -> None:
    stream = Stream(b"x" * 5000, forbidden=True)
    app = App()
    env = environ("POST", "/orders", ORDER_HEADERS, stream=stream, CONTENT_LENGTH="5000")
    answer = call(guard(app, max_body_bytes=1000), env)
    assert answer.status == 413
    assert answer.json()["errors"][0]["keyword"] == "maxLength"
    assert stream.reads == []
    assert app.calls == []


# Digits of other scripts are digits to str.isdigit(), and not to HTTP (RFC 9110 §8.6).
@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", " ", "\uff11\uff10",
                                      "\u0661\u0662", " \uff11 ", "+12", "1_0"])
def test_invalid_content_length_is_400(declared: str) -> None:
    stream = Stream(VALID_ORDER)
    app = App()
    env = environ("POST", "/orders", ORDER_HEADERS, stream=stream, CONTENT_LENGTH=declared)
    answer = call(guard(app), env)
    assert answer.status == 400
    first = answer.json()["errors"][0]
    assert (first["location"], first["name"]) == ("header", "Content-Length")
    assert app.calls == []


def test_a_content_length_with_spaces_around_it_is_read() -> None:
    app = App()
    env = environ("POST", "/orders", ORDER_HEADERS, stream=Stream(VALID_ORDER),
                  CONTENT_LENGTH=f" {len(VALID_ORDER)}\t")
    answer = call(guard(app), env)
    assert answer.status == 200
    assert app.bodies == [VALID_ORDER]
    assert app.calls[0]["CONTENT_LENGTH"] == str(len(VALID_ORDER))


def test_rejection_before_the_body_does_not_read_it() -> None:
    stream = Stream(VALID_ORDER, forbidden=True)
    env = environ("POST", "/orders", [("Content-Type", "application/json")], stream=stream,
                  CONTENT_LENGTH=str(len(VALID_ORDER)))
    assert call(guard(App()), env).status == 401
    assert stream.reads == []


def test_report_mode_passes_an_unread_body_on() -> None:
    stream = Stream(VALID_ORDER)
    app = App()
    env = environ("POST", "/orders", [("Content-Type", "application/json")], stream=stream,
                  CONTENT_LENGTH=str(len(VALID_ORDER)))
    answer = call(guard(app, mode="report"), env)
    assert answer.status == 200
    assert app.calls[0]["schemaguard"] is None
    assert app.bodies == [VALID_ORDER]


def test_report_mode_treats_a_chunked_body_over_the_cap_like_a_declared_one() -> None:
    big = b'{"items":[],"amount":1,"x":"' + b"x" * 500 + b'"}'
    declared_app, chunked_app = App(), App()
    declared = call(guard(declared_app, mode="report", max_body_bytes=100),
                    environ("POST", "/orders", ORDER_HEADERS, big))
    chunked = call(guard(chunked_app, mode="report", max_body_bytes=100),
                   environ("POST", "/orders",
                           [*ORDER_HEADERS, ("Transfer-Encoding", "chunked")],
                           stream=Stream(big), **{"wsgi.input_terminated": True}))
    assert declared.status == 200
    assert declared_app.bodies == [big]
    assert chunked.status == declared.status
    assert len(chunked_app.calls) == 1


# -- the path --------------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "status"), [
    ({"RAW_URI": "/public/ping", "PATH_INFO": "/nope"}, 200),
    ({"RAW_URI": "/nope", "PATH_INFO": "/public/ping"}, 404),
    ({"REQUEST_URI": "/public/ping?x=1", "PATH_INFO": "/nope"}, 200),
    ({"REQUEST_URI": "/nope?x=1", "PATH_INFO": "/public/ping"}, 404),
    ({"RAW_URI": "/public/ping", "REQUEST_URI": "/nope"}, 200),
    ({"RAW_URI": "http://example.com/public/ping?x=1", "PATH_INFO": "/nope"}, 200),
    ({"PATH_INFO": "/public/ping"}, 200),
])
def test_raw_uri_and_request_uri_are_preferred_over_path_info(extra: dict[str, str],
                                                               status: int) -> None:
    env = environ("GET", extra.pop("PATH_INFO", "/public/ping"), **extra)
    assert call(guard(App()), env).status == status


@pytest.mark.parametrize("where", ["RAW_URI", "REQUEST_URI", "PATH_INFO"])
def test_percent_encoded_path_is_decoded_exactly_once(where: str) -> None:
    """/files/%252e%252e names the file "%2e%2e" (the pattern refuses "%"); decoding twice
    would make it ".." and let it through."""
    app = App()
    if where == "PATH_INFO":  # what the server decoded once
        env = environ("GET", "/files/%2e%2e", [("Authorization", "Bearer reader-token")])
    else:
        env = environ("GET", "/files/%2e%2e", [("Authorization", "Bearer reader-token")],
                      **{where: "/files/%252e%252e"})
    answer = call(guard(app), env)
    assert answer.status == 400
    first = answer.json()["errors"][0]
    assert (first["location"], first["name"], first["keyword"]) == ("path", "name", "pattern")
    assert app.calls == []


def test_path_info_with_utf8_is_requoted_from_latin1() -> None:
    app = App()
    name = "caf\u00e9.txt".encode().decode("latin-1")  # PEP 3333 bytes-as-latin-1
    env = environ("GET", f"/files/{name}", [("Authorization", "Bearer reader-token")])
    answer = call(guard(app), env)
    assert answer.status == 400  # the pattern allows ASCII only; not an encoding error
    assert answer.json()["errors"][0]["keyword"] == "pattern"


def test_script_name_and_path_info_make_the_path() -> None:
    app = App()
    env = environ("GET", "/pets", [("X-API-Key", "k")], SCRIPT_NAME="/api",
                  QUERY_STRING="limit=5")
    middleware = GuardMiddleware(app, PETSTORE,
                                 verifiers={"apiKey": lambda c: "svc", "bearer": lambda c: None})
    assert call(middleware, env).status == 200
    assert app.calls[0]["schemaguard"].query == {"limit": 5, "offset": 0}


# -- mutual TLS ------------------------------------------------------------------------------

class PeerSocket:
    """gunicorn.socket: the TLS socket the server verified the client certificate on."""

    def __init__(self, der: bytes | None) -> None:
        self.der = der
        self.calls = 0

    def getpeercert(self, binary_form: bool = False) -> bytes | None:
        self.calls += 1
        assert binary_form
        return self.der


def _cert_verifier(seen: list[bytes | None]) -> Any:
    def verify(credentials: sg.Credentials) -> Any:
        seen.append(credentials.client_cert)
        return {"cn": "client"} if credentials.client_cert == DER else None
    return verify


@pytest.mark.parametrize("where", ["SSL_CLIENT_CERT", "gunicorn.socket"])
def test_mutual_tls_reads_the_certificate_the_server_verified(where: str) -> None:
    seen: list[bytes | None] = []
    app = App()
    extra = {"SSL_CLIENT_CERT": PEM} if where == "SSL_CLIENT_CERT" else {
        "gunicorn.socket": PeerSocket(DER)}
    env = environ("GET", "/whoami", **extra)
    answer = call(GuardMiddleware(app, MTLS_SPEC, verifiers={"mtls": _cert_verifier(seen)}),
                  env)
    assert answer.status == 200
    assert seen == [DER]
    assert app.calls[0]["schemaguard"].principal == {"cn": "client"}


def test_mutual_tls_never_reads_a_certificate_header() -> None:
    seen: list[bytes | None] = []
    app = App()
    env = environ("GET", "/whoami", [("X-SSL-Client-Cert", PEM.replace("\n", " "))])
    answer = call(GuardMiddleware(app, MTLS_SPEC, verifiers={"mtls": _cert_verifier(seen)}),
                  env)
    assert answer.status == 401
    assert seen == []
    assert app.calls == []


def test_a_spec_without_mutual_tls_never_asks_the_server_for_a_certificate() -> None:
    """Looking the certificate up costs every request: only specs that use it do."""
    for spec, lookups in ((OPEN_SPEC, 0), (MTLS_SPEC, 1)):
        sock = PeerSocket(DER)
        app = App()
        middleware = GuardMiddleware(app, spec, verifiers={"mtls": _cert_verifier([])})
        assert middleware.guard.needs_client_cert is (lookups == 1)
        answer = call(middleware, environ("GET", "/open", **{"gunicorn.socket": sock}))
        assert answer.status == 200
        assert sock.calls == lookups
        assert len(app.calls) == 1


# -- verifiers -------------------------------------------------------------------------------


def test_async_verifier_is_refused_at_construction() -> None:
    async def verifier(credentials: sg.Credentials) -> Any:
        return True

    with pytest.raises(ValueError, match="coroutine"):
        guard(App(), override={"bearer": verifier})


# bad-inputs L08: a coroutine from a sync verifier under a sync server is a 500, not a pass.
def test_sync_verifier_returning_an_awaitable_is_a_500_not_a_pass(
        caplog: pytest.LogCaptureFixture) -> None:
    async def later() -> Any:
        return {"sub": "x"}

    app = App()
    middleware = guard(app, override={"bearer": lambda credentials: later()})
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = call(middleware, environ("GET", "/users", [("Authorization", "Bearer t")]))
    assert answer.status == 500
    assert app.calls == []


VERIFIER_ANSWERS: dict[str, Any] = {
    "None": lambda loop: None, "False": lambda loop: False, "0": lambda loop: 0,
    "{}": lambda loop: {}, "''": lambda loop: "", "True": lambda loop: True,
    "principal": lambda loop: {"sub": "x"},
    "asyncio.Future": lambda loop: loop.create_future(),
    "concurrent.Future": lambda loop: concurrent.futures.Future(),
}


# bad-inputs L08: only a principal or True passes; a falsy answer is a 401; a Future from a
# sync verifier is a configuration error (500). The app runs only on a pass.
@pytest.mark.parametrize(("kind", "status"), [
    ("None", 401), ("False", 401), ("0", 401), ("{}", 401), ("''", 401),
    ("True", 200), ("principal", 200), ("asyncio.Future", 500),
    ("concurrent.Future", 500),  # truthy, but never a principal
])
def test_only_a_principal_or_true_from_the_verifier_passes(kind: str, status: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        value = VERIFIER_ANSWERS[kind](loop)
        app = App()
        answer = call(guard(app, override={"bearer": lambda credentials: value}),
                      environ("GET", "/users", [("Authorization", "Bearer t")]))
    finally:
        loop.close()
    assert answer.status == status
    assert len(app.calls) == (1 if status == 200 else 0)


# bad-inputs L07: fail closed: generic 500, one log line without the message, app not called.
def test_raising_verifier_is_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    secret = "pg://admin:Sup3rSecret@db"

    def boom(credentials: sg.Credentials) -> Any:
        raise ConnectionError(f"cannot reach {secret}")

    app = App()
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = call(guard(app, override={"bearer": boom}),
                      environ("GET", "/users", [("Authorization", "Bearer t")]))
    assert answer.status == 500
    assert answer.header("content-type") == PROBLEM
    assert answer.header("x-request-id")
    assert secret.encode() not in answer.body
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert secret not in errors[0].getMessage()
    assert "ConnectionError" in errors[0].getMessage()
    assert app.calls == []


def _slow(credentials: sg.Credentials) -> Any:
    time.sleep(0.15)  # three times the 0.05 s limit the tests below set
    return {"sub": "late"}


# bad-inputs L07: WSGI cannot interrupt a sync verifier, but an answer after verifier_timeout
# is discarded: a generic 503 with a request id, one warning naming the request id, the scheme
# and the limit (never the credential), the app not called.
def test_slow_verifier_is_a_generic_503(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    token = "tok-7d1e-slow-backend"
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = call(guard(app, override={"bearer": _slow}, verifier_timeout=0.05),
                      environ("GET", "/users", [("Authorization", f"Bearer {token}")]))
    check_unavailable(answer, caplog, token)
    assert app.calls == []


# bad-inputs L07: the WSGI status line of the 503 carries its reason phrase.
def test_slow_verifier_status_line_is_503_service_unavailable() -> None:
    lines: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> Any:
        lines.append(status)
        return lambda data: None

    middleware = guard(App(), override={"bearer": _slow}, verifier_timeout=0.05)
    middleware(environ("GET", "/users", [("Authorization", "Bearer t")]), start_response)
    assert lines == ["503 Service Unavailable"]


# bad-inputs L07: report mode never blocks traffic: the slow verifier is logged and the
# request reaches the app (without a ValidatedRequest).
def test_slow_verifier_in_report_mode_passes_the_request_on(
        caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = call(guard(app, override={"bearer": _slow}, verifier_timeout=0.05,
                            mode="report"),
                      environ("POST", "/orders", ORDER_HEADERS, VALID_ORDER))
    assert answer.status == 200
    assert len(app.calls) == 1
    assert app.calls[0]["schemaguard"] is None
    assert app.bodies == [VALID_ORDER]
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1
    assert "report mode" in logged[0].getMessage()


# -- responses -------------------------------------------------------------------------------

USER = b'{"id":1,"name":"a"}'
LEAK = b'{"id":1,"name":"a","password":"pw-123"}'
READER_GET = [("Authorization", "Bearer reader-token")]


class Closing:
    """A response iterable that records close() (PEP 3333: the server must call it)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize("length", [True, False])
def test_response_iterable_is_closed(length: bool) -> None:
    result = Closing([USER[:5], USER[5:]])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        headers = [("Content-Type", "application/json")]
        if length:
            headers.append(("Content-Length", str(len(USER))))
        start_response("200 OK", headers)
        return result

    answer = call(guard(app, validate_responses="enforce"), environ("GET", "/users/1",
                                                                    READER_GET))
    assert answer.status == 200
    assert answer.body == USER
    assert result.closed == 1


def test_write_callable_output_is_validated_in_order() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(LEAK)))])
        write(LEAK[:12])
        return [LEAK[12:]]

    answer = call(guard(app, validate_responses="enforce"), environ("GET", "/users/1",
                                                                    READER_GET))
    assert answer.status == 500
    assert b"pw-123" not in answer.body


def test_lazy_start_response_in_a_generator_is_validated() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(LEAK)))])
        yield LEAK

    answer = call(guard(app, validate_responses="enforce"), environ("GET", "/users/1",
                                                                    READER_GET))
    assert answer.status == 500
    assert b"pw-123" not in answer.body


def test_response_larger_than_the_cap_passes_unvalidated() -> None:
    big = b'{"id":1,"name":"' + b"a" * 3000 + b'","password":"x"}'
    app = App(big, [("Content-Type", "application/json"), ("Content-Length", str(len(big)))])
    answer = call(guard(app, validate_responses="enforce", max_body_bytes=1000),
                  environ("GET", "/users/1", READER_GET))
    assert answer.status == 200
    assert answer.body == big
