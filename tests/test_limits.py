"""Abuse limits: rate limits per client, API key, principal or globally, from options or the
`x-rate-limit` extension, in memory and in a real Redis shared by several processes (issue 7)."""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import subprocess
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

import schemaguard as sg
from schemaguard.wsgi import GuardMiddleware

SPEC = Path(__file__).resolve().parent.parent / "specs" / "buggy.yaml"
VERIFIERS = {"apiKey": lambda credentials: {"sub": f"user-of-{credentials.value}"}}


def _status(guard: sg.Guard, request: sg.HttpRequest) -> int:
    try:
        guard.check_request(request)
    except sg.RequestError as error:
        return error.status_code
    return 200


def _get(client: str = "10.0.0.1", path: str = "/items") -> sg.HttpRequest:
    return sg.HttpRequest("GET", path, client=client)


def _delete(key: str, client: str = "10.0.0.1") -> sg.HttpRequest:
    return sg.HttpRequest("DELETE", "/items/1", headers=[("X-API-Key", key)], client=client)


class Clock:
    """time.time for the limiter and its memory storage, moved by hand."""

    def __init__(self) -> None:
        self.now = 999_960.0  # a multiple of 60: sliding windows start here

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import limits.storage.memory
    import limits.strategies

    import schemaguard._limits

    fake = Clock()
    shim = types.SimpleNamespace(time=fake.time, sleep=time.sleep, monotonic=time.monotonic)
    for module in (limits.storage.memory, limits.strategies, schemaguard._limits):
        if hasattr(module, "time"):
            monkeypatch.setattr(module, "time", shim)
    return fake


def test_a_client_over_its_limit_gets_429_with_retry_after(clock: Clock) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, rate_limits=[sg.RateLimit("3/minute")])
    assert [_status(guard, _get()) for _ in range(4)] == [200, 200, 200, 429]
    with pytest.raises(sg.TooManyRequests) as info:
        guard.check_request(_get())
    error = info.value
    assert dict(error.headers)["Retry-After"] == "60"
    assert error.to_problem()["errors"] == [{
        "location": "rate", "name": None, "pointer": "", "keyword": "rateLimit",
        "message": "at most 3 requests per 60 s"}]
    assert _status(guard, _get(client="10.0.0.2")) == 200  # another client, its own budget
    clock.now += 30
    assert dict(_refusal(guard, _get()).headers)["Retry-After"] == "30"
    clock.now += 30.5  # the window has passed
    assert _status(guard, _get()) == 200


def _refusal(guard: sg.Guard, request: sg.HttpRequest) -> sg.RequestError:
    with pytest.raises(sg.RequestError) as info:
        guard.check_request(request)
    return info.value


@pytest.mark.parametrize(("strategy", "allowed_after_boundary"), [
    ("fixed-window", 5),  # a new window: the whole budget again, 0.1 s after four requests
    ("moving-window", 1),  # the last 60 s still hold four requests
    ("sliding-window", 1),  # the previous window's five, weighted 0.9998 (rounded down: 4)
])
def test_a_burst_at_the_window_boundary(clock: Clock, strategy: str,
                                        allowed_after_boundary: int) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS,
                     rate_limits=[sg.RateLimit("5/minute", strategy=strategy)])
    assert _status(guard, _get()) == 200  # opens the window
    clock.now += 59.9
    assert [_status(guard, _get()) for _ in range(5)] == [200] * 4 + [429]
    clock.now += 0.11  # just past the fixed window's end
    burst = [_status(guard, _get()) for _ in range(5)]
    assert burst.count(200) == allowed_after_boundary
    assert burst == sorted(burst)  # accepted first, then refused


def test_keys_client_api_key_principal_and_global(clock: Clock) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, rate_limits=[
        sg.RateLimit("2/minute", key="api_key", operations=["deleteItem"]),
        sg.RateLimit("3/minute", key="global", operations=["GET /items"]),
    ])
    # Per API key, whatever the address: a third request with key a is refused.
    assert [_status(guard, _delete("a", client=f"10.0.0.{i}")) for i in range(3)] == [
        200, 200, 429]
    assert _status(guard, _delete("b")) == 200
    # One budget for everybody.
    assert [_status(guard, _get(client=f"10.1.0.{i}")) for i in range(4)] == [200] * 3 + [429]


def test_principals_are_counted_after_authentication(clock: Clock) -> None:
    guard = sg.Guard(SPEC, verifiers={"apiKey": lambda c: {"sub": "alice"}
                                      if c.value in ("k1", "k2") else None},
                     rate_limits=[sg.RateLimit("2/minute", key="principal",
                                               operations=["deleteItem"])])
    # Two keys of one principal share a budget; a bad key is a 401 and counts for nobody.
    assert [_status(guard, _delete(k)) for k in ("k1", "bad", "k2", "k1")] == [
        200, 401, 200, 429]


