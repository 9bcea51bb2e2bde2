"""The schema keyword vocabulary: where subschemas live, and what each keyword's value may be.

One table serves the load-time checks (every keyword of every schema is checked when a spec is
loaded, so a malformed schema is a SpecError at start-up, never a per-request 500) and the
compiler's walk over subschemas.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Literal

from ._regex import regex_error

Dialect = Literal["draft4", "draft2020-12", "oas30", "oas31"]
DIALECTS: tuple[Dialect, ...] = ("draft4", "draft2020-12", "oas30", "oas31")

# Keywords whose value is one subschema, a map of them, or a list of them.
SCHEMA = frozenset({
    "not", "additionalProperties", "additionalItems", "items", "contains", "propertyNames",
    "if", "then", "else", "unevaluatedProperties", "unevaluatedItems", "contentSchema",
})
SCHEMA_MAP = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
# Applicators that evaluate the same instance (no descent into it): a $ref cycle through only
# these never terminates (bad-inputs S02).
IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"})

# Keywords that never affect validity.
ANNOTATIONS = frozenset({"description", "title", "example", "examples", "deprecated",
                         "$comment", "externalDocs", "xml", "default"})
JSON_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})
OAS30_TYPES = JSON_TYPES - {"null"}

# The OAS 3.0.3 Schema Object (§4.7.24) plus draft-4 validation keywords it inherits.
OAS30_KEYWORDS = frozenset({
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties",
    "minProperties", "required", "enum", "type", "allOf", "oneOf", "anyOf", "not", "items",
    "properties", "additionalProperties", "description", "format", "default", "nullable",
    "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated",
    "$ref", "patternProperties", "dependencies", "additionalItems",
})


def subschemas(schema: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any, bool]]:
    """(path below ``schema``, subschema, in_place) for every direct subschema."""
    for key, value in schema.items():
        if key in SCHEMA:
            if key == "items" and isinstance(value, list):  # draft-4 tuple form
                for i, item in enumerate(value):
                    yield (key, i), item, False
            else:
                yield (key,), value, key in IN_PLACE
        elif key in SCHEMA_MAP:
            if isinstance(value, dict):
                for name, item in value.items():
                    yield (key, name), item, key == "dependentSchemas"
        elif key in SCHEMA_LIST:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield (key, i), item, key in IN_PLACE
        elif key == "dependencies" and isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, (dict, bool)):
                    yield (key, name), item, True


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and not math.isfinite(value))
    )


def _non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "must be a non-negative integer"
    if isinstance(value, float) and not value.is_integer():
        return "must be a non-negative integer"
    return None if value >= 0 else "must be a non-negative integer"


def _number(value: Any) -> str | None:
    return None if _is_number(value) else "must be a number"


def _positive_number(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "must be a number greater than 0"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _array(value: Any) -> str | None:
    return None if isinstance(value, list) else "must be an array"


def _string_array(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "must be an array of strings"
    if len(set(value)) != len(value):
        return "must not repeat names"
    return None


def _pattern(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    return regex_error(value)


def _schema_map(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object of schemas"


def _schema_list(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty array of schemas"
    return None


def _type(allowed: frozenset[str], arrays: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        names = value if arrays and isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n in allowed for n in names):
            listed = ", ".join(sorted(allowed))
            what = "a type name or an array of them" if arrays else "a type name"
            return f"must be {what} ({listed})"
        return None

    return check


def _discriminator(value: Any) -> str | None:
    if not isinstance(value, dict) or not isinstance(value.get("propertyName"), str):
        return "must be an object with a string `propertyName`"
    mapping = value.get("mapping", {})
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        return "`mapping` must map values to schema names or references"
    return None


_COMMON: dict[str, Callable[[Any], str | None]] = {
    **dict.fromkeys(
        ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties",
         "maxContains", "minContains"),
        _non_negative_int,
    ),
    "maximum": _number,
    "minimum": _number,
    "multipleOf": _positive_number,
    "uniqueItems": _boolean,
    "required": _string_array,
    "dependentRequired": _schema_map,
    "enum": _array,
    "pattern": _pattern,
    "format": _string,
    "$ref": _string,
    "properties": _schema_map,
    "patternProperties": _schema_map,
    "$defs": _schema_map,
    "definitions": _schema_map,
    "dependentSchemas": _schema_map,
    "allOf": _schema_list,
    "anyOf": _schema_list,
    "oneOf": _schema_list,
    "prefixItems": _schema_list,
}

CHECKS: dict[Dialect, dict[str, Callable[[Any], str | None]]] = {
    "draft4": {
        **_COMMON,
        "exclusiveMaximum": _boolean,
        "exclusiveMinimum": _boolean,
        "type": _type(JSON_TYPES, arrays=True),
    },
    "oas30": {
        **_COMMON,
        "exclusiveMaximum": _boolean,
        "exclusiveMinimum": _boolean,
        # OAS 3.0.3 §4.7.24.1: "Value MUST be a string. Multiple types via an array are not
        # supported." (3.0 expresses `null` with `nullable`.)
        "type": _type(OAS30_TYPES, arrays=False),
        "nullable": _boolean,
        "readOnly": _boolean,
        "writeOnly": _boolean,
        "discriminator": _discriminator,
    },
    # In 2020-12 and OAS 3.1 exclusiveMinimum is a number; a 3.0-style `true` would compare as 1
    # in Python (bad-inputs S20), so it is refused.
    "draft2020-12": {
        **_COMMON,
        "exclusiveMaximum": _number,
        "exclusiveMinimum": _number,
        "type": _type(JSON_TYPES, arrays=True),
    },
    "oas31": {
        **_COMMON,
        "exclusiveMaximum": _number,
        "exclusiveMinimum": _number,
        "type": _type(JSON_TYPES, arrays=True),
        "readOnly": _boolean,
        "writeOnly": _boolean,
        "discriminator": _discriminator,
    },
}


def check_keywords(schema: dict[str, Any], dialect: Dialect) -> Iterator[tuple[str, str]]:
    """(keyword, problem) for every keyword of ``schema`` whose value is malformed."""
    checks = CHECKS[dialect]
    for key, value in schema.items():
        check = checks.get(key)
        if check is not None:
            problem = check(value)
            if problem is not None:
                yield key, problem
        elif key in SCHEMA and not isinstance(value, (dict, bool)) and not (
            key == "items" and dialect == "draft4" and isinstance(value, list)
        ):
            yield key, "must be a schema (an object or a boolean)"
    if "patternProperties" in schema and isinstance(schema["patternProperties"], dict):
        for name in schema["patternProperties"]:
            problem = regex_error(name)
            if problem is not None:
                yield "patternProperties", f"{problem}: key of `patternProperties`"
