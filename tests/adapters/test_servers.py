"""Real servers on 127.0.0.1: a guarded Flask app under gunicorn and a guarded FastAPI app
under uvicorn, each started as a subprocess from a module written to a temporary folder, and
real HTTP requests sent with httpx."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ._support import PROBLEM, SPEC_F, VALID_ORDER

CAP = 1024
BODY_TIMEOUT = 0.5  # the uvicorn app's body deadline
READY_TIMEOUT = 15.0
REQUEST_TIMEOUT = 5.0

COMMON = textwrap.dedent(f"""
    import os

    TOKENS = {{"reader-token": {{"scopes": ["users:read"]}},
              "writer-token": {{"scopes": ["users:write"]}}}}

    def bearer(credentials):
        return TOKENS.get(credentials.value)

    def api_key(credentials):
        return {{"client": "svc"}} if credentials.value == "key-1" else None

    VERIFIERS = {{"bearer": bearer, "oauth": bearer, "apiKey": api_key,
                 "basicAuth": lambda credentials: None}}
    SPEC = os.environ["SG_SPEC"]
    CAP = {CAP}
    BODY_TIMEOUT = {BODY_TIMEOUT}
""")

FLASK_APP = COMMON + textwrap.dedent("""
    from flask import Flask, jsonify, request
    from schemaguard.wsgi import GuardMiddleware

    app = Flask(__name__)

    @app.get("/users")
    def users():
        validated = request.environ["schemaguard"]
        return jsonify({"query": validated.query})

    @app.post("/users")
    def create_user():
        return jsonify({"id": 1}), 201

    @app.post("/orders")
    def orders():
        validated = request.environ["schemaguard"]
        raw = request.get_data(cache=True)
        return jsonify({"same": request.get_json() == validated.body, "length": len(raw)}), 201

    @app.get("/public/ping")
    def ping():
        return "pong"

    @app.get("/files/<name>")
    def files(name):
        return name

    app.wsgi_app = GuardMiddleware(app.wsgi_app, SPEC, verifiers=VERIFIERS,
                                   max_body_bytes=CAP)
""")

FASTAPI_APP = COMMON + textwrap.dedent("""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse
    from schemaguard.asgi import GuardMiddleware

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/users")
    async def users(request: Request):
        return {"query": request.state.schemaguard.query}

    @app.post("/users", status_code=201)
    async def create_user(request: Request):
        return {"id": 1}

    @app.post("/orders")
    async def orders(request: Request):
        validated = request.state.schemaguard
        raw = await request.body()
        return JSONResponse({"same": (await request.json()) == validated.body,
                             "length": len(raw)}, status_code=201)

    @app.get("/public/ping", response_class=PlainTextResponse)
    async def ping():
        return "pong"

    @app.get("/files/{name}", response_class=PlainTextResponse)
    async def files(name: str):
        return name

    app.add_middleware(GuardMiddleware, spec=SPEC, verifiers=VERIFIERS, max_body_bytes=CAP,
                       body_timeout=BODY_TIMEOUT)
