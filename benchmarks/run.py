"""schemaguard's one-command benchmark: body, whole-request and whole-app validation.

    python benchmarks/run.py               # full run (~2 min on 2 cores)
    python benchmarks/run.py --quick       # smoke run (fewer, shorter repeats, ~15 s)
    python benchmarks/run.py --json out.json

Table 1: every validator checks the same already-parsed bodies (``orjson.loads``; parsing is
not timed) against the same schemas of ``specs/bench.yaml``. Table 2: whole requests (routing,
parameters, headers, body) through schemaguard's Guard and openapi-core, next to the floor
(orjson + one jsonschema-rs call); then the issue's targets, and the time a generated
1,000-operation spec takes to answer its first request. Table 3: whole apps (Flask, FastAPI,
connexion) answering the 1 KB ``POST /v1/pets``, plain, with schemaguard, openapi-core,
pydantic or a floor middleware, driven in-process without an HTTP client (whole_apps.py).
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "specs" / "bench.yaml"
sys.path.insert(0, str(HERE))

import big_spec  # noqa: E402
import bodies  # noqa: E402
import check_bench  # noqa: E402
import fastjsonschema  # noqa: E402
import jsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402
import orjson  # noqa: E402
import plain_schema  # noqa: E402
import protect_bench  # noqa: E402
import whole_apps  # noqa: E402
import whole_requests  # noqa: E402
import yaml  # noqa: E402
from openapi_schema_validator import OAS30Validator, oas30_format_checker  # noqa: E402
from referencing import Registry  # noqa: E402
from referencing.jsonschema import DRAFT4  # noqa: E402

import schemaguard as sg  # noqa: E402

VALIDATORS = ["schemaguard", "jsonschema-rs", "fastjsonschema", "jsonschema",
              "openapi-schema-validator"]
DISTRIBUTIONS = ["schemaguard", "jsonschema-rs", "fastjsonschema", "jsonschema",
                 "openapi-schema-validator", "orjson", "referencing", "openapi-core"]
# body key -> component schema it is sent against
SCHEMAS = {"new_pet": "NewPet", "pet_batch": "PetBatch"}
ROWS = [  # (body, operation); iter_violations is measured on invalid bodies only
    ("new_pet_valid", "is_valid"),
    ("new_pet_invalid", "is_valid"),
    ("new_pet_invalid", "iter_violations"),
    ("pet_batch_valid", "is_valid"),
    ("pet_batch_invalid", "is_valid"),
    ("pet_batch_invalid", "iter_violations"),
]
IS_VALID_TARGET = 1.15
ITER_TARGET = 2.0
# Whole requests (second table): the targets.
GET_X_FASTER = 300  # GET: openapi-core / schemaguard >= this
SMALL_POST_X_FASTER = 150  # 1 KB POST: openapi-core / schemaguard >= this
SMALL_POST_FLOOR = 1.5  # 1 KB POST: schemaguard / floor <= this
LARGE_POST_FLOOR = 1.2  # 100 KB POST: schemaguard / floor <= this
INVALID_TWIN = 3.0  # every invalid request: schemaguard invalid / schemaguard valid <= this
FIRST_REQUEST_S = 1.0  # 1,000-operation spec: Guard(doc) to first check_request returning
OPENAPI_CORE_MAX_LOOPS = 100  # calls per repeat (it takes ms per request)
CPU_SHARE = 0.9  # a repeat with less CPU time than this share of its wall time is re-run
RETRIES = 2


@dataclass
class Peer:
    """One validator compiled for one schema."""

    name: str
    is_valid: Callable[[Any], bool]  # True/False, never raises
    check_valid: Callable[[Any], Any]  # what is timed for `is_valid` on a valid body
    check_invalid: Callable[[Any], Any]  # ... on an invalid body
    errors: Callable[[Any], list[Any]] | None  # what is timed for `iter_violations`


def build_peers(schema_name: str, spec: sg.Spec, document: dict[str, Any]) -> dict[str, Peer]:
    peers: dict[str, Peer] = {}

    guard = sg.compile_schema({"$ref": f"#/components/schemas/{schema_name}"}, dialect="oas30",
                              context="request", spec=spec)

    def sg_errors(body: Any) -> list[Any]:
        return list(guard.iter_violations(body))

    peers["schemaguard"] = Peer("schemaguard", guard.is_valid, guard.is_valid, guard.is_valid,
                                sg_errors)

    plain = plain_schema.to_draft4(document, schema_name)

    rs = jsonschema_rs.Draft4Validator(plain, validate_formats=True)

    def rs_errors(body: Any) -> list[Any]:
        return list(rs.iter_errors(body))

    peers["jsonschema-rs"] = Peer("jsonschema-rs", rs.is_valid, rs.is_valid, rs.is_valid,
                                  rs_errors)

    fj = fastjsonschema.compile(plain)

    def fj_is_valid(body: Any) -> bool:
        try:
            fj(body)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    # fastjsonschema raises at the first error and has no collect-all mode.
    peers["fastjsonschema"] = Peer("fastjsonschema", fj_is_valid, fj, fj_is_valid, None)

    py = jsonschema.Draft4Validator(plain, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)

    def py_errors(body: Any) -> list[Any]:
        return list(py.iter_errors(body))

    peers["jsonschema"] = Peer("jsonschema", py.is_valid, py.is_valid, py.is_valid, py_errors)

    # The original OAS schema; `#/components/...` refs resolve inside the spec document, which
    # the registry holds under the spec's URI.
    uri = SPEC.as_uri()
    registry: Registry = Registry().with_resource(uri, DRAFT4.create_resource(document))
    osv = OAS30Validator({"$ref": f"{uri}#/components/schemas/{schema_name}"},
                         registry=registry, format_checker=oas30_format_checker)

    def osv_errors(body: Any) -> list[Any]:
        return list(osv.iter_errors(body))

    peers["openapi-schema-validator"] = Peer("openapi-schema-validator", osv.is_valid,
                                             osv.is_valid, osv.is_valid, osv_errors)
    return peers


def _first_error(peer: Peer, body: Any) -> str:
    if peer.errors is not None:
        errors = peer.errors(body)
        return str(errors[0])[:300] if errors else "(no error reported)"
    try:
        peer.check_valid(body)
    except fastjsonschema.JsonSchemaException as exc:
        return str(exc)[:300]
    return "(no error reported)"


def verify(peers: dict[str, dict[str, Peer]], parsed: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Assert every validator accepts the valid bodies and rejects the invalid ones.

    Returns the number of errors each validator reports per invalid body.
    """
    counts: dict[str, dict[str, int]] = {}
    for body_name, body in parsed.items():
        schema_key, _, kind = body_name.rpartition("_")
        before = orjson.dumps(body)
        for peer in peers[schema_key].values():
            ok = peer.is_valid(body)
            if kind == "valid":
                assert ok, (f"{peer.name} rejects the VALID {body_name} body: "
                            f"{_first_error(peer, body)}")
                if peer.errors is not None:
                    errors = peer.errors(body)
                    assert not errors, (f"{peer.name}: is_valid() accepts {body_name} but "
                                        f"iter_* reports {errors[0]}")
                peer.check_valid(body)
            else:
                assert not ok, f"{peer.name} accepts the INVALID {body_name} body"
                if peer.errors is not None:
                    n = len(peer.errors(body))
                    assert n > 0, f"{peer.name}: is_valid() rejects {body_name} but reports nothing"
                    counts.setdefault(body_name, {})[peer.name] = n
            assert orjson.dumps(body) == before, f"{peer.name} modified the {body_name} body"
    return counts


