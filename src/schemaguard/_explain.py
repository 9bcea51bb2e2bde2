"""The violations of a small refused instance, told without the engine's error objects.

The engine's ``iter_errors`` walks the whole instance again on its slow path (~4 µs for a
1 KB body before the first error) and makes each error a Python exception carrying its kind,
its paths and the instance at its place (~1.5-3 µs each, before conversion): a 1 KB body
refused for four errors cost ~5x its valid twin. For an instance of at most ``_locate.SMALL``
containers (so that this walk, which holds the GIL, is bounded) the locator's parts are
walked instead:

* an object's and an array's own keywords (type, required, additionalProperties false,
  property and item counts, uniqueItems) are checked here, and each value with the engine's
  ``is_valid`` of its own schema, descending into those that fail;
* a discriminated oneOf/anyOf descends into the selected branch, an allOf into each failing
  member, a oneOf/anyOf without a discriminator is one violation (as the locator does);
* at a leaf, the keywords that apply to the value's JSON type are checked here when all of
  them are simple (type, bounds, lengths, counts, required, additionalProperties false, enum
  and const on strings, booleans and null, ``not: {}``), and by the engine otherwise.

Any part that fails where nothing here named a violation is asked of the engine, so a
refusal always says why. The records (pointer, keyword, message, spec pointer) are the
engine's: tests/test_explain.py and test_locate's property tests hold them side by side;
only their order may differ (a part's own keywords first, then its values in the
instance's order).

Compiled (hatch_build.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import jsonschema_rs

from ._compile import Compiler
from ._locate import (
    _ALL as ALL,
)
from ._locate import (
    _ARRAY as ARRAY,
)
from ._locate import (
    _BRANCH as BRANCH,
)
from ._locate import (
    _LEAF as LEAF,
)
from ._locate import (
    _OBJECT as OBJECT,
)
from ._locate import (
    _ONE as ONE,
)
from ._locate import (
    _UNIQUE,
    Locator,
    _Part,
    _Place,
    admits,
    composition,
    selected,
)
from ._locate import (
    MAX_DESCENT as DESCENT,
)
from ._locate import (
    MAX_PARTS as PARTS,
)
from ._source import escape_token, join_pointer
from ._violations import (
    CONSTANT,
    NOT,
    NOT_ALLOWED,
    UNIQUE_ITEMS,
    bound_message,
    count_message,
    enum_message,
    noted,
    required_message,
    schema_pointer_of,
    type_message,
    violation,
)
from .errors import Location, Violation

# (validator, instance, pointer prefix, location, name) -> the engine's violations of a part
Leaf = Callable[[jsonschema_rs.Validator, Any, str, Location, "str | None"], Iterator[Violation]]

# The JSON types in the order the engine lists them in a type error.
_TYPE_ORDER: Final = ("null", "boolean", "integer", "number", "string", "array", "object")
# Keywords that apply to one JSON type only ("number": integers too); others apply to all.
_SCOPE: Final = {
    "properties": "object", "required": "object", "additionalProperties": "object",
    "patternProperties": "object", "propertyNames": "object", "minProperties": "object",
    "maxProperties": "object", "dependentRequired": "object", "dependentSchemas": "object",
    "dependencies": "object", "unevaluatedProperties": "object",
    "items": "array", "prefixItems": "array", "additionalItems": "array",
    "minItems": "array", "maxItems": "array", "uniqueItems": "array", "contains": "array",
    "minContains": "array", "maxContains": "array", "unevaluatedItems": "array",
    "minLength": "string", "maxLength": "string", "pattern": "string", "format": "string",
    "minimum": "number", "maximum": "number", "exclusiveMinimum": "number",
    "exclusiveMaximum": "number", "multipleOf": "number",
}
# Keywords that assert nothing.
_ANNOTATIONS: Final = frozenset({"title", "description", "default", "examples", "deprecated",
                                 "readOnly", "writeOnly", "$comment"})
_EXACT: Final = 2**53  # integers compared here; bigger ones are the engine's to compare

# The locator's kinds of parts, as C globals (Final): a module global is a dict lookup.
_LEAF: Final = LEAF
_OBJECT: Final = OBJECT
_ARRAY: Final = ARRAY
_BRANCH: Final = BRANCH
_ALL: Final = ALL
_ONE: Final = ONE
MAX_DESCENT: Final = DESCENT
MAX_PARTS: Final = PARTS
# What a check does.
_TYPE: Final = 0
_LOW: Final = 1  # minimum
_HIGH: Final = 2  # maximum
_LOW_EXCL: Final = 3  # exclusiveMinimum
_HIGH_EXCL: Final = 4  # exclusiveMaximum
_MIN_SIZE: Final = 5
_MAX_SIZE: Final = 6
_REQUIRED: Final = 7
_CLOSED: Final = 8  # additionalProperties: false
_UNIQUE_ITEMS: Final = 9
_ONE_OF_VALUES: Final = 10  # enum, const
_NEVER: Final = 11  # not: {}
# What a check says of a value.
_HOLDS: Final = 0
_FAILS: Final = 1
_UNTOLD: Final = 2  # the engine's to judge
_BOUND_CODES: Final = {"minimum": _LOW, "maximum": _HIGH, "exclusiveMinimum": _LOW_EXCL,
                       "exclusiveMaximum": _HIGH_EXCL}


# JSON types as bits: a check's scope, a node's untold types and a type keyword are masks.
_NULL: Final = 1
_BOOLEAN: Final = 2
_INTEGER: Final = 4
_NUMBER: Final = 8
_STRING: Final = 16
_ARRAY_TYPE: Final = 32
_OBJECT_TYPE: Final = 64
_ANY_TYPE: Final = 127
_NUMERIC: Final = _INTEGER | _NUMBER
_EQUAL_AS_PYTHON: Final = _STRING | _BOOLEAN | _NULL  # JSON equality is Python's here
_BITS: Final = {"null": _NULL, "boolean": _BOOLEAN, "integer": _INTEGER, "number": _NUMBER,
                "string": _STRING, "array": _ARRAY_TYPE, "object": _OBJECT_TYPE}


def _json_type(instance: Any) -> int:
    kind = type(instance)
    if kind is str:
        return _STRING
    if kind is dict:
        return _OBJECT_TYPE
    if kind is list:
        return _ARRAY_TYPE
    if kind is bool:
        return _BOOLEAN
    if kind is int:
        return _INTEGER
    if kind is float:
        return _NUMBER
    return _NULL


def _scope_bits(scope: str) -> int:
    """The types a keyword applies to ("number": integers too)."""
    if not scope:
        return _ANY_TYPE
    return _NUMERIC if scope == "number" else _BITS[scope]


class _Check:
    """One keyword of a schema, told here: what it looks at and how it is reported."""

    __slots__ = ("code", "keyword", "message", "note", "schema_pointer", "scope", "value")

    def __init__(self, code: int, scope: int, value: Any, keyword: str, message: str,
                 note: bool, schema_pointer: str) -> None:
        self.code = code
        self.scope = scope  # the JSON types it applies to (bits)
        self.value = value  # the limit, the names, the types, the options
        self.keyword = keyword  # as reported (a note's keyword, where the rewrite has one)
        self.message = message
        self.note = note  # a note's: reported at the value whatever the keyword
        self.schema_pointer = schema_pointer


class _Child:
    """A value's schema: its ``is_valid`` and its place, and the node once walked."""

    __slots__ = ("is_valid", "node", "place")

    def __init__(self, check: tuple[Callable[[Any], bool], _Place]) -> None:
        self.is_valid = check[0]
        self.place = check[1]
        self.node: _Node | None = None


