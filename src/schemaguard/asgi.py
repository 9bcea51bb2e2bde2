"""ASGI middleware: ``app.add_middleware(GuardMiddleware, spec="openapi.yaml")``.

A pure ASGI middleware (no BaseHTTPMiddleware): non-HTTP traffic (lifespan, websockets) passes
through; an HTTP request reaches the app only when the guard accepts it. The body is read
after the route, security and parameters passed, within ``body_timeout`` (408) and the cap
(413, as soon as the cap is crossed); a client that disconnects first gets nothing and the app
is never called. The app receives the exact body bytes the guard checked, then the server's
own later messages (a disconnect is still delivered), and finds the ``ValidatedRequest`` at
``scope["state"]["schemaguard"]`` (``request.state.schemaguard`` in Starlette and FastAPI).

This module stays interpreted in the compiled build: ``__call__`` awaits the app, which an
interpreted coroutine does natively (_asgi.py). What it calls is compiled.
"""

from __future__ import annotations

from typing import Any

from ._adapter import make_guard
from ._asgi import ASGIApp, Receive, Scope, Send, begin, proceed
from ._guard import Guard


class GuardMiddleware:
    """Guard an ASGI app with an OpenAPI spec (a path, mapping, Spec or a ready Guard)."""

    def __init__(self, app: ASGIApp, spec: Any = None, **options: Any) -> None:
        self.app = app
        self.guard: Guard = make_guard(spec, options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = begin(self.guard, scope, receive)
        if exchange.accepted:  # checked and passed without a wait: the usual request
            await self.app(scope, exchange.replay, send)
        else:
            await proceed(self.guard, self.app, exchange, scope, send)


__all__ = ["GuardMiddleware"]
