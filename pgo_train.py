"""The training run of the profile-guided build (hatch_build.py); not part of the package.

    python pgo_train.py [rounds]

hatch_build.py compiles the request path with mypyc and gcc's ``-fprofile-generate``, runs
this script against that build, then compiles again with ``-fprofile-use``: gcc lays out each
function for the branches this run took, inlines where calls were hot and moves code that never
ran out of the way. What it runs is the everyday traffic of an API, not any one benchmark:

* a spec of its own (below): a public JSON POST with nested objects, formats, patterns, enums
  and arrays; a GET with path, query and header parameters; a form-encoded PUT; and
  specs/petstore-3.0.yaml, whose operations need an API key or a bearer token and whose
  responses are validated;
* valid requests and the usual invalid ones (a bad field, a missing one, a wrong type, broken
  JSON, an unknown path, a wrong method, a wrong media type, missing credentials);
* through ``Guard.check_request``, the WSGI middleware around a plain WSGI app, and the ASGI
  middleware around a plain ASGI app on asyncio (bodies in one message and in two).

It must only ever exercise code paths: the build fails over to the plain compiled build if this
script fails (hatch_build.py), and its answers are checked, so a broken build is not trained.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
PETSTORE = ROOT / "specs" / "petstore-3.0.yaml"

ITEM = {"type": "object", "additionalProperties": False,
        "required": ["name", "kind", "owner"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 64,
                     "pattern": "^[A-Za-z][A-Za-z0-9 '-]*$"},
            "kind": {"type": "string", "enum": ["book", "tool", "toy"]},
            "price": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10000},
            "count": {"type": "integer", "minimum": 0, "maximum": 1000},
            "made": {"type": "string", "format": "date"},
            "serial": {"type": "string", "format": "uuid", "nullable": True},
            "tags": {"type": "array", "maxItems": 10, "uniqueItems": True,
                     "items": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"}},
            "owner": {"type": "object", "additionalProperties": False,
                      "required": ["name", "email"],
                      "properties": {
                          "name": {"type": "string", "maxLength": 128},
                          "email": {"type": "string", "format": "email"},
                          "since": {"type": "string", "format": "date-time"}}},
            "notes": {"type": "string", "maxLength": 2000, "nullable": True}}}
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "training", "version": "1"},
    "servers": [{"url": "http://localhost/v2"}],
    "paths": {
        "/items": {"post": {
            "operationId": "createItem",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}},
            "responses": {"201": {"description": "created"}}}},
        "/items/{itemId}": {
            "parameters": [{"name": "itemId", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "get": {
                "operationId": "getItem",
                "parameters": [
                    {"name": "fields", "in": "query", "style": "form", "explode": False,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "full", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Request-ID", "in": "header",
                     "schema": {"type": "string", "format": "uuid"}}],
                "responses": {"200": {"description": "the item"}}},
            "put": {
                "operationId": "updateItem",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string", "maxLength": 64},
                        "count": {"type": "integer", "minimum": 0}}}}}},
                "responses": {"204": {"description": "updated"}}}}},
    "components": {"schemas": {"Item": ITEM}},
}

GOOD_ITEM = {"name": "Red Book", "kind": "book", "price": 12.5, "count": 3, "made": "2024-05-01",
             "serial": "0b6a1e36-5d7c-4f4b-9a7e-3f2b1c0d9e8a", "tags": ["paper", "red"],
             "owner": {"name": "Ann", "email": "ann@example.com",
                       "since": "2023-01-02T03:04:05Z"},
             "notes": None}
REQUEST_ID = ("X-Request-ID", "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f")
JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")
KEY = ("X-API-Key", "demo-key")
TOKEN = ("Authorization", "Bearer demo-token")

# (method, path with query, headers, body, the status the guard's answer must have)
Case = tuple[str, str, list[tuple[str, str]], bytes, int]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


CASES: list[Case] = [
    ("POST", "/v2/items", [JSON, REQUEST_ID], _json(GOOD_ITEM), 200),
    ("POST", "/v2/items", [JSON], _json({**GOOD_ITEM, "tags": [], "notes": "short"}), 200),
    ("POST", "/v2/items", [JSON], _json({**GOOD_ITEM, "kind": "car", "price": -1}), 400),
    ("POST", "/v2/items", [JSON], _json({k: v for k, v in GOOD_ITEM.items() if k != "owner"}),
     400),
    ("POST", "/v2/items", [JSON], _json({**GOOD_ITEM, "count": "3"}), 400),
    ("POST", "/v2/items", [JSON], b'{"name": "Red Book", "kind": ', 400),
    ("POST", "/v2/items", [("Content-Type", "text/plain")], b"name=x", 415),
    ("GET", "/v2/items/7?fields=name,kind&full=true", [REQUEST_ID], b"", 200),
    ("GET", "/v2/items/7", [], b"", 200),
    ("GET", "/v2/items/0?full=maybe", [("X-Request-ID", "nope")], b"", 400),
    ("GET", "/v2/items/x", [], b"", 400),
    ("PUT", "/v2/items/7", [FORM], b"name=pen&count=2", 200),
    ("PUT", "/v2/items/7", [FORM], b"count=-2", 400),
    ("DELETE", "/v2/items/7", [], b"", 405),
    ("GET", "/v2/nothing/here", [], b"", 404),
    ("GET", "/api/pets?limit=5&tags=dog&tags=cat", [KEY], b"", 200),
    ("GET", "/api/pets?limit=1000", [KEY], b"", 400),
    ("GET", "/api/pets/1", [], b"", 200),
    ("POST", "/api/pets", [KEY, JSON],
     _json({"name": "Fido", "species": "dog", "ownerEmail": "ann@example.com"}), 200),
    ("POST", "/api/pets", [TOKEN, JSON], _json({"id": 3, "name": "Fido", "species": "dog"}),
     400),
    ("POST", "/api/pets", [JSON], _json({"name": "Fido", "species": "dog"}), 401),
    ("DELETE", "/api/pets/1", [TOKEN], b"", 200),
    ("DELETE", "/api/pets/1", [KEY], b"", 401),
]


def _verifiers() -> dict[str, Callable[[Any], Any]]:
    keys = {"demo-key": {"user": "demo"}}
    tokens = {"demo-token": {"user": "admin"}}
    return {"apiKey": lambda credentials: keys.get(credentials.value or ""),
            "bearer": lambda credentials: tokens.get(credentials.value or "")}


def _split(target: str) -> tuple[str, str]:
    path, _, query = target.partition("?")
    return path, query


def _api(case: Case) -> str:
    return "/v2" if case[1].startswith("/v2/") else "/api"


def _expect(case: Case, status: int, where: str) -> None:
    if status != case[4] and not (case[4] == 200 and status in (200, 201, 204)):
        raise AssertionError(f"{where}: {case[0]} {case[1]} answered {status}, not {case[4]}")


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    validated = environ["schemaguard"]
    if validated.operation.operation_id in ("listPets", "getPet"):
        body = b'[]' if validated.operation.operation_id == "listPets" else _json(
            {"id": 1, "name": "Rex", "species": "dog", "tag": None,
             "createdAt": "2024-01-01T00:00:00Z"})
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if validated.operation.operation_id == "listPets":
            headers.append(("X-Total-Count", "0"))
        start_response("200 OK", headers)
        return [body]
    environ["wsgi.input"].read()
    start_response("204 No Content", [])
    return [b""]


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _environ(case: Case) -> dict[str, Any]:
    method, target, headers, body, _ = case
    path, query = _split(target)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)) if body else ""}
    for name, value in headers:
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def _scope(case: Case) -> dict[str, Any]:
    method, target, headers, body, _ = case
    path, query = _split(target)
    pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if body:
        pairs.append((b"content-length", str(len(body)).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": query.encode(), "headers": pairs,
            "client": ("127.0.0.1", 50000), "server": ("localhost", 80)}


def _wsgi_request(app: Any, case: Case) -> int:
    answered: list[int] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        answered.append(int(status[:3]))

    result = app(_environ(case), start_response)
    try:
        b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answered[0]


async def _asgi_request(app: Any, case: Case, pieces: int) -> int:
    body = case[3]
    cut = len(body) // 2 if pieces == 2 else len(body)
    messages = [{"type": "http.request", "body": body[:cut], "more_body": cut < len(body)}]
    if cut < len(body):
        messages.append({"type": "http.request", "body": body[cut:], "more_body": False})
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # a server waits for the disconnect
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(case), receive, send)
    return status


def main(rounds: int = 300, *, compiled_only: bool = True) -> None:
    """``rounds`` rounds of CASES through the three ways in; an answer other than the
    expected one raises. ``compiled_only``: refuse a pure-Python schemaguard (the build's
    training run; the test suite runs it on either build)."""
    import schemaguard as sg
    from schemaguard.asgi import GuardMiddleware as ASGIGuard
    from schemaguard.wsgi import GuardMiddleware as WSGIGuard

    if compiled_only and not sg.COMPILED:
        raise SystemExit("pgo_train.py: this schemaguard is not the compiled build")

    guards = {"/v2": sg.Guard(SPEC), "/api": sg.Guard(PETSTORE, verifiers=_verifiers())}
    checked = {"/v2": WSGIGuard(_wsgi_app, SPEC),
               "/api": WSGIGuard(_wsgi_app, PETSTORE, verifiers=_verifiers(),
                                 validate_responses="enforce")}
    asgi = {"/v2": ASGIGuard(_asgi_app, SPEC),
            "/api": ASGIGuard(_asgi_app, PETSTORE, verifiers=_verifiers())}
    loop = asyncio.new_event_loop()

    async def asgi_round() -> None:
        for pieces in (1, 2):
            for case in CASES:
                status = await _asgi_request(asgi[_api(case)], case, pieces)
                _expect(case, status, "ASGI")

    try:
        for _ in range(rounds):
            for case in CASES:
                prefix = _api(case)
                path, query = _split(case[1])
                try:
                    guards[prefix].check_request(sg.HttpRequest(
                        case[0], path, query, case[2], case[3], client="127.0.0.1"))
                    status = 200
                except sg.RequestError as error:
                    status = error.status_code
                _expect(case, status, "Guard")
                _expect(case, _wsgi_request(checked[prefix], case), "WSGI")
            loop.run_until_complete(asgi_round())
    finally:
        loop.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
