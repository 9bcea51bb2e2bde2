"""schemathesis and ``schemaguard fuzz`` side by side on examples/buggy_app.py.

    python benchmarks/fuzz_compare.py [--seed 1] [--max-examples N] [--schemathesis PATH]

Each tool gets a fresh ``examples.buggy_app:create_app()`` served by werkzeug on 127.0.0.1 (a
free port, threaded), wrapped in a WSGI counter, so both are measured the same way: requests are
counted server-side and seconds are the wall time of the tool's process (startup included). The
printed Markdown table says, for each of the app's seven seeded bugs, whether each tool found it,
then lists every other (operation, check) failure a tool reported.

A finding is a (method, path template, check) triple; a bug is found when a finding has the
bug's check on the bug's operation (for ``unsupported_method``: any method on the bug's path).
schemathesis's ``not_a_server_error`` counts as ``server_error``, ``max_response_time`` as
``response_time``.

schemathesis lives in its own venv, so it does not touch the project's dependencies:

    python3 -m venv ../st-venv && ../st-venv/bin/pip install schemathesis

It runs with all its checks (``--checks all``), ``-H "X-API-Key: secret-key"``, the seed, no
example database (``--generation-database none``: runs do not feed each other) and its NDJSON
event report, which names the check and the case's method and path of every failure. By default
it stops testing an operation at its first failure; ``--st-continue-on-failure`` passes
``--continue-on-failure``. ``schemaguard fuzz`` runs as ``python -m schemaguard fuzz SPEC --url
URL --seed N --junit-xml FILE --credential apiKey=secret-key``; its JUnit report has one
``<testcase classname="METHOD /path" name="CHECK">`` per check that failed, with a
``<failure type="CHECK">`` per failure. A tool that is missing is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "buggy.yaml"
sys.path.insert(0, str(ROOT))

from examples.buggy_app import API_KEY, create_app  # noqa: E402

OPERATIONS = {  # operationId -> (method, path template)
    "listItems": ("GET", "/items"),
    "createItem": ("POST", "/items"),
    "getItem": ("GET", "/items/{itemId}"),
    "deleteItem": ("DELETE", "/items/{itemId}"),
}
OPERATION_IDS = {key: op_id for op_id, key in OPERATIONS.items()}


@dataclass(frozen=True)
class Bug:
    id: int
    check: str
    operation: str  # an operationId, or a path template for unsupported_method
    what: str

    def matches(self, method: str, path: str, check: str) -> bool:
        if check != self.check:
            return False
        if self.operation.startswith("/"):
            return path == self.operation
        return OPERATIONS[self.operation] == (method, path)


BUGS = [
    Bug(1, "server_error", "listItems", "`limit=100` -> 500"),
    Bug(2, "negative_data_rejection", "createItem", "no `price` / long `name` -> 201"),
    Bug(3, "response_schema_conformance", "createItem", "price 2.5 answered as \"2.50\""),
    Bug(4, "positive_data_acceptance", "listItems", "`sort=created` -> 400"),
    Bug(5, "ignored_auth", "deleteItem", "no `X-API-Key` still deletes"),
    Bug(6, "unsupported_method", "/items/{itemId}", "undocumented `PUT` -> 200"),
    Bug(7, "content_type_conformance", "getItem", "404 is `text/plain`"),
]
# Other (operation-or-path, check) failures known to follow from a seeded bug.
CONSEQUENCES = {
    ("listItems", "status_code_conformance"): 1,  # the 500 is not a declared status
    ("listItems", "content_type_conformance"): 1,  # and Flask's 500 page is text/html
    ("deleteItem", "missing_required_header"): 5,  # the key header treated as required
    ("/items/{itemId}", "allow_header_conformance"): 6,  # Allow: lists PUT
    ("getItem", "response_schema_conformance"): 7,  # "not found" is no Error document
}
CHECK_ALIASES = {"not_a_server_error": "server_error", "max_response_time": "response_time"}

Finding = tuple[str, str, str]  # (METHOD, /path/template, check)


@dataclass
class Run:
    tool: str
    ran: bool = False
    note: str = ""
    requests: int = 0
    seconds: float = 0.0
    findings: set[Finding] = field(default_factory=set)

    def found(self, bug: Bug) -> bool:
        return any(bug.matches(*finding) for finding in self.findings)

    def others(self) -> list[str]:
        """Findings that match no bug, as 'operation check' with known causes noted."""
        out = []
        for method, path, check in sorted(self.findings):
            if any(bug.matches(method, path, check) for bug in BUGS):
                continue
            op = OPERATION_IDS.get((method, path), f"{method} {path}")
            cause = CONSEQUENCES.get((op, check)) or CONSEQUENCES.get((path, check))
            out.append(f"{op} {check}" + (f" (follows from bug {cause})" if cause else ""))
        return out


# -- the server -------------------------------------------------------------------------------


class Counted:
    """A WSGI app that counts the requests it is handed."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            self.count += 1
        return self.app(environ, start_response)


