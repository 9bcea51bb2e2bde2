"""L01 against a real server: a few hundred slow uploads to a guarded app under uvicorn on
127.0.0.1. Every slow client gets 408 at the body deadline, memory follows the bytes actually
received (not the declared lengths), and a healthy client is answered meanwhile."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CLIENTS = 300
DEADLINE = 1.0
APP = textwrap.dedent(f"""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from schemaguard.asgi import GuardMiddleware

    SPEC = {{
        "openapi": "3.1.0", "info": {{"title": "slow", "version": "1"}},
        "paths": {{
            "/upload": {{"post": {{"requestBody": {{"content": {{"application/json": {{}}}}}},
                                   "responses": {{"201": {{"description": "ok"}}}}}}}},
            "/ping": {{"get": {{"responses": {{"200": {{"description": "ok"}}}}}}}},
        }},
    }}

    async def upload(request):
        return JSONResponse({{}}, status_code=201)

    async def ping(request):
        return JSONResponse({{"ok": True}})

    app = Starlette(routes=[Route("/upload", upload, methods=["POST"]),
                            Route("/ping", ping)])
    app.add_middleware(GuardMiddleware, spec=SPEC, body_timeout={DEADLINE},
                       max_body_bytes=4_194_304)
""")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


async def _slow_client(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1048576\r\n\r\n")
    await writer.drain()
    answer = b""
    try:
        for _ in range(int(DEADLINE / 0.1) + 20):
            writer.write(b" ")
            await writer.drain()
            try:
                answer = await asyncio.wait_for(reader.read(200), 0.1)
            except asyncio.TimeoutError:
                continue
            if answer:
                break
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
    return answer


async def _healthy(port: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    return time.perf_counter() - started


def test_l01_slow_uploads_against_uvicorn(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    (tmp_path / "slow_app.py").write_text(APP)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "slow_app:app", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "error", "--backlog", "1024"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:  # pragma: no cover
            pytest.fail("uvicorn did not start")
        asyncio.run(_healthy(port))  # warm up
        before = _rss_kib(server.pid)

        async def main() -> tuple[list[bytes], float, int]:
            clients = [asyncio.create_task(_slow_client(port)) for _ in range(CLIENTS)]
            await asyncio.sleep(DEADLINE / 2)
            peak = _rss_kib(server.pid)
            latency = await _healthy(port)
            answers = await asyncio.gather(*clients)
            return answers, latency, peak

        answers, latency, peak = asyncio.run(main())
    finally:
        server.terminate()
        server.wait(timeout=10)
    timed_out = sum(a.startswith(b"HTTP/1.1 408") for a in answers)
    assert timed_out == CLIENTS, [a[:40] for a in answers if not a.startswith(b"HTTP/1.1 408")]
    # 300 clients declared 300 MiB; memory follows what they sent (a few bytes each).
    assert peak - before < 50 * 1024, (before, peak)
    assert latency < 0.5
