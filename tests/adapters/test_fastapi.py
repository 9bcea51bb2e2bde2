"""FastAPI behind the ASGI GuardMiddleware, driven through ``httpx.ASGITransport``. FastAPI's
own parameter and body parsing runs on the replayed body, so the handler's pydantic model and
the guard's ValidatedRequest must agree."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

fastapi = pytest.importorskip("fastapi")

from fastapi import FastAPI, Request, Response  # noqa: E402
from fastapi.responses import JSONResponse, PlainTextResponse  # noqa: E402
from pydantic import BaseModel  # noqa: E402

import schemaguard as sg  # noqa: E402
from schemaguard.asgi import GuardMiddleware  # noqa: E402

from ._support import (  # noqa: E402
    API_KEY,
    AUTH_READER,
    AUTH_WRITER,
    CAP,
    JSON,
    KEY,
    REJECTIONS,
    SPEC_F,
    VALID_ORDER,
    VALID_USER,
    Answer,
    Rejection,
    Spy,
    Verifiers,
    asgi_request,
    asgi_request_async,
    check_rejection,
    check_withheld,
    logged,
    user_with_password,
)


class Item(BaseModel):
    sku: str | None = None
    qty: int | None = None


class Order(BaseModel):
    items: list[Item]
    amount: float


class FastAPIApp:
    def __init__(self, **options: Any) -> None:
        self.spy = Spy()
        self.verifiers = Verifiers()
        self.leak = False
        spy = self.spy
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.get("/users")
        async def list_users(request: Request, limit: int | None = None) -> Any:
            spy.record(route="list", validated=request.state.schemaguard, limit=limit)
            return [{"id": 1, "name": "alice"}]

        @app.post("/users", status_code=201)
        async def create_user(request: Request) -> Any:
            raw = await request.body()
            parsed = await request.json()
            spy.record(route="create", validated=request.state.schemaguard, raw=raw,
                       json=parsed)
            return {"id": 10, "name": parsed["name"]}

        @app.get("/users/{user_id}")
        async def get_user(user_id: int, request: Request) -> Any:
            spy.record(route="get", validated=request.state.schemaguard, user_id=user_id)
            if self.leak:
                return JSONResponse(user_with_password(user_id))
            return {"id": user_id, "name": "alice"}

        @app.delete("/users/{user_id}", status_code=204)
        async def delete_user(user_id: int, request: Request) -> Response:
            spy.record(route="delete", validated=request.state.schemaguard)
            return Response(status_code=204)

        @app.post("/orders", status_code=201)
        async def create_order(order: Order, request: Request) -> Response:
            spy.record(route="order", validated=request.state.schemaguard,
                       raw=await request.body(), model=order)
            return Response(status_code=201)

        @app.get("/public/ping", response_class=PlainTextResponse)
        async def ping(request: Request) -> str:
            spy.record(route="ping", validated=request.state.schemaguard)
            return "pong"

        @app.get("/files/{name}", response_class=PlainTextResponse)
        def files(name: str, request: Request) -> str:  # a sync endpoint (threadpool)
            spy.record(route="files", validated=request.state.schemaguard, name=name)
            return "file"

        options.setdefault("max_body_bytes", CAP)
        app.add_middleware(GuardMiddleware, spec=SPEC_F, verifiers=self.verifiers.mapping(),
                           **options)
        self.app = app

    def request(self, method: str, path: str, headers: Any = (), body: bytes | None = None
                ) -> Answer:
        return asgi_request(self.app, method, path, list(headers), body)


@pytest.fixture
def guarded() -> FastAPIApp:
    return FastAPIApp()


def test_query_reaches_the_handler_typed(guarded: FastAPIApp) -> None:
    answer = guarded.request("GET", "/users?limit=5&tag=a&tag=b", [AUTH_READER])
    assert answer.status == 200
    seen = guarded.spy.last
    assert isinstance(seen["validated"], sg.ValidatedRequest)
    assert seen["validated"].query == {"limit": 5, "tag": ["a", "b"]}
    assert seen["limit"] == seen["validated"].query["limit"]


def test_path_parameter_reaches_the_handler_typed(guarded: FastAPIApp) -> None:
    answer = guarded.request("GET", "/users/42", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == {"id": 42, "name": "alice"}
    assert guarded.spy.last["validated"].path_params == {"id": 42}
    assert guarded.spy.last["user_id"] == 42


def test_body_reaches_the_handler_with_the_same_bytes(guarded: FastAPIApp) -> None:
    answer = guarded.request("POST", "/users", [KEY, JSON], VALID_USER)
    assert answer.status == 201
    seen = guarded.spy.last
    assert seen["raw"] == VALID_USER
    assert seen["json"] == seen["validated"].body == {
        "name": "new_user", "email": "new@example.com", "age": 30}
    assert guarded.verifiers.values == [("apiKey", API_KEY)]


def test_pydantic_model_parses_the_replayed_body(guarded: FastAPIApp) -> None:
    answer = guarded.request("POST", "/orders", [AUTH_WRITER, JSON], VALID_ORDER)
    assert answer.status == 201
    seen = guarded.spy.last
    assert seen["raw"] == VALID_ORDER
    assert seen["model"].model_dump() == seen["validated"].body


def test_sync_endpoint_sees_the_validated_request(guarded: FastAPIApp) -> None:
    answer = guarded.request("GET", "/files/report.csv", [AUTH_READER])
    assert answer.status == 200
    assert guarded.spy.last["validated"].path_params == {"name": "report.csv"}


@pytest.mark.parametrize("case", REJECTIONS, ids=lambda c: c.id)
def test_rejections(guarded: FastAPIApp, case: Rejection) -> None:
    answer = guarded.request(case.method, case.path, case.headers, case.body)
    check_rejection(case, answer)
    assert guarded.spy.count == 0


def test_enforced_response_validation_never_sends_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = FastAPIApp(validate_responses="enforce")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    check_withheld(answer)
    assert guarded.spy.count == 1


def test_reported_response_validation_passes_it_through_and_logs(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = FastAPIApp(validate_responses="report")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == user_with_password(3)
    assert any("breaks the spec" in r.getMessage() for r in logged(caplog, logging.WARNING))


def test_p39_duplicate_api_key_is_ambiguous_in_asgi(guarded: FastAPIApp) -> None:
    answer = guarded.request("POST", "/users", [KEY, KEY, JSON], VALID_USER)
    assert answer.status == 400
    assert answer.json()["errors"][0]["keyword"] == "ambiguous"
    assert guarded.verifiers.total == 0
    assert guarded.spy.count == 0


def test_concurrent_requests_each_see_their_own_validated_request(
        guarded: FastAPIApp) -> None:
    async def go() -> list[Answer]:
        return await asyncio.gather(*(
            asgi_request_async(guarded.app, "GET", f"/users/{n}", [AUTH_READER])
            for n in range(1, 41)))

    answers = asyncio.run(go())
    assert [a.json()["id"] for a in answers] == list(range(1, 41))
    assert sorted(c["user_id"] for c in guarded.spy.calls) == list(range(1, 41))
    assert all(c["validated"].path_params == {"id": c["user_id"]} for c in guarded.spy.calls)
