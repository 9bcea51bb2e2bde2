"""OAS 3.0 component schemas bundled into one plain draft-4 JSON Schema (for the peers).

Done by hand, independently of schemaguard, the way a user would feed a generic validator:

* ``nullable: true`` next to ``type`` adds ``"null"`` to ``type``;
* OAS-only keywords (example, discriminator, readOnly, writeOnly, xml, externalDocs,
  deprecated, nullable) and ``x-`` extensions are dropped;
* ``$ref: '#/components/schemas/X'`` becomes ``#/definitions/X``; every schema reachable from
  the root is put under ``definitions``; the root schema itself is inlined at the top level (a
  draft-4 ``$ref`` would hide sibling ``definitions``);
* the OAS formats draft 4 has no checker for are spelled out as schemaguard compiles them, so a
  peer does the same work (``format_checks=True``, the default): ``format: uuid`` and
  ``format: byte`` get ``allOf: [..., {"pattern": ...}]`` with the same patterns,
  ``format: int32``/``int64`` get ``allOf: [..., {"minimum": ..., "maximum": ...}]``. The
  ``format`` keyword itself stays (draft-4 validators ignore these names).

* a ``discriminator`` over ``oneOf``/``anyOf`` is spelled out as the OAS semantics require
  (``discriminator=True``, the default): each branch guarded by the discriminator values that
  name it, as schemaguard compiles it, so the value selects exactly one branch and an unmapped
  value fails.

What this does *not* do, and schemaguard does: readOnly/writeOnly per request/response,
discriminator-selected error reporting.
"""

from __future__ import annotations

from typing import Any

OAS_ONLY = frozenset({"example", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
                      "deprecated", "nullable"})
_PREFIX = "#/components/schemas/"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
# The patterns and bounds schemaguard compiles these OAS 3.0 formats to (src/.../_formats.py),
# written out again here so the peers do not depend on schemaguard.
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
BYTE_PATTERN = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
FORMAT_PATTERNS = {"uuid": UUID_PATTERN, "byte": BYTE_PATTERN}
INTEGER_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def to_draft4(document: dict[str, Any], name: str, *,
              format_checks: bool = True, discriminator: bool = True) -> dict[str, Any]:
    """The component schema ``name`` of an OAS 3.0 ``document`` as one draft-4 schema.

    ``format_checks=False`` leaves out the uuid/byte patterns and int32/int64 bounds (a plain
    draft-4 validator then does not check those formats at all).
    """
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
        selector = node.get("discriminator")
        branch_key = "oneOf" if "oneOf" in node else "anyOf" if "anyOf" in node else None
        if discriminator and isinstance(selector, dict) and branch_key is not None:
            prop = selector["propertyName"]
            names: dict[str, list[str]] = {}
            for value, target in (selector.get("mapping") or {}).items():
                target_name = target.rsplit("/", 1)[-1]
                names.setdefault(target_name, []).append(value)
            for branch in node[branch_key]:
                target_name = branch["$ref"].rsplit("/", 1)[-1]
                if target_name not in names:
                    names[target_name] = [target_name]
            del out[branch_key]
            out["anyOf"] = [
                {"allOf": [{"properties": {prop: {"enum": values}}, "required": [prop]},
                           ref(_PREFIX + target_name)]}
                for target_name, values in names.items()
            ]
        fmt = node.get("format")
        if format_checks and fmt in FORMAT_PATTERNS:
            out["allOf"] = [*out.get("allOf", []), {"pattern": FORMAT_PATTERNS[fmt]}]
        elif format_checks and fmt in INTEGER_BOUNDS:
            low, high = INTEGER_BOUNDS[fmt]
            out["allOf"] = [*out.get("allOf", []), {"minimum": low, "maximum": high}]
        return out

    root = convert(components[name])
    definitions: dict[str, Any] = {}
    while wanted:
        target = wanted.pop()
        if target not in definitions:
            definitions[target] = None  # placeholder against cycles
            definitions[target] = convert(components[target])
    return {"$schema": DRAFT4, **root, "definitions": dict(sorted(definitions.items()))}