class _Node:
    """What a walk needs of one place of the schema, prepared once from the locator's part."""

    __slots__ = ("checks", "children", "closed", "extra", "kind", "members", "own_by_engine",
                 "part", "probes", "untold")

    def __init__(self, part: _Part, compiler: Compiler) -> None:
        self.part = part
        self.kind: int = part.kind
        self.checks: list[_Check] = []
        # a split object's additionalProperties: false, checked after its values (where the
        # engine reports it)
        self.closed: _Check | None = None
        self.untold = 0  # the JSON types (bits) whose keywords the engine must report
        self.own_by_engine = False  # an object's propertyNames/dependentRequired
        self.children: dict[str, _Child] = {
            key: _Child((check[1], check[2])) for key, check in part.children.items()}
        self.extra = _Child(part.extra) if part.extra is not None else None
        self.members = [_Child(member) for member in part.members]
        node = part.node
        # Whether a scalar is judged by the checks alone (_probe): not behind a reference
        # or a composition, which are kinds of their own or untold keywords.
        self.probes = type(node) is dict and self.kind in (_LEAF, _OBJECT, _ARRAY)
        if self.probes:  # (a composition's node is walked by its members, not checked)
            self._prepare(node, compiler)

    def _prepare(self, node: dict[str, Any], compiler: Compiler) -> None:
        split = self.kind == _OBJECT or self.kind == _ARRAY
        untold = 0
        for key, value in node.items():
            if key in _ANNOTATIONS:
                continue
            scope = _scope_bits(_SCOPE.get(key, ""))
            if (split and key in ("properties", "items")) or (
                    key == "additionalProperties" and type(value) is dict and
                    self.kind == _OBJECT):
                continue  # the values' schemas: the walk's
            if self.kind == _OBJECT and key in ("propertyNames", "dependentRequired"):
                untold |= _OBJECT_TYPE
                continue
            check = self._check(key, value, node, scope, compiler)
            if check is None:
                untold |= scope
            elif check.code == _CLOSED and self.kind == _OBJECT:
                self.closed = check
            elif check.code >= 0:
                self.checks.append(check)
        self.untold = untold
        if (self.kind == _OBJECT and untold & _OBJECT_TYPE) or \
                (self.kind == _ARRAY and untold & _ARRAY_TYPE):
            # an own keyword not told here: the engine checks them all (the shallow schema)
            self.own_by_engine = True
            self.closed = None

    def _check(self, key: str, value: Any, node: dict[str, Any], scope: int,
               compiler: Compiler) -> _Check | None:
        """The check of one keyword (code -1: nothing to check); None: not told here."""
        if key == "type":
            names = [value] if type(value) is str else list(value)
            ordered = [name for name in _TYPE_ORDER if name in names]
            mask = 0
            for name in names:
                mask |= _BITS.get(name, 0)
            if mask & _NUMBER:  # a number type admits integers
                mask |= _INTEGER
            return self._made(_TYPE, scope, (mask, "integer" in names), key,
                              type_message(ordered), compiler)
        if key in _BOUND_CODES:
            if type(value) is bool:  # draft 4's flag: minimum/maximum say it
                return _Check(-1, scope, None, key, "", False, "")
            if type(value) not in (int, float):
                return None
            # Draft 4: a true exclusiveMinimum makes minimum exclusive; the engine reports
            # an exclusiveMinimum error at minimum (the same for maximum).
            named = key
            if key == "minimum" and node.get("exclusiveMinimum") is True:
                named = "exclusiveMinimum"
            elif key == "maximum" and node.get("exclusiveMaximum") is True:
                named = "exclusiveMaximum"
            return self._made(_BOUND_CODES[named], scope, value, named,
                              bound_message(named, value), compiler, key)
        if key in ("minLength", "minItems", "minProperties", "maxLength", "maxItems",
                   "maxProperties"):
            if type(value) not in (int, float) or type(value) is bool:
                return None
            count = int(value) if type(value) is float and value.is_integer() else value
            return self._made(_MIN_SIZE if key.startswith("min") else _MAX_SIZE, scope, value,
                              key, count_message(key, count), compiler)
        if key == "required" and type(value) is list:
            declared = node.get("properties") or {}
            if node.get("additionalProperties") is False and any(
                    name not in declared for name in value):
                # Required but not allowed: the engine reports such a name as missing
                # whether it is there or not (pinned in tests/test_explain.py).
                return None
            return self._made(_REQUIRED, scope, value, key, "", compiler)
        if key == "additionalProperties":
            if value is True:
                return _Check(-1, scope, None, key, "", False, "")
            if value is False and "patternProperties" not in node:
                declared = node.get("properties") or {}
                return self._made(_CLOSED, scope, frozenset(declared), key, NOT_ALLOWED,
                                  compiler)
            return None
        if key == "uniqueItems":
            if value is False:
                return _Check(-1, scope, None, key, "", False, "")
            return self._made(_UNIQUE_ITEMS, scope, None, key, UNIQUE_ITEMS, compiler) \
                if value is True else None
        if key == "enum" and type(value) is list and not any(
                type(option) is dict or type(option) is list for option in value):
            # (the engine's message lists an object's keys in its own order: untold)
            return self._made(_ONE_OF_VALUES, scope, _options(value), key, enum_message(value),
                              compiler)
        if key == "const":
            return self._made(_ONE_OF_VALUES, scope, _options([value]), key, CONSTANT, compiler)
        if key == "not" and (value == {} or value is True):
            return self._made(_NEVER, scope, None, key, NOT, compiler)
        return None

    def _made(self, code: int, scope: int, value: Any, keyword: str, message: str,
              compiler: Compiler, at: str | None = None) -> _Check:
        """The check, reported as the engine's error of ``keyword`` at this place is (at
        ``at``, where the engine reports it at another keyword)."""
        def_id, path = self.part.place
        where = compiler.location(def_id, join_pointer(path, at or keyword))
        note = noted(compiler, where)
        if note is not None:  # a keyword of the rewrite: reported by its note
            return _Check(code, scope, value, note[0], note[1], True, note[2])
        return _Check(code, scope, value, keyword, message, False,
                      schema_pointer_of(compiler, where, []))


