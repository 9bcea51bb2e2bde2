"""What the adapter tests share: spec paths, counting verifiers, a handler spy, the table of
rejections every framework must produce identically, and small WSGI/ASGI client helpers."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

import schemaguard as sg

ROOT = Path(__file__).resolve().parents[2]
SPEC_F = str(ROOT / "specs" / "F.yaml")
PETSTORE = str(ROOT / "specs" / "petstore-3.0.yaml")
PROBLEM = "application/problem+json"
CAP = 2048  # max_body_bytes every framework app in these tests is built with

READER = "reader-token"  # bearer/oauth token with scope users:read
WRITER = "writer-token"  # bearer/oauth token with scope users:write
API_KEY = "key-1"
SECRET = "hunter2-correct-horse"  # a writeOnly password that must never leave the server

JSON = ("Content-Type", "application/json")
AUTH_READER = ("Authorization", f"Bearer {READER}")
AUTH_WRITER = ("Authorization", f"Bearer {WRITER}")
KEY = ("X-API-Key", API_KEY)

VALID_USER = b'{"name":"new_user","email":"new@example.com","age":30}'
VALID_ORDER = b'{"items":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":1}],"amount":19.99}'

_TOKENS: dict[str, dict[str, Any]] = {
    READER: {"sub": "alice", "scopes": ["users:read"]},
    WRITER: {"sub": "bob", "scopes": ["users:write"]},
}


class Verifiers:
    """Verifiers for every scheme F.yaml's operations use; each call is counted (thread-safe)
    and remembers the credential value and the thread it ran on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.values: list[tuple[str, str | None]] = []
        self.threads: list[threading.Thread] = []

    def _seen(self, credentials: sg.Credentials) -> None:
        with self._lock:
            self.calls[credentials.scheme] += 1
            self.values.append((credentials.scheme, credentials.value))
            self.threads.append(threading.current_thread())

    def bearer(self, credentials: sg.Credentials) -> Any:
        self._seen(credentials)
        return _TOKENS.get(credentials.value or "")

    def oauth(self, credentials: sg.Credentials) -> Any:
        self._seen(credentials)
        return _TOKENS.get(credentials.value or "")

    def api_key(self, credentials: sg.Credentials) -> Any:
        self._seen(credentials)
        return {"client": "svc"} if credentials.value == API_KEY else None

    def basic(self, credentials: sg.Credentials) -> Any:
        self._seen(credentials)
        ok = (credentials.username, credentials.password) == ("alice", "wonderland")
        return credentials.username if ok else None

    def mapping(self) -> dict[str, Any]:
        return {"bearer": self.bearer, "oauth": self.oauth, "apiKey": self.api_key,
                "basicAuth": self.basic}

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class Spy:
    """Records what handlers saw; ``count`` is how many times any handler ran."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []

    def record(self, **seen: Any) -> None:
        with self._lock:
            self.calls.append(seen)

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def last(self) -> dict[str, Any]:
        assert self.calls, "no handler was called"
        return self.calls[-1]


@dataclass
class Answer:
    """A response as any client saw it: status, header pairs (names lower-cased), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def __post_init__(self) -> None:
        self.headers = [(name.lower(), value) for name, value in self.headers]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Rejection:
    """One row of the rejection table: a request and the answer every adapter must give."""

    id: str
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    error: dict[str, Any] | None = None  # expected subset of errors[0]
    response_headers: dict[str, str] = field(default_factory=dict)  # exact values


_BIG = b'{"name":"big","email":"big@example.com","pad":"' + b"x" * (2 * CAP) + b'"}'

