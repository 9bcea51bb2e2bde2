"""What a compiled schema lets through, bounded from above: how deep a valid instance can nest
and whether it can hold a number that orjson would not keep exact.

The guard scans every JSON body before parsing it, for two things orjson does not do: the
nesting limit and exact integers past 64 bits (``_body.json_decoder``). When the body's
schema itself bounds both (every object closed, every array typed, every number bounded
inside +-2**63), a body that passes validation cannot break either rule, so it can be parsed
at once and scanned only when it fails.

The bound is an over-approximation: a keyword that is not understood here is ignored, and
ignoring a keyword only lets more instances through, so the bound stays sound. A reference
cycle (a recursive schema) is unbounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

# orjson keeps integers in [-2**63, 2**64) exact; any other integer becomes a float at least
# 2**63 in magnitude, which a bound strictly inside (-2**63, 2**63) refuses.
_BIG = 2**63
_MAX_NESTING = 200  # schema levels followed (Python's stack); deeper counts as unbounded
_SCALARS = frozenset({"string", "boolean", "null"})
_NUMBERS = frozenset({"number", "integer"})
_ALL_TYPES = frozenset({"string", "boolean", "null", "number", "integer", "object", "array"})


class Bound(NamedTuple):
    """``depth``: the deepest nesting of a valid instance (a scalar is 0, ``[]`` is 1;
    None when unbounded; -1 when nothing is valid). ``small_numbers``: every number of a valid
    instance lies strictly inside +-2**63."""

    depth: int | None
    small_numbers: bool

    def within(self, max_depth: int) -> bool:
        return self.small_numbers and self.depth is not None and self.depth <= max_depth


ANYTHING = Bound(None, False)
NOTHING = Bound(-1, True)
_SCALAR = Bound(0, True)


def meet(a: Bound, b: Bound) -> Bound:
    """Valid against both: the smaller bound holds."""
    depth = b.depth if a.depth is None else a.depth if b.depth is None else min(a.depth,
                                                                                b.depth)
    return Bound(depth, a.small_numbers or b.small_numbers)


def join(a: Bound, b: Bound) -> Bound:
    """Valid against either: the larger bound holds."""
    depth = None if a.depth is None or b.depth is None else max(a.depth, b.depth)
    return Bound(depth, a.small_numbers and b.small_numbers)


class _Kinds(NamedTuple):
    """A bound per kind of JSON value (None: no value of that kind is valid). Kept apart
    because keywords apply per kind: ``allOf: [{maximum: 9}]`` bounds the numbers of a parent
    that says ``type: integer``, even though the member alone lets any object through."""

    scalar: Bound | None  # strings, booleans, null
    number: Bound | None
    object: Bound | None
    array: Bound | None

    def meet(self, other: _Kinds) -> _Kinds:
        return _Kinds(*(None if a is None or b is None else meet(a, b)
                        for a, b in zip(self, other, strict=True)))

    def join(self, other: _Kinds) -> _Kinds:
        return _Kinds(*(b if a is None else a if b is None else join(a, b)
                        for a, b in zip(self, other, strict=True)))

    def bound(self) -> Bound:
        found = NOTHING
        for kind in self:
            if kind is not None:
                found = join(found, kind)
        return found


_ANY = _Kinds(_SCALAR, Bound(0, False), ANYTHING, ANYTHING)
_NONE = _Kinds(None, None, None, None)


def schema_bound(definitions: Mapping[str, Any], root: str, prefix: str, *,
                 draft4: bool = False) -> Bound:
    """The bound of definition ``root`` (Compiler.definitions: normalized schemas whose
    ``$ref`` values are ``prefix`` + definition id; any other reference is unbounded).
    ``draft4``: a ``$ref`` stands alone, its siblings ignored (as the draft 4 engine does)."""
    return _Bounds(definitions, prefix, draft4).definition(root, 0).bound()


class _Bounds:
    def __init__(self, definitions: Mapping[str, Any], prefix: str, draft4: bool) -> None:
        self.definitions = definitions
        self.prefix = prefix
        self.draft4 = draft4
        self.done: dict[str, _Kinds] = {}
        self.visiting: set[str] = set()

    def definition(self, def_id: str, level: int) -> _Kinds:
        found = self.done.get(def_id)
        if found is not None:
            return found
        if def_id in self.visiting or def_id not in self.definitions:
            return _ANY  # recursion (or an unknown id): unbounded
        self.visiting.add(def_id)
        try:
            found = self.schema(self.definitions[def_id], level)
        finally:
            self.visiting.discard(def_id)
        self.done[def_id] = found
        return found

    def schema(self, schema: Any, level: int) -> _Kinds:
        if schema is False:
            return _NONE
        if not isinstance(schema, dict) or level > _MAX_NESTING:
            return _ANY
        level += 1
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = ref[len(self.prefix):] if ref.startswith(self.prefix) else None
            found = _ANY if target is None else self.definition(target, level)
            if self.draft4:
                return found  # draft 4: the keywords beside a $ref are not applied
            kinds = self.own(schema, level).meet(found)
        else:
            kinds = self.own(schema, level)
        for member in _list(schema.get("allOf")):
            kinds = kinds.meet(self.schema(member, level))
        for keyword in ("anyOf", "oneOf"):
            members = _list(schema.get(keyword))
            if members:
                either = _NONE
                for member in members:
                    either = either.join(self.schema(member, level))
                kinds = kinds.meet(either)
        if schema.get("not", False) in ({}, True):  # what the rewrite writes for "never"
            return _NONE
        return kinds

    def own(self, schema: dict[str, Any], level: int) -> _Kinds:
        """The bound from ``type``, ``enum``/``const`` and the keywords under them."""
        kind = schema.get("type")
        types = (frozenset({kind}) if isinstance(kind, str)
                 else frozenset(kind) if isinstance(kind, list) else _ALL_TYPES)
        kinds = _Kinds(
            _SCALAR if types & _SCALARS else None,
            Bound(0, _bounded_numbers(schema, self.draft4)) if types & _NUMBERS else None,
            self.container(_object_members(schema), level) if "object" in types else None,
            self.container(_array_members(schema), level) if "array" in types else None,
        )
        if "const" in schema and not self.draft4:  # draft 4 has no `const`
            kinds = kinds.meet(_values([schema["const"]]))
        elif isinstance(schema.get("enum"), list):
            kinds = kinds.meet(_values(schema["enum"]))
        return kinds

    def container(self, members: list[Any], level: int) -> Bound:
        """An object or array whose values are valid against one of ``members``."""
        inner = _SCALAR  # an empty container
        for member in members:
            inner = join(inner, self.schema(member, level).bound())
        return Bound(None if inner.depth is None else 1 + max(inner.depth, 0),
                     inner.small_numbers)


def _object_members(schema: dict[str, Any]) -> list[Any]:
    members = [*_values_of(schema.get("properties")), *_values_of(schema.get("patternProperties"))]
    extra = schema.get("additionalProperties", True)
    if extra is not False:
        members.append(extra)
    return members


def _array_members(schema: dict[str, Any]) -> list[Any]:
    items = schema.get("items", True)
    if isinstance(items, list):  # draft 4 tuple form
        rest = schema.get("additionalItems", True)
        return [*items, rest] if rest is not False else list(items)
    members = list(_list(schema.get("prefixItems")))
    if items is not False:
        members.append(items)
    return members


def _bounded_numbers(schema: dict[str, Any], draft4: bool) -> bool:
    # Draft 4's exclusiveMaximum/exclusiveMinimum are booleans beside maximum/minimum.
    upper = (_number(schema.get("maximum"), lambda n: n < _BIG)
             or (not draft4 and _number(schema.get("exclusiveMaximum"), lambda n: n <= _BIG)))
    lower = (_number(schema.get("minimum"), lambda n: n > -_BIG)
             or (not draft4 and _number(schema.get("exclusiveMinimum"), lambda n: n >= -_BIG)))
    return upper and lower


def _number(value: Any, ok: Callable[[Any], bool]) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and ok(value)


def _values(values: list[Any]) -> _Kinds:
    """The bound of exactly these values (an ``enum``)."""
    kinds = _NONE
    for value in values:
        bound = _value(value, 0)
        if isinstance(value, dict):
            kinds = kinds.join(_Kinds(None, None, bound, None))
        elif isinstance(value, list):
            kinds = kinds.join(_Kinds(None, None, None, bound))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            kinds = kinds.join(_Kinds(None, bound, None, None))
        else:
            kinds = kinds.join(_Kinds(bound, None, None, None))
    return kinds


def _value(value: Any, level: int) -> Bound:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return _SCALAR
    if isinstance(value, (int, float)):
        return Bound(0, -_BIG < value < _BIG)
    if level > _MAX_NESTING:
        return ANYTHING
    children = value.values() if isinstance(value, dict) else value
    inner = _SCALAR
    for child in children:
        inner = join(inner, _value(child, level + 1))
    return Bound(None if inner.depth is None else 1 + inner.depth, inner.small_numbers)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _values_of(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else []
