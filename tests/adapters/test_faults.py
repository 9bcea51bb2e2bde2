"""Faults the adapters must survive (bad-inputs §6): L04, L05, L09, L11, L15."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import tracemalloc
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import schemaguard as sg
from schemaguard import _asgi as asgi_module
from schemaguard._logs import LogGate
from schemaguard.asgi import GuardMiddleware as AsgiGuard
from schemaguard.wsgi import GuardMiddleware as WsgiGuard

from ._support import (
    API_KEY,
    AUTH_READER,
    AUTH_WRITER,
    JSON,
    SPEC_F,
    VALID_ORDER,
    Verifiers,
    asgi_call,
    asgi_request,
    http_scope,
    logged,
    wsgi_call,
    wsgi_environ,
)


def test_l04_disconnect_while_an_async_verifier_awaits_cancels_it() -> None:
    """A server cancels the request task when the client goes; the verifier sees the
    cancellation (CancelledError is never swallowed) and nothing is sent."""
    started, cancelled = asyncio.Event(), []

    async def slow(credentials: sg.Credentials) -> Any:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return {"scopes": ["users:write"]}

    calls: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        calls.append(1)

    verifiers = Verifiers().mapping()
    verifiers["bearer"] = slow
    middleware = AsgiGuard(app, SPEC_F, verifiers=verifiers)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": VALID_ORDER, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    async def main() -> None:
        scope = http_scope("POST", "/orders", [AUTH_WRITER, JSON])
        task = asyncio.create_task(middleware(scope, receive, send))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cancelled == [True]
    assert sent == []
    assert calls == []


class Tagging(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-tagged"] = "1"
        return response


@pytest.mark.parametrize("deadline", ["timeout", "wait_for"])
def test_l05_body_replay_works_under_base_http_middleware_stacks(
    deadline: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guarded body reaches a handler behind a BaseHTTPMiddleware byte for byte. The
    outer middleware's ``receive`` waits inside an anyio task group, so the guard's read must
    go on in the task it began in: with Python 3.11's asyncio.timeout, and with the
    wait_for of 3.10 (``wait_for``: as 3.10 runs it)."""
    if deadline == "wait_for":
        monkeypatch.setattr(asgi_module, "timeout", None)
    seen: list[bytes] = []

    async def orders(request: Request) -> JSONResponse:
        seen.append(await request.body())
        return JSONResponse({"ok": True}, status_code=201)

    app = Starlette(routes=[Route("/orders", orders, methods=["POST"])],
                    middleware=[Middleware(Tagging),
                                Middleware(AsgiGuard, spec=SPEC_F,
                                           verifiers=Verifiers().mapping()),
                                Middleware(Tagging)])

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/orders", content=VALID_ORDER,
                                     headers=dict([AUTH_WRITER, JSON]))

    response = asyncio.run(main())
    assert response.status_code == 201
    assert response.headers["x-tagged"] == "1"
    assert seen == [VALID_ORDER]


def _broken_guard(mode: str) -> sg.Guard:
    """A guard whose schema evaluation has a bug: every body check raises KeyError. (The
    fault is put in a validator, not a Guard method: the compiled build's methods are fixed.)"""
    guard = sg.Guard(SPEC_F, verifiers=Verifiers().mapping(), mode=mode, eager=True)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("internal state 10.0.0.5")

    for operation in guard.operations:
        plan = guard._plans[operation]
        validators = plan.validators()
        for validator in validators.bodies.values():
            validator.is_valid = bug
        # The guard keeps each bounded JSON body's is_valid beside its validator: that too.
        plan.compiled = dataclasses.replace(validators, shallow_bodies={
            key: (bug, validator, depth)
            for key, (_, validator, depth) in validators.shallow_bodies.items()})
    return guard


@pytest.mark.parametrize(("mode", "status", "app_calls"), [("enforce", 500, 0),
                                                           ("report", 200, 1)])