REJECTIONS: tuple[Rejection, ...] = (
    Rejection("404-unknown-path", "GET", "/nope", 404,
              error={"location": "route", "keyword": "path", "pointer": ""}),
    Rejection("405-with-allow", "PUT", "/users", 405, (AUTH_READER,),
              error={"location": "route", "keyword": "method"},
              response_headers={"allow": "GET, HEAD, POST"}),
    Rejection("401-no-credentials", "POST", "/users", 401, (JSON,), VALID_USER,
              error={"location": "security", "keyword": "required"},
              response_headers={"www-authenticate":
                                'ApiKey realm="api", in="header", name="X-API-Key"'}),
    Rejection("401-rejected-token", "GET", "/users", 401,
              (("Authorization", "Bearer not-a-known-token"),),
              error={"location": "security", "keyword": "invalid"},
              response_headers={"www-authenticate": 'Bearer realm="api"'}),
    Rejection("403-insufficient-scope", "DELETE", "/users/7", 403, (AUTH_READER,),
              error={"location": "security", "keyword": "scopes"},
              response_headers={"www-authenticate": 'Bearer realm="api", '
                                'error="insufficient_scope", scope="users:write"'}),
    Rejection("415-no-content-type", "POST", "/users", 415, (KEY,), VALID_USER,
              error={"location": "header", "name": "Content-Type",
                     "keyword": "contentMediaType"}),
    Rejection("415-undeclared-media-type", "POST", "/users", 415,
              (KEY, ("Content-Type", "text/plain")), VALID_USER,
              error={"location": "header", "name": "Content-Type",
                     "keyword": "contentMediaType"}),
    Rejection("400-body-pattern", "POST", "/users", 400, (KEY, JSON),
              b'{"name":"Not Lower","email":"a@example.com"}',
              error={"location": "body", "pointer": "/name", "keyword": "pattern"}),
    Rejection("400-body-extra-property", "POST", "/users", 400, (KEY, JSON),
              b'{"name":"eve","email":"eve@example.com","isAdmin":true}',
              error={"location": "body", "pointer": "/isAdmin",
                     "keyword": "additionalProperties"}),
    Rejection("400-body-readonly", "POST", "/users", 400, (KEY, JSON),
              b'{"name":"eve","email":"eve@example.com","id":5}',
              error={"location": "body", "pointer": "/id", "keyword": "readOnly"}),
    Rejection("400-body-missing-required", "POST", "/users", 400, (KEY, JSON),
              b'{"name":"eve"}',
              error={"location": "body", "pointer": "/email", "keyword": "required"}),
    Rejection("400-body-not-json", "POST", "/users", 400, (KEY, JSON), b'{"name": "eve",',
              error={"location": "body", "pointer": ""}),
    Rejection("400-order-multipleof", "POST", "/orders", 400, (AUTH_READER, JSON),
              b'{"items":[],"amount":1.005}',
              error={"location": "body", "pointer": "/amount", "keyword": "multipleOf"}),
    Rejection("400-query-maximum", "GET", "/users?limit=500", 400, (AUTH_READER,),
              error={"location": "query", "name": "limit", "pointer": "",
                     "keyword": "maximum"}),
    Rejection("400-query-enum-repeated", "GET", "/users?role=user&role=admin", 400,
              (AUTH_READER,), error={"location": "query", "name": "role"}),
    Rejection("400-path-minimum", "GET", "/users/0", 400, (AUTH_READER,),
              error={"location": "path", "name": "id", "keyword": "minimum"}),
    Rejection("400-path-pattern", "GET", "/files/a%20b", 400, (AUTH_READER,),
              error={"location": "path", "name": "name", "keyword": "pattern"}),
    Rejection("413-over-max-body-bytes", "POST", "/users", 413, (KEY, JSON), _BIG,
              error={"location": "body", "keyword": "maxLength"}),
)


def check_rejection(case: Rejection, answer: Answer) -> None:
    """The answer is the problem+json the case expects (the caller checks the handler)."""
    assert answer.status == case.status, answer.body
    assert answer.header("content-type") == PROBLEM
    problem = answer.json()
    assert problem["status"] == case.status
    assert problem["type"] == "about:blank"
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert problem["errors"], problem
    for entry in problem["errors"]:
        assert set(entry) == {"location", "name", "pointer", "keyword", "message"}
    if case.error is not None:
        first = problem["errors"][0]
        assert {key: first[key] for key in case.error} == case.error, problem
    for name, value in case.response_headers.items():
        assert answer.all(name) == [value], answer.headers
    if case.body:
        # never an echo of what was sent
        assert case.body not in answer.body


def user_with_password(user_id: int) -> dict[str, Any]:
    """A GET /users/{id} response body that leaks the writeOnly password."""
    return {"id": user_id, "name": "alice", "password": SECRET}


def check_withheld(answer: Answer) -> None:
    """Enforced response validation replaced a leaking response with a generic 500."""
    assert answer.status == 500
    assert answer.header("content-type") == PROBLEM
    assert answer.header("x-request-id")
    assert SECRET.encode() not in answer.body
    assert b"password" not in answer.body


