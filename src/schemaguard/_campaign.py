"""A `schemaguard fuzz` run: the target, the operations, workers, progress and reports."""

from __future__ import annotations

import importlib
import inspect
import os
import random
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, TextIO
from xml.etree import ElementTree

from ._fuzz import (
    COVERAGE,
    AsgiTarget,
    OperationReport,
    Target,
    UrlTarget,
    WsgiTarget,
    fuzz_operation,
    oracle,
)
from ._guard import Guard
from ._operation import Operation
from ._spec import load_spec

PLACEHOLDER_URL = "http://127.0.0.1:8000"


class Unusable(Exception):
    """The spec, the app or the URL cannot be used (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a run (or one worker of it) needs; plain data, so it pickles."""

    spec: str
    app: str | None = None
    url: str | None = None
    allow_remote: bool = False
    max_examples: int = 100
    max_time: float | None = None
    seed: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    credentials: tuple[tuple[str, str], ...] = ()
    exclude_methods: frozenset[str] = frozenset()
    max_response_time: float | None = None
    coverage: int = COVERAGE


@dataclass(slots=True)
class Outcome:
    reports: list[OperationReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return sum(len(r.failures) for r in self.reports)


def load_app(reference: str) -> Callable[..., Any]:
    """``module:attr`` or ``module:factory()`` (the current directory is importable)."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise Unusable(f"--app needs MODULE:ATTR, got {reference!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise Unusable(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    call = attr.endswith("()")
    name = attr[:-2] if call else attr
    app = getattr(module, name, None)
    if app is None:
        raise Unusable(f"{module_name!r} has no attribute {name!r}")
    if call:
        try:
            app = app()
        except Exception as exc:
            raise Unusable(f"{reference} raised {type(exc).__name__}: {exc}") from None
    if not callable(app):
        raise Unusable(f"{reference} is not a WSGI or ASGI app")
    return app  # type: ignore[no-any-return]


def is_asgi(app: Any) -> bool:
    """An ASGI app is a coroutine function, or an object whose __call__ is one."""
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        type(app).__call__)


def make_target(plan: Plan) -> Target:
    if plan.url is not None:
        try:
            return UrlTarget(plan.url, allow_remote=plan.allow_remote)
        except ValueError as exc:
            raise Unusable(str(exc)) from None
    if plan.app is None:
        raise Unusable("give --app MODULE:ATTR or --url URL")
    app = load_app(plan.app)
    return AsgiTarget(app) if is_asgi(app) else WsgiTarget(app)


def make_guard(plan: Plan) -> Guard:
    try:
        return oracle(load_spec(plan.spec))
    except Exception as exc:  # SpecError, ValueError: the spec cannot be used
        raise Unusable(f"{plan.spec}: {exc}") from None


def selected(guard: Guard, plan: Plan) -> list[Operation]:
    return [op for op in guard.operations if op.method not in plan.exclude_methods]


def operation_seed(seed: int, operation: Operation) -> int:
    """Each operation's own seed, so a run repeats whatever the number of workers."""
    return (seed + zlib.crc32(f"{operation.method} {operation.path_template}".encode())) % 2**32


def run_operations(plan: Plan, indexes: Sequence[int] | None = None,
                   deadline: float | None = None,
                   progress: Callable[[OperationReport], None] | None = None,
                   ) -> list[OperationReport]:
    """Fuzz the selected operations (those at ``indexes``, or all) in this process."""
    guard = make_guard(plan)
    target = make_target(plan)
    operations = selected(guard, plan)
    chosen = [operations[i] for i in indexes] if indexes is not None else operations
    reports = []
    try:
        for operation in chosen:
            report = fuzz_operation(
                guard, target, operation, credentials=dict(plan.credentials),
                headers=plan.headers, max_examples=plan.max_examples,
                seed=operation_seed(plan.seed, operation), deadline=deadline,
                max_response_time=plan.max_response_time, coverage=plan.coverage)
            reports.append(report)
            if progress is not None:
                progress(report)
    finally:
        close = getattr(target, "close", None)
        if close is not None:
            close()
    return reports


def _worker(plan: Plan, indexes: list[int],
            wall_deadline: float | None) -> list[OperationReport]:
    return run_operations(plan, indexes, _monotonic(wall_deadline))


def run(plan: Plan, workers: int = 1, err: TextIO | None = None) -> Outcome:
    """Fuzz every selected operation, spread over ``workers`` processes."""
    started = time.monotonic()
    deadline = None if plan.max_time is None else time.time() + plan.max_time
    guard = make_guard(plan)
    operations = selected(guard, plan)
    bar = _Progress(len(operations), err)
    outcome = Outcome()
    if workers <= 1 or len(operations) <= 1:
        make_target(plan)  # fail early (exit 2) on an unusable target
        outcome.reports = run_operations(plan, None, _monotonic(deadline), bar.advance)
    else:
        make_target(plan)
        chunks = [list(range(i, len(operations), workers)) for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_worker, plan, chunk, deadline) for chunk in chunks if chunk]
            for future in as_completed(futures):
                for report in future.result():
                    outcome.reports.append(report)
                    bar.advance(report)
        order = {(op.method, op.path_template): i for i, op in enumerate(operations)}
        outcome.reports.sort(key=lambda r: order[(r.operation.method,
                                                  r.operation.path_template)])
    bar.done()
    outcome.seconds = time.monotonic() - started
    return outcome