@contextmanager
def serving() -> Iterator[tuple[str, Counted]]:
    """A fresh buggy app on a free loopback port: (base URL, its counter)."""
    from werkzeug.serving import make_server

    app = create_app()
    app.logger.disabled = True  # bug 1's tracebacks
    counted = Counted(app)
    server = make_server("127.0.0.1", 0, counted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", counted
    finally:
        server.shutdown()
        thread.join()


def timed(
    run: Run, command: list[str], workdir: Path, log: Path
) -> subprocess.CompletedProcess[str]:
    with serving() as (url, counted):
        command = [part.replace("{URL}", url) for part in command]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
        run.seconds = time.perf_counter() - start
        run.requests = counted.count
    log.write_text(f"$ {' '.join(command)}\n(exit {done.returncode})\n{done.stdout}\n{done.stderr}")
    run.ran = True
    return done


# -- schemathesis -----------------------------------------------------------------------------


def find_schemathesis(given: str | None) -> str | None:
    if given:
        return given if Path(given).exists() or shutil.which(given) else None
    beside = ROOT.parent / "st-venv" / "bin" / "schemathesis"
    return shutil.which("schemathesis") or (str(beside) if beside.exists() else None)


def schemathesis_command(binary: str, args: argparse.Namespace, report: Path) -> list[str]:
    command = [
        binary, "run", str(SPEC), "--url", "{URL}", "-H", f"X-API-Key: {API_KEY}",
        "--checks", "all", "--seed", str(args.seed), "--generation-database", "none",
        "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
    ]
    if args.max_examples:
        command += ["--max-examples", str(args.max_examples)]
    if args.st_continue_on_failure:
        command.append("--continue-on-failure")
    return command


def schemathesis_findings(events: Iterable[str]) -> set[Finding]:
    """(method, path, check) of every failed check in a schemathesis v4 NDJSON event report."""
    found: set[Finding] = set()
    for line in events:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            case = recorder["cases"][case_id]["value"]
            for check in checks:
                if check["status"] == "failure":
                    name = CHECK_ALIASES.get(check["name"], check["name"])
                    found.add((case["method"].upper(), case["path"], name))
    return found


def run_schemathesis(args: argparse.Namespace, workdir: Path) -> Run:
    run = Run("schemathesis")
    binary = find_schemathesis(args.schemathesis)
    if binary is None:
        run.note = "not installed (see --schemathesis)"
        return run
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    run.tool = f"schemathesis {version.stdout.split()[-1]}" if version.stdout else run.tool
    report = workdir / "schemathesis.ndjson"
    done = timed(run, schemathesis_command(binary, args, report), workdir,
                 workdir / "schemathesis.log")
    if not report.exists():
        run.note = f"no report (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        return run
    with report.open(encoding="utf-8") as lines:
        run.findings = schemathesis_findings(lines)
    return run


# -- schemaguard fuzz -------------------------------------------------------------------------


def schemaguard_findings(junit_xml: str) -> set[Finding]:
    """(method, path, check) of every <failure> in a ``schemaguard fuzz`` JUnit report."""
    found: set[Finding] = set()
    for case in ET.fromstring(junit_xml).iter("testcase"):
        where = case.get("classname") or ""
        method, _, path = where.partition(" ")
        if where in OPERATIONS:  # an operationId instead of "METHOD /path"
            method, path = OPERATIONS[where]
        for failure in case.iter("failure"):
            check = failure.get("type") or case.get("name") or "?"
            found.add((method.upper(), path, CHECK_ALIASES.get(check, check)))
    return found


def run_schemaguard(args: argparse.Namespace, workdir: Path) -> Run:
    run = Run("schemaguard fuzz")
    base = [sys.executable, "-m", "schemaguard", "fuzz"]
    probe = subprocess.run([*base, "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        run.note = "`schemaguard fuzz` is not available here"
        return run
    report = workdir / "schemaguard.xml"
    command = [*base, str(SPEC), "--url", "{URL}", "--seed", str(args.seed),
               "--junit-xml", str(report), "--credential", f"apiKey={API_KEY}"]
    if args.max_examples:
        command += ["--max-examples", str(args.max_examples)]
    done = timed(run, command, workdir, workdir / "schemaguard.log")
    if not report.exists():
        run.note = f"no report (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        return run
    run.findings = schemaguard_findings(report.read_text(encoding="utf-8"))
    return run


# -- the table --------------------------------------------------------------------------------


def table(runs: list[Run]) -> str:
    def cell(run: Run, bug: Bug) -> str:
        return "—" if not run.ran else ("found" if run.found(bug) else "**missed**")

    head = ["#", "bug", "check", "operation", *(run.tool for run in runs)]
    rows = [head, ["---"] * len(head)]
    for bug in BUGS:
        rows.append([str(bug.id), bug.what, f"`{bug.check}`", bug.operation,
                     *(cell(run, bug) for run in runs)])
    rows.append(["", "**bugs found**", "", "",
                 *(f"**{sum(run.found(b) for b in BUGS)}/7**" if run.ran else "—" for run in runs)])
    rows.append(["", "requests (server-side)", "", "",
                 *(str(run.requests) if run.ran else "—" for run in runs)])
    rows.append(["", "seconds (wall)", "", "",
                 *(f"{run.seconds:.1f}" if run.ran else "—" for run in runs)])
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    for run in runs:
        if run.note:
            lines.append(f"\n{run.tool}: {run.note}")
        elif run.ran:
            others = run.others()
            lines.append(f"\n{run.tool}, other failures: " + ("; ".join(others) or "none"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=None,
                        help="passed to both tools (default: each tool's own)")
    parser.add_argument("--schemathesis", default=None, metavar="PATH",
                        help="the schemathesis binary (default: on PATH, else ../st-venv)")
    parser.add_argument("--st-continue-on-failure", action="store_true",
                        help="let schemathesis go on testing an operation after a failure")
    parser.add_argument("--only", choices=["schemathesis", "schemaguard"], default=None)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="keep the reports and logs of both tools in DIR")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    workdir = Path(tempfile.mkdtemp(prefix="fuzz_compare."))
    try:
        runs = []
        for name, runner in (("schemathesis", run_schemathesis), ("schemaguard", run_schemaguard)):
            if args.only in (None, name):
                sub = workdir / name  # each tool starts in an empty directory
                sub.mkdir()
                runs.append(runner(args, sub))
        print(f"Seed {args.seed}, max examples: {args.max_examples or 'tool default'}, "
              f"spec {SPEC.relative_to(ROOT)}, app examples/buggy_app.py\n")
        print(table(runs))
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(run.ran for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
