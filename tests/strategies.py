"""Shared Hypothesis strategies: JSON values, schemas per dialect, instances shaped by a schema.

The pools (keys, patterns, format samples) are small on purpose: a property test finds more
when generated schemas and instances talk about the same names and values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st

Dialect = str  # "draft4" | "draft2020-12" | "oas30" | "oas31"
Resolve = Callable[[str], Any]

# Property names shared by schemas and instances; "x~y" and "p/q" exercise pointer escaping.
KEYS = ("a", "b", "c", "id", "x~y", "p/q", "")

# ECMA-262 pattern -> a Python `re` pattern with the same ECMA meaning (the reference used to
# judge both engines). Python's own reading of the left column differs: `$` also matches before
# a final "\n", `\d` matches every Unicode digit, `.` and `\s` use other character sets.
ECMA_PATTERNS: dict[str, str] = {
    r"^[a-z]+$": r"^[a-z]+\Z",
    r"^\d{3}$": r"^[0-9]{3}\Z",
    r"a|b": r"a|b",
    r"^$": r"^\Z",
    r"[0-9]": r"[0-9]",
    r"^ab*c?$": r"^ab*c?\Z",
    r"x{2,}": r"x{2,}",
    r"^[A-Z][a-z]*$": r"^[A-Z][a-z]*\Z",
    r"\s": "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]",
    r"^.{2}$": "^[^\n\r\u2028\u2029]{2}\\Z",
    r"^a.c$": "^a[^\n\r\u2028\u2029]c\\Z",
    r"\bab": r"(?a)\bab",  # ECMA's \b is an ASCII word boundary
}
PATTERNS = tuple(ECMA_PATTERNS)
# Strings each pattern is judged on (matching and not); none of them is a known divergence.
PATTERN_SAMPLES: dict[str, tuple[str, ...]] = {
    r"^[a-z]+$": ("abc", "a", "", "Abc", "ab1", "a b"),
    r"^\d{3}$": ("123", "000", "12", "1234", "12a"),
    r"a|b": ("a", "xbx", "c", ""),
    r"^$": ("", " ", "a"),
    r"[0-9]": ("x9", "9", "x", ""),
    r"^ab*c?$": ("a", "abbbc", "ac", "abcc", "b"),
    r"x{2,}": ("xx", "axxxb", "x", ""),
    r"^[A-Z][a-z]*$": ("Abc", "A", "abc", "AB"),
    r"\s": (" ", "a b", "\t", "ab", ""),
    r"^.{2}$": ("ab", "é!", "a", "abc"),
    r"^a.c$": ("abc", "a c", "ac", "abbc"),
    r"\bab": ("ab", "x ab", "xab", "a"),
}

# Strings per format (valid, then not); each checker under test agrees with the oracle on all.
FORMAT_VALID: dict[str, tuple[str, ...]] = {
    "date": ("2024-01-31", "2024-02-29", "1999-12-31"),
    "date-time": ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00.5+01:00"),
    "email": ("user@example.com", "first.last+tag@sub.example.org"),
    "uuid": ("123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000",
             "123E4567-E89B-12D3-A456-426614174000"),
    "byte": ("", "AA==", "AAA=", "AAAA", "aGVsbG8="),
    # Valid ones only: the oracle cannot check `uri` (rfc3987 is not installed), see the tests.
    "uri": ("https://example.com/a?b=c", "urn:isbn:0451450523", "mailto:a@example.com"),
}
FORMAT_INVALID: dict[str, tuple[str, ...]] = {
    "date": ("2023-02-29", "2024-13-01", "2024-1-01", "20240101", "", "x"),
    "date-time": ("2024-01-31T10:00:00", "2024-01-31 10:00:00Z", "2024-01-31T25:00:00Z", ""),
    "email": ("plain", "", "user.example.com"),
    "uuid": ("123e4567e89b12d3a456426614174000", "not-a-uuid", ""),
    "byte": ("A", "AA=", "A===", "!!!!", "AA==AA=="),
}
FORMAT_SAMPLES = {fmt: valid + FORMAT_INVALID.get(fmt, ()) for fmt, valid in FORMAT_VALID.items()}
STRING_FORMATS = ("date", "date-time", "email", "uuid", "byte")
INTEGER_FORMATS: dict[str, tuple[int, int]] = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
OAS_FORMATS = (*STRING_FORMATS, *INTEGER_FORMATS)

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
# Floats at or beyond this magnitude are where "the float's exact value" and "the number its
# shortest repr spells" part ways; the differential tests treat them separately.
BIG_FLOAT = 2.0**50

# -- JSON values ---------------------------------------------------------------------------------

# Text mostly from a small alphabet (so patterns and lengths bite), sometimes any code point
# except lone surrogates (not representable in JSON text).
_ALPHABET = "abcxyzABZ019 _-@.:\t\n"
# Characters where regex dialects and string models part ways: line terminators, Unicode
# spaces and digits, a non-BMP character, a combining mark.
_TRICKY = "\r\u2028\u2029\x85\ufeff\u00a0\u0663\u00e9\U0001f600\u0301"
texts = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=6),
    st.text(alphabet=_ALPHABET + _TRICKY, max_size=4),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=4),
    st.sampled_from([s for samples in PATTERN_SAMPLES.values() for s in samples]),
    st.sampled_from([s for samples in FORMAT_SAMPLES.values() for s in samples]),
)
integers = st.one_of(
    st.integers(-10, 10),
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63,
                     -(2**63), -(2**63) - 1, 2**64, 10**30, -(10**400)]),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 2)),
    st.integers(-100, 100).map(lambda n: n / 4),
    st.sampled_from([1.0, -0.0, 0.5, 2.5, 3e9, 1e300, 2.0**31, 2.0**53]),
)
# Short strings made of the characters that patterns are most likely to misread.
pattern_texts = st.one_of(
    texts, st.lists(st.sampled_from("abc " + _TRICKY + "\n"), max_size=3).map("".join)
)
scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=3))


@cache
def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (finite numbers only; True is a boolean, never a number)."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


# Values inside enum/const: small, and no big floats (see BIG_FLOAT).
_small_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 1.0, -2.5]),
    st.sampled_from(["a", "b", "abc", "", "123"]),
)
enum_values = st.recursive(
    _small_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=2), st.dictionaries(st.sampled_from(KEYS), children,
                                                        max_size=2)
    ),
    max_leaves=3,
)

# -- schemas -------------------------------------------------------------------------------------

_bounds = st.one_of(st.integers(-20, 20), st.sampled_from([0.5, -1.5, 2.25, 100, 2**31 - 1]))
_small = st.integers(0, 4)
# Integers and dyadic or simple decimals: exact in binary below BIG_FLOAT.
MULTIPLES = (1, 2, 3, 7, 0.5, 0.25, 1.5, 2.5)


def _types(dialect: Dialect) -> st.SearchStrategy[Any]:
    if dialect == "oas30":  # OAS 3.0.3: one type name, and no "null"
        return st.sampled_from([t for t in JSON_TYPES if t != "null"])
    return st.one_of(
        st.sampled_from(JSON_TYPES),
        st.lists(st.sampled_from(JSON_TYPES), min_size=1, max_size=3, unique=True),
    )


def _assertions(dialect: Dialect) -> dict[str, st.SearchStrategy[Any]]:
    out: dict[str, st.SearchStrategy[Any]] = {
        "type": _types(dialect),
        "enum": st.lists(enum_values, min_size=1, max_size=4),
        "minimum": _bounds,
        "maximum": _bounds,
        "multipleOf": st.sampled_from(MULTIPLES),
        "minLength": _small,
        "maxLength": _small,
        "pattern": st.sampled_from(PATTERNS),
        "minItems": _small,
        "maxItems": _small,
        "uniqueItems": st.booleans(),
        "minProperties": _small,
        "maxProperties": _small,
        "required": st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True),
        # Plain dialects: an annotation (no format checker); OAS dialects: asserted.
        "format": st.sampled_from(OAS_FORMATS),
    }
    if dialect in ("draft2020-12", "oas31"):
        out["const"] = enum_values
        out["exclusiveMinimum"] = _bounds
        out["exclusiveMaximum"] = _bounds
    if dialect == "oas30":
        out["nullable"] = st.booleans()
        out["const"] = enum_values  # not an OAS 3.0 keyword: both sides must ignore it
    if dialect == "oas31":
        out["nullable"] = st.booleans()  # not an OAS 3.1 keyword: both sides must ignore it
    return out


@st.composite
def schemas(
    draw: st.DrawFn, dialect: Dialect, *, combinators: bool = True, depth: int = 3
) -> Any:
    """A schema of ``dialect`` nested at most ``depth`` applicators deep."""
    if dialect in ("draft2020-12", "oas31") and depth < 3 and draw(st.integers(0, 9)) == 0:
        return draw(st.booleans())  # boolean subschemas (2020-12 only)
    assertions = _assertions(dialect)
    names = draw(st.lists(st.sampled_from(sorted(assertions)), max_size=4, unique=True))
    schema: dict[str, Any] = {name: draw(assertions[name]) for name in names}
    if dialect in ("draft4", "oas30"):  # boolean exclusive*, meaningful beside its bound only
        for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if bound in schema and draw(st.booleans()):
                schema[flag] = draw(st.booleans())
    if depth > 0:
        child = schemas(dialect, combinators=combinators, depth=depth - 1)
        applicators: dict[str, st.SearchStrategy[Any]] = {
            "properties": st.dictionaries(st.sampled_from(KEYS), child, max_size=3),
            "additionalProperties": st.one_of(st.booleans(), child),
            "items": child,
        }
        if combinators:
            applicators.update({
                "allOf": st.lists(child, min_size=1, max_size=2),
                "anyOf": st.lists(child, min_size=1, max_size=2),
                "oneOf": st.lists(child, min_size=1, max_size=2),
                "not": child,
            })
        chosen = draw(st.lists(st.sampled_from(sorted(applicators)), max_size=2, unique=True))
        for name in chosen:
            schema[name] = draw(applicators[name])
    return schema


# -- instances shaped by a schema ----------------------------------------------------------------


def from_schema(schema: Any, resolve: Resolve | None = None, depth: int = 4) -> Any:
    """Values shaped by ``schema``: mostly valid or nearly so, sometimes anything.

    Not a solver: it follows type, enum/const, bounds, lengths, patterns, formats, properties,
    items, allOf (merged) and one branch of anyOf/oneOf, which is enough to get past `type` to
    the deep keywords that a random JSON value almost never reaches.
    """
    anything = json_values(6)
    if depth <= 0 or not isinstance(schema, dict):
        return anything
    if isinstance(schema.get("$ref"), str) and resolve is not None and len(schema) == 1:
        target = resolve(schema["$ref"])
        return st.deferred(lambda: from_schema(target, resolve, depth - 1))
    schema = _merged(schema, resolve)
    options: list[st.SearchStrategy[Any]] = []
    for keyword in ("anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            options.append(from_schema(branch, resolve, depth - 1))
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        options.append(st.just(schema["const"]))
    if not options:
        declared = schema.get("type")
        types = declared if isinstance(declared, list) else [declared] if declared else (
            [kind for kind, words in _IMPLIED.items() if words & schema.keys()] or JSON_TYPES)
        options.extend(_typed(t, schema, resolve, depth) for t in types)
    if schema.get("nullable") is True:
        options.append(st.none())
    return weighted((9, st.one_of(options)), (1, anything))  # ~10% noise at every level


def _merged(schema: dict[str, Any], resolve: Resolve | None, budget: int = 8) -> dict[str, Any]:
    """``schema`` with its allOf branches (and a sibling $ref) folded in, shallowly."""
    parts = [b for b in schema.get("allOf", []) if isinstance(b, dict)]
    if isinstance(schema.get("$ref"), str) and resolve is not None:
        parts.append(resolve(schema["$ref"]))
    if not parts or budget <= 0:
        return schema
    out = {k: v for k, v in schema.items() if k not in ("allOf", "$ref")}
    for part in parts:
        part = _merged(part, resolve, budget - 1)
        if isinstance(part.get("$ref"), str) and resolve is not None:
            part = _merged({"allOf": [resolve(part["$ref"])]}, resolve, budget - 1)
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                mine = out.get("properties", {})
                out["properties"] = {**value, **mine, **{
                    name: {"allOf": [mine[name], sub]} for name, sub in value.items()
                    if name in mine}}
            elif key == "required" and isinstance(value, list):
                out["required"] = list(dict.fromkeys([*out.get("required", []), *value]))
            else:
                out.setdefault(key, value)
    return out


# Without `type`, the keywords present say which kinds of value are worth generating.
_IMPLIED = {
    "object": {"properties", "required", "additionalProperties", "minProperties",
               "maxProperties"},
    "array": {"items", "minItems", "maxItems", "uniqueItems"},
    "string": {"pattern", "minLength", "maxLength", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
               "format"},
}


def _typed(kind: str, schema: dict[str, Any], resolve: Resolve | None, depth: int) -> Any:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        return _numbers(kind, schema)
    if kind == "string":
        return _strings(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}), resolve, depth - 1)
        low = schema.get("minItems", 0) if isinstance(schema.get("minItems"), int) else 0
        high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else low + 3
        size = min(low, 4)
        return st.lists(items, min_size=size, max_size=max(min(high, low + 3), size))
    return _objects(schema, resolve, depth)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(kind: str, schema: dict[str, Any]) -> Any:
    """In range (mostly), at and just past each edge (sometimes)."""
    low, high = -1000.0, 1000.0
    exclusive_low = exclusive_high = False
    if _number(schema.get("minimum")):
        low, exclusive_low = schema["minimum"], schema.get("exclusiveMinimum") is True
    if _number(schema.get("exclusiveMinimum")):
        low, exclusive_low = schema["exclusiveMinimum"], True
    if _number(schema.get("maximum")):
        high, exclusive_high = schema["maximum"], schema.get("exclusiveMaximum") is True
    if _number(schema.get("exclusiveMaximum")):
        high, exclusive_high = schema["exclusiveMaximum"], True
    edges = [low, high, math.floor(low) - 1, math.ceil(high) + 1]
    if schema.get("format") in INTEGER_FORMATS:
        lo, hi = INTEGER_FORMATS[schema["format"]]
        edges += [lo - 1, lo, hi, hi + 1]
        low, high = max(low, lo), min(high, hi)
    if low > high:
        low, high = high, low
    first = math.ceil(low) + (exclusive_low and math.ceil(low) == low)
    last = math.floor(high) - (exclusive_high and math.floor(high) == high)
    multiple = schema.get("multipleOf")
    if _number(multiple) and multiple > 0:
        # No multiple may lie in range (1..1 by 2): then any multiples, to get past the rest.
        k_first, k_last = math.ceil(first / multiple), math.floor(last / multiple)
        ints = st.integers(k_first, k_last).map(lambda k: k * multiple) if k_first <= k_last \
            else st.integers(-20, 20).map(lambda k: k * multiple)
    else:
        ints = st.integers(first, last) if first <= last else st.integers(-20, 20)
    if kind == "number":
        inside = st.floats(low, high, exclude_min=exclusive_low and low < high,
                           exclude_max=exclusive_high and low < high, allow_nan=False)
        return weighted((3, ints), (3, inside), (1, st.sampled_from(edges)))
    # 1.0 is an integer in 2020-12, not in draft 4.
    return weighted((6, ints), (1, st.sampled_from(edges)), (1, ints.map(float)))


def _strings(schema: dict[str, Any]) -> Any:
    options: list[tuple[int, st.SearchStrategy[Any]]] = []
    pattern = schema.get("pattern")
    if pattern in PATTERN_SAMPLES:
        options.append((2, st.sampled_from(PATTERN_SAMPLES[pattern])))
    elif isinstance(pattern, str) and _python_can_read(pattern):
        # Python's reading of `$` lets it append "\n"; dropping it leaves an ECMA match.
        options.append((3, st.from_regex(pattern, alphabet=_REGEX_ALPHABET).map(
            lambda text: text.removesuffix("\n"))))
    if schema.get("format") in FORMAT_SAMPLES:
        options.append((3, st.sampled_from(FORMAT_VALID[schema["format"]])))
        options.append((1, st.sampled_from(FORMAT_SAMPLES[schema["format"]])))
    low = schema.get("minLength", 0) if isinstance(schema.get("minLength"), int) else 0
    high = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else low + 6
    size = min(low, 8)
    options.append((1, st.text(alphabet=_ALPHABET, min_size=size,
                               max_size=max(min(high, low + 6), size))))
    return weighted(*options)


_REGEX_ALPHABET = st.characters(codec="ascii", exclude_characters="\n\r")


def _python_can_read(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _objects(schema: dict[str, Any], resolve: Resolve | None, depth: int) -> Any:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [r for r in schema.get("required", []) if isinstance(r, str)]
    fields = {name: from_schema(properties.get(name, {}), resolve, depth - 1)
              for name in required}
    optional = {name: from_schema(sub, resolve, depth - 1)
                for name, sub in properties.items() if name not in fields}
    shaped = st.fixed_dictionaries(fields, optional=optional)
    extra = st.dictionaries(keys, json_values(3), max_size=2)
    return weighted((4, shaped), (1, st.tuples(shaped, extra).map(lambda p: {**p[1], **p[0]})))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with the given weights (``st.one_of`` ignores repeated strategies, so
    listing one three times does not weigh it three times)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


# -- specs around a generated body schema ---------------------------------------------------


def mapped(node: dict[str, Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """``node`` with ``fn`` applied to each of its subschemas (lists of them included)."""
    out = {k: fn(v) if k in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not")
           else v for k, v in node.items()}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {k: fn(v) for k, v in node["properties"].items()}
    return out


def closing(schema: Any) -> Any:
    """``schema`` with objects closed, arrays typed and numbers bounded where they were not:
    generated schemas are mostly unbounded, and a bounded one is what the test is about."""
    if isinstance(schema, list):
        return [closing(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = mapped(schema, closing)
    out.setdefault("additionalProperties", False)
    out.setdefault("items", {"type": "string"})
    if "minimum" not in out and "maximum" not in out:
        out.update(minimum=-1000, maximum=1000)
    return out


SPEC_DIALECTS = {  # spec version and jsonSchemaDialect per schema dialect
    "oas30": ("3.0.3", None),
    "oas31": ("3.1.0", None),
    "draft4": ("3.1.0", "http://json-schema.org/draft-04/schema#"),
    "draft2020-12": ("3.1.0", "https://json-schema.org/draft/2020-12/schema"),
}


@st.composite
def body_specs(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A spec whose one operation takes a JSON body of a generated schema, parts of it moved
    to components behind `$ref`s (some with siblings, which draft 4 and OAS 3.0 ignore)."""
    dialect = draw(st.sampled_from(sorted(SPEC_DIALECTS)))
    schema = draw(schemas(dialect))
    if draw(st.booleans()):
        schema = closing(schema)
    components: dict[str, Any] = {}

    def refify(node: Any) -> Any:
        if isinstance(node, list):
            return [refify(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = mapped(node, refify)
        if draw(st.integers(0, 2)) == 0:
            name = f"S{len(components)}"
            components[name] = out
            out = {"$ref": f"#/components/schemas/{name}"}
            if draw(st.booleans()):
                out.update(additionalProperties=False, type="object")
        return out

    body_schema = refify(schema)
    version, json_dialect = SPEC_DIALECTS[dialect]
    spec: dict[str, Any] = {
        "openapi": version, "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "requestBody": {"content": {"application/json": {"schema": body_schema}}},
            "responses": {"204": {"description": "ok"}}}}},
        "components": {"schemas": components},
    }
    if json_dialect:
        spec["jsonSchemaDialect"] = json_dialect
    return spec, schema


def twin_paths(instance: Any) -> bool:
    """Whether some path of ``instance`` reads two ways once empty property names are left
    out: a dict with the key "" whose "" value (or a chain of them) shares another key with
    it, as in ``{"": {"a": 1}, "a": 1}``. jsonschema-rs reports both places as ``["a"]``;
    schemaguard finds the right one by the failing value, which fails only when both places
    hold that value (the strict xfail of test_schema_differential)."""
    if isinstance(instance, list):
        return any(twin_paths(item) for item in instance)
    if not isinstance(instance, dict):
        return False
    if "" in instance:
        names = set(instance) - {""}
        inner = instance[""]
        while isinstance(inner, dict):
            if names & (set(inner) - {""}):
                return True
            inner = inner.get("")
    return any(twin_paths(value) for value in instance.values())
