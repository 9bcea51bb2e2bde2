"""Gateway protections beside the plain guarded request (issue 7): response scanning.

One Flask app in-process (called as a WSGI server calls it) answers ``GET /v1/pets`` of
``specs/bench.yaml`` with a ~90 kB ``PetPage`` (1,000 pets). Every app validates its responses
(``validate_responses="enforce"``); the rows differ only in ``scan_responses``. The clean page
has nothing to find; the leaky page is the same page with one pet's name holding a card number
(so ``redact`` rewrites the body). Target: scanning adds at most 50% to the guarded request.
"""

from __future__ import annotations

import io
import logging
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response

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
