"""Starlette behind the ASGI GuardMiddleware (``app.add_middleware(GuardMiddleware, ...)``),
driven in-process through ``httpx.ASGITransport`` (``starlette.testclient`` warns that its
httpx backend is deprecated, and warnings are errors here)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

starlette = pytest.importorskip("starlette")

import asyncio  # noqa: E402

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

import schemaguard as sg  # noqa: E402
from schemaguard.asgi import GuardMiddleware  # noqa: E402

from ._support import (  # noqa: E402
    API_KEY,
    AUTH_READER,
    AUTH_WRITER,
    CAP,
    JSON,
    KEY,
    PROBLEM,
    REJECTIONS,
    SPEC_F,
    VALID_ORDER,
    VALID_USER,
    Answer,
    Rejection,
    Spy,
    Verifiers,
    asgi_request,
    check_rejection,
    check_withheld,
    logged,
    user_with_password,
)


class StarletteApp:
    def __init__(self, **options: Any) -> None:
        self.spy = Spy()
        self.verifiers = Verifiers()
        self.leak = False
        spy = self.spy

        async def users(request: Request) -> Response:
            validated = request.state.schemaguard
            if request.method == "GET":
                spy.record(route="list", validated=validated,
                           args={k: request.query_params.getlist(k)
                                 for k in request.query_params})
                return JSONResponse([{"id": 1, "name": "alice"}])
            raw = await request.body()
            parsed = await request.json()
            spy.record(route="create", validated=validated, raw=raw, json=parsed)
            return JSONResponse({"id": 10, "name": parsed["name"]}, status_code=201)

        async def user(request: Request) -> Response:
            user_id = request.path_params["user_id"]
            spy.record(route=request.method, validated=request.state.schemaguard,
                       user_id=user_id)
            if request.method == "DELETE":
                return Response(status_code=204)
            if self.leak:
                return JSONResponse(user_with_password(user_id))
            return JSONResponse({"id": user_id, "name": "alice"})

        async def orders(request: Request) -> Response:
            raw = await request.body()
            spy.record(route="order", validated=request.state.schemaguard, raw=raw,
                       json=await request.json())
            return Response(status_code=201)

        async def ping(request: Request) -> Response:
            spy.record(route="ping", validated=getattr(request.state, "schemaguard", "unset"))
            return PlainTextResponse("pong")

        async def files(request: Request) -> Response:
            spy.record(route="files", validated=request.state.schemaguard,
                       name=request.path_params["name"])
            return PlainTextResponse("file")

        app = Starlette(routes=[
            Route("/users", users, methods=["GET", "POST"]),
            Route("/users/{user_id:int}", user, methods=["GET", "DELETE"]),
            Route("/orders", orders, methods=["POST"]),
            Route("/public/ping", ping, methods=["GET"]),
            Route("/files/{name}", files, methods=["GET"]),
        ])
        options.setdefault("max_body_bytes", CAP)
        app.add_middleware(GuardMiddleware, spec=SPEC_F, verifiers=self.verifiers.mapping(),
                           **options)
        self.app = app

    def request(self, method: str, path: str, headers: Any = (), body: bytes | None = None
                ) -> Answer:
        return asgi_request(self.app, method, path, list(headers), body)


@pytest.fixture
def guarded() -> StarletteApp:
    return StarletteApp()


def test_query_reaches_the_handler_typed(guarded: StarletteApp) -> None:
    answer = guarded.request("GET", "/users?limit=5&role=admin&tag=a&tag=b", [AUTH_READER])
    assert answer.status == 200
    seen = guarded.spy.last
    assert isinstance(seen["validated"], sg.ValidatedRequest)
    assert seen["validated"].query == {"limit": 5, "role": "admin", "tag": ["a", "b"]}
    assert seen["args"] == {"limit": ["5"], "role": ["admin"], "tag": ["a", "b"]}
    assert seen["validated"].principal == {"sub": "alice", "scopes": ["users:read"]}
    assert guarded.verifiers.calls == {"bearer": 1}


def test_path_parameter_reaches_the_handler_typed(guarded: StarletteApp) -> None:
    answer = guarded.request("GET", "/users/42", [AUTH_READER])
    assert answer.status == 200
    assert guarded.spy.last["validated"].path_params == {"id": 42}
    assert guarded.spy.last["user_id"] == 42


def test_body_reaches_the_handler_with_the_same_bytes(guarded: StarletteApp) -> None:
    answer = guarded.request("POST", "/users", [KEY, JSON], VALID_USER)
    assert answer.status == 201
    seen = guarded.spy.last
    assert seen["raw"] == VALID_USER
    assert seen["validated"].body == {"name": "new_user", "email": "new@example.com",
                                      "age": 30}
    assert seen["json"] == seen["validated"].body
    assert guarded.verifiers.values == [("apiKey", API_KEY)]


def test_chunked_body_is_replayed_to_the_handler(guarded: StarletteApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(VALID_ORDER), 7):
            yield VALID_ORDER[start:start + 7]

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=guarded.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/orders", content=chunks(),
                                     headers=[AUTH_WRITER, JSON])

    response = asyncio.run(go())
    assert response.status_code == 201
    assert guarded.spy.last["raw"] == VALID_ORDER
    assert guarded.spy.last["json"] == guarded.spy.last["validated"].body


def test_chunked_body_over_the_cap_is_413(guarded: StarletteApp) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"items":[],"amount":1,"x":"'
        for _ in range(40):
            sent.append(1)
            yield b"x" * 256
        yield b'"}'

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=guarded.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/orders", content=chunks(),
                                     headers=[AUTH_WRITER, JSON])

    response = asyncio.run(go())
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert guarded.spy.count == 0
    assert len(sent) == 8  # 29 + 8 * 256 bytes crosses the 2048-byte cap: nothing more read


@pytest.mark.parametrize("case", REJECTIONS, ids=lambda c: c.id)
def test_rejections(guarded: StarletteApp, case: Rejection) -> None:
    answer = guarded.request(case.method, case.path, case.headers, case.body)
    check_rejection(case, answer)
    assert guarded.spy.count == 0


def test_enforced_response_validation_never_sends_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = StarletteApp(validate_responses="enforce")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    check_withheld(answer)
    assert guarded.spy.count == 1
    assert logged(caplog, logging.ERROR)


def test_enforced_response_validation_passes_a_conforming_response() -> None:
    guarded = StarletteApp(validate_responses="enforce")
    answer = guarded.request("GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == {"id": 3, "name": "alice"}


def test_reported_response_validation_passes_it_through_and_logs(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = StarletteApp(validate_responses="report")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == user_with_password(3)
    warnings = logged(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "breaks the spec" in warnings[0].getMessage()


def test_p39_duplicate_api_key_is_ambiguous_in_asgi(guarded: StarletteApp) -> None:
    """P39, ASGI side: the scope keeps both X-API-Key headers, so the guard refuses the
    ambiguous credential (400) without calling the verifier (WSGI merges them: 401)."""
    answer = guarded.request("POST", "/users", [KEY, KEY, JSON], VALID_USER)
    assert answer.status == 400
    assert answer.header("content-type") == PROBLEM
    first = answer.json()["errors"][0]
    assert (first["location"], first["name"], first["keyword"]) == (
        "security", "apiKey", "ambiguous")
    assert guarded.verifiers.total == 0
    assert guarded.spy.count == 0


def test_public_operation_has_a_validated_request(guarded: StarletteApp) -> None:
    answer = guarded.request("GET", "/public/ping")
    assert answer.status == 200
    assert isinstance(guarded.spy.last["validated"], sg.ValidatedRequest)
    assert guarded.verifiers.total == 0


def test_ignored_path_sees_none_like_wsgi() -> None:
    guarded = StarletteApp(ignore_paths=("/public/*",))
    answer = guarded.request("GET", "/public/ping")
    assert answer.status == 200
    assert guarded.spy.last["validated"] is None