def test_per_api_one_budget_across_operations(clock: Clock) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, rate_limits=[sg.RateLimit("2/minute",
                                                                          per="api")])
    assert _status(guard, _get()) == 200
    assert _status(guard, _get(path="/items/1")) == 200
    assert _status(guard, _get(path="/items/2")) == 429


def test_the_x_rate_limit_extension(clock: Clock) -> None:
    document = yaml.safe_load(SPEC.read_text())
    document["x-rate-limit"] = {"limit": "4/minute", "per": "api"}
    document["paths"]["/items"]["get"]["x-rate-limit"] = "1/minute"
    guard = sg.Guard(document, verifiers=VERIFIERS)
    assert [_status(guard, _get()) for _ in range(2)] == [200, 429]
    assert [_status(guard, _get(path=f"/items/{i}")) for i in range(1, 4)] == [200, 200, 429]


def test_report_mode_logs_and_lets_the_request_through(clock: Clock) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, mode="report",
                     rate_limits=[sg.RateLimit("1/minute")])
    assert [_status(guard, _get()) for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize(("limit", "message"), [
    (sg.RateLimit("lots"), "expected e.g."),
    (sg.RateLimit("1/minute", key="ip"), "key must be one of"),
    (sg.RateLimit("1/minute", per="user"), "per must be one of"),
    (sg.RateLimit("1/minute", strategy="token-bucket"), "strategy must be one of"),
    (sg.RateLimit("1/minute", operations=["nope"]), "no operation `nope`"),
])
def test_bad_limits_refuse_to_start(limit: sg.RateLimit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sg.Guard(SPEC, verifiers=VERIFIERS, rate_limits=[limit])


def test_flask_answers_429_problem_json_and_the_handler_is_not_called() -> None:
    app = Flask(__name__)
    calls: list[int] = []

    @app.get("/items")
    def list_items() -> Any:
        calls.append(1)
        return []

    app.wsgi_app = GuardMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, str(SPEC), verifiers=VERIFIERS, rate_limits=[sg.RateLimit("2/minute")])
    client = app.test_client()
    answers = [client.get("/items", environ_base={"REMOTE_ADDR": "10.9.9.9"})
               for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Content-Type"] == "application/problem+json"
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert answers[2].json["status"] == 429  # type: ignore[index]
    assert calls == [1, 1]
    assert client.get("/items", environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 200


# -- Redis: one limit shared by several processes --------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    port = _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _worker(url: str, client: str, count: int, queue: Any) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, rate_limit_storage=url,
                     rate_limits=[sg.RateLimit("15/minute", key="api_key",
                                               operations=["deleteItem"])])
    statuses = [_status(guard, _delete("shared-key", client=client)) for _ in range(count)]
    queue.put(statuses)


def test_worker_processes_share_one_limit_in_redis(redis_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(redis_url, f"10.2.0.{i}", 10, queue))
               for i in range(4)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    statuses = [s for result in results for s in result]
    assert statuses.count(200) == 15  # 40 requests, 4 processes, one budget of 15
    assert statuses.count(429) == 25

    import redis

    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys
    assert not any(b"shared-key" in key for key in keys)  # API keys are stored hashed


def test_redis_moving_window_in_process(redis_url: str) -> None:
    guard = sg.Guard(SPEC, verifiers=VERIFIERS, rate_limit_storage=redis_url,
                     rate_limits=[sg.RateLimit("2/second", strategy="moving-window")])
    assert [_status(guard, _get(client="10.3.0.1")) for _ in range(3)] == [200, 200, 429]
    time.sleep(1.05)
    assert _status(guard, _get(client="10.3.0.1")) == 200


def test_asgi_answers_429_per_client_address() -> None:
    import asyncio

    import httpx
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from schemaguard.asgi import GuardMiddleware as AsgiGuard

    calls: list[int] = []

    async def list_items(request: Any) -> JSONResponse:
        calls.append(1)
        return JSONResponse([])

    app = Starlette(routes=[Route("/items", list_items)])
    app.add_middleware(AsgiGuard, spec=str(SPEC), verifiers=VERIFIERS,
                       rate_limits=[sg.RateLimit("2/minute")])

    async def send(client: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/items")

    async def run() -> list[httpx.Response]:
        return [await send("10.4.0.1") for _ in range(3)] + [await send("10.4.0.2")]

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [200, 200, 429, 200]
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert "retry-after" in answers[2].headers
    assert len(calls) == 3


@pytest.mark.parametrize("limit", [
    "10/second", "100 per minute", "5/2 hours", "10/second;1000/hour", "10 / Minute",
    "10/second, 5/minute", "1/s", "x/second", "10/fortnight", "", "100",
])
def test_check_and_the_guard_agree_on_limit_strings(limit: str) -> None:
    """`schemaguard check` (SG036) reads the notation without the limits package; the guard
    reads it with limits. They must agree, or check would pass a spec the guard refuses."""
    from limits import parse_many

    from schemaguard._limits import extension_problem

    try:
        parse_many(limit)
        runtime_ok = True
    except ValueError:
        runtime_ok = False
    assert (extension_problem(limit) is None) == runtime_ok
