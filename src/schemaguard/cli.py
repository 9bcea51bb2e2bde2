"""The ``schemaguard`` command: argument parsing, printing and exit codes only.

``schemaguard check SPEC...`` validates and lints specs (exit 0 clean, 1 error-level findings,
2 usage errors or unreadable input). ``schemaguard inspect SPEC`` compiles every schema the
operations use and checks the spec's own examples against them. ``schemaguard fuzz SPEC``
sends generated requests at an app (exit 0 conforming, 1 failures, 2 unusable spec or target).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._lint import RULES, SEVERITIES, Finding, Unreadable, check_spec_file
from ._schema import compile_at
from ._source import decode, split_pointer
from ._spec import load_spec
from ._version import __version__
from .errors import SpecError


def _value_at(document: Any, pointer: str) -> Any:
    for token in split_pointer(pointer):
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def inspect(path: str, out: TextIO) -> int:
    """Compile a spec's schemas and check its examples; 0 when all examples conform."""
    started = time.perf_counter()
    try:
        spec = load_spec(path)
    except SpecError as exc:
        print(f"error: {exc}", file=out)
        return 1
    loaded = time.perf_counter()
    compiled = {}
    for use in spec.index.uses:
        key = (use.uri, use.pointer, use.context)
        compiled[key] = compile_at(spec, use.pointer, context=use.context, uri=use.uri)
    done = time.perf_counter()
    print(f"{path}: OpenAPI {spec.version} ({spec.dialect}); loaded in "
          f"{(loaded - started) * 1000:.1f} ms, {len(compiled)} schemas compiled in "
          f"{(done - loaded) * 1000:.1f} ms", file=out)
    for uri, pointer, context in compiled:
        print(f"  compiled  {spec.display(uri, pointer)}  [{context or 'any'}]", file=out)
    rejected = 0
    for example in spec.index.examples:
        key = (example.schema_uri, example.schema_pointer, example.context)
        validator = compiled.get(key) or compile_at(
            spec, example.schema_pointer, context=example.context, uri=example.schema_uri
        )
        value = _value_at(spec.document(example.uri).content, example.pointer)
        where = spec.display(example.uri, example.pointer)
        violations = list(validator.iter_violations(value))
        if not violations:
            print(f"  accepted  example {where}", file=out)
            continue
        rejected += 1
        first = violations[0]
        print(f"  rejected  example {where}: {first.message} at `{first.pointer or '/'}` "
              f"({first.keyword})", file=out)
    print(f"{len(spec.index.examples)} examples: {len(spec.index.examples) - rejected} accepted, "
          f"{rejected} rejected", file=out)
    return 1 if rejected else 0


def _rules(value: str) -> list[str]:
    return [item.strip().upper() for item in value.split(",") if item.strip()]


def _matches(rule: str, patterns: list[str]) -> bool:
    return any(rule.startswith(pattern) for pattern in patterns)