# -- timing ---------------------------------------------------------------------------------

def _timed(fn: Callable[[Any], Any], arg: Any, loops: int) -> tuple[int, int]:
    """(wall, CPU) nanoseconds for ``loops`` back-to-back calls (GC paused, as timeit does)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cpu = time.process_time_ns()
        start = time.perf_counter_ns()
        for _ in itertools.repeat(None, loops):
            fn(arg)
        wall = time.perf_counter_ns() - start
        return wall, time.process_time_ns() - cpu
    finally:
        if gc_was_enabled:
            gc.enable()


def _timed_batch(run: Callable[[int], Any], loops: int) -> tuple[int, int]:
    """(wall, CPU) nanoseconds of ``run(loops)``, which makes ``loops`` calls itself (GC
    paused). For whole apps: an ASGI client runs its loop inside one coroutine."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cpu = time.process_time_ns()
        start = time.perf_counter_ns()
        run(loops)
        wall = time.perf_counter_ns() - start
        return wall, time.process_time_ns() - cpu
    finally:
        if gc_was_enabled:
            gc.enable()


# loops -> (wall, CPU) nanoseconds of that many back-to-back calls
Timer = Callable[[int], tuple[int, int]]


def _run(fn: Callable[[Any], Any], arg: Any, loops: int) -> int:
    """Wall nanoseconds for ``loops`` back-to-back calls."""
    return _timed(fn, arg, loops)[0]


def calibrate(fn: Callable[[Any], Any], arg: Any, target_s: float,
              max_loops: int = 1_000_000) -> int:
    """The loop count for which back-to-back calls of ``fn(arg)`` last ~``target_s``."""
    fn(arg)  # warm-up call
    return calibrate_timer(functools.partial(_timed, fn, arg), target_s, max_loops)


