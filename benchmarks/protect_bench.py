"""Gateway protections beside the plain guarded request (issue 7): scanning and rate limits.

One Flask app in-process (called as a WSGI server calls it) answers ``GET /v1/pets`` of
``specs/bench.yaml`` with a ~90 kB ``PetPage`` (1,000 pets). Every app validates its responses
(``validate_responses="enforce"``); the rows differ only in ``scan_responses``. The clean page
has nothing to find; the leaky page is the same page with one pet's name holding a card number
(so ``redact`` rewrites the body). Target: scanning adds at most 50% to the guarded request.

Rate limits: ``Guard.check_request`` on table 2's valid GET with six parameters, without a
limit, with a per-client limit in memory, and with the same limit in a Redis server on
127.0.0.1 (started here when ``redis-server`` is installed; the row is skipped otherwise).
"""

from __future__ import annotations

import io
import logging
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response

import schemaguard as sg
from schemaguard.wsgi import GuardMiddleware

SPEC = Path(__file__).resolve().parent.parent / "specs" / "bench.yaml"
CARD = "4111 1111 1111 1111"


def page(leaky: bool = False) -> bytes:
    rng = random.Random(7)
    items = [{"id": i + 1, "name": f"pet-{i}-" + "x" * rng.randint(5, 30),
              "status": rng.choice(["available", "pending", "adopted"]),
              "tags": ["t" * rng.randint(1, 8) for _ in range(rng.randint(0, 4))]}
             for i in range(1000)]
    if leaky:
        items[500]["name"] = f"card {CARD}"
    return orjson.dumps({"items": items, "total": 1000, "next": None})


def app(scan: str, body: bytes) -> Callable[..., Any]:
    flask = Flask(__name__)

    @flask.get("/v1/pets")
    def list_pets() -> Response:
        return Response(body, mimetype="application/json")

    verifiers = {name: (lambda credentials: {"sub": "bench"})
                 for name in ("apiKey", "bearerAuth", "basicAuth", "oauth2")}
    flask.wsgi_app = GuardMiddleware(  # type: ignore[method-assign]
        flask.wsgi_app, str(SPEC), verifiers=verifiers, validate_responses="enforce",
        scan_responses=scan)
    return flask


def _environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/v1/pets", "QUERY_STRING": "limit=25",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "HTTP_X_REQUEST_ID": "0f4e9a3c-5b1d-4c2e-9f60-6d3b1a2c4e5f",
        "HTTP_AUTHORIZATION": "Bearer bench-token", "HTTP_X_API_KEY": "bench-key",
    }


def caller(wsgi: Callable[..., Any]) -> Callable[[Any], bytes]:
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status[:] = [s]

    def call(_: Any) -> bytes:
        out = b"".join(wsgi(_environ(), start_response))
        if not status or not status[0].startswith("200"):
            raise AssertionError(f"unexpected answer {status}: {out[:200]!r}")
        return out

    return call


ROWS = [
    ("clean page, validated", "off", False),
    ("clean page, + scan report", "report", False),
    ("clean page, + scan redact", "redact", False),
    ("leaky page, validated", "off", True),
    ("leaky page, + scan redact", "redact", True),
]


def calls() -> dict[str, Callable[[Any], bytes]]:
    # `report` logs each finding; the handler's cost is not what is measured here.
    logging.getLogger("schemaguard").setLevel(logging.CRITICAL)
    found = {}
    for label, scan, leaky in ROWS:
        call = caller(app(scan, page(leaky)))
        body = call(None)
        if scan == "redact" and leaky and CARD.encode() in body:
            raise AssertionError("redact left the card number in the body")
        found[label] = call
    return found


def table(results: dict[str, dict[str, Any]], size: int) -> tuple[str, list[str]]:
    lines = [
        f"Table 5: response scanning (issue 7). Flask + schemaguard in-process, GET /v1/pets "
        f"answered with a {size / 1000:.0f} kB PetPage, validate_responses=\"enforce\" in every "
        "row; µs per request, median.",
        "",
        "| request | µs | vs validated |",
        "|---|---:|---:|",
    ]
    targets = []
    base = {False: results["clean page, validated"]["median_us"],
            True: results["leaky page, validated"]["median_us"]}
    for label, scan, leaky in ROWS:
        median = results[label]["median_us"]
        ratio = median / base[leaky]
        lines.append(f"| {label} | {median:,.0f} | {ratio:.2f}x |")
        if scan == "report":
            met = ratio <= 1.5
            targets.append(f"scanning a {size / 1000:.0f} kB response adds at most 50%: "
                           f"{ratio:.2f}x ({'MET' if met else 'NOT MET'})")
    return "\n".join(lines), targets


# -- rate limits ----------------------------------------------------------------------------------

@contextmanager
def redis_server() -> Iterator[str | None]:
    """A Redis server on a free loopback port for the run, or None when none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save",
                                "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


LIMIT = sg.RateLimit("1000000000/second")  # counted on every request, never exhausted


def limiter_calls(redis_url: str | None) -> dict[str, Callable[[Any], Any]]:
    import whole_requests
    import yaml

    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    verifiers, auth = whole_requests.credentials(document)
    request = sg.HttpRequest(
        "GET", "/v1/pets/42", whole_requests.GET_QUERY,
        [("X-Request-ID", whole_requests.REQUEST_ID), *auth], client="10.0.0.1")
    guards = {"GET, guarded": sg.Guard(document, verifiers=verifiers),
              "GET, + rate limit (memory)": sg.Guard(document, verifiers=verifiers,
                                                     rate_limits=[LIMIT])}
    if redis_url is not None:
        guards["GET, + rate limit (Redis)"] = sg.Guard(
            document, verifiers=verifiers, rate_limits=[LIMIT], rate_limit_storage=redis_url)
    calls = {}
    for label, guard in guards.items():
        if guard.check_request(request) is None:
            raise AssertionError(f"{label}: the request was not validated")
        calls[label] = lambda _, guard=guard: guard.check_request(request)
    return calls


def limiter_table(results: dict[str, dict[str, Any]]) -> str:
    base = results["GET, guarded"]["median_us"]
    lines = ["", "| request (Guard.check_request) | µs | vs guarded |", "|---|---:|---:|"]
    for label, result in results.items():
        lines.append(f"| {label} | {result['median_us']:.1f} | "
                     f"{result['median_us'] / base:.2f}x |")
    if "GET, + rate limit (Redis)" not in results:
        lines.append("| GET, + rate limit (Redis) | not run: redis-server is not installed | |")
    return "\n".join(lines)
