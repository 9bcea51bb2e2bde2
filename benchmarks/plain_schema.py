"""OAS 3.0 component schemas bundled into one plain draft-4 JSON Schema (for the peers).

Done by hand, independently of schemaguard, the way a user would feed a generic validator:

* ``nullable: true`` next to ``type`` adds ``"null"`` to ``type``;
* OAS-only keywords (example, discriminator, readOnly, writeOnly, xml, externalDocs,
  deprecated, nullable) and ``x-`` extensions are dropped;
* ``$ref: '#/components/schemas/X'`` becomes ``#/definitions/X``; every schema reachable from
  the root is put under ``definitions``; the root schema itself is inlined at the top level (a
  draft-4 ``$ref`` would hide sibling ``definitions``).

What this does *not* do, and schemaguard does: readOnly/writeOnly per request/response,
discriminator-selected error reporting, ``format: uuid``/``byte``/``int32``/``int64`` checks.
"""

from __future__ import annotations

from typing import Any

OAS_ONLY = frozenset({"example", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
                      "deprecated", "nullable"})
_PREFIX = "#/components/schemas/"
DRAFT4 = "http://json-schema.org/draft-04/schema#"


def to_draft4(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The component schema ``name`` of an OAS 3.0 ``document`` as one draft-4 schema."""
    components = document["components"]["schemas"]
    wanted: list[str] = []

    def ref(target: str) -> dict[str, Any]:
        if not target.startswith(_PREFIX):
            raise ValueError(f"only local component refs are supported, got {target!r}")
        wanted.append(target[len(_PREFIX):])
        return {"$ref": "#/definitions/" + target[len(_PREFIX):]}

    def convert(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:  # OAS 3.0: siblings of $ref are ignored
            return ref(node["$ref"])
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in OAS_ONLY or key.startswith("x-"):
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {k: convert(v) for k, v in value.items()}
            elif key in ("items", "additionalProperties", "additionalItems", "not"):
                is_list = isinstance(value, list)
                out[key] = [convert(v) for v in value] if is_list else convert(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [convert(v) for v in value]
            else:
                out[key] = value
        if node.get("nullable") is True and "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            out["type"] = [*types, "null"] if "null" not in types else types
        return out

    root = convert(components[name])
    definitions: dict[str, Any] = {}
    while wanted:
        target = wanted.pop()
        if target not in definitions:
            definitions[target] = None  # placeholder against cycles
            definitions[target] = convert(components[target])
    return {"$schema": DRAFT4, **root, "definitions": dict(sorted(definitions.items()))}
