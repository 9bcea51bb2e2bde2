"""Hypothesis strategies for instances of compiled schemas (what `schemaguard.testing` draws).

The strategies read the schemas the guard itself runs: the compiler's normalized JSON Schema
(OAS 3.0 ``nullable`` folded into ``type``, readOnly properties already forbidden in requests,
int32/int64 as bounds, a discriminator as guarded ``anyOf`` branches), so generation and
validation cannot read a spec two ways. Values are built by construction (types, bounds,
required properties, patterns, formats); combinators pick a branch; whatever construction
cannot promise (``not``, ``oneOf`` exclusivity, ``uniqueItems`` of nested values, user formats)
is left to a final filter through the compiled validator.

Why not hypothesis-jsonschema: it reads drafts 4 to 7 only (no ``prefixItems``, ``$defs`` or
``dependentRequired`` of 2020-12, which OAS 3.1 uses) and refuses recursive references, which
real specs (trees, comments with replies) have.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from datetime import timezone
from typing import Any

import orjson
from hypothesis import strategies as st
from hypothesis.provisional import domains

from ._compile import RESOURCE

# Strings drawn where the schema says nothing about their content: mostly ASCII letters and
# digits (so bounds and enums bite), sometimes punctuation and non-ASCII text.
TEXT = st.characters(codec="utf-8")  # the utf-8 codec already leaves out lone surrogates
_MAX_DEPTH = 5  # past this depth of nesting only required properties and minItems are drawn
_EXTRA_ITEMS = 4  # arrays get at most minItems + this many items when maxItems is open
_BIG = 2**53


def number_bounds(schema: dict[str, Any], draft: int) -> tuple[Any, Any, bool, bool]:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = high_open = False
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if draft == 4:
        low_open, high_open = ex_low is True, ex_high is True
    else:
        if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool) and (
                low is None or ex_low >= low):
            low, low_open = ex_low, True
        if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool) and (
                high is None or ex_high <= high):
            high, high_open = ex_high, True
    return low, high, low_open, high_open


def _integers(schema: dict[str, Any], draft: int) -> st.SearchStrategy[Any]:
    low, high, low_open, high_open = number_bounds(schema, draft)
    lo = None if low is None else (math.floor(low) + 1 if low_open or low != math.floor(low)
                                   else int(low))
    hi = None if high is None else (math.ceil(high) - 1 if high_open or high != math.ceil(high)
                                    else int(high))
    if lo is not None and hi is not None and lo > hi:
        return st.nothing()
    step = schema.get("multipleOf")
    if isinstance(step, int) and not isinstance(step, bool) and step > 0:
        k_lo = None if lo is None else -((-lo) // step)
        k_hi = None if hi is None else hi // step
        if k_lo is not None and k_hi is not None and k_lo > k_hi:
            return st.nothing()
        return st.integers(k_lo, k_hi).map(lambda k: k * step)
    edges = [v for v in (lo, hi) if v is not None]
    near = [v for v in (0, 1, -1) if (lo is None or v >= lo) and (hi is None or v <= hi)]
    plain = st.integers(lo, hi)
    if lo is None and hi is None:
        plain = st.integers(-1000, 1000) | st.integers()
    choices = edges + near
    return st.sampled_from(choices) | plain if choices else plain


def _numbers(schema: dict[str, Any], draft: int) -> st.SearchStrategy[Any]:
    low, high, low_open, high_open = number_bounds(schema, draft)
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
        k_lo = None if low is None else math.ceil(low / step)
        k_hi = None if high is None else math.floor(high / step)
        return st.integers(k_lo, k_hi).map(lambda k: k * step)
    floats = st.floats(
        min_value=low, max_value=high, exclude_min=low_open and low is not None,
        exclude_max=high_open and high is not None, allow_nan=False, allow_infinity=False,
    )
    # Quarters: numbers a decimal text spells exactly, where bound checks are easy to get wrong.
    q_lo = None if low is None else math.floor(low * 4) + 1 if low_open else math.ceil(low * 4)
    q_hi = None if high is None else math.ceil(high * 4) - 1 if high_open else math.floor(
        high * 4)
    if q_lo is not None and q_hi is not None and q_lo > q_hi:
        return floats
    quarters = st.integers(q_lo, q_hi).map(lambda k: k / 4)
    return floats | quarters | _integers(schema, draft)


def _strings(schema: dict[str, Any], formats: dict[str, st.SearchStrategy[str]],
             alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in formats:
        base = formats[fmt]
    elif isinstance(schema.get("pattern"), str):
        try:
            base = st.from_regex(re.compile(schema["pattern"]), fullmatch=True)
        except (re.error, ValueError):
            base = st.text(alphabet, min_size=low, max_size=high)
    else:
        if high is None:
            high = low + 16
        simple = st.text(st.sampled_from("abcxyzABZ0123456789-_"), min_size=low,
                         max_size=high)
        return simple | st.text(alphabet, min_size=low, max_size=high)
    if low or high is not None:
        return base.filter(lambda s: low <= len(s) and (high is None or len(s) <= high))
    return base


def format_strategies(user: dict[str, Callable[[str], bool]]) -> dict[str, st.SearchStrategy[str]]:
    """Strings per asserted format (OAS and JSON Schema formats, then user formats)."""
    found: dict[str, st.SearchStrategy[str]] = {
        "date": st.dates().map(lambda d: d.isoformat()),
        "date-time": st.datetimes(timezones=st.just(timezone.utc)).map(
            lambda d: d.isoformat().replace("+00:00", "Z")),
        "time": st.times().map(lambda t: t.isoformat() + "Z"),
        "email": st.from_regex(r"[a-z][a-z0-9.]{0,8}[a-z0-9]@[a-z]{1,8}\.(com|org|io)",
                               fullmatch=True),
        "uuid": st.uuids().map(str),
        "uri": domains().map(lambda d: f"https://{d}/"),
        "hostname": domains(),
        "ipv4": st.ip_addresses(v=4).map(str),
        "ipv6": st.ip_addresses(v=6).map(str),
        "byte": st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode("ascii")),
        "binary": st.text(st.characters(max_codepoint=255), max_size=24),
    }
    for name, check in user.items():
        found[name] = st.text(TEXT, max_size=16).filter(check)
    return found


class Generator:
    """Strategies for the normalized schemas of one compiler (one spec, dialect and context)."""

    def __init__(self, definitions: dict[str, Any], draft: int,
                 formats: dict[str, st.SearchStrategy[str]], *, full: bool = False) -> None:
        self.definitions = definitions
        self.draft = draft
        self.formats = formats
        # Full instances (the fuzzer's coverage pass): every optional property present and
        # arrays of at least one item where allowed, so that every rule has a value to break.
        self.full = full
        self._twin: Generator | None = None
        self._prefix = f"{RESOURCE}#/{'definitions' if draft == 4 else '$defs'}/"

    def filled(self, full: bool) -> Generator:
        """This generator, or its twin that draws full instances (``full``)."""
        if full == self.full:
            return self
        twin = self._twin
        if twin is None:
            twin = self._twin = Generator(self.definitions, self.draft, self.formats,
                                          full=full)
            twin._twin = self
        return twin

    # -- schema algebra ----------------------------------------------------------------------

    def resolve(self, schema: Any) -> Any:
        """The schema with its ``$ref`` (and the refs it points to) merged in."""
        for _ in range(32):
            if not isinstance(schema, dict) or "$ref" not in schema:
                return schema
            ref = schema["$ref"]
            target = self.definitions.get(ref[len(self._prefix):]) if isinstance(
                ref, str) and ref.startswith(self._prefix) else None
            if target is None:
                return {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = self.merge(target, rest) if rest else target
        return schema

    def flatten(self, schema: Any) -> Any:
        """``schema`` with ``$ref`` and ``allOf`` merged into one node (as far as possible)."""
        schema = self.resolve(schema)
        if isinstance(schema, bool) or not isinstance(schema, dict):
            return schema
        if schema == {"not": {}}:
            return False
        while "allOf" in schema:
            members = schema["allOf"]
            schema = {k: v for k, v in schema.items() if k != "allOf"}
            for member in members:
                member = self.resolve(member)
                if member is False or member == {"not": {}}:
                    return False
                if isinstance(member, dict):
                    schema = self.merge(schema, member)
        return schema

    def merge(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        """A node satisfying both ``a`` and ``b`` as far as construction goes (the final
        filter through the validator covers what is not merged exactly)."""
        out = dict(a)
        for key, value in b.items():
            if key not in out:
                out[key] = value
                continue
            mine = out[key]
            if key == "type":
                out[key] = _meet_types(mine, value)
            elif key == "required":
                out[key] = list(dict.fromkeys([*mine, *value]))
            elif key == "properties":
                merged = dict(mine)
                for name, sub in value.items():
                    merged[name] = {"allOf": [merged[name], sub]} if name in merged else sub
                out[key] = merged
            elif key in ("minimum", "minLength", "minItems", "minProperties"):
                out[key] = max(mine, value)
            elif key in ("maximum", "maxLength", "maxItems", "maxProperties"):
                out[key] = min(mine, value)
            elif key == "enum":
                out[key] = [v for v in mine if any(same(v, w) for w in value)]
            elif key in ("allOf", "anyOf", "oneOf"):
                out["allOf"] = [*out.get("allOf", []), {key: value}]
            elif key == "items" and isinstance(mine, dict) and isinstance(value, dict):
                out[key] = {"allOf": [mine, value]}
            elif mine != value:
                out["allOf"] = [*out.get("allOf", []), {key: value}]
        return out

    # -- strategies --------------------------------------------------------------------------

    def strategy(self, schema: Any, alphabet: st.SearchStrategy[str] = TEXT,
                 depth: int = 0) -> st.SearchStrategy[Any]:
        """Instances of ``schema`` (mostly valid; callers filter through the validator)."""
        node = self.flatten(schema)
        if node is True or node == {}:
            return _ANY
        if node is False or not isinstance(node, dict) or depth > 3 * _MAX_DEPTH:
            return st.nothing()
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"]) if node["enum"] else st.nothing()
        for key in ("anyOf", "oneOf"):
            if key in node:
                rest = {k: v for k, v in node.items() if k != key}
                branches = [self.merge(rest, b) if isinstance(b := self.flatten(br), dict)
                            else b for br in node[key]]
                usable = [b for b in branches if b is not False]
                return st.one_of([self._later(b, alphabet, depth + 1)
                                  for b in usable]) if usable else st.nothing()
        types = [t for t in _types(node) if t in _ALL_TYPES]
        return st.one_of([self._typed(t, node, alphabet, depth) for t in types])

    def _later(self, schema: Any, alphabet: st.SearchStrategy[str],
               depth: int) -> st.SearchStrategy[Any]:
        """A branch's strategy, built when first drawn (recursive schemas stay finite)."""
        return st.deferred(lambda: self.strategy(schema, alphabet, depth))

    def _typed(self, kind: str, node: dict[str, Any], alphabet: st.SearchStrategy[str],
               depth: int) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return _integers(node, self.draft)
        if kind == "number":
            return _numbers(node, self.draft)
        if kind == "string":
            return _strings(node, self.formats, alphabet)
        if kind == "array":
            return self._array(node, alphabet, depth)
        return self._object(node, alphabet, depth)

    def _array(self, node: dict[str, Any], alphabet: st.SearchStrategy[str],
               depth: int) -> st.SearchStrategy[Any]:
        low = node.get("minItems", 0)
        high = node.get("maxItems")
        if depth >= _MAX_DEPTH:
            high = low
        elif high is None:
            high = low + _EXTRA_ITEMS
        prefix_schemas = node.get("prefixItems")
        items = node.get("items", {})
        if self.draft == 4 and isinstance(items, list):
            prefix_schemas, items = items, node.get("additionalItems", {})
        if self.full and low == 0 and high > 0 and (prefix_schemas or items is not False):
            low = 1
        if prefix_schemas:
            if high < len(prefix_schemas):
                prefix_schemas = prefix_schemas[:high]
            head = st.tuples(*[self.strategy(s, alphabet, depth + 1) for s in prefix_schemas])
            rest_low = max(0, low - len(prefix_schemas))
            rest_high = max(rest_low, high - len(prefix_schemas))
            tail = (st.lists(self.strategy(items, alphabet, depth + 1), min_size=rest_low,
                             max_size=rest_high) if items is not False else st.just([]))
            return st.builds(lambda h, t: [*h, *t], head, tail)
        element = self.strategy(items, alphabet, depth + 1)
        if node.get("uniqueItems") is True:
            return st.lists(element, min_size=low, max_size=high, unique_by=_canonical)
        return st.lists(element, min_size=low, max_size=high)

    def _object(self, node: dict[str, Any], alphabet: st.SearchStrategy[str],
                depth: int) -> st.SearchStrategy[Any]:
        properties: dict[str, Any] = node.get("properties") or {}
        required = [name for name in node.get("required", []) if isinstance(name, str)]
        usable = {name: sub for name, sub in properties.items()
                  if self.flatten(sub) is not False}
        optional = [name for name in usable if name not in required]
        if depth >= _MAX_DEPTH:
            optional = []
        extra_schema = node.get("additionalProperties", True)
        minimum = node.get("minProperties", 0)

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name in required:
                sub = properties.get(name, extra_schema if extra_schema is not False else {})
                out[name] = draw(self.strategy(sub, alphabet, depth + 1))
            for name in optional:
                if self.full or draw(st.booleans()):
                    out[name] = draw(self.strategy(usable[name], alphabet, depth + 1))
            if len(out) < minimum and extra_schema is not False:
                while len(out) < minimum:
                    key = draw(st.text(st.sampled_from("abcdefgh"), min_size=1, max_size=6))
                    if key not in properties:
                        out[key] = draw(self.strategy(extra_schema, alphabet, depth + 1))
            return out

        return build()


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS)


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