""")

SERVERS = {
    # name: (module needed, app source, command after `python -m`)
    "gunicorn": ("gunicorn", FLASK_APP, lambda port: [
        "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "10",
        "--graceful-timeout", "1", "--log-level", "warning", "guarded_app:app"]),
    "uvicorn": ("uvicorn", FASTAPI_APP, lambda port: [
        "uvicorn", "guarded_app:app", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "asyncio", "--log-level", "warning", "--timeout-graceful-shutdown", "1"]),
    # uvicorn's default loop where uvloop is installed (its `standard` extra): the body's
    # deadline (one watchdog per loop) and the guard's awaits run on uvloop's own loop.
    "uvicorn-uvloop": ("uvloop", FASTAPI_APP, lambda port: [
        "uvicorn", "guarded_app:app", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--log-level", "warning", "--timeout-graceful-shutdown", "1"]),
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/public/ping", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"server not ready after {READY_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, str]]:
    name = request.param
    module, source, command = SERVERS[name]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: `python -m {module}` cannot start a server")
    folder = tmp_path_factory.mktemp(name)
    (folder / "guarded_app.py").write_text(source)
    log = folder / "server.log"
    port = free_port()
    env = dict(os.environ, SG_SPEC=SPEC_F, PYTHONPATH=os.pathsep.join(
        p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p))
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", *command(port)], cwd=folder,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log)
        yield name, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def client(server: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[1], timeout=REQUEST_TIMEOUT) as client:
        yield client


READER = {"Authorization": "Bearer reader-token"}
WRITER = {"Authorization": "Bearer writer-token", "Content-Type": "application/json"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    assert problem["errors"]
    return problem


def test_valid_requests_reach_the_app(client: httpx.Client) -> None:
    response = client.get("/users", params=[("limit", "5"), ("tag", "a"), ("tag", "b")],
                          headers=READER)
    assert response.status_code == 200
    assert response.json() == {"query": {"limit": 5, "tag": ["a", "b"]}}
    response = client.post("/orders", content=VALID_ORDER, headers=WRITER)
    assert response.status_code == 201
    assert response.json() == {"same": True, "length": len(VALID_ORDER)}


def test_chunked_valid_body_reaches_the_app(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(VALID_ORDER), 16):
            yield VALID_ORDER[start:start + 16]

    response = client.post("/orders", content=chunks(), headers=WRITER)
    assert response.status_code == 201
    assert response.json() == {"same": True, "length": len(VALID_ORDER)}


def test_invalid_requests_get_400_problem_json(client: httpx.Client) -> None:
    problem = assert_problem(client.get("/users?limit=500", headers=READER), 400)
    assert problem["errors"][0]["name"] == "limit"  # type: ignore[index]
    problem = assert_problem(client.post("/orders", content=b'{"items":[],"amount":-1}',
                                         headers=WRITER), 400)
    assert problem["errors"][0]["pointer"] == "/amount"  # type: ignore[index]


def test_unknown_path_is_404(client: httpx.Client) -> None:
    assert_problem(client.get("/definitely-not-in-the-spec"), 404)


def test_missing_credentials_are_401(client: httpx.Client) -> None:
    response = client.get("/users")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


def test_chunked_upload_over_the_cap_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"items":[],"amount":1,"pad":"'
        for _ in range(32):
            yield b"x" * 256
        yield b'"}'

    response = client.post("/orders", content=chunks(), headers=WRITER)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)


def test_declared_length_over_the_cap_is_413(client: httpx.Client) -> None:
    body = b'{"items":[],"amount":1,"pad":"' + b"x" * (4 * CAP) + b'"}'
    assert_problem(client.post("/orders", content=body, headers=WRITER), 413)


def test_percent_encoded_path_is_decoded_once(client: httpx.Client) -> None:
    problem = assert_problem(client.get("/files/%252e%252e", headers=READER), 400)
    assert problem["errors"][0]["name"] == "name"  # type: ignore[index]
    response = client.get("/files/report.csv", headers=READER)
    assert response.status_code == 200
    assert response.text == "report.csv"


def test_p39_duplicate_api_key_per_server(server: tuple[str, str],
                                          client: httpx.Client) -> None:
    """P39 on the wire: uvicorn keeps both headers (ASGI: 400 ambiguous, verifier not
    called); gunicorn merges them into one HTTP_X_API_KEY (WSGI: the verifier refuses the
    merged value, 401)."""
    headers = [("X-API-Key", "key-1"), ("X-API-Key", "key-1"),
               ("Content-Type", "application/json")]
    response = client.post("/users", content=b'{"name":"a","email":"a@example.com"}',
                           headers=headers)
    if server[0].startswith("uvicorn"):
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["keyword"] == "ambiguous"  # type: ignore[index]
    else:
        problem = assert_problem(response, 401)
        assert problem["errors"][0]["keyword"] == "invalid"  # type: ignore[index]


def test_underscore_header_does_not_spoof_the_api_key(client: httpx.Client) -> None:
    """X_API_KEY is not X-API-Key: gunicorn drops underscore headers, and in ASGI the guard
    never folds "_" into "-"."""
    response = client.post("/users", content=b'{"name":"a","email":"a@example.com"}',
                           headers={"X_API_KEY": "key-1", "Content-Type": "application/json"})
    problem = assert_problem(response, 401)
    assert problem["errors"][0]["keyword"] == "required"  # type: ignore[index]


def raw_exchange(base: str, head: bytes, body: bytes, *, half_close: bool) -> bytes:
    """Send a request head and (part of) a body on a raw socket; the bytes answered."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(head + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
            if half_close is False and b"\r\n\r\n" in data:
                head_end = data.index(b"\r\n\r\n") + 4
                length = [int(line.split(b":")[1]) for line in data[:head_end].split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(data) >= head_end + length[0]:
                    break
    return data


def order_head(declared: int) -> bytes:
    return (b"POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer writer-token\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % declared)


def test_slow_body_is_408_under_uvicorn(server: tuple[str, str]) -> None:
    if not server[0].startswith("uvicorn"):
        pytest.skip("body_timeout is an ASGI option; a WSGI server owns its socket timeout")
    started = time.monotonic()
    data = raw_exchange(server[1], order_head(100), b'{"items":', half_close=False)
    elapsed = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408"), data
    assert PROBLEM.encode() in data
    assert BODY_TIMEOUT * 0.9 <= elapsed < BODY_TIMEOUT + 2


def test_truncated_body_never_reaches_the_app(server: tuple[str, str]) -> None:
    """The client declares 33 bytes, sends 23 (valid JSON on their own) and half-closes."""
    body = b'{"items":[],"amount":1}'
    data = raw_exchange(server[1], order_head(len(body) + 10), body, half_close=True)
    assert not data.startswith(b"HTTP/1.1 2"), data


def test_413_mid_body_closes_the_connection_under_uvicorn(server: tuple[str, str]) -> None:
    """bad-inputs L02 on the wire: the cap is crossed while the chunked body is still coming;
    after the 413 the server closes the connection instead of draining what follows."""
    if not server[0].startswith("uvicorn"):
        pytest.skip("gunicorn's sync worker closes every connection after its answer")
    host, port = server[1].removeprefix("http://").split(":")
    head = (b"POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer writer-token\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b'{"pad":"' + b"x" * (2 * CAP) + b'"'
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(chunk), chunk))  # no last chunk: more is due
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 413"), data
        assert b"connection: close" in data.lower()
        sock.settimeout(3)
        started = time.monotonic()
        while True:
            try:
                more = sock.recv(65536)
            except ConnectionResetError:
                break
            if not more:
                break  # closed by the server
        assert time.monotonic() - started < 3