def test_l09_an_internal_bug_is_a_generic_500_or_passes_in_report_mode(
    mode: str, status: int, app_calls: int, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        calls.append(1)
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    middleware = WsgiGuard(app, _broken_guard(mode))
    env = wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON], body=VALID_ORDER)
    with caplog.at_level("ERROR", logger="schemaguard"):
        answer = wsgi_call(middleware, env)
    assert answer.status == status
    assert len(calls) == app_calls
    assert b"10.0.0.5" not in answer.body
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "10.0.0.5" not in errors[0].getMessage()
    assert "KeyError" in errors[0].getMessage()


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize(("mode", "status", "app_calls"), [("enforce", 500, 0),
                                                           ("report", 200, 1)])
def test_l07_a_raising_on_violation_callback_fails_closed(
    kind: str, mode: str, status: int, app_calls: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The metrics callback raises while a refusal is on its way (the guard returns
    refusals to the middleware rather than raising them): a generic 500 in enforce mode,
    the request passed on in report mode; never the callback's message."""
    calls: list[int] = []

    def on_violation(error: sg.RequestError, operation: Any) -> None:
        raise RuntimeError("metrics at 10.0.0.5 down")

    guard = sg.Guard(SPEC_F, verifiers=Verifiers().mapping(), mode=mode,
                     on_violation=on_violation)
    bad = b'{"sku": 1}'
    with caplog.at_level("ERROR", logger="schemaguard"):
        if kind == "wsgi":
            def app(environ: Any, start_response: Any) -> list[bytes]:
                calls.append(1)
                start_response("200 OK", [("content-type", "text/plain")])
                return [b"ok"]

            answer = wsgi_call(WsgiGuard(app, guard),
                               wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON], body=bad))
        else:
            async def endpoint(request: Request) -> JSONResponse:
                calls.append(1)
                return JSONResponse({"ok": True})

            starlette = Starlette(routes=[Route("/orders", endpoint, methods=["POST"])])
            answer = asgi_request(AsgiGuard(starlette, guard), "POST", "/orders",
                                  [AUTH_WRITER, JSON], bad)
    assert answer.status == status
    assert len(calls) == app_calls
    assert b"10.0.0.5" not in answer.body
    assert all("10.0.0.5" not in r.getMessage() for r in caplog.records)


def test_l11_steady_state_memory_stays_flat() -> None:
    """Mixed valid and invalid requests: after warm-up, memory does not grow with traffic
    (no cache keyed by request data)."""

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("201 Created", [("content-type", "application/json")])
        return [b"{}"]

    # Verifiers that remember nothing (the counting ones record every call).
    principal = {"sub": "bob", "scopes": ["users:write", "users:read", "admin"]}
    verifiers = dict.fromkeys(["bearer", "apiKey", "basicAuth", "oauth"],
                              lambda credentials: principal)
    middleware = WsgiGuard(app, SPEC_F, verifiers=verifiers)
    bodies = [VALID_ORDER, b'{"items":[{"sku":"x","qty":0}],"amount":1}', b"{not json",
              b'{"items":[],"amount":1e308}']

    def burst(count: int) -> None:
        for i in range(count):
            body = bodies[i % len(bodies)]
            query = f"n={i}"  # distinct request data every time
            env = wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON], body=body,
                               QUERY_STRING=query)
            wsgi_call(middleware, env)

    burst(2_000)
    gc.collect()
    tracemalloc.start()
    try:
        burst(2_000)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        burst(8_000)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 256 * 1024, (first, second)