def logged(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """The records the schemaguard logger wrote at exactly ``level``."""
    return [r for r in caplog.records if r.name == "schemaguard" and r.levelno == level]


# -- clients ---------------------------------------------------------------------------------


def wsgi_request(app: Any, method: str, path: str, headers: Iterable[tuple[str, str]] = (),
                 body: bytes | None = None) -> Answer:
    """Send one request through a WSGI app with werkzeug's test Client."""
    response = Client(app).open(path, method=method, headers=list(headers), data=body)
    try:
        return Answer(response.status_code, response.headers.to_wsgi_list(),
                      response.get_data())
    finally:
        response.close()


async def asgi_request_async(app: Any, method: str, path: str,
                             headers: Sequence[tuple[str, str]] = (),
                             body: bytes | None = None) -> Answer:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.request(method, path, headers=list(headers), content=body)
    return Answer(response.status_code, list(response.headers.multi_items()), response.content)


def asgi_request(app: Any, method: str, path: str, headers: Sequence[tuple[str, str]] = (),
                 body: bytes | None = None) -> Answer:
    """Send one request through an ASGI app with httpx's ASGITransport (its own loop)."""
    return asyncio.run(asgi_request_async(app, method, path, headers, body))


# -- raw WSGI --------------------------------------------------------------------------------


class Stream:
    """A wsgi.input that records how much was read and refuses to be read when forbidden."""

    def __init__(self, data: bytes = b"", *, forbidden: bool = False) -> None:
        self._data = io.BytesIO(data)
        self.forbidden = forbidden
        self.reads: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(size)
        if self.forbidden:
            pytest.fail("wsgi.input must not be read")
        return self._data.read(size)

    def readline(self, size: int | None = -1) -> bytes:  # pragma: no cover - PEP 3333 API
        return self._data.readline(size)

    @property
    def consumed(self) -> int:
        return self._data.tell()


def wsgi_environ(method: str, path: str, headers: Iterable[tuple[str, str]] = (),
                 body: bytes | None = None, *, stream: Any = None, **extra: Any
                 ) -> dict[str, Any]:
    """A PEP 3333 environ: ``path`` goes to PATH_INFO (decoded, latin-1) unless the caller
    sets RAW_URI/REQUEST_URI; CONTENT_LENGTH is set from ``body`` unless given."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream if stream is not None else Stream(body or b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body is not None:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            env[key] = value
        else:
            env[f"HTTP_{key}"] = value
    env.update(extra)
    return env


def wsgi_call(app: Any, env: dict[str, Any]) -> Answer:
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> Any:
        started.append((status, headers))
        return lambda data: None

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    assert started, "start_response was never called"
    status, headers = started[-1]
    return Answer(int(status[:3]), headers, body)


# -- raw ASGI --------------------------------------------------------------------------------


def http_scope(method: str, path: str, headers: Sequence[tuple[str, str]] = (),
               query: str = "", *, raw_path: bool = True, **extra: Any) -> dict[str, Any]:
    """An ASGI 3 HTTP scope as a server would build it."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    if raw_path:
        scope["raw_path"] = path.encode("latin-1")
    scope.update(extra)
    return scope


def answer_from(messages: Sequence[dict[str, Any]]) -> Answer:
    """The response a list of sent ASGI messages makes up."""
    assert messages, "nothing was sent"
    start = messages[0]
    assert start["type"] == "http.response.start", messages
    body = b"".join(m.get("body", b"") for m in messages[1:] if m["type"] == "http.response.body")
    assert messages[-1].get("more_body", False) is False
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return Answer(start["status"], headers, body)


def asgi_call(app: Any, scope: dict[str, Any], body: bytes = b"") -> Answer:
    """One request through an ASGI app with the scope as given (raw header bytes too), the
    body in one message."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return answer_from(sent)


UNAVAILABLE = {"type": "about:blank", "title": "Service Unavailable", "status": 503,
               "detail": "authentication did not complete in time"}


def check_unavailable(answer: Answer, caplog: pytest.LogCaptureFixture, credential: str
                      ) -> None:
    """bad-inputs L07: the generic 503 of a verifier past ``verifier_timeout``, with a request
    id, and one warning naming that id, the scheme (`bearer`) and the 0.05 s limit, never the
    credential."""
    assert answer.status == 503
    assert answer.json() == UNAVAILABLE
    assert answer.header("content-type") == "application/problem+json"
    assert answer.header("content-length") == str(len(answer.body))
    assert {name for name, _ in answer.headers} == {"content-type", "content-length",
                                                    "x-request-id"}
    request_id = answer.header("x-request-id")
    assert request_id
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1
    assert records[0].name == "schemaguard"
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert request_id in message
    assert "`bearer`" in message
    assert "0.05 s" in message
    assert credential not in message
    assert records[0].schemaguard == {  # type: ignore[attr-defined]
        "request_id": request_id, "status": 503, "scheme": "bearer", "timeout": 0.05}


# -- mutual TLS ------------------------------------------------------------------------------

# Opaque bytes stand for the DER certificate the server verified (the guard never parses it).
DER = b"0\x82\x01\x0afake-but-opaque-certificate-bytes\x00\xff" * 3
PEM = ("-----BEGIN CERTIFICATE-----\n"
       + "\n".join(base64.b64encode(DER).decode()[i:i + 64]
                   for i in range(0, len(base64.b64encode(DER)), 64))
       + "\n-----END CERTIFICATE-----\n")
MTLS_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "mtls", "version": "1"},
    "paths": {"/whoami": {"get": {"security": [{"mtls": []}],
                                  "responses": {"200": {"description": "ok"}}}},
              "/open": {"get": {"responses": {"200": {"description": "ok"}}}}},
    "components": {"securitySchemes": {"mtls": {"type": "mutualTLS"}}},
}
# The same open operation in a spec that uses no mutual TLS at all.
OPEN_SPEC: dict[str, Any] = {**MTLS_SPEC, "paths": {"/open": MTLS_SPEC["paths"]["/open"]},
                             "components": {}}
