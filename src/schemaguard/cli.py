"""The ``schemaguard`` command: argument parsing, printing and exit codes only.

``schemaguard inspect SPEC`` loads a spec, compiles every schema its operations use (in the
request or response context) and checks the spec's own examples against them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ._schema import compile_at
from ._source import split_pointer
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="schemaguard",
                                     description="Guard HTTP APIs with their OpenAPI contract.")
    parser.add_argument("--version", action="version", version=f"schemaguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect_cmd = commands.add_parser("inspect", help="compile a spec and check its examples")
    inspect_cmd.add_argument("spec", help="path to an OpenAPI 3.0/3.1 document")
    args = parser.parse_args(argv)
    if args.command == "inspect":
        return inspect(args.spec, sys.stdout)
    parser.error(f"unknown command {args.command}")  # pragma: no cover - argparse refuses first
    return 2  # pragma: no cover
