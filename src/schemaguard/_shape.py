"""What JSON types a schema expects, so strings from a URL, header or form can be typed.

Parameters arrive as strings. A ``Shape`` records, for a schema, the JSON types it admits in
order and the shapes of its items and properties; ``coerce`` turns a string into the first of
those types whose strict syntax it has (``-?[0-9]+`` for integers, JSON number syntax for
numbers, exactly ``true``/``false`` for booleans). A string that fits none stays a string, and
the schema then reports the type mismatch with its usual violation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ._source import join_pointer
from ._spec import Spec

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)
_MAX_DEPTH = 8


@dataclass(slots=True)
class Shape:
    types: tuple[str, ...] = ()
    items: Shape | None = None
    properties: dict[str, Shape] = field(default_factory=dict)
    additional: Shape | None = None
    default: Any = None
    has_default: bool = False
    kind: str = "primitive"  # array, object or primitive: derived from types by freeze()

    def freeze(self) -> Shape:
        """Derive ``kind`` (after types are final) for this shape and its parts."""
        self.kind = ("array" if "array" in self.types else
                     "object" if "object" in self.types else "primitive")
        for part in (self.items, self.additional, *self.properties.values()):
            if part is not None and part is not self:
                part.freeze()
        return self

    def property(self, name: str) -> Shape:
        return self.properties.get(name) or self.additional or _ANY


_ANY = Shape()


def coerce(value: str, shape: Shape) -> Any:
    """``value`` as the first type of ``shape`` whose syntax it has, else the string itself."""
    for kind in shape.types:
        if kind == "string":
            return value
        if kind == "integer":
            if _INTEGER.fullmatch(value):
                return int(value)
        elif kind == "number":
            if _NUMBER.fullmatch(value):
                if "." in value or "e" in value or "E" in value:
                    number = float(value)
                    if math.isfinite(number):
                        return number
                else:
                    return int(value)
        elif kind == "boolean":
            if value == "true":
                return True
            if value == "false":
                return False
    return value


def shape_of(spec: Spec, uri: str, pointer: str, schema: Any) -> Shape:
    """The shape of ``schema`` (at ``uri``#``pointer``), following ``$ref`` and combinators."""
    return _shape_of(spec, uri, pointer, schema, 0).freeze()


def _shape_of(spec: Spec, uri: str, pointer: str, schema: Any, depth: int) -> Shape:
    # `pointer` only locates a $ref for error messages; load_spec has resolved every $ref
    # already, so children reuse their parent's pointer instead of building their own.
    shape = Shape()
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return shape
    if "default" in schema:
        shape.default, shape.has_default = schema["default"], True
    if "$ref" in schema:
        target_uri, target_pointer, target = spec.resolve(schema["$ref"], uri,
                                                          join_pointer(pointer, "$ref"))
        _merge(shape, _shape_of(spec, target_uri, target_pointer, target, depth + 1))
        if spec.dialect == "oas30":
            return shape
    kind = schema.get("type")
    names = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if not names and ("properties" in schema or "additionalProperties" in schema):
        names = ["object"]
    if not names and "items" in schema:
        names = ["array"]
    shape.types = tuple(dict.fromkeys([*shape.types, *names]))
    if isinstance(schema.get("items"), dict):
        shape.items = _shape_of(spec, uri, pointer, schema["items"], depth + 1)
    for name, sub in (schema.get("properties") or {}).items():
        shape.properties[name] = _shape_of(spec, uri, pointer, sub, depth + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        shape.additional = _shape_of(spec, uri, pointer, schema["additionalProperties"],
                                     depth + 1)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(keyword) or []:
            _merge(shape, _shape_of(spec, uri, pointer, sub, depth + 1))
    return shape


def _merge(into: Shape, other: Shape) -> None:
    into.types = tuple(dict.fromkeys([*into.types, *other.types]))
    into.items = into.items or other.items
    for name, sub in other.properties.items():
        into.properties.setdefault(name, sub)
    into.additional = into.additional or other.additional
    if other.has_default and not into.has_default:
        into.default, into.has_default = other.default, True