_ALL_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def _types(node: dict[str, Any]) -> list[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        # `number` already draws integers; drawing both would only double the weight.
        return [t for t in declared if not (t == "integer" and "number" in declared)]
    inferred = []
    if any(k in node for k in ("properties", "required", "additionalProperties",
                               "minProperties", "maxProperties")):
        inferred.append("object")
    if any(k in node for k in ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")):
        inferred.append("array")
    if any(k in node for k in ("minLength", "maxLength", "pattern", "format")):
        inferred.append("string")
    if any(k in node for k in ("minimum", "maximum", "multipleOf", "exclusiveMinimum",
                               "exclusiveMaximum")):
        inferred.append("number")
    return inferred or list(_ALL_TYPES[:5])


def _meet_types(a: Any, b: Any) -> Any:
    left = [a] if isinstance(a, str) else list(a)
    right = [b] if isinstance(b, str) else list(b)
    out = [t for t in left if t in right or (t == "integer" and "number" in right)]
    out += [t for t in right if t == "integer" and "number" in left and t not in out]
    return out or ["__none__"]


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-100, 100),
                     st.floats(-100, 100, allow_nan=False), st.text(TEXT, max_size=8))
_ANY: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(TEXT, max_size=6),
                                                                 inner, max_size=3),
    max_leaves=6,
)
