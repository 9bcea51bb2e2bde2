"""The middlewares can be subclassed, in the compiled build as in the pure-Python one (they
are the classes users extend: a hook around each request, a different answer)."""

from __future__ import annotations

import json
from typing import Any

import schemaguard as sg
from schemaguard.asgi import GuardMiddleware as AsgiGuard
from schemaguard.wsgi import GuardMiddleware as WsgiGuard

from ._support import (
    AUTH_WRITER,
    JSON,
    SPEC_F,
    VALID_ORDER,
    Verifiers,
    asgi_call,
    http_scope,
    wsgi_call,
    wsgi_environ,
)

BAD_ORDER = json.dumps({"items": [], "amount": "ten"}).encode()


class CountingWsgi(WsgiGuard):
    """Counts requests and tags every answer."""

    def __init__(self, app: Any, spec: Any = None, **options: Any) -> None:
        super().__init__(app, spec, **options)
        self.seen = 0

    def __call__(self, environ: Any, start_response: Any) -> Any:
        self.seen += 1

        def tagged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Guarded-By", "counting")], exc_info)

        return super().__call__(environ, tagged)


def test_a_wsgi_subclass_wraps_each_request() -> None:
    calls: list[Any] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        calls.append(environ["schemaguard"].body)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b"{}"]

    middleware = CountingWsgi(app, SPEC_F, verifiers=Verifiers().mapping())
    assert isinstance(middleware.guard, sg.Guard)
    ok = wsgi_call(middleware, wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON], VALID_ORDER))
    bad = wsgi_call(middleware, wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON], BAD_ORDER))
    assert (ok.status, bad.status) == (201, 400)
    assert ok.header("x-guarded-by") == bad.header("x-guarded-by") == "counting"
    assert middleware.seen == 2
    assert len(calls) == 1


class CountingAsgi(AsgiGuard):
    def __init__(self, app: Any, spec: Any = None, **options: Any) -> None:
        super().__init__(app, spec, **options)
        self.seen = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.seen += 1
        await super().__call__(scope, receive, send)


def test_an_asgi_subclass_wraps_each_request() -> None:
    calls: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["state"]["schemaguard"].body)
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    middleware = CountingAsgi(app, SPEC_F, verifiers=Verifiers().mapping())

    def call(body: bytes) -> int:
        scope = http_scope("POST", "/orders", [AUTH_WRITER, JSON,
                                               ("Content-Length", str(len(body)))])
        return asgi_call(middleware, scope, body).status

    assert (call(VALID_ORDER), call(BAD_ORDER)) == (201, 400)
    assert middleware.seen == 2
    assert len(calls) == 1