class _Search:
    """One walk: what it found, and what stays the same through it."""

    __slots__ = ("compiler", "leaf", "limit", "location", "locator", "name", "nodes", "out")

    def __init__(self, locator: Locator, compiler: Compiler, nodes: dict[_Place, _Node],
                 location: Location, name: str | None, leaf: Leaf, limit: int) -> None:
        self.locator = locator
        self.compiler = compiler
        self.nodes = nodes
        self.location = location
        self.name = name
        self.leaf = leaf
        self.limit = limit
        self.out: list[Violation] = []

    def node(self, place: _Place) -> _Node:
        found = self.nodes.get(place)
        if found is None:
            found = _Node(self.locator.part(place), self.compiler)
            if len(self.nodes) < MAX_PARTS:
                self.nodes[place] = found
        return found

    def _fails(self, child: _Child, value: Any) -> bool:
        """Whether a value fails its schema: a scalar by the checks told here when they
        are all it has, anything else by the engine."""
        if type(value) is not dict and type(value) is not list:
            node = child.node
            if node is None:
                node = child.node = self.node(child.place)
            verdict = _probe(node, value)
            if verdict != _UNTOLD:
                return verdict == _FAILS
        return not child.is_valid(value)

    def child(self, child: _Child, value: Any, prefix: str, depth: int) -> None:
        node = child.node
        if node is None:
            node = child.node = self.node(child.place)
        self.walk(node, value, prefix, depth)

    def walk(self, node: _Node, instance: Any, prefix: str, depth: int) -> None:
        """The violations of ``instance``, known to fail the schema at ``node``."""
        out = self.out
        before = len(out)
        kind = node.kind
        part = node.part
        if depth >= MAX_DESCENT:
            pass
        elif kind == _OBJECT and type(instance) is dict:
            self._object(node, instance, prefix, depth)
        elif kind == _ARRAY and type(instance) is list:
            self._array(node, instance, prefix, depth)
        elif kind == _BRANCH and type(instance) is dict and admits(part.types, instance):
            chosen = selected(part, instance, prefix, self.location, self.name)
            if isinstance(chosen, Violation):
                out.append(chosen)
            else:
                self.walk(self.node(chosen), instance, prefix, depth + 1)
        elif kind == _ALL:
            for member in node.members:
                if len(out) >= self.limit:
                    return
                if not member.is_valid(instance):
                    self.child(member, instance, prefix, depth + 1)
        elif kind == _ONE and admits(part.types, instance):
            found = composition(part, instance, prefix, self.location, self.name)
            if found is not None:
                out.append(found)
        elif node.checks or node.untold:
            self._own(node, instance, _json_type(instance), prefix)
        if len(out) == before:  # nothing here could name it: the engine's violations
            out.extend(self.leaf(part.validator, instance, prefix, self.location, self.name))

    def _object(self, node: _Node, instance: dict[str, Any], prefix: str, depth: int) -> None:
        if node.own_by_engine:
            # the shallow schema looks at the names only
            self._own_by_engine(node, dict.fromkeys(instance), prefix)
        else:
            self._own(node, instance, _OBJECT_TYPE, prefix)
        children = node.children
        extra = node.extra
        for key, value in instance.items():
            if len(self.out) >= self.limit:
                return
            child = children.get(key)
            if child is None:
                if extra is None:
                    continue
                child = extra
            if self._fails(child, value):
                self.child(child, value, f"{prefix}/{_token(key)}", depth + 1)
        closed = node.closed
        if closed is not None and _verdict(closed, instance, _OBJECT_TYPE) == _FAILS:
            self._unexpected(closed, instance, prefix)

    def _array(self, node: _Node, instance: list[Any], prefix: str, depth: int) -> None:
        if node.own_by_engine:
            self._own_by_engine(node, instance, prefix)
        else:
            self._own(node, instance, _ARRAY_TYPE, prefix)
        extra = node.extra
        assert extra is not None
        for index, item in enumerate(instance):
            if len(self.out) >= self.limit:
                return
            if self._fails(extra, item):
                self.child(extra, item, f"{prefix}/{index}", depth + 1)

    def _own_by_engine(self, node: _Node, instance: Any, prefix: str) -> None:
        own = node.part.own
        assert own is not None
        if not own.is_valid(instance):
            self.out.extend(self.leaf(own, instance, prefix, self.location, self.name))

    def _own(self, node: _Node, instance: Any, json_type: int, prefix: str) -> None:
        """The violations of the checks told here; none when one that applies is not (the
        walk then asks the engine for the whole place)."""
        if json_type & node.untold:
            return
        out = self.out
        before = len(out)
        for check in node.checks:
            if not check.scope & json_type:
                continue
            verdict = _verdict(check, instance, json_type)
            if verdict == _HOLDS:
                continue
            if verdict == _UNTOLD:
                del out[before:]
                return
            code = check.code
            if code == _REQUIRED:
                names: list[str] = check.value
                for missing in names:
                    if missing not in instance:
                        self._add(check, prefix, required_message(missing), missing)
            elif code == _CLOSED:
                self._unexpected(check, instance, prefix)
            else:
                self._add(check, prefix, check.message, None)

    def _unexpected(self, check: _Check, instance: dict[str, Any], prefix: str) -> None:
        """additionalProperties: false: a violation for each name not declared (a note:
        one for all, as the engine's one error)."""
        if check.note:
            self._add(check, prefix, check.message, None)
            return
        declared: frozenset[str] = check.value
        for key in instance:
            if key not in declared:
                self._add(check, prefix, check.message, key)

    def _add(self, check: _Check, prefix: str, text: str, below: str | None) -> None:
        if check.note:  # a keyword of the rewrite: its note, at the value
            self.out.append(violation(self.location, self.name, prefix, check.keyword,
                                      check.message, check.schema_pointer))
            return
        pointer = prefix if below is None else f"{prefix}/{_token(below)}"
        self.out.append(violation(self.location, self.name, pointer, check.keyword, text,
                                  check.schema_pointer))


