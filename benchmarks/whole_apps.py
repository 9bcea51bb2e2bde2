"""Whole apps serving ``POST /v1/pets`` of specs/bench.yaml, each driven in-process (table 3).

Used by run.py and profile_app.py. Every app answers the 1 KB ``NewPet`` body of bodies.py with
201 and a small JSON document; the validating ones answer the invalid body with a 4xx:

* Flask: plain (the view reads ``request.get_json()``), + schemaguard
  (``schemaguard.wsgi.GuardMiddleware(app.wsgi_app, spec)``), + openapi-core (its Flask view
  decorator ``FlaskOpenAPIViewDecorator``, response validation off), + the floor middleware;
* FastAPI: raw ``Request`` (the handler awaits ``request.json()``), + schemaguard
  (``app.add_middleware(schemaguard.asgi.GuardMiddleware, spec=...)``), a hand-written pydantic
  model of ``NewPet`` as the body parameter, + openapi-core (a pure ASGI middleware doing what
  its Starlette/FastAPI middleware does, response validation off), + the floor middleware;
* connexion 3 ``AsyncApp`` on the spec itself, with a handler module generated in a temporary
  directory (when connexion is installed);
* the floor middleware (one for WSGI, one pure ASGI): reads the body, ``orjson.loads`` it and
  runs one jsonschema-rs draft-4 ``is_valid`` on the plain ``NewPet`` schema
  (plain_schema.py), answers 400 when it fails, else hands the same bytes to the app.

The clients add as little as possible: WSGI apps are called directly with a prebuilt environ
(copied per request, with a fresh ``wsgi.input``) and a trivial ``start_response``; ASGI apps
are awaited directly with a prebuilt scope (copied per request), a ``receive`` that hands over
the body in one message and a ``send`` that keeps the status, ``n`` requests per coroutine, all
on one event loop. No HTTP client, no test client, no server.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import itertools
import logging
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import bodies
import jsonschema_rs
import orjson
import plain_schema
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from flask import Flask, request
from openapi_core import OpenAPI
from openapi_core.contrib.flask.decorators import FlaskOpenAPIViewDecorator
from openapi_core.contrib.starlette.handlers import StarletteOpenAPIErrorsHandler
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from starlette.requests import Request as StarletteRequest

import schemaguard.asgi
import schemaguard.wsgi

PATH = "/v1/pets"  # servers: [{url: http://localhost/v1}], path /pets
REQUEST_ID = "0b6a1e36-5d7c-4f4b-9a7e-3f2b1c0d9e8a"
USER_AGENT = "schemaguard-bench/1"
MAX_PASS_BODY = 64 * 1024  # the floor's cap on what it reads
PROBLEM = b'{"title":"invalid request body","status":400}'
PROBLEM_HEADERS = [("Content-Type", "application/problem+json"),
                   ("Content-Length", str(len(PROBLEM)))]


def created(pet: dict[str, Any]) -> dict[str, Any]:
    """What every app answers a valid request with (201)."""
    return {"id": 1, "name": pet["name"]}


# -- the floor ------------------------------------------------------------------------------

def floor_validator(document: dict[str, Any]) -> Callable[[Any], bool]:
    """jsonschema-rs draft-4 ``is_valid`` on the plain NewPet schema (uuid/byte patterns)."""
    validator = jsonschema_rs.Draft4Validator(plain_schema.to_draft4(document, "NewPet"),
                                              validate_formats=True)
    return validator.is_valid


class FloorWSGI:
    """Read the body, ``orjson.loads`` it, one ``is_valid``; 400 or the app."""

    def __init__(self, app: Any, is_valid: Callable[[Any], bool]) -> None:
        self.app = app
        self.is_valid = is_valid

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, MAX_PASS_BODY))
        try:
            ok = self.is_valid(orjson.loads(body))
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            start_response("400 Bad Request", PROBLEM_HEADERS)
            return [PROBLEM]
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


class FloorASGI:
    """The same as a pure ASGI middleware: the app receives the same bytes in one message."""

    def __init__(self, app: Any, is_valid: Callable[[Any], bool]) -> None:
        self.app = app
        self.is_valid = is_valid

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            ok = self.is_valid(orjson.loads(body))
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(k.lower().encode(), v.encode()) for k, v in PROBLEM_HEADERS]})
            await send({"type": "http.response.body", "body": PROBLEM})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self.app(scope, replay, send)


# -- Flask ----------------------------------------------------------------------------------

def _flask_view() -> Any:
    return created(request.get_json()), 201


def flask_plain() -> Flask:
    app = Flask("bench_flask_plain", static_folder=None)
    app.add_url_rule(PATH, "create_pet", _flask_view, methods=["POST"])
    return app


def flask_schemaguard(spec: Path) -> Flask:
    app = flask_plain()
    app.wsgi_app = schemaguard.wsgi.GuardMiddleware(app.wsgi_app, str(spec))  # type: ignore
    return app


def flask_openapi_core(openapi: OpenAPI) -> Flask:
    app = Flask("bench_flask_openapi_core", static_folder=None)
    decorator = FlaskOpenAPIViewDecorator(openapi, response_cls=None)  # requests only
    app.add_url_rule(PATH, "create_pet", decorator(_flask_view), methods=["POST"])
    return app


def flask_floor(document: dict[str, Any]) -> Flask:
    app = flask_plain()
    app.wsgi_app = FloorWSGI(app.wsgi_app, floor_validator(document))  # type: ignore
    return app


# -- FastAPI --------------------------------------------------------------------------------

def _fastapi() -> FastAPI:
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def fastapi_raw() -> FastAPI:
    app = _fastapi()

    @app.post(PATH, status_code=201)
    async def create_pet(request: Request) -> JSONResponse:
        return JSONResponse(created(await request.json()), status_code=201)

    return app


def fastapi_schemaguard(spec: Path) -> FastAPI:
    app = fastapi_raw()
    app.add_middleware(schemaguard.asgi.GuardMiddleware, spec=str(spec))
    return app


class OpenAPICoreASGI:
    """openapi-core as a pure ASGI middleware, doing what its Starlette/FastAPI middleware does
    for a request (``StarletteOpenAPIRequest`` of the request and its body,
    ``unmarshal_request``, errors answered by ``StarletteOpenAPIErrorsHandler``, the result at
    ``scope["openapi"]``) without that middleware's ``BaseHTTPMiddleware`` (and its
    aioitertools dependency); response validation off."""

    def __init__(self, app: Any, openapi: OpenAPI) -> None:
        self.app = app
        self.openapi = openapi
        self.errors_handler = StarletteOpenAPIErrorsHandler()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = StarletteRequest(scope, receive)
        body = await request.body()
        result = self.openapi.unmarshal_request(StarletteOpenAPIRequest(request, body))
        if result.errors:
            await self.errors_handler(result.errors)(scope, receive, send)
            return
        scope["openapi"] = result
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self.app(scope, replay, send)


def fastapi_openapi_core(openapi: OpenAPI) -> FastAPI:
    app = fastapi_raw()
    app.add_middleware(OpenAPICoreASGI, openapi=openapi)
    return app


def fastapi_floor(document: dict[str, Any]) -> FastAPI:
    app = fastapi_raw()
    app.add_middleware(FloorASGI, is_valid=floor_validator(document))
    return app


# NewPet by hand. FastAPI validates the already-parsed body in pydantic's Python mode, where
# strict types would refuse the JSON strings of dates, date-times and UUIDs: scalars are strict
# (no "yes" -> True, no "1" -> 1; StrictFloat takes ints, as `number` does), the format
# types lax. `email` is a pattern (pydantic's
# EmailStr needs the email-validator package and does far more work than a pattern).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _unique(items: list[str]) -> list[str]:
    if len(set(items)) != len(items):
        raise ValueError("tags must be unique")
    return items


def _text(low: int | None = None, high: int | None = None, pattern: str | None = None) -> Any:
    return Annotated[StrictStr, Field(min_length=low, max_length=high, pattern=pattern)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")  # additionalProperties: false


class Dog(_Model):
    pet_type: Literal["dog"]
    breed: _text(1, 64)  # type: ignore[valid-type]
    good_with_kids: StrictBool = None  # type: ignore[assignment]
    leash_trained: StrictBool | None = None


class Cat(_Model):
    pet_type: Literal["cat"]
    indoor: StrictBool
    lives_left: Annotated[StrictInt, Field(ge=0, le=9)] = None  # type: ignore[assignment]


class Bird(_Model):
    pet_type: Literal["bird"]
    wingspan_cm: Annotated[StrictFloat, Field(gt=0, le=400)]
    can_talk: StrictBool = None  # type: ignore[assignment]


class Address(_Model):
    street: _text(1, 128)  # type: ignore[valid-type]
    city: _text(1, 64)  # type: ignore[valid-type]
    postal_code: _text(pattern=r"^[A-Z0-9 -]{3,10}$")  # type: ignore[valid-type]
    country: Literal["US", "CA", "GB", "DE", "FR", "NL", "PL", "SE", "JP", "AU"]


class Owner(_Model):
    id: UUID = None  # type: ignore[assignment]
    name: _text(1, 128)  # type: ignore[valid-type]
    email: _text(pattern=EMAIL_PATTERN)  # type: ignore[valid-type]
    phone: _text(pattern=r"^\+?[0-9 ()-]{7,20}$") = None  # type: ignore[valid-type]
    address: Address = None  # type: ignore[assignment]


class Vaccination(_Model):
    name: _text(1, 64)  # type: ignore[valid-type]
    date: date
    vet_email: _text(pattern=EMAIL_PATTERN) = None  # type: ignore[valid-type]
    batch: _text(high=32) | None = None  # type: ignore[valid-type]


class NewPet(_Model):
    name: _text(1, 64, r"^[A-Za-z][A-Za-z0-9 '-]*$")  # type: ignore[valid-type]
    animal: Annotated[Union[Dog, Cat, Bird], Field(discriminator="pet_type")]  # noqa: UP007
    status: Literal["available", "pending", "adopted"]
    birth_date: date = None  # type: ignore[assignment]
    registered_at: datetime = None  # type: ignore[assignment]
    microchip_id: UUID | None = None
    weight_kg: Annotated[StrictFloat, Field(gt=0, le=200)] = None  # type: ignore[assignment]
    tags: Annotated[list[_text(pattern=r"^[a-z][a-z0-9-]{0,31}$")],  # type: ignore[valid-type]
                    Field(max_length=10), AfterValidator(_unique)] = None  # type: ignore
    owner: Owner
    vaccinations: Annotated[list[Vaccination], Field(max_length=50)] = None  # type: ignore
    notes: _text(high=2000) | None = None  # type: ignore[valid-type]


def fastapi_pydantic() -> FastAPI:
    app = _fastapi()

    @app.post(PATH, status_code=201)
    async def create_pet(pet: NewPet) -> JSONResponse:
        return JSONResponse({"id": 1, "name": pet.name}, status_code=201)

    return app


# -- connexion ------------------------------------------------------------------------------

CONNEXION_MODULE = "bench_connexion_handlers"


def connexion_app(spec: Path, document: dict[str, Any]) -> Any:
    """connexion 3 ``AsyncApp`` on the spec, handlers from a module generated in a temp dir.

    Raises ImportError when connexion is not installed.
    """
    with warnings.catch_warnings():  # its import of starlette.testclient warns
        warnings.simplefilter("ignore")
        import connexion
        from connexion.options import SwaggerUIOptions
        from connexion.resolver import RelativeResolver
    # connexion logs every 4xx as a warning (to stderr, with no logging configured);
    # schemaguard logs rejections at INFO, which is not shown: mute both the same way.
    logging.getLogger("connexion.middleware.exceptions").setLevel(logging.ERROR)

    operation_ids = sorted(op["operationId"] for item in document["paths"].values()
                           for op in item.values() if isinstance(op, dict) and "operationId" in op)
    source = ["async def createPet(body, **kwargs):",
              "    return {'id': 1, 'name': body['name']}, 201", "", "",
              "async def _not_implemented(*args, **kwargs):",
              "    return {'title': 'not implemented'}, 501", ""]
    source += [f"{name} = _not_implemented" for name in operation_ids if name != "createPet"]
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, f"{CONNEXION_MODULE}.py").write_text(
            textwrap.dedent("\n".join(source)) + "\n", encoding="utf-8")
        sys.path.insert(0, folder)
        try:
            sys.modules.pop(CONNEXION_MODULE, None)
            importlib.import_module(CONNEXION_MODULE)
        finally:
            sys.path.remove(folder)
    app = connexion.AsyncApp("bench_connexion")
    app.add_api(spec, resolver=RelativeResolver(CONNEXION_MODULE),
                swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False))
    return app


# -- clients --------------------------------------------------------------------------------

def _headers(body: bytes) -> list[tuple[str, str]]:
    return [("Host", "localhost"), ("User-Agent", USER_AGENT), ("Accept", "*/*"),
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            ("X-Request-ID", REQUEST_ID)]


class WSGIClient:
    """Calls a WSGI app directly, as a server would, with the least work per request."""

    kind = "WSGI"

    def __init__(self, app: Any, body: bytes) -> None:
        self.app = app
        self.body = body
        self.status = ""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": PATH, "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": False,
        }
        for name, value in _headers(body):
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        self.environ = environ

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            self.status = status
            return None

        self.start_response = start_response

    def request(self) -> tuple[int, bytes]:
        """One request: (status, response body)."""
        environ = self.environ.copy()
        environ["wsgi.input"] = io.BytesIO(self.body)
        result = self.app(environ, self.start_response)
        try:
            out = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(self.status[:3]), out

    def run(self, n: int) -> None:
        """``n`` requests back to back (what is timed)."""
        app, template, body, start_response = (self.app, self.environ, self.body,
                                               self.start_response)
        bytes_io = io.BytesIO
        for _ in itertools.repeat(None, n):
            environ = template.copy()
            environ["wsgi.input"] = bytes_io(body)
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()


class ASGIClient:
    """Awaits an ASGI app directly, as a server would, with the least work per request."""

    kind = "ASGI"

    def __init__(self, app: Any, body: bytes, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.status = 0
        self.scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "POST", "scheme": "http", "path": PATH,
            "raw_path": PATH.encode(), "root_path": "", "query_string": b"",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in _headers(body)],
            "client": ("127.0.0.1", 50000), "server": ("localhost", 80),
        }
        self.message = {"type": "http.request", "body": body, "more_body": False}
        self.chunks: list[bytes] | None = None  # collects the response body when not None

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif self.chunks is not None:
                self.chunks.append(message.get("body", b""))

        self.send = send

    def _receive(self) -> Callable[[], Any]:
        message = self.message
        given = False

        async def receive() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return message
            # After the body a server waits for the client to disconnect: never, here (a
            # task listening for it is cancelled when the response is done).
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        return receive

    def _scope(self) -> dict[str, Any]:
        """A request's own scope, as uvicorn makes one: with its own copy of the lifespan
        state (``"state": self.app_state.copy()``), where an app keeps request state."""
        scope = self.scope.copy()
        scope["state"] = {}
        return scope

    async def _one(self) -> tuple[int, bytes]:
        self.chunks = []
        try:
            await self.app(self._scope(), self._receive(), self.send)
            return self.status, b"".join(self.chunks)
        finally:
            self.chunks = None

    def request(self) -> tuple[int, bytes]:
        """One request: (status, response body)."""
        return self.loop.run_until_complete(self._one())

    async def _many(self, n: int) -> None:
        app, template, receive, send = self.app, self.scope, self._receive, self.send
        for _ in itertools.repeat(None, n):
            scope = template.copy()
            scope["state"] = {}  # as in _scope
            await app(scope, receive(), send)

    def run(self, n: int) -> None:
        """``n`` requests back to back in one coroutine (what is timed)."""
        self.loop.run_until_complete(self._many(n))


# -- the table ------------------------------------------------------------------------------

@dataclass
class App:
    name: str  # row label
    framework: str  # "Flask" / "FastAPI" / "connexion": whose floor the ratio is against
    validates: bool  # False: the invalid body is accepted (no invalid column)
    clients: dict[str, Any] = field(default_factory=dict)  # "valid"/"invalid" -> client


FLOOR = {"Flask": "Flask + floor middleware", "FastAPI": "FastAPI + floor middleware",
         "connexion": "FastAPI + floor middleware"}


def build(spec: Path) -> tuple[list[App], dict[str, str], asyncio.AbstractEventLoop]:
    """(the apps with their clients, notes on apps left out, the event loop ASGI apps run on)."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    raw = bodies.all_bodies()
    payloads = {"valid": raw["new_pet_valid"], "invalid": raw["new_pet_invalid"]}
    openapi = OpenAPI.from_file_path(str(spec))
    loop = asyncio.new_event_loop()
    skipped: dict[str, str] = {}
    made: list[tuple[str, str, bool, Any]] = [
        ("Flask (plain)", "Flask", False, flask_plain()),
        ("Flask + schemaguard", "Flask", True, flask_schemaguard(spec)),
        ("Flask + openapi-core", "Flask", True, flask_openapi_core(openapi)),
        ("Flask + floor middleware", "Flask", True, flask_floor(document)),
        ("FastAPI (raw Request)", "FastAPI", False, fastapi_raw()),
        ("FastAPI + schemaguard", "FastAPI", True, fastapi_schemaguard(spec)),
        ("FastAPI + pydantic model", "FastAPI", True, fastapi_pydantic()),
        ("FastAPI + openapi-core", "FastAPI", True, fastapi_openapi_core(openapi)),
        ("FastAPI + floor middleware", "FastAPI", True, fastapi_floor(document)),
    ]
    try:
        made.append(("connexion 3 AsyncApp", "connexion", True,
                     connexion_app(spec, document)))
    except ImportError as exc:
        skipped["connexion 3 AsyncApp"] = f"connexion is not installed ({exc})"
    except Exception as exc:  # installed, but does not load this spec / these versions
        skipped["connexion 3 AsyncApp"] = f"connexion failed to build the app: {exc!r}"[:300]
    apps: list[App] = []
    for name, framework, validates, app in made:
        entry = App(name, framework, validates)
        for kind, body in payloads.items():
            entry.clients[kind] = (WSGIClient(app, body) if framework == "Flask"
                                   else ASGIClient(app, body, loop))
        apps.append(entry)
    return apps, skipped, loop


def verify(apps: list[App]) -> dict[str, dict[str, int]]:
    """Assert each app answers the valid request with 201 (and the expected document) and,
    when it validates, the invalid one with a 4xx. Returns app -> kind -> status."""
    valid_name = bodies.new_pet_valid()["name"]
    statuses: dict[str, dict[str, int]] = {}
    for app in apps:
        for kind, client in app.clients.items():
            for _ in range(2):  # the first request of an app builds lazily-built state
                status, out = client.request()
            statuses.setdefault(app.name, {})[kind] = status
            if kind == "valid" or not app.validates:
                assert status == 201, f"{app.name} answers the {kind} request with {status}: " \
                    f"{out[:300]!r}"
                assert orjson.loads(out) == {"id": 1, "name": valid_name}, (app.name, out[:300])
            else:
                assert 400 <= status < 500, f"{app.name} answers the INVALID request with " \
                    f"{status}: {out[:300]!r}"
            client.run(3)  # the timed path works too
    return statuses
