"""A generated OpenAPI 3.0 document with many operations, for the time-to-first-request target.

``big_spec(1000)`` builds, deterministically (``random.Random(seed)``), a document with
``n_operations`` paths ``/r{i}/{id}``, each one ``POST`` with a path parameter, a query
parameter, a JSON request body and a 200 JSON response, over ``n_schemas`` component schemas
``S0 .. S{n-1}`` that reference each other like a DAG: ``S{i}`` refers to 0-3 of the schemas
before it (so there are no cycles and the graph is shared widely). Operation ``i`` sends
``S{i mod n}`` and answers ``S{(i * 7 + 3) mod n}``.

``first_request(doc)`` is a valid request for the operation whose body schema reaches the
most component schemas (the most a lazily compiling validator has to compile for one
request); the body also fills in the schemas it refers to, one level deep.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

SEED = 1000


def _schema(rng: random.Random, i: int) -> tuple[dict[str, Any], list[int]]:
    refs = sorted(rng.sample(range(i), min(i, rng.randint(0, 3))))
    properties: dict[str, Any] = {
        "id": {"type": "integer", "format": "int64", "minimum": 1},
        "name": {"type": "string", "minLength": 1, "maxLength": 64},
        "kind": {"type": "string", "enum": ["a", "b", "c"]},
        "tags": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
        "score": {"type": "number", "minimum": 0, "maximum": 100, "nullable": True},
    }
    for ref in refs:
        properties[f"s{ref}"] = {"$ref": f"#/components/schemas/S{ref}"}
    if refs and rng.random() < 0.3:
        properties["many"] = {"type": "array", "maxItems": 50,
                              "items": {"$ref": f"#/components/schemas/S{refs[0]}"}}
    schema = {"type": "object", "additionalProperties": False, "required": ["id", "name"],
              "properties": properties}
    return schema, refs


def big_spec(n_operations: int = 1000, n_schemas: int = 1000,
             seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    schemas = {f"S{i}": _schema(rng, i)[0] for i in range(n_schemas)}
    paths: dict[str, Any] = {}
    for i in range(n_operations):
        body_ref = f"#/components/schemas/S{i % n_schemas}"
        answer_ref = f"#/components/schemas/S{(i * 7 + 3) % n_schemas}"
        paths[f"/r{i}/{{id}}"] = {"post": {
            "operationId": f"op{i}",
            "parameters": [
                {"name": "id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "q", "in": "query", "required": False,
                 "schema": {"type": "string", "maxLength": 32}},
            ],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": body_ref}}}},
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": answer_ref}}}}},
        }}
    return {"openapi": "3.0.3", "info": {"title": "generated", "version": "1"},
            "paths": paths, "components": {"schemas": schemas}}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            return [node["$ref"].rsplit("/", 1)[1]]
        return [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def reachable(doc: dict[str, Any], name: str) -> set[str]:
    """The component schemas ``name`` reaches through $refs (itself included)."""
    schemas = doc["components"]["schemas"]
    seen, todo = {name}, [name]
    while todo:
        for ref in _refs(schemas[todo.pop()]):
            if ref not in seen:
                seen.add(ref)
                todo.append(ref)
    return seen


def _body_schema(doc: dict[str, Any], template: str) -> str:
    media = doc["paths"][template]["post"]["requestBody"]["content"]["application/json"]
    return str(media["schema"]["$ref"].rsplit("/", 1)[1])


def first_request(doc: dict[str, Any]) -> tuple[str, str, str, bytes, int]:
    """(method, path, query, body, schemas reached) of the valid first request."""
    sizes = {t: len(reachable(doc, _body_schema(doc, t))) for t in doc["paths"]}
    template = max(sizes, key=lambda t: sizes[t])
    schema = doc["components"]["schemas"][_body_schema(doc, template)]
    body: dict[str, Any] = {"id": 1, "name": "first", "kind": "a", "tags": ["x"], "score": None}
    for prop, sub in schema["properties"].items():
        if "$ref" in sub:
            body[prop] = {"id": 2, "name": prop}
    return ("POST", template.replace("{id}", "7"), "q=hello", orjson.dumps(body),
            sizes[template])