def _verdict(check: _Check, instance: Any, json_type: int) -> int:
    """Whether ``instance`` (of ``json_type``, which the check applies to) holds the
    check, fails it, or is the engine's to judge."""
    code = check.code
    if code == _TYPE:
        types: tuple[int, bool] = check.value
        if types[0] & json_type:
            return _HOLDS
        if json_type == _NUMBER and types[1] and float(instance).is_integer():
            return _UNTOLD  # draft 4 refuses 1.0 as an integer, later drafts accept it
        return _FAILS
    if _LOW <= code <= _HIGH_EXCL:
        if json_type == _INTEGER and not -_EXACT < instance < _EXACT:
            return _UNTOLD
        limit = check.value
        if code == _LOW:
            beyond = instance < limit
        elif code == _HIGH:
            beyond = instance > limit
        elif code == _LOW_EXCL:
            beyond = instance <= limit
        else:
            beyond = instance >= limit
        return _FAILS if beyond else _HOLDS
    if code == _MIN_SIZE:
        return _FAILS if len(instance) < check.value else _HOLDS
    if code == _MAX_SIZE:
        return _FAILS if len(instance) > check.value else _HOLDS
    if code == _REQUIRED:  # (typed: mypyc's own list and dict loops and lookups)
        names: list[str] = check.value
        members: dict[str, Any] = instance
        for name in names:
            if name not in members:
                return _FAILS
        return _HOLDS
    if code == _CLOSED:
        declared: frozenset[str] = check.value
        present: dict[str, Any] = instance
        for key in present:
            if key not in declared:
                return _FAILS
        return _HOLDS
    if code == _UNIQUE_ITEMS:
        return _HOLDS if _UNIQUE(instance) else _FAILS
    if code == _ONE_OF_VALUES:
        if not json_type & _EQUAL_AS_PYTHON:
            return _UNTOLD  # numbers and containers: JSON equality is the engine's
        options: tuple[frozenset[str], list[Any]] = check.value
        if json_type == _STRING:
            return _HOLDS if instance in options[0] else _FAILS
        kind = type(instance)
        for option in options[1]:
            if type(option) is kind and option == instance:
                return _HOLDS
        return _FAILS
    return _FAILS  # _NEVER


