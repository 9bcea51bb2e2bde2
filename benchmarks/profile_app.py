"""Where a whole app's time goes in run.py's third table (cProfile), and what each middleware
costs on its own.

    python benchmarks/profile_app.py "FastAPI + schemaguard"          # cProfile, valid request
    python benchmarks/profile_app.py "Flask + schemaguard" --invalid --top 30
    python benchmarks/profile_app.py --alone     # each middleware before a no-op app, timed

The cProfile part runs the app's in-process client (whole_apps.py) for ``--seconds`` and prints
the top functions by own time (tottime) and by cumulative time (for a schemaguard app, first
schemaguard's own functions by cumulative time). cProfile adds a fixed cost to
every Python call, so Python-heavy code looks heavier than it is: read the shares.

``--alone`` times (no profiler) the floor middleware and schemaguard's middleware in front of
a no-op app (WSGI and ASGI; the no-op reads the body and answers 201), next to
``Guard.check_request`` on the same request: the middleware's own cost, without a framework.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import whole_apps  # noqa: E402
import whole_requests  # noqa: E402
import yaml  # noqa: E402
from run import SPEC  # noqa: E402

import schemaguard as sg  # noqa: E402
import schemaguard.asgi  # noqa: E402
import schemaguard.wsgi  # noqa: E402


def profile_app(app: whole_apps.App, kind: str, top: int, seconds: float) -> str:
    client = app.clients[kind]
    client.run(200)  # warm
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.1:
        client.run(10)
        calls += 10
    calls = max(1, int(calls * seconds / 0.1))
    profile = cProfile.Profile()
    profile.enable()
    client.run(calls)
    profile.disable()
    out = io.StringIO()
    out.write(f"(totals for {calls} requests)\n")
    stats = pstats.Stats(profile, stream=out)
    if "schemaguard" in app.name:
        out.write("schemaguard's own functions (src/schemaguard), by cumulative time:\n")
        stats.sort_stats("cumulative").print_stats("schemaguard/", top)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _noop_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "application/json")])
    return [b"{}"]


async def _noop_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def _median_us(run: Any, n: int, repeats: int = 9) -> float:
    run(max(1, n // 10))
    per_call = []
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.perf_counter_ns()
            run(n)
            per_call.append((time.perf_counter_ns() - start) / n / 1e3)
        finally:
            gc.enable()
    return statistics.median(per_call)


def alone(spec: Path) -> str:
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    _, cases = whole_requests.build(spec, document)
    case = next(c for c in cases if c.path == whole_apps.PATH and c.kind == "valid")
    guard = sg.Guard(spec)
    is_valid = whole_apps.floor_validator(document)
    loop = whole_apps.asyncio.new_event_loop()
    body = case.body

    def check(n: int) -> None:
        check_request, request = guard.check_request, case.sg_request
        for _ in range(n):
            check_request(request)

    rows: list[tuple[str, Any, int]] = [
        ("Guard.check_request(HttpRequest) (table 2)", check, 20_000),
        ("WSGI no-op app", whole_apps.WSGIClient(_noop_wsgi, body).run, 50_000),
        ("WSGI floor middleware + no-op",
         whole_apps.WSGIClient(whole_apps.FloorWSGI(_noop_wsgi, is_valid), body).run, 20_000),
        ("WSGI schemaguard GuardMiddleware + no-op",
         whole_apps.WSGIClient(schemaguard.wsgi.GuardMiddleware(_noop_wsgi, spec), body).run,
         20_000),
        ("ASGI no-op app", whole_apps.ASGIClient(_noop_asgi, body, loop).run, 50_000),
        ("ASGI floor middleware + no-op",
         whole_apps.ASGIClient(whole_apps.FloorASGI(_noop_asgi, is_valid), body, loop).run,
         20_000),
        ("ASGI schemaguard GuardMiddleware + no-op",
         whole_apps.ASGIClient(schemaguard.asgi.GuardMiddleware(_noop_asgi, spec), body,
                               loop).run, 20_000),
    ]
    lines = ["| what (valid 1 KB POST /v1/pets) | median µs |", "|---|---:|"]
    try:
        for label, run, n in rows:
            lines.append(f"| {label} | {_median_us(run, n):.1f} |")
    finally:
        loop.close()
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("match", nargs="?", default="schemaguard",
                        help="profile the apps whose name contains this")
    parser.add_argument("--invalid", action="store_true", help="the invalid request")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=2.0, help="profiled time per app")
    parser.add_argument("--alone", action="store_true",
                        help="time the middlewares before a no-op app instead")
    args = parser.parse_args()
    if args.alone:
        print(alone(SPEC))
        return 0
    apps, _, loop = whole_apps.build(SPEC)
    try:
        whole_apps.verify(apps)
        kind = "invalid" if args.invalid else "valid"
        for app in apps:
            if args.match in app.name and (kind == "valid" or app.validates):
                print(f"=== {app.name}, {kind} request")
                print(profile_app(app, kind, args.top, args.seconds))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
