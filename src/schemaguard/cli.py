"""The ``schemaguard`` command: argument parsing, printing and exit codes only.

``schemaguard check SPEC...`` validates and lints specs (exit 0 clean, 1 error-level findings,
2 usage errors or unreadable input). ``schemaguard inspect SPEC`` compiles every schema the
operations use and checks the spec's own examples against them.
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and 2
    if args.command == "inspect":
        return inspect(args.spec, sys.stdout)
    if args.list_rules:
        for rule, (severity, summary) in RULES.items():
            print(f"{rule}  {severity:7}  {summary}")
        return 0
    if not args.specs:
        print("error: give at least one SPEC (or - for stdin)", file=sys.stderr)
        return 2
    return check(args, sys.stdout, sys.stderr)