def _options(values: list[Any]) -> tuple[frozenset[str], list[Any]]:
    """enum or const: (its strings, its other values), for one lookup of a string."""
    return (frozenset(value for value in values if type(value) is str),
            [value for value in values if type(value) is not str])


def _probe(node: _Node, instance: Any) -> int:
    """Whether a scalar holds the schema of ``node``, fails it, or is the engine's to
    judge: a value whose schema has only keywords told here needs no engine call."""
    if not node.probes:
        return _UNTOLD
    json_type = _json_type(instance)
    if json_type & node.untold:
        return _UNTOLD
    for check in node.checks:
        if not check.scope & json_type:
            continue
        verdict = _verdict(check, instance, json_type)
        if verdict != _HOLDS:
            return verdict
    return _HOLDS


def _token(name: str) -> str:
    return escape_token(name) if "~" in name or "/" in name else name


def explain(locator: Locator, compiler: Compiler, instance: Any, location: Location,
            name: str | None, leaf: Leaf, limit: int) -> list[Violation]:
    """At most ``limit`` violations of ``instance`` (known to be invalid and to hold at most
    ``_locate.SMALL`` containers)."""
    nodes: dict[_Place, _Node] = locator.explained
    search = _Search(locator, compiler, nodes, location, name, leaf, limit)
    search.walk(search.node(locator.root), instance, "", 0)
    return search.out[:limit]
