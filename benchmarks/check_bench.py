"""`schemaguard check` against openapi-spec-validator on one large generated spec.

The spec is generated here (seeded, no download): 1,200 paths with two operations each and
3,000 component schemas referencing 0-3 earlier ones, about 11 MB of YAML. Both tools read the
same file from disk; each is timed end to end (read, parse, validate) once per repeat.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml


def generate(path: Path, *, schemas: int = 3_000, paths: int = 1_200, seed: int = 2) -> None:
    rng = random.Random(seed)
    components: dict[str, Any] = {}
    for i in range(schemas):
        props: dict[str, Any] = {
            f"f{k}": {"type": "string", "maxLength": 50, "description": "A field " * 24}
            for k in range(8)
        }
        props["n"] = {"type": "integer", "minimum": 0}
        for k in range(rng.randint(0, 3)):
            if i:
                props[f"r{k}"] = {"$ref": f"#/components/schemas/Item{rng.randrange(i)}"}
        components[f"Item{i}"] = {"type": "object", "required": ["f0"],
                                  "additionalProperties": False, "properties": props,
                                  "description": "Item schema " * 30}
    items: dict[str, Any] = {}
    for i in range(paths):
        ref = {"$ref": f"#/components/schemas/Item{i}"}
        items[f"/r{i}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"operationId": f"get{i}", "security": [{"key": []}],
                    "parameters": [{"name": "q", "in": "query",
                                    "schema": {"type": "string", "maxLength": 10}}],
                    "responses": {"200": {"description": "ok",
                                          "content": {"application/json": {"schema": ref}}},
                                  "401": {"description": "no"}}},
            "post": {"operationId": f"post{i}", "security": [{"key": []}],
                     "requestBody": {"content": {"application/json": {"schema": ref}}},
                     "responses": {"201": {"description": "ok"}, "401": {"description": "no"}}},
        }
    document = {"openapi": "3.0.3", "info": {"title": "big", "version": "1"}, "paths": items,
                "components": {"schemas": components, "securitySchemes": {
                    "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}
    path.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")


def _schemaguard(path: Path) -> int:
    from schemaguard._lint import check_spec_file

    return len(check_spec_file(str(path)))


def _openapi_spec_validator(path: Path) -> int:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, base_uri = read_from_filename(str(path))
    validate(document, base_uri=base_uri)
    return 0


def measure(repeats: int = 3) -> dict[str, Any]:
    """Median seconds per tool on the generated spec, and the spec's size."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "openapi.yaml"
        generate(path)
        size = path.stat().st_size
        results: dict[str, list[float]] = {"schemaguard check": [], "openapi-spec-validator": []}
        for _ in range(repeats):
            for name, run in (("schemaguard check", _schemaguard),
                              ("openapi-spec-validator", _openapi_spec_validator)):
                started = time.perf_counter()
                run(path)
                results[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(times) for name, times in results.items()}
    return {"size_mb": size / 1e6, "operations": 2_400, "seconds": medians}


def table(result: dict[str, Any]) -> list[str]:
    seconds = result["seconds"]
    ours, theirs = seconds["schemaguard check"], seconds["openapi-spec-validator"]
    ratio = theirs / ours
    return [
        f"Spec check on a generated {result['size_mb']:.1f} MB spec ({result['operations']:,} "
        "operations, 3,000 schemas), median of the end-to-end runs (read, parse, validate):",
        "",
        "| tool | seconds |",
        "|---|---:|",
        f"| schemaguard check | {ours:.2f} |",
        f"| openapi-spec-validator | {theirs:.2f} |",
        "",
        "Targets (check):",
        f"- schemaguard check under 10 s: {ours:.2f} s -> {'MET' if ours < 10 else 'NOT MET'}",
        f"- at least 5x faster than openapi-spec-validator: {ratio:.1f}x -> "
        f"{'MET' if ratio >= 5 else 'NOT MET'}",
    ]


if __name__ == "__main__":
    print("\n".join(table(measure())))