def _refusing_app(environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
    raise AssertionError("every request of these tests is refused")


def test_l15_rejections_under_attack_log_one_short_line_without_values(
        caplog: pytest.LogCaptureFixture) -> None:
    """Hostile values (5 KB, CR LF, ANSI escapes) and credentials in refused requests: one
    short INFO line per request, printable, naming none of them (message or structured)."""
    hostile = "\r\n[CRITICAL] forged entry \x1b[2J" + "v" * 5000
    secret = "tok-SECRET-7f3a"
    media_type = "text/plain; x=" + hostile.strip()
    requests = [
        ("GET", "/users", [("Authorization", f"Bearer {secret}")], None, {}),  # 401
        ("GET", "/users", [AUTH_READER, ("Cookie", f"session={secret}")], None,
         {"QUERY_STRING": "limit=" + quote(hostile)}),
        ("POST", "/orders", [AUTH_WRITER, JSON],
         json.dumps({"items": [{"sku": hostile, "qty": 1}], "amount": 1}).encode(), {}),
        ("GET", "/files/x", [AUTH_READER], None, {"RAW_URI": "/files/" + quote(hostile)}),
        ("GET", "/x", [], None, {"RAW_URI": "/" + quote(hostile)}),  # 404
        ("POST", "/users", [("X-API-Key", API_KEY), ("Content-Type", media_type)], b"{}",
         {}),  # 415
        ("POST", "/users", [("X-API-Key", API_KEY), JSON],
         json.dumps({"name": hostile, "email": hostile}).encode(), {}),
    ]
    middleware = WsgiGuard(_refusing_app, SPEC_F, verifiers=Verifiers().mapping())
    with caplog.at_level(logging.DEBUG, logger="schemaguard"):
        for _ in range(20):
            for method, path, headers, body, extra in requests:
                answer = wsgi_call(middleware, wsgi_environ(method, path, headers, body,
                                                            **extra))
                assert 400 <= answer.status < 500
    records = [r for r in caplog.records if r.name == "schemaguard"]
    assert records == logged(caplog, logging.INFO)
    assert len(records) == 20 * len(requests)
    for record in records:
        message = record.getMessage()
        assert len(message) <= 300
        assert message.isprintable()
        everything = message + repr(record.__dict__)
        assert "forged" not in everything
        assert "vvvvvvvvvv" not in everything
        assert secret not in everything


# bad-inputs L15: a request key in a logged violation's pointer is cut at 200 characters and
# its control characters are shown escaped (the problem document shows the same).
def test_l15_request_keys_in_logged_violations_are_truncated_and_escaped(
        caplog: pytest.LogCaptureFixture) -> None:
    key = "k" * 1000 + "\r\n[CRITICAL] forged entry\x1b[2J"
    body = json.dumps({"items": [], "amount": 1, key: 1}).encode()
    middleware = WsgiGuard(_refusing_app, SPEC_F, verifiers=Verifiers().mapping())
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = wsgi_call(middleware, wsgi_environ("POST", "/orders", [AUTH_WRITER, JSON],
                                                    body))
    assert answer.status == 400
    [record] = logged(caplog, logging.INFO)
    violations = record.schemaguard["violations"]  # type: ignore[attr-defined]
    assert [v["keyword"] for v in violations] == ["additionalProperties"]
    for text in (str(value) for v in violations for value in v.values()):
        assert len(text) <= 200
        assert text.isprintable()
    [shown] = [error["pointer"] for error in answer.json()["errors"]]
    assert shown.startswith("/kkkk")
    assert len(shown) <= 200
    assert "forged" not in shown


# bad-inputs L15, optional sampling: with max_log_rate, a flood of refused requests writes
# at most that many lines a second; every request is still refused and counted by
# on_violation, and the next line written says how many were left out.
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_l15_a_flood_of_refusals_is_logged_at_max_log_rate(
        kind: str, caplog: pytest.LogCaptureFixture) -> None:
    refused: list[int] = []
    options: dict[str, Any] = {
        "verifiers": Verifiers().mapping(), "max_log_rate": 4,
        "on_violation": lambda error, operation: refused.append(error.status_code)}
    body = json.dumps({"items": [{"sku": "x", "qty": "many"}], "amount": 1}).encode()
    headers = [AUTH_WRITER, JSON]
    if kind == "wsgi":
        middleware: Any = WsgiGuard(_refusing_app, SPEC_F, **options)

        def send() -> int:
            return wsgi_call(middleware, wsgi_environ("POST", "/orders", headers, body)).status
    else:
        async def never(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
            raise AssertionError("every request of this test is refused")

        middleware = AsgiGuard(never, SPEC_F, **options)

        def send() -> int:
            return asgi_request(middleware, "POST", "/orders", headers, body).status
    # The gate's clock is the test's: each reading moves it on 1 ms, so the flood lasts the
    # same 0.2 s however busy the machine is (a real clock made this test flaky under load).
    clock = _SteppingClock(0.001)
    middleware.guard.log_gate = LogGate(4, clock)
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        started = clock.now
        statuses = [send() for _ in range(200)]
        lasted = clock.now - started
        clock.now += 0.3  # a pause: a line's worth of budget comes back
        statuses.append(send())
    assert statuses == [400] * 201
    assert refused == [400] * 201
    lines = logged(caplog, logging.INFO)
    assert 5 <= len(lines) <= 4 + 4 * lasted + 2  # 4 at once, then 4 a second
    summaries = logged(caplog, logging.WARNING)
    assert sum(r.schemaguard["suppressed"] for r in summaries) == \
        201 - len(lines)  # type: ignore[attr-defined]
    # The line after the pause comes right after the count of what was left out before it.
    assert caplog.records[-2] is summaries[-1]
    assert caplog.records[-1] is lines[-1]
    assert summaries[-1].getMessage().startswith("schemaguard left out ")


class _SteppingClock:
    """A clock that moves on ``step`` seconds at each reading."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def _never(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
    raise AssertionError("every request of these tests is refused")


# Issue 4 (observability): each refusal's log line names its request, by the client's own
# X-Request-ID when it sent one (a client value: escaped and cut like any other), else by a
# fresh id, so a line can be matched with the client's report and the app's own logs.
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize(("sent", "named"), [
    ("req-7f3a-42", "req-7f3a-42"),
    ("\r\n[CRITICAL] forged" + "x" * 5000,
     ("\\r\\n[CRITICAL] forged" + "x" * 5000)[:127] + "\u2026"),  # escaped, cut at 128
    (None, None),
], ids=["sent", "hostile", "absent"])
def test_refusal_log_lines_name_the_request(kind: str, sent: str | None, named: str | None,
                                            caplog: pytest.LogCaptureFixture) -> None:
    headers = [AUTH_WRITER, JSON, *([("X-Request-ID", sent)] if sent else [])]
    body = json.dumps({"items": [], "amount": "ten"}).encode()
    options: dict[str, Any] = {"verifiers": Verifiers().mapping()}
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        for _ in range(2):
            if kind == "wsgi":
                answer = wsgi_call(WsgiGuard(_refusing_app, SPEC_F, **options),
                                   wsgi_environ("POST", "/orders", headers, body))
            else:
                answer = asgi_call(AsgiGuard(_never, SPEC_F, **options),
                                   http_scope("POST", "/orders", headers), body)
            assert answer.status == 400
    ids = [r.schemaguard["request_id"] for r in logged(caplog, logging.INFO)]  # type: ignore[attr-defined]
    assert len(ids) == 2
    if named is None:
        assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
        assert ids[0] != ids[1]  # one per request
    else:
        assert ids == [named, named]
        assert len(named) <= 128
    for record in logged(caplog, logging.INFO):
        message = record.getMessage()
        assert message.endswith(f"(request {record.schemaguard['request_id']})")  # type: ignore[attr-defined]
        assert message.isprintable()


def test_report_mode_lines_name_the_request(caplog: pytest.LogCaptureFixture) -> None:
    guard = sg.Guard(SPEC_F, mode="report", verifiers=Verifiers().mapping())
    request = sg.HttpRequest("POST", "/orders", "", [AUTH_WRITER, JSON, ("X-Request-ID", "r-1")],
                             json.dumps({"items": [], "amount": "ten"}).encode())
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        assert guard.check_request(request) is None
    [record] = logged(caplog, logging.WARNING)
    assert record.schemaguard["request_id"] == "r-1"  # type: ignore[attr-defined]
    assert record.getMessage().startswith("schemaguard would reject a request: 400 ")
    assert record.getMessage().endswith("(request r-1)")