def check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `schemaguard check`; the exit code is the highest of the files'."""
    baseline: set[str] = set()
    if args.baseline:
        try:
            baseline = set(json.loads(Path(args.baseline).read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            print(f"error: cannot read the baseline {args.baseline}", file=err)
            return 2
    unknown = [r for r in (args.select or []) + (args.ignore or [])
               if not any(rule.startswith(r) for rule in RULES)]
    if unknown:
        print(f"error: unknown rule {unknown[0]} (see `schemaguard check --list-rules`)",
              file=err)
        return 2
    code = 0
    found: list[Finding] = []
    for path in args.specs:
        try:
            if path == "-":
                raw = sys.stdin.buffer.read()
                findings = check_spec_file("-", decode(raw, "<stdin>"))
            else:
                findings = check_spec_file(path)
        except (Unreadable, SpecError) as exc:
            print(f"error: {exc}", file=err)
            code = 2
            continue
        findings = [f for f in findings
                    if (not args.select or _matches(f.rule, args.select))
                    and not (args.ignore and _matches(f.rule, args.ignore))
                    and f.fingerprint not in baseline]
        found += findings
        failing = {"error", "warning"} if args.strict else {"error"}
        if any(f.severity in failing for f in findings):
            code = max(code, 1)
    if args.write_baseline:
        Path(args.write_baseline).write_text(
            json.dumps(sorted({f.fingerprint for f in found}), indent=2) + "\n", "utf-8")
        print(f"wrote {len(found)} findings to {args.write_baseline}", file=err)
        return 0 if code < 2 else code
    try:
        render(found, args.format, out, color=args.format == "text" and out.isatty(),
               summary=code < 2 or bool(found))
    except BrokenPipeError:  # `schemaguard check ... | head`
        sys.stderr.close()
    return code


def render(findings: list[Finding], fmt: str, out: TextIO, *, color: bool = False,
           summary: bool = True) -> None:
    if fmt == "json":
        json.dump([f.to_dict() for f in findings], out, indent=2)
        out.write("\n")
        return
    if fmt == "sarif":
        json.dump(sarif(findings), out, indent=2)
        out.write("\n")
        return
    paint = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"} if color else {}
    reset = "\033[0m" if color else ""
    for finding in findings:
        where = f"{finding.file or '-'}:{finding.line or 0}:{finding.column or 0}"
        severity = f"{paint.get(finding.severity, '')}{finding.severity}{reset}"
        print(f"{where}: {severity} {finding.rule} {finding.message}", file=out)
    if summary:
        counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
        print(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes",
              file=out)


def sarif(findings: list[Finding]) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning upload."""
    level = {"error": "error", "warning": "warning", "info": "note"}
    rules = [{"id": rule, "shortDescription": {"text": summary},
              "defaultConfiguration": {"level": level[severity]}}
             for rule, (severity, summary) in RULES.items()]
    results = []
    for finding in findings:
        region = {"startLine": finding.line or 1, "startColumn": finding.column or 1}
        results.append({
            "ruleId": finding.rule,
            "level": level[finding.severity],
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": finding.file or "-"}, "region": region}}],
            "partialFingerprints": {"schemaguard/v1": finding.fingerprint},
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "schemaguard", "version": __version__,
                                      "informationUri": "https://github.com/schemaguard",
                                      "rules": rules}},
                  "results": results}],
    }


def _header(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {value!r}")
    return name.strip(), rest.strip()


def _credential(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected SCHEME=VALUE, got {value!r}")
    return name, rest


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("expected 0 or a positive integer")
    return number


def _fuzz_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("spec", help="path to an OpenAPI 3.0/3.1 document")
    target = cmd.add_mutually_exclusive_group(required=True)
    target.add_argument("--app", help="an in-process WSGI or ASGI app: MODULE:ATTR or "
                                      "MODULE:FACTORY()")
    target.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    cmd.add_argument("--allow-remote", action="store_true",
                     help="let --url point at a host other than this machine")
    cmd.add_argument("--max-examples", type=_positive, default=100,
                     help="random requests per operation and kind (default 100)")
    cmd.add_argument("--coverage", type=_count, default=100, metavar="N",
                     help="requests of the coverage pass per operation and kind, before "
                          "the random ones (every rule broken once, every edge reached; "
                          "default 100, 0 skips it)")
    cmd.add_argument("--max-time", type=float, help="stop sending after this many seconds")
    cmd.add_argument("--seed", type=int, help="repeat a run exactly")
    cmd.add_argument("--header", type=_header, action="append", default=[],
                     metavar="'NAME: VALUE'", help="add a header to every request")
    cmd.add_argument("--credential", type=_credential, action="append", default=[],
                     metavar="SCHEME=VALUE", help="a credential for a security scheme: an API "
                     "key, user:password for basic, a token for bearer/oauth2/openIdConnect")
    cmd.add_argument("--exclude-method", action="append", default=[], metavar="METHOD",
                     help="skip operations with this method (e.g. DELETE)")
    cmd.add_argument("--max-response-time", type=float, metavar="MS",
                     help="report answers slower than this many milliseconds")
    cmd.add_argument("--workers", type=_positive, default=1,
                     help="spread operations over this many processes")
    cmd.add_argument("--junit-xml", metavar="FILE", help="also write a JUnit XML report")


def fuzz(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `schemaguard fuzz`: 0 when nothing failed, 1 on failures, 2 when unusable."""
    try:
        from . import _campaign
    except ImportError as exc:  # hypothesis is the [fuzz] extra
        print(f"error: schemaguard fuzz needs the fuzz extra (pip install "
              f"'schemaguard[fuzz]'): {exc}", file=err)
        return 2
    plan = _campaign.Plan(
        spec=args.spec, app=args.app, url=args.url, allow_remote=args.allow_remote,
        max_examples=args.max_examples, max_time=args.max_time,
        seed=args.seed if args.seed is not None else _campaign.new_seed(),
        headers=tuple(args.header), credentials=tuple(args.credential),
        exclude_methods=frozenset(m.upper() for m in args.exclude_method),
        max_response_time=(args.max_response_time / 1000
                           if args.max_response_time is not None else None),
        coverage=args.coverage,
    )
    try:
        guard = _campaign.make_guard(plan)
        outcome = _campaign.run(plan, args.workers, err)
    except _campaign.Unusable as exc:
        print(f"error: {exc}", file=err)
        return 2
    secrets = _campaign.secret_headers(plan, guard)
    _campaign.print_report(plan, outcome, secrets, out)
    if args.junit_xml:
        _campaign.write_junit(args.junit_xml, plan, outcome, secrets)
    return 1 if outcome.failures else 0


def drift(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`schemaguard drift`: 0 when traffic and spec agree, 1 on drift, 2 when unusable."""
    from ._drift import load_recording
    from ._guard import Guard
    from ._recording import drift_report

    try:
        spec = load_spec(args.spec)
        recording = load_recording(args.recording)
    except (SpecError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    schemes = (spec.content.get("components") or {}).get("securitySchemes") or {}
    report = drift_report(Guard(spec, verifiers=dict.fromkeys(schemes, bool)), recording)
    lines = report.lines()
    if args.format == "json":
        print(json.dumps({"drifts": report.drifts, "recording": recording,
                          "patch": report.patch}, indent=2), file=out)
    else:
        print(f"Drift between {args.spec} and the traffic in {args.recording}", file=out)
        print("", file=out)
        print("\n".join(lines), file=out)
    if args.patch:
        Path(args.patch).write_text(json.dumps(report.patch, indent=2) + "\n", "utf-8")
    return 1 if report.drifts else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="schemaguard",
                                     description="Guard HTTP APIs with their OpenAPI contract.")
    parser.add_argument("--version", action="version", version=f"schemaguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="validate and lint OpenAPI specs")
    check_cmd.add_argument("specs", nargs="*", metavar="SPEC", help="spec files (- for stdin)")
    check_cmd.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check_cmd.add_argument("--select", type=_rules, help="only these rule ids or prefixes")
    check_cmd.add_argument("--ignore", type=_rules, help="skip these rule ids or prefixes")
    check_cmd.add_argument("--baseline", help="JSON file of findings to accept")
    check_cmd.add_argument("--write-baseline", metavar="FILE",
                           help="write the current findings as a baseline and exit 0")
    check_cmd.add_argument("--strict", action="store_true", help="warnings fail too")
    check_cmd.add_argument("--list-rules", action="store_true", help="print the rules")
    inspect_cmd = commands.add_parser("inspect", help="compile a spec and check its examples")
    inspect_cmd.add_argument("spec", help="path to an OpenAPI 3.0/3.1 document")
    _fuzz_arguments(commands.add_parser(
        "fuzz", help="send generated requests at an app and report where it breaks the spec"))
    drift_cmd = commands.add_parser(
        "drift", help="report what recorded traffic shows that the spec does not say")
    drift_cmd.add_argument("spec", help="path to an OpenAPI 3.0/3.1 document")
    drift_cmd.add_argument("recording", help="a file saved by sg.DriftRecorder")
    drift_cmd.add_argument("--patch", metavar="FILE",
                           help="write the proposed changes as a JSON Patch (RFC 6902)")
    drift_cmd.add_argument("--format", choices=("text", "json"), default="text")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    if args.command == "inspect":
        return inspect(args.spec, sys.stdout)
    if args.command == "fuzz":
        return fuzz(args, sys.stdout, sys.stderr)
    if args.command == "drift":
        return drift(args, sys.stdout, sys.stderr)
    if args.list_rules:
        for rule, (severity, summary) in RULES.items():
            print(f"{rule}  {severity:7}  {summary}")
        return 0
    if not args.specs:
        print("error: give at least one SPEC (or - for stdin)", file=sys.stderr)
        return 2
    return check(args, sys.stdout, sys.stderr)
