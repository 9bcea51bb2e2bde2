"""Where schemaguard's time goes relative to jsonschema-rs called directly (not part of run.py).

    python benchmarks/diagnose.py [--quick]

Rebuilds schemaguard's own compiled schema (the ``#/definitions`` resource its compiler emits)
with jsonschema-rs, removing one difference at a time, and splits ``iter_violations`` into the
engine's ``iter_errors`` and schemaguard's Python conversion of each error. It reads
schemaguard internals (``SchemaValidator._compiler`` / ``._validator``, ``Compiler._defs`` /
``_reachable`` / ``ref``, ``_violations``), so it may need updating when src/ changes; run.py
uses the public API only.

Timings are the fastest of several rounds that got a whole CPU (differences matter here, not
absolute numbers).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bodies  # noqa: E402
import jsonschema_rs  # noqa: E402
import orjson  # noqa: E402
import plain_schema  # noqa: E402
import yaml  # noqa: E402
from run import SPEC, _timed  # noqa: E402

import schemaguard as sg  # noqa: E402
import schemaguard._violations as sg_violations  # noqa: E402
from schemaguard._compile import RESOURCE  # noqa: E402
from schemaguard._regex import PATTERN_OPTIONS  # noqa: E402


def _rewrite(node: Any, *, drop_uuid: bool = False, unguard: bool = False) -> Any:
    """``drop_uuid``: remove the patterns schemaguard adds for ``format: uuid``;
    ``unguard``: replace each discriminator-guarded branch by its plain ``$ref``."""
    if isinstance(node, list):
        return [_rewrite(x, drop_uuid=drop_uuid, unguard=unguard) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite(v, drop_uuid=drop_uuid, unguard=unguard) for k, v in node.items()}
    if drop_uuid and node.get("format") == "uuid" and isinstance(out.get("allOf"), list):
        out["allOf"] = [s for s in out["allOf"] if set(s) != {"pattern"}]
        if not out["allOf"]:
            del out["allOf"]
    if unguard and isinstance(out.get("oneOf"), list) and all(
        isinstance(b, dict) and len(b.get("allOf", [])) == 2 for b in out["oneOf"]
    ):
        out["oneOf"] = [b["allOf"][1] for b in out["oneOf"]]
    return out


def _best_us(fn: Callable[[Any], Any], arg: Any, loops: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        wall, cpu = _timed(fn, arg, loops)
        if cpu >= 0.9 * wall:
            times.append(wall / loops)
    return min(times) / 1e3 if times else float("nan")


def _min(a: float, b: float) -> float:
    return b if a != a else a if b != b else min(a, b)  # NaN-aware


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, passes = (3, 1) if args.quick else (7, 3)
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec = sg.load_spec(SPEC)
    parsed = {k: orjson.loads(v) for k, v in bodies.all_bodies().items()}

    print("| schema | variant | is_valid valid µs | is_valid invalid µs "
          "| list(iter_errors) invalid µs |")
    print("|---|---|---:|---:|---:|")
    for name, key, loops in [("NewPet", "new_pet", 5000), ("PetBatch", "pet_batch", 30)]:
        guard = sg.compile_schema({"$ref": f"#/components/schemas/{name}"}, dialect="oas30",
                                  context="request", spec=spec)
        compiler = guard._compiler
        root = next(k for k, d in compiler._defs.items()
                    if d.origin[1] == f"/components/schemas/{name}")
        reachable = compiler._reachable(root)

        def rebuild(reachable: dict[str, Any] = reachable, root: str = root,
                    compiler: Any = compiler, **rewrite: bool) -> Any:
            defs = {k: _rewrite(v, **rewrite) for k, v in reachable.items()}
            registry = jsonschema_rs.Registry([(RESOURCE, {"definitions": defs})],
                                              draft=jsonschema_rs.Draft4)
            return jsonschema_rs.Draft4Validator({"$ref": compiler.ref(root)},
                                                 validate_formats=True, registry=registry,
                                                 pattern_options=PATTERN_OPTIONS)

        plain = plain_schema.to_draft4(document, name)
        variants = {
            "1 schemaguard's engine call, as shipped": guard._validator,
            "2 its compiled schema rebuilt here (sanity: = 1)": rebuild(),
            "3 = 2 without the uuid check": rebuild(drop_uuid=True),
            "4 = 2 without the discriminator guards": rebuild(unguard=True),
            "5 jsonschema-rs on the plain schema with the uuid/byte patterns (run.py's peer)":
                jsonschema_rs.Draft4Validator(plain, validate_formats=True),
            "6 = 5 without the format patterns (bare draft 4: no uuid check)":
                jsonschema_rs.Draft4Validator(
                    plain_schema.to_draft4(document, name, format_checks=False),
                    validate_formats=True),
        }
        valid, invalid = parsed[f"{key}_valid"], parsed[f"{key}_invalid"]
        best: dict[str, list[float]] = {}
        for _ in range(passes):  # interleaved passes: a noisy moment hits one variant once
            for label, v in variants.items():
                assert v.is_valid(valid), label
                assert not v.is_valid(invalid), label
                times = [_best_us(v.is_valid, valid, loops, rounds),
                         _best_us(v.is_valid, invalid, loops, rounds),
                         _best_us(lambda x, v=v: list(v.iter_errors(x)), invalid,
                                  max(3, loops // 40), rounds)]
                best[label] = [_min(a, b) for a, b in zip(best.get(label, times), times,
                                                          strict=True)]
        for label, (a, b, c) in best.items():
            print(f"| {name} | {label} | {a:.2f} | {b:.2f} | {c:.2f} |")

        errors = list(guard._validator.iter_errors(invalid))
        few = max(3, loops // 40)

        def convert_all(es: list[Any], c: Any = compiler) -> list[Any]:
            return [x for e in es for x in sg_violations.convert(c, e, "body", None)]

        full = _best_us(lambda x, g=guard: list(g.iter_violations(x)), invalid, few, rounds)
        conv = _best_us(convert_all, errors, few, rounds)
        # What-if: the schema pointer of a keyword location computed once, not per error.
        original = sg_violations._schema_pointer
        cache: dict[Any, str] = {}

        def memoized(compiler: Any, where: Any, schema_path: Any,
                     cache: dict[Any, str] = cache, original: Any = original) -> str:
            if where not in cache:
                cache[where] = original(compiler, where, schema_path)
            return cache[where]

        sg_violations._schema_pointer = memoized  # type: ignore[assignment]
        try:
            conv_memo = _best_us(convert_all, errors, few, rounds)
            full_memo = _best_us(lambda x, g=guard: list(g.iter_violations(x)), invalid, few,
                                 rounds)
        finally:
            sg_violations._schema_pointer = original
        print(f"| {name} | schemaguard iter_violations (total) | | | {full:.2f} |")
        print(f"| {name} | of which convert() of the {len(errors)} engine errors | | | "
              f"{conv:.2f} |")
        print(f"| {name} | what-if: `_schema_pointer` memoized per location: convert() / total "
              f"| | | {conv_memo:.2f} / {full_memo:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