def _monotonic(wall_deadline: float | None) -> float | None:
    if wall_deadline is None:
        return None
    return time.monotonic() + (wall_deadline - time.time())


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, out: TextIO | None) -> None:
        self.total, self.done_count = total, 0
        self.out = out if out is not None and out.isatty() else None

    def advance(self, report: OperationReport) -> None:
        self.done_count += 1
        if self.out is not None:
            filled = int(30 * self.done_count / max(self.total, 1))
            label = f"{report.operation.method} {report.operation.path_template}"[:40]
            self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] "
                           f"{self.done_count}/{self.total} {label:40}")
            self.out.flush()

    def done(self) -> None:
        if self.out is not None:
            self.out.write("\r" + " " * 80 + "\r")
            self.out.flush()


# -- reports -------------------------------------------------------------------------------------

def _label(operation: Operation) -> str:
    return f"{operation.method} {operation.path_template}"


def secret_headers(plan: Plan, guard: Guard) -> frozenset[str]:
    """Header names whose values a report must not show."""
    names = {"authorization", "proxy-authorization"}
    names.update(name.lower() for name, _ in plan.headers)
    schemes = (guard.spec.content.get("components") or {}).get("securitySchemes") or {}
    for scheme in schemes.values():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and \
                scheme.get("in") == "header" and isinstance(scheme.get("name"), str):
            names.add(scheme["name"].lower())
    return frozenset(names)


def print_report(plan: Plan, outcome: Outcome, secrets: frozenset[str], out: TextIO) -> None:
    base = plan.url or PLACEHOLDER_URL
    target = plan.url or plan.app
    print(f"schemaguard fuzz {plan.spec} -> {target} (seed {plan.seed})", file=out)
    width = max((len(_label(r.operation)) for r in outcome.reports), default=10)
    for report in outcome.reports:
        operation = report.operation
        state = (f"{len(report.failures)} failure{'s' if len(report.failures) != 1 else ''}"
                 if report.failures else "ok")
        print(f"  {_label(operation):{width}}  {operation.operation_id or '-':20} "
              f"{report.requests:5} requests  {state}", file=out)
        if report.note:
            print(f"  {'':{width}}  ({report.note})", file=out)
    failures = [f for r in outcome.reports for f in r.failures]
    if failures:
        print("", file=out)
        print("Failures:", file=out)
    for i, failure in enumerate(failures, 1):
        operation = failure.operation
        print(f"{i}. {failure.check}  {_label(operation)}"
              f"{f' ({operation.operation_id})' if operation.operation_id else ''}", file=out)
        print(f"   {failure.message}", file=out)
        if failure.case.rule is not None:
            print(f"   request breaks: {failure.case.rule}", file=out)
        print(f"   {failure.case.curl(base, secrets=secrets)}", file=out)
    requests = sum(r.requests for r in outcome.reports)
    failing = sum(1 for r in outcome.reports if r.failures)
    print("", file=out)
    summary = (f"{len(failures)} failure{'s' if len(failures) != 1 else ''} in {failing} "
               f"operation{'s' if failing != 1 else ''}" if failures else "no failures")
    print(f"{summary}; {len(outcome.reports)} operations, {requests} requests, "
          f"{outcome.seconds:.1f} s; repeat with --seed {plan.seed}", file=out)
    if failures and plan.app is not None:
        print(f"(curl lines assume the app is served at {PLACEHOLDER_URL})", file=out)


def write_junit(path: str, plan: Plan, outcome: Outcome, secrets: frozenset[str]) -> None:
    failures = [f for r in outcome.reports for f in r.failures]
    suite = ElementTree.Element("testsuite", {
        "name": "schemaguard fuzz", "tests": str(len(outcome.reports) + len(failures)),
        "failures": str(len(failures)), "errors": "0", "time": f"{outcome.seconds:.3f}",
    })
    base = plan.url or PLACEHOLDER_URL
    for report in outcome.reports:
        label = _label(report.operation)
        if not report.failures:
            ElementTree.SubElement(suite, "testcase", {
                "classname": label, "name": "conformance", "time": f"{report.seconds:.3f}"})
        for failure in report.failures:
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": label, "name": failure.check, "time": f"{report.seconds:.3f}"})
            node = ElementTree.SubElement(case, "failure", {"type": failure.check,
                                                            "message": failure.message})
            lines = [failure.case.curl(base, secrets=secrets), f"seed: {plan.seed}"]
            if failure.case.rule is not None:
                lines.insert(0, f"request breaks: {failure.case.rule}")
            node.text = "\n".join(lines)
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)
