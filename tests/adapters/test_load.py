"""Bounded load and fault tests (scaled-down L10, L01, L03): the shared guard gives every
thread the answer a single thread gets, slow uploads time out without stalling the event loop,
and clients that vanish mid-body leave nothing behind."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import threading
import time
from typing import Any

import schemaguard as sg
from schemaguard.asgi import GuardMiddleware as AsgiGuard
from schemaguard.wsgi import GuardMiddleware as WsgiGuard

from ._support import (
    API_KEY,
    READER,
    SPEC_F,
    VALID_ORDER,
    VALID_USER,
    WRITER,
    Stream,
    Verifiers,
    answer_from,
    http_scope,
    wsgi_call,
    wsgi_environ,
)

THREADS = 32
PER_THREAD = 300
EMPTY = {"type": "http.request", "body": b"", "more_body": False}


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with what the guard validated, so crossed wires between threads show."""
    validated: sg.ValidatedRequest = environ["schemaguard"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length)
    body = json.dumps({
        "op": f"{validated.operation.method} {validated.operation.path_template}",
        "path": validated.path_params, "query": validated.query, "body": validated.body,
        "principal": validated.principal, "raw": raw.decode(),
    }, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def mixed_requests(count: int, seed: int) -> list[tuple[str, str, list[tuple[str, str]],
                                                        bytes | None]]:
    """A deterministic mix of valid and invalid requests with varying values."""
    rng = random.Random(seed)
    reader = ("Authorization", f"Bearer {READER}")
    writer = ("Authorization", f"Bearer {WRITER}")
    json_type = ("Content-Type", "application/json")
    out: list[tuple[str, str, list[tuple[str, str]], bytes | None]] = []
    for _ in range(count):
        n = rng.randint(0, 400)
        kind = rng.randrange(12)
        if kind == 0:
            out.append(("GET", f"/users?limit={n}&tag=t{n}&tag=u", [reader], None))
        elif kind == 1:
            out.append(("GET", f"/users/{n}", [reader], None))
        elif kind == 2:
            order = {"items": [{"sku": f"s{n}", "qty": n % 7 + 1}], "amount": n / 4}
            out.append(("POST", "/orders", [writer, json_type], json.dumps(order).encode()))
        elif kind == 3:
            out.append(("POST", "/orders", [writer, json_type],
                        b'{"items":[{"sku":"x","qty":0}],"amount":%d}' % n))
        elif kind == 4:
            user = {"name": f"user_{n}", "email": f"u{n}@example.com", "age": n % 200}
            out.append(("POST", "/users", [("X-API-Key", API_KEY), json_type],
                        json.dumps(user).encode()))
        elif kind == 5:
            out.append(("DELETE", f"/users/{n + 1}", [rng.choice([reader, writer])], None))
        elif kind == 6:
            out.append(("GET", f"/nope/{n}", [], None))
        elif kind == 7:
            out.append(("PATCH", "/users", [reader], None))
        elif kind == 8:
            out.append(("GET", "/users", [("Authorization", f"Bearer bad{n}")], None))
        elif kind == 9:
            out.append(("POST", "/users", [("X-API-Key", API_KEY)], VALID_USER))  # 415
        elif kind == 10:
            out.append(("GET", f"/exports/csv-{n:08d}-2024010{n % 10}", [reader], None))
        else:
            out.append(("GET", f"/files/{'a' * (n % 80)}", [reader], None))
    return out


def test_l10_threads_get_the_single_threaded_answers() -> None:
    verifiers = Verifiers()
    middleware = WsgiGuard(echo_app, SPEC_F, verifiers=verifiers.mapping(), max_body_bytes=4096)
    requests = mixed_requests(PER_THREAD, seed=10)

    def run(index: int) -> tuple[int, bytes]:
        method, path, headers, body = requests[index]
        target, _, query = path.partition("?")
        env = wsgi_environ(method, target, headers, body, QUERY_STRING=query,
                           RAW_URI=path)
        answer = wsgi_call(middleware, env)
        assert answer.header("x-request-id") is None, "a guard fault under load"
        return answer.status, answer.body

    expected = [run(i) for i in range(PER_THREAD)]
    statuses = {status for status, _ in expected}
    assert {200, 400, 401, 403, 404, 405, 415} <= statuses  # the mix is really mixed

    results: list[list[tuple[int, tuple[int, bytes]]]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(slot: int) -> None:
        order = list(range(PER_THREAD))
        random.Random(slot).shuffle(order)  # every thread interleaves differently
        try:
            barrier.wait(timeout=10)
            for index in order:
                results[slot].append((index, run(index)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    for slot in range(THREADS):
        assert len(results[slot]) == PER_THREAD
        mismatched = [index for index, got in results[slot] if got != expected[index]]
        assert mismatched == [], f"thread {slot}: {len(mismatched)} answers differ"
    assert time.monotonic() - started < 45


# -- ASGI ------------------------------------------------------------------------------------


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def order_scope(length: int | None = None) -> dict[str, Any]:
    headers = [("Authorization", f"Bearer {WRITER}"), ("Content-Type", "application/json")]
    headers.append(("Content-Length", str(length)) if length is not None
                   else ("Transfer-Encoding", "chunked"))
    return http_scope("POST", "/orders", headers)


async def call(middleware: Any, scope: dict[str, Any], receive: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def test_l01_slow_uploads_time_out_and_the_loop_stays_responsive() -> None:
    uploads = 200
    middleware = AsgiGuard(ok_app, SPEC_F, verifiers=Verifiers().mapping(), body_timeout=0.5)
    receives_after_answer: list[int] = []

    async def slow_upload() -> list[dict[str, Any]]:
        answered = False

        async def receive() -> dict[str, Any]:
            if answered:
                receives_after_answer.append(1)
            await asyncio.sleep(0.02)
            return {"type": "http.request", "body": b" " * 10, "more_body": True}

        sent = await call(middleware, order_scope(), receive)
        answered = True
        return sent

    async def fast_request() -> float:
        await asyncio.sleep(0.25)  # while every upload is mid-body
        started = time.perf_counter()
        sent = await call(middleware, http_scope("GET", "/public/ping"),
                          _messages([EMPTY]))
        assert answer_from(sent).status == 200
        return time.perf_counter() - started

    async def main() -> tuple[list[list[dict[str, Any]]], float, float, set[asyncio.Task[Any]]]:
        lag = 0.0

        async def heartbeat() -> None:
            nonlocal lag
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                lag = max(lag, time.perf_counter() - before - 0.01)

        beat = asyncio.create_task(heartbeat())
        fast = asyncio.create_task(fast_request())
        started = time.perf_counter()
        results = await asyncio.gather(*(slow_upload() for _ in range(uploads)))
        elapsed = time.perf_counter() - started
        fast_time = await fast
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        await asyncio.sleep(0)
        leftover = asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]
        assert elapsed < 3.0
        return results, fast_time, lag, leftover

    gc.collect()  # keep a collection of earlier tests' garbage out of the measurement
    results, fast_time, lag, leftover = asyncio.run(main())
    assert [answer_from(sent).status for sent in results] == [408] * uploads
    assert fast_time < 0.1
    assert lag < 0.25  # no stall; bursts (200 deadlines at once, GC) stay well below this
    assert leftover == set()
    assert receives_after_answer == []


def _messages(messages: list[dict[str, Any]]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    return receive


def test_l03_disconnects_mid_body_leave_no_tasks() -> None:
    clients = 2000
    called: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        called.append(1)

    async def bearer(credentials: sg.Credentials) -> Any:
        return {"scopes": []}

    verifiers = Verifiers().mapping()
    verifiers["bearer"] = bearer
    middleware = AsgiGuard(app, SPEC_F, verifiers=verifiers, body_timeout=5)
    sync_middleware = AsgiGuard(app, SPEC_F, verifiers=Verifiers().mapping(), body_timeout=5)
    half = VALID_ORDER[: len(VALID_ORDER) // 2]

    async def vanish(index: int) -> list[dict[str, Any]]:
        async def later() -> dict[str, Any]:
            await asyncio.sleep(0.001 * (index % 5))
            return {"type": "http.disconnect"}

        queue: list[Any] = [{"type": "http.request", "body": half, "more_body": True}, later]

        async def receive() -> dict[str, Any]:
            item = queue.pop(0)
            return item if isinstance(item, dict) else await item()

        chosen = middleware if index % 4 else sync_middleware  # some verifiers in threads
        return await call(chosen, order_scope(len(VALID_ORDER)), receive)

    async def main() -> tuple[list[list[dict[str, Any]]], set[asyncio.Task[Any]]]:
        results = await asyncio.gather(*(vanish(i) for i in range(clients)))
        await asyncio.sleep(0.01)
        leftover = asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]
        return results, leftover

    started = time.monotonic()
    results, leftover = asyncio.run(main())
    assert time.monotonic() - started < 20
    assert all(sent == [] for sent in results)
    assert called == []
    assert leftover == set()


def test_l03_wsgi_stream_errors_mid_body_are_refused_as_incomplete() -> None:
    """The WSGI twin of a vanished client: wsgi.input raising mid-read (what some servers do)
    is an incomplete body (400, not a fault logged as one), and the app is never called."""

    class Broken(Stream):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("connection reset by peer")

    called: list[int] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
        called.append(1)
        return []

    middleware = WsgiGuard(app, SPEC_F, verifiers=Verifiers().mapping())
    headers = [("Authorization", f"Bearer {WRITER}"), ("Content-Type", "application/json")]
    for _ in range(200):
        env = wsgi_environ("POST", "/orders", headers, stream=Broken(),
                           CONTENT_LENGTH=str(len(VALID_ORDER)))
        answer = wsgi_call(middleware, env)
        assert answer.status == 400
        assert b"reset" not in answer.body
    assert called == []