def calibrate_timer(timer: Timer, target_s: float, max_loops: int = 1_000_000) -> int:
    """The loop count for which ``timer(loops)`` lasts ~``target_s``."""
    # Double the loop count until it runs for >= 10 ms, then time that count once more and
    # trust the faster of the two (a stray interruption only makes a run slower).
    loops = 1
    while True:
        elapsed = timer(loops)[0]
        if elapsed >= 10_000_000 or loops >= max_loops:
            break
        loops *= 2
    elapsed = min(elapsed, timer(loops)[0])
    loops = max(1, min(max_loops, round(target_s * 1e9 * loops / max(elapsed, 1))))
    timer(max(1, loops // 4))  # warm-up at the final size
    return loops


def measure_row(fns: dict[str, Callable[[Any], Any]], arg: Any, *, repeats: int,
                target_s: float) -> dict[str, dict[str, Any]]:
    """Per-call nanoseconds of each function on the same ``arg`` (see ``measure``)."""
    return measure({name: (fn, arg) for name, fn in fns.items()}, repeats=repeats,
                   target_s=target_s)


def measure(calls: dict[str, tuple[Callable[[Any], Any], Any]], *, repeats: int,
            target_s: float, max_loops: dict[str, int] | None = None
            ) -> dict[str, dict[str, Any]]:
    """Per-call nanoseconds of each ``fn(arg)``, ``repeats`` repeats of ~``target_s`` each.

    Repeats are interleaved (validator A, B, C, ..., then A, B, C again) so that a noisy
    moment on the machine lands on one repeat of several validators, not on all repeats of one.
    A repeat during which this process got less than ``CPU_SHARE`` of a CPU (another process
    competed for it) is run again, at most ``RETRIES`` times; the count is reported.
    ``max_loops`` caps the calls per repeat of a slow validator.
    """
    timers: dict[str, Timer] = {}
    for name, (fn, arg) in calls.items():
        fn(arg)  # warm-up call
        timers[name] = functools.partial(_timed, fn, arg)
    return measure_timers(timers, repeats=repeats, target_s=target_s, max_loops=max_loops)


def measure_timers(timers: dict[str, Timer], *, repeats: int, target_s: float,
                   max_loops: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Per-call nanoseconds of each timer (see ``measure``)."""
    caps = max_loops or {}
    loops = {name: calibrate_timer(timer, target_s, caps.get(name, 1_000_000))
             for name, timer in timers.items()}
    per_call: dict[str, list[float]] = {name: [] for name in timers}
    retried = dict.fromkeys(timers, 0)
    contended = dict.fromkeys(timers, 0)
    for _ in range(repeats):
        for name, timer in timers.items():
            for attempt in range(RETRIES + 1):
                wall, cpu = timer(loops[name])
                if cpu >= CPU_SHARE * wall:
                    break
                if attempt < RETRIES:
                    retried[name] += 1
                else:
                    contended[name] += 1
            per_call[name].append(wall / loops[name])
    return {name: {"loops": loops[name], "per_call_ns": per_call[name],
                   "median_us": statistics.median(per_call[name]) / 1e3,
                   "retried": retried[name], "contended": contended[name]} for name in timers}


# -- report ---------------------------------------------------------------------------------

def paired(a: dict[str, Any], b: dict[str, Any]) -> float:
    """The ratio of two timings measured in the same ``measure`` call: the median of their
    per-round ratios. Each round times every column back to back, so a slow spell of the
    machine (this one has spells of ~1.3-1.5x, which the CPU-share check cannot see) scales
    both sides of a round's ratio; the ratio of the two medians can pair a fast round of one
    with a slow round of the other."""
    return statistics.median(x / y for x, y in zip(a["per_call_ns"], b["per_call_ns"],
                                                    strict=True))


def _fmt_us(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _body_label(name: str, sizes: dict[str, int], n_pets: int) -> str:
    schema_key, _, kind = name.rpartition("_")
    schema = SCHEMAS[schema_key]
    extra = f"{n_pets} pets, " if schema_key == "pet_batch" else ""
    return f"{schema} {kind} ({extra}{sizes[name] / 1000:.1f} kB)"


def profile_guided() -> bool:
    """Whether the imported build was compiled with a profile (hatch_build.py's marker)."""
    return (Path(sg.__file__).parent / "PROFILE_GUIDED").exists()


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def header() -> str:
    versions = ", ".join(f"{d} {version(d)}" for d in DISTRIBUTIONS)
    build = "compiled (mypyc)" if sg.COMPILED else "pure Python (not compiled)"
    if sg.COMPILED and profile_guided():
        build = "compiled (mypyc, profile-guided: gcc -fprofile-use, trained by pgo_train.py)"
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"Python {platform.python_version()} ({platform.python_implementation()}, "
            f"{platform.system()} {platform.machine()}), {os.cpu_count()} CPUs ({cpu}); "
            f"{versions}; "
            f"schemaguard build: {build}")


def report(results: dict[tuple[str, str], dict[str, dict[str, Any]]], sizes: dict[str, int],
           n_pets: int, counts: dict[str, dict[str, int]], repeats: int,
           target_s: float) -> tuple[str, list[dict[str, Any]]]:
    lines = [
        f"Median µs per call, {repeats} repeats of ~{target_s:g} s of back-to-back calls each; "
        "bodies parsed with orjson.loads beforehand (parsing not timed). "
        f"PetBatch: {n_pets} pets reach ~100 kB well inside `maxItems: 1000`. "
        "Last column: schemaguard / jsonschema-rs (is_valid vs is_valid, iter_violations vs "
        "list(iter_errors)). The jsonschema-rs peer does the same work as schemaguard: "
        "`format: uuid` (and `byte`), which draft 4 has no checker for, is spelled out in its "
        "schema as the pattern schemaguard compiles it to, and the `Animal` discriminator as "
        "the guarded branches the OAS semantics need (the value selects one branch, an "
        "unmapped value fails), so that column measures schemaguard's overhead, not extra "
        "checks.",
        "",
        "| body | operation | " + " | ".join(VALIDATORS) + " | schemaguard / jsonschema-rs |",
        "|---|---|" + "---:|" * (len(VALIDATORS) + 1),
    ]
    targets: list[dict[str, Any]] = []
    for body_name, operation in ROWS:
        row = results[(body_name, operation)]
        cells = [_fmt_us(row[v]["median_us"]) if v in row else "—" for v in VALIDATORS]
        ratio = row["schemaguard"]["median_us"] / row["jsonschema-rs"]["median_us"]
        limit = IS_VALID_TARGET if operation == "is_valid" else ITER_TARGET
        targets.append({"body": body_name, "operation": operation, "ratio": ratio,
                        "limit": limit, "met": ratio <= limit})
        lines.append(f"| {_body_label(body_name, sizes, n_pets)} | {operation} | "
                     + " | ".join(cells) + f" | {ratio:.2f}x |")
    lines += [
        "",
        "Notes: fastjsonschema raises at the first error and has no collect-all mode, so its "
        "`is_valid` on invalid bodies is the raising call (caught) and it has no "
        "`iter_violations` number. Peers run a hand-bundled draft-4 schema "
        "(benchmarks/plain_schema.py); openapi-schema-validator runs the OAS schema itself. "
        "uuid is checked by every validator (schemaguard and the draft-4 peers by the same "
        "pattern, openapi-schema-validator by its uuid format checker). Other formats asserted "
        "differ: schemaguard and jsonschema-rs date, date-time, email; fastjsonschema "
        "date-time, email (no date); jsonschema date-time, email; openapi-schema-validator "
        "date, date-time, email.",
    ]
    for body_name, per_peer in counts.items():
        shown = ", ".join(f"{k} {v}" for k, v in per_peer.items())
        lines.append(f"Errors reported on {body_name}: {shown}.")
    measured = [m for row in results.values() for m in row.values()]
    retried = sum(m["retried"] for m in measured)
    contended = sum(m["contended"] for m in measured)
    lines.append(f"Machine check: {retried} of {repeats * len(measured)} repeats were re-run "
                 f"because another process took the CPU; {contended} stayed contended"
                 + (" (numbers are noisy, rerun on a quiet machine)." if contended else "."))
    lines += ["", "Targets:"]
    for t in targets:
        what = ("schemaguard is_valid <= 1.15x jsonschema-rs is_valid"
                if t["operation"] == "is_valid"
                else "schemaguard iter_violations <= 2x jsonschema-rs list(iter_errors)")
        lines.append(f"- {what} on {t['body']}: {t['ratio']:.3f}x -> "
                     f"{'MET' if t['met'] else 'NOT MET'}")
    return "\n".join(lines), targets


# -- whole requests -------------------------------------------------------------------------

def measure_requests(validators: whole_requests.Validators, cases: list[whole_requests.Case],
                     *, repeats: int, target_s: float) -> dict[str, dict[str, dict[str, Any]]]:
    """case key -> validator -> timing, for the second table.

    A request's valid and invalid twins are measured together, their repeats interleaved
    like the validators' (valid A, B, C, invalid A, B, C, then again): the invalid / valid
    ratio then compares times taken side by side, not minutes apart (this machine has slow
    spells of ~1.5x that a per-process CPU check does not see)."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    labels = list(dict.fromkeys(case.label for case in cases))
    for label in labels:
        twins = [case for case in cases if case.label == label]
        calls, cells = {}, {}  # column -> call; column -> (case key, validator)
        for case in twins:
            for name, call in validators.timed(case).items():
                column = f"{case.key}: {name}"
                calls[column], cells[column] = call, (case.key, name)
        row = measure(calls, repeats=repeats, target_s=target_s,
                      max_loops={column: OPENAPI_CORE_MAX_LOOPS
                                 for column, (_, name) in cells.items()
                                 if name == "openapi-core"})
        for column, m in row.items():
            key, name = cells[column]
            results.setdefault(key, {})[name] = m
            print(f"  {key:48} {name:14} {m['median_us']:>12.2f} µs ({m['loops']} loops)",
                  file=sys.stderr, flush=True)
    return {case.key: results[case.key] for case in cases}


def time_to_first_request(n_operations: int = 1000) -> dict[str, Any]:
    """Seconds from ``sg.Guard(doc)`` starting to the first ``check_request`` returning, on a
    generated spec (big_spec.py); the document is generated beforehand (not timed)."""
    doc = big_spec.big_spec(n_operations, n_operations)
    method, path, query, body, reached = big_spec.first_request(doc)
    request = sg.HttpRequest(method, path, query, [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body)))], body)
    gc.collect()
    start = time.perf_counter()
    guard = sg.Guard(doc)
    built = time.perf_counter()
    validated = guard.check_request(request)
    done = time.perf_counter()
    assert validated is not None, "the first request was not validated"
    assert validated.path_params == {"id": 7}, validated
    for _ in range(50):  # warm up, then the steady state
        guard.check_request(request)
    again = _run(guard.check_request, request, 1000) / 1000 / 1e9
    return {"operations": len(doc["paths"]), "schemas": len(doc["components"]["schemas"]),
            "path": path, "schemas_reached": reached, "total_s": done - start,
            "construct_s": built - start, "first_check_s": done - built,
            "steady_check_s": again}


def report_requests(results: dict[str, dict[str, dict[str, Any]]],
                    cases: list[whole_requests.Case], first: dict[str, Any], repeats: int,
                    target_s: float) -> tuple[str, list[dict[str, Any]]]:
    lines = [
        f"Whole requests on specs/bench.yaml: median µs per request, {repeats} repeats of "
        f"~{target_s:g} s each (openapi-core at most {OPENAPI_CORE_MAX_LOOPS} calls per "
        "repeat), a request's valid and invalid twins interleaved; the ratios to the floor "
        "and between twins are medians of per-round ratios (`paired`). schemaguard: "
        "`Guard.check_request(HttpRequest(...))` (routing, path/query/"
        "header parameters, Content-Type, JSON parsing, body schema; raw query string). "
        "openapi-core: `OpenAPI.validate_request(MockRequest(...))` (query pre-split into a "
        "dict, not timed). floor: `orjson.loads(body)` + one jsonschema-rs draft-4 `is_valid` "
        "(same uuid/byte patterns), the least any validator does for a body. engine errors "
        "(invalid bodies): `orjson.loads(body)` + `list(iter_errors(...))` of that validator, "
        "what jsonschema-rs itself costs to say why a body is refused. The spec declares "
        "no security, so neither validator authenticates.",
        "",
        "| request | schemaguard µs | openapi-core µs | floor µs | engine errors µs "
        "| openapi-core / schemaguard | schemaguard / floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: dict[str, dict[str, Any]] = {}
    for case in cases:
        row = results[case.key]
        sg_us = row["schemaguard"]["median_us"]
        oc_us = row["openapi-core"]["median_us"]
        floor_us = row["floor"]["median_us"] if "floor" in row else None
        engine_us = row["engine errors"]["median_us"] if "engine errors" in row else None
        faster = oc_us / sg_us
        over_floor = paired(row["schemaguard"], row["floor"]) if floor_us else None
        ratios[case.key] = {"x_faster": faster, "over_floor": over_floor, "sg_us": sg_us,
                            "engine_us": engine_us, "sg": row["schemaguard"]}
        size = f", {len(case.body) / 1000:.1f} kB" if case.body else ""
        lines.append(f"| {case.label} {case.kind}{size} | {_fmt_us(sg_us)} | {_fmt_us(oc_us)} | "
                     f"{_fmt_us(floor_us)} | {_fmt_us(engine_us)} | {faster:,.0f}x faster | "
                     + (f"{over_floor:.2f}x |" if over_floor is not None else "— |"))
    cells = [m for row in results.values() for m in row.values()]
    retried = sum(m["retried"] for m in cells)
    contended = sum(m["contended"] for m in cells)
    lines.append("")
    lines.append(f"Machine check: {retried} of {repeats * len(cells)} repeats were re-run because "
                 f"another process took the CPU; {contended} stayed contended"
                 + (" (numbers are noisy, rerun on a quiet machine)." if contended else "."))

    get, small, large = (c.label for c in cases[::2])
    targets: list[dict[str, Any]] = []

    def target(what: str, value: float, limit: float, at_least: bool) -> None:
        met = value >= limit if at_least else value <= limit
        targets.append({"target": what, "value": value, "limit": limit, "met": met})

    target(f"{get} valid: schemaguard >= {GET_X_FASTER}x faster than openapi-core",
           ratios[f"{get} valid"]["x_faster"], GET_X_FASTER, True)
    target(f"{small} valid: schemaguard >= {SMALL_POST_X_FASTER}x faster than openapi-core",
           ratios[f"{small} valid"]["x_faster"], SMALL_POST_X_FASTER, True)
    target(f"{small} valid: schemaguard <= {SMALL_POST_FLOOR}x the floor",
           ratios[f"{small} valid"]["over_floor"], SMALL_POST_FLOOR, False)
    target(f"{large} valid: schemaguard <= {LARGE_POST_FLOOR}x the floor",
           ratios[f"{large} valid"]["over_floor"], LARGE_POST_FLOOR, False)
    for label in (get, small, large):
        twin = paired(ratios[f"{label} invalid"]["sg"], ratios[f"{label} valid"]["sg"])
        target(f"{label} invalid: schemaguard <= {INVALID_TWIN:g}x its valid twin",
               twin, INVALID_TWIN, False)
    targets.append({"target": f"{first['operations']:,}-operation generated spec ready for its "
                    f"first request in < {FIRST_REQUEST_S:g} s", "value": first["total_s"],
                    "limit": FIRST_REQUEST_S, "met": first["total_s"] < FIRST_REQUEST_S})
    lines += ["", "Targets (whole requests):"]
    for t in targets[:-1]:
        lines.append(f"- {t['target']}: {t['value']:.2f}x -> {'MET' if t['met'] else 'NOT MET'}")
    for label in (small, large):  # what bounds the invalid / valid twin ratio from below
        engine_us = ratios[f"{label} invalid"]["engine_us"]
        if engine_us:
            valid_us = ratios[f"{label} valid"]["sg_us"]
            refused_us = ratios[f"{label} invalid"]["sg_us"]
            lines.append(
                f"- For information, {label} invalid: jsonschema-rs alone listing the body's "
                f"errors (engine errors) takes {_fmt_us(engine_us)} µs, "
                f"{engine_us / valid_us:.1f}x schemaguard's valid twin; schemaguard refuses "
                f"the request, errors listed, in {refused_us / engine_us:.2f}x "
                "that time.")
    lines.append(
        f"- A generated spec with {first['operations']:,} operations (each a path parameter, a "
        f"query parameter, a JSON request body and a response; {first['schemas']:,} component "
        "schemas referencing 0-3 earlier ones, a DAG) is ready to answer its first request in "
        f"{first['total_s']:.3f} s (Guard(doc) {first['construct_s']:.3f} s + first "
        f"check_request {first['first_check_s'] * 1e3:.1f} ms on {first['path']}, whose body "
        f"schema reaches {first['schemas_reached']} schemas; once warm a call takes "
        f"{first['steady_check_s'] * 1e6:.0f} µs); target < {FIRST_REQUEST_S:g} s -> "
        f"{'MET' if targets[-1]['met'] else 'NOT MET'}")
    return "\n".join(lines), targets


# -- whole apps -----------------------------------------------------------------------------

APP_DISTRIBUTIONS = ["flask", "werkzeug", "fastapi", "starlette", "pydantic", "connexion"]
APP_FLOOR_LIMIT = 1.10  # Flask / FastAPI + schemaguard <= this x the same framework + floor
APP_REPEAT_S = 0.2  # seconds per repeat (full run); table 3 stays under ~40 s


def _versions(names: list[str]) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def measure_apps(apps: list[whole_apps.App], *, repeats: int, target_s: float
                 ) -> dict[str, dict[str, dict[str, Any]]]:
    """kind ("valid"/"invalid") -> app -> timing; the invalid request only for validating apps.
    Each timed repeat is one ``client.run(loops)`` (for ASGI: one coroutine on one loop)."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in ("valid", "invalid"):
        timers: dict[str, Timer] = {
            app.name: functools.partial(_timed_batch, app.clients[kind].run)
            for app in apps if kind == "valid" or app.validates}
        row = measure_timers(timers, repeats=repeats, target_s=target_s)
        results[kind] = row
        for name, m in row.items():
            print(f"  app {kind:8} {name:32} {m['median_us']:>10.1f} µs ({m['loops']} loops)",
                  file=sys.stderr, flush=True)
    return results


# The pairs the whole-app targets compare (valid request): app, the app it is held against.
TARGET_PAIRS = [("Flask + schemaguard", "Flask + floor middleware"),
                ("FastAPI + schemaguard", "FastAPI + floor middleware"),
                ("FastAPI + schemaguard", "FastAPI + pydantic model")]
PAIR_ROUNDS = 40  # full run (--quick: 6)
PAIR_REPEAT_S = 0.03


def measure_pairs(apps: list[whole_apps.App], *, rounds: int, target_s: float
                  ) -> dict[str, dict[str, Any]]:
    """The targets' ratios from paired runs: for each pair, ``rounds`` rounds of the two apps
    timed back to back (~``target_s`` each, the order alternating from round to round); the
    median of the per-round ratios and its quartiles. In the table's rounds the two repeats of
    a pair are apart by the other apps' repeats (seconds, on a machine whose speed drifts over
    seconds); here they are ~``target_s`` apart."""
    by_name = {app.name: app for app in apps}
    found: dict[str, dict[str, Any]] = {}
    for name, other in TARGET_PAIRS:
        if name not in by_name or other not in by_name:
            continue
        timers = [functools.partial(_timed_batch, by_name[n].clients["valid"].run)
                  for n in (name, other)]
        loops = [calibrate_timer(timer, target_s) for timer in timers]
        ratios = []
        for round_ in range(rounds):
            order = (0, 1) if round_ % 2 == 0 else (1, 0)
            per_call = [0.0, 0.0]
            for i in order:
                per_call[i] = timers[i](loops[i])[0] / loops[i]
            ratios.append(per_call[0] / per_call[1])
        quartiles = statistics.quantiles(ratios, n=4)
        found[f"{name} / {other}"] = {"ratio": statistics.median(ratios), "q1": quartiles[0],
                                      "q3": quartiles[2], "rounds": rounds}
        print(f"  pair {name} / {other}: {statistics.median(ratios):.3f} "
              f"({quartiles[0]:.3f}-{quartiles[2]:.3f})", file=sys.stderr, flush=True)
    return found


def report_apps(results: dict[str, dict[str, dict[str, Any]]], apps: list[whole_apps.App],
                statuses: dict[str, dict[str, int]], skipped: dict[str, str], repeats: int,
                target_s: float, elapsed_s: float,
                pairs: dict[str, dict[str, Any]] | None = None
                ) -> tuple[str, list[dict[str, Any]]]:
    sizes = {kind: len(client.body) for kind, client in apps[0].clients.items()}
    lines = [
        f"Whole apps, `POST /v1/pets` with the {sizes['valid'] / 1000:.1f} kB NewPet body "
        f"(invalid: the {sizes['invalid'] / 1000:.1f} kB body of table 1), each app in-process: "
        f"median µs per request, {repeats} repeats of ~{target_s:g} s each (a round times "
        "every app back to back; a ratio is the median of its per-round ratios). WSGI apps are "
        "called directly (prebuilt environ copied per request, fresh `wsgi.input`, trivial "
        "`start_response`, response iterated and closed); ASGI apps are awaited directly "
        "(prebuilt scope copied per request with its own `state` dict, as uvicorn makes it, the "
        "body in one `receive` message, a `send` that "
        "keeps the status), all requests of a repeat in one coroutine on one event loop. No "
        "HTTP client, test client or server. / floor: the same framework + the floor middleware "
        "(connexion: FastAPI's, both ASGI on Starlette). " + _versions(APP_DISTRIBUTIONS) + ".",
        "",
        "| app | valid µs | valid / floor | invalid µs | invalid / floor | invalid answered |",
        "|---|---:|---:|---:|---:|---|",
    ]
    floors = {kind: {fw: results[kind][name]
                     for fw, name in whole_apps.FLOOR.items() if name in results[kind]}
              for kind in results}
    for app in apps:
        cells = []
        for kind in ("valid", "invalid"):
            m = results[kind].get(app.name)
            floor = floors[kind].get(app.framework)
            if m is None:
                cells += ["—", "—"]
            else:
                cells += [_fmt_us(m["median_us"]),
                          f"{paired(m, floor):.2f}x" if floor else "—"]
        invalid = statuses[app.name]["invalid"]
        answered = str(invalid) if app.validates else f"{invalid} (does not validate)"
        lines.append(f"| {app.name} | " + " | ".join(cells) + f" | {answered} |")
    for name, why in skipped.items():
        lines.append(f"| {name} | — | — | — | — | not run: {why} |")
    cells = [m for row in results.values() for m in row.values()]
    retried = sum(m["retried"] for m in cells)
    contended = sum(m["contended"] for m in cells)
    lines += [
        "",
        "Notes: every app answers the valid request 201 with `{\"id\": 1, \"name\": ...}` "
        "(asserted before timing) after its handler reads the body (Flask "
        "`request.get_json()`, FastAPI `await request.json()` / the pydantic model, connexion "
        "its `body` argument); the validating apps answer the invalid one with a 4xx "
        "(asserted). schemaguard: `schemaguard.wsgi.GuardMiddleware(app.wsgi_app, spec)` / "
        "`app.add_middleware(schemaguard.asgi.GuardMiddleware, spec=...)`, response validation "
        "off (its default). openapi-core: Flask `FlaskOpenAPIViewDecorator(openapi, "
        "response_cls=None)` on the view; FastAPI a pure ASGI middleware doing what "
        "`FastAPIOpenAPIMiddleware` does for a request (that one is a BaseHTTPMiddleware and "
        "needs aioitertools); both call `unmarshal_request` as its integrations do (on this "
        "body ~6x the `validate_request` of table 2). pydantic: a hand-written `NewPet` "
        "model (strict scalars, lax date/date-time/UUID types since FastAPI validates the "
        "parsed object in Python mode, `email` as a pattern, `extra=\"forbid\"`, a "
        "discriminated union for `animal`). connexion: `AsyncApp` on the spec (Swagger UI "
        "and spec serving off), handlers generated in a temporary module, its 4xx warnings "
        "log muted (schemaguard logs "
        "rejections at INFO, not shown by default). floor middleware: reads the body, "
        "`orjson.loads`, one jsonschema-rs draft-4 `is_valid` on the plain NewPet schema, "
        "400 or the app with the same bytes; it checks no route, header or Content-Type, and "
        "its 400 lists no errors (so the invalid / floor column compares unequal work).",
        f"Machine check: {retried} of {repeats * len(cells)} repeats were re-run because "
        f"another process took the CPU; {contended} stayed contended"
        + (" (numbers are noisy, rerun on a quiet machine)." if contended else ".")
        + f" Table time {elapsed_s:.0f} s.",
    ]

    targets: list[dict[str, Any]] = []

    def ratio(kind: str, name: str, other: str) -> float | None:
        a, b = results[kind].get(name), results[kind].get(other)
        return paired(a, b) if a and b else None

    def target(what: str, name: str, other: str, limit: float, unit: str) -> None:
        in_table = ratio("valid", name, other)
        pair = (pairs or {}).get(f"{name} / {other}")
        value = pair["ratio"] if pair else in_table
        met = value is not None and value <= limit if unit == "x" else (
            value is not None and value < limit)
        targets.append({"target": what, "value": value, "limit": limit, "met": met,
                        "table_value": in_table, "paired": pair})

    for fw in ("Flask", "FastAPI"):
        target(f"{fw} + schemaguard <= {APP_FLOOR_LIMIT:.2f}x {fw} + floor middleware (valid)",
               f"{fw} + schemaguard", whole_apps.FLOOR[fw], APP_FLOOR_LIMIT, "x")
    target("FastAPI + schemaguard < FastAPI + pydantic model (valid)",
           "FastAPI + schemaguard", "FastAPI + pydantic model", 1.0, "<")
    rounds = next(iter(pairs.values()))["rounds"] if pairs else 0
    lines += ["", "Targets (whole apps)" + (
        f", from paired runs ({rounds} rounds of the two apps back to back, the order "
        "alternating; the median of the per-round ratios, the quartiles in brackets; the "
        "table's own ratio after it):" if rounds else ":")]
    for t in targets:
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}x"
        pair = t["paired"]
        if pair:
            table = "n/a" if t["table_value"] is None else f"{t['table_value']:.2f}x"
            value += f" ({pair['q1']:.2f}-{pair['q3']:.2f}x; table {table})"
        lines.append(f"- {t['target']}: {value} -> {'MET' if t['met'] else 'NOT MET'}")
    info = []
    for fw in ("Flask", "FastAPI"):
        over = ratio("invalid", f"{fw} + schemaguard", whole_apps.FLOOR[fw])
        if over is not None:
            info.append(f"{fw} + schemaguard {over:.2f}x its floor")
    over = ratio("invalid", "FastAPI + schemaguard", "FastAPI + pydantic model")
    if over is not None:
        info.append(f"FastAPI + schemaguard {over:.2f}x FastAPI + pydantic")
    lines.append("- For information, on the invalid request (no targets: the floor answers a "
                 "fixed 400 without calling the app or listing errors): " + "; ".join(info) + ".")
    return "\n".join(lines), targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 short repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the raw numbers here")
    args = parser.parse_args(argv)
    repeats, target_s = (3, 0.03) if args.quick else (7, 0.25)

    started = time.perf_counter()
    print(header())
    print()
    # First, while nothing has been compiled in this process yet.
    first = time_to_first_request()
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec = sg.load_spec(SPEC)
    peers = {key: build_peers(name, spec, document) for key, name in SCHEMAS.items()}
    raw = bodies.all_bodies()
    sizes = {name: len(text) for name, text in raw.items()}
    parsed = {name: orjson.loads(text) for name, text in raw.items()}
    n_pets = len(parsed["pet_batch_valid"]["pets"])
    counts = verify(peers, parsed)

    results: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for body_name, operation in ROWS:
        schema_key, _, kind = body_name.rpartition("_")
        fns: dict[str, Callable[[Any], Any]] = {}
        for name in VALIDATORS:
            peer = peers[schema_key][name]
            if operation == "is_valid":
                fns[name] = peer.check_valid if kind == "valid" else peer.check_invalid
            elif peer.errors is not None:
                fns[name] = peer.errors
        row = measure_row(fns, parsed[body_name], repeats=repeats, target_s=target_s)
        results[(body_name, operation)] = row
        for name, m in row.items():
            print(f"  {body_name:18} {operation:16} {name:25} {m['median_us']:>12.2f} µs "
                  f"({m['loops']} loops)", file=sys.stderr, flush=True)

    validators, cases = whole_requests.build(SPEC, document)
    whole_requests.verify(validators, cases)
    request_results = measure_requests(validators, cases, repeats=repeats, target_s=target_s)

    apps_started = time.perf_counter()
    app_repeat_s = APP_REPEAT_S if not args.quick else target_s
    apps, skipped, loop = whole_apps.build(SPEC)
    try:
        statuses = whole_apps.verify(apps)
        app_results = measure_apps(apps, repeats=repeats, target_s=app_repeat_s)
        app_pairs = measure_pairs(apps, rounds=6 if args.quick else PAIR_ROUNDS,
                                  target_s=PAIR_REPEAT_S)
    finally:
        loop.close()
    apps_elapsed = time.perf_counter() - apps_started

    table, targets = report(results, sizes, n_pets, counts, repeats, target_s)
    print(table)
    print()
    request_table, request_targets = report_requests(request_results, cases, first, repeats,
                                                     target_s)
    print(request_table)
    print()
    app_table, app_targets = report_apps(app_results, apps, statuses, skipped, repeats,
                                         app_repeat_s, apps_elapsed, app_pairs)
    print(app_table)
    print()
    check_result = check_bench.measure(repeats=1 if args.quick else 3)
    print("\n".join(check_bench.table(check_result)))
    print()
    protect_results = measure_row(protect_bench.calls(), None, repeats=repeats,
                                  target_s=target_s)
    protect_table, protect_targets = protect_bench.table(protect_results,
                                                         len(protect_bench.page()))
    print(protect_table)
    with protect_bench.redis_server() as redis_url:
        limiter_results = measure_row(protect_bench.limiter_calls(redis_url), None,
                                      repeats=repeats, target_s=target_s)
    print(protect_bench.limiter_table(limiter_results))
    print("\n".join(f"- {t}" for t in protect_targets))
    elapsed = time.perf_counter() - started
    print(f"\n(total run time {elapsed:.0f} s)")
    if args.json:
        out = {
            "header": header(),
            "python": platform.python_version(),
            "versions": {d: version(d) for d in DISTRIBUTIONS},
            "cpu_count": os.cpu_count(),
            "schemaguard_compiled": sg.COMPILED,
            "schemaguard_profile_guided": profile_guided(),
            "repeats": repeats,
            "target_s": target_s,
            "body_bytes": sizes,
            "pets_in_batch": n_pets,
            "errors_reported": counts,
            "results": [
                {"body": b, "operation": op, "validator": v, **m}
                for (b, op), row in results.items() for v, m in row.items()
            ],
            "targets": targets,
            "requests": [
                {"request": key, "validator": v, **m}
                for key, row in request_results.items() for v, m in row.items()
            ],
            "request_targets": request_targets,
            "first_request": first,
            "apps": [
                {"app": name, "request": kind, **m}
                for kind, row in app_results.items() for name, m in row.items()
            ],
            "app_statuses": statuses,
            "apps_skipped": skipped,
            "app_versions": _versions(APP_DISTRIBUTIONS),
            "app_targets": app_targets,
            "check": check_result,
            "run_time_s": elapsed,
        }
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
