"""The first violations of a big invalid instance, at a cost bounded by how many are wanted.

The engine builds every error of an instance before the first can be read, and each error is
dear: it carries the instance at its place as a Python value, and a failing ``anyOf`` carries
the errors of all its branches (a discriminated ``oneOf`` of three schemas: ~100 µs for one
item). A 50 KB array of 5,000 such items took half a second to refuse, where only the first
20 violations are ever reported.

The locator finds them part by part instead, and stops when enough are found:

* a part of the instance holding at most ``SMALL`` containers is a leaf: the engine reports
  all of its errors at once (the dearest leaf is small), unless its schema reaches a
  discriminator, whose failing branch is dear whatever the size;
* a bigger object whose schema only has keywords that look at the property names and at each
  property's value separately (``properties``, ``additionalProperties``, ``required``...):
  its own keywords are checked on a copy whose values are ``null`` (a *shallow* schema:
  ``properties`` and an ``additionalProperties`` schema become ``true``), then each property
  value against its own schema with ``is_valid``, descending into those that fail;
* a bigger array with one ``items`` schema: its own keywords (``items`` dropped), then each
  item, the same way;
* a discriminated ``oneOf``/``anyOf`` (a compiler selector): the selected branch;
* any other big part: the engine, on a copy whose long arrays are cut (the caller's leaf).

Every part has a validator of its own built from the compiled definitions (``build_at``), so
the engine's keyword locations, and with them the spec pointers, notes and selectors, are
those a whole-instance error carries. The violations are those the engine reports for the
whole instance (tests/test_locate.py holds them side by side); only their order may differ:
a part's own keywords come first, then its values in the instance's order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs

from ._compile import RESOURCE, Compiler, Selector
from ._source import escape_token, join_pointer
from ._violations import (
    ANY_OF,
    ONE_OF_NONE,
    ONE_OF_SEVERAL,
    UNIQUE_ITEMS,
    schema_pointer_of,
    select,
)
from .errors import Location, Violation

# (validator, instance, pointer prefix, location, name) -> the violations of that part
Leaf = Callable[[jsonschema_rs.Validator, Any, str, Location, "str | None"], Iterator[Violation]]

SMALL = 64  # containers in a part the engine reports whole
# An object's keywords that look at the property names, or at each value on its own.
_OBJECT_SPLIT = frozenset({"type", "properties", "required", "additionalProperties",
                           "propertyNames", "minProperties", "maxProperties",
                           "dependentRequired"})
_ARRAY_SPLIT = frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"})
# Property names that go into an engine reference unchanged.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.$@:-]+\Z")
MAX_DESCENT = 64  # levels the locator splits; deeper parts are leaves
MAX_REF_CHAIN = 16
MAX_PARTS = 4096  # places kept per compiled schema; past it a place is prepared again

_Place = tuple[str, str]  # (definition id, path inside it)
_LEAF, _OBJECT, _ARRAY, _BRANCH, _ALL, _ONE = range(6)
_TYPES: dict[type, str] = {dict: "object", list: "array"}
_CONTAINERS = (dict, list)


def small(instance: Any, limit: int | None = None) -> bool:
    """Whether ``instance`` holds at most ``limit`` (``SMALL``) containers, counted only
    until that is known."""
    if type(instance) not in _CONTAINERS:
        return True
    if limit is None:
        limit = SMALL
    count, level = 1, [instance]
    while level:
        deeper = []
        for node in level:
            deeper += [v for v in (node.values() if type(node) is dict else node)
                       if type(v) in _CONTAINERS]
        count += len(deeper)
        if count > limit:
            return False
        level = deeper
    return True


class _Walk:
    """What stays the same through one search."""

    __slots__ = ("big", "leaf", "location", "name", "tiny")

    def __init__(self, location: Location, name: str | None, leaf: Leaf, big: Leaf,
                 tiny: bool) -> None:
        self.location = location
        self.name = name
        self.leaf = leaf
        self.big = big
        self.tiny = tiny


def _container_last(check: tuple[Any, Any]) -> bool:
    return type(check[0]) in _CONTAINERS


class _Part:
    """What the locator knows of one place of the schema, prepared once."""

    __slots__ = ("children", "counts", "extra", "kind", "members", "node", "own", "place",
                 "rest", "schema_pointer", "selecting", "selector", "selects", "types",
                 "validator")

    def __init__(self, kind: int, validator: jsonschema_rs.Validator, place: _Place,
                 node: Any = None) -> None:
        self.kind = kind
        self.validator = validator  # the whole schema at this place
        self.place = place  # where it is, after a chain of lone $refs
        self.node = node  # the normalized schema there (what _explain reads)
        self.own: jsonschema_rs.Validator | None = None  # the shallow schema
        # objects: name -> (name, is_valid of its schema, its place), declared order
        self.children: dict[str, tuple[str, Callable[[Any], bool], _Place]] = {}
        # objects: the additionalProperties schema; arrays: the items schema
        self.extra: tuple[Callable[[Any], bool], _Place] | None = None
        self.selector: Selector | None = None  # discriminated oneOf/anyOf
        self.schema_pointer = ""  # of the oneOf/anyOf
        # allOf (with the rest of the node): the schemas that all apply; oneOf/anyOf: its
        # branches (the keyword is the last token of ``place``)
        self.members: list[tuple[Callable[[Any], bool], _Place]] = []
        self.types: Any = None  # the ``type`` beside a oneOf/anyOf
        self.selects = False  # whether a discriminator sits at or below this place
        # arrays that admit lists: (keyword, its value, its spec pointer) of minItems,
        # maxItems and uniqueItems, read off the schema when a big list fails them
        self.counts: list[tuple[str, Any, str]] | None = None
        # objects whose properties reach a discriminator (not through additionalProperties):
        # the schema with those properties' schemas made ``true``, and their checks
        self.rest: jsonschema_rs.Validator | None = None
        self.selecting: list[tuple[str, Callable[[Any], bool], _Place]] = []


_UNIQUE = jsonschema_rs.Draft202012Validator({"uniqueItems": True}).is_valid


def _count(limit: Any) -> Any:
    """A count as the engine reads it (``2.0`` is 2; ``uniqueItems``' boolean stays)."""
    return int(limit) if type(limit) is float and limit.is_integer() else limit


def _counted(counts: list[tuple[str, Any, str]], instance: list[Any], prefix: str,
             walk: _Walk) -> Iterator[Violation]:
    """The violations of a list that fails its array's own keywords (minItems, maxItems,
    uniqueItems: the only ones an array part has besides a type that admits lists), with
    the engine's messages. Equality of JSON values is the engine's own (uniqueItems)."""
    size = len(instance)
    for keyword, limit, schema_pointer in counts:
        if keyword == "minItems" and size < limit:
            message = f"expected at least {limit} item{'' if limit == 1 else 's'}"
        elif keyword == "maxItems" and size > limit:
            message = f"expected at most {limit} item{'' if limit == 1 else 's'}"
        elif keyword == "uniqueItems" and limit is True and not _UNIQUE(instance):
            message = UNIQUE_ITEMS
        else:
            continue
        yield Violation(walk.location, walk.name, prefix, keyword, message, schema_pointer)


class Locator:
    """Finds the violations of instances of one compiled schema. Safe to share between
    threads: what it knows of each place is prepared on first use and kept."""

    __slots__ = ("_compiler", "_formats", "_parts", "_prefix", "_root", "explained", "selects")

    def __init__(self, compiler: Compiler, root: str,
                 formats: dict[str, Callable[[str], bool]] | None) -> None:
        self._compiler = compiler
        self._root: _Place = (root, "")
        self._formats = formats
        self._prefix = f"{RESOURCE}#/{compiler.container}/"
        self._parts: dict[_Place, _Part] = {}
        self.explained: dict[_Place, Any] = {}  # _explain's nodes, made from the parts
        # A discriminator's failing branch costs the engine all its branches' errors: a
        # schema that has one is located part by part whatever the instance's size.
        self.selects = compiler.selects_within(root, "")

    @property
    def root(self) -> _Place:
        return self._root

    def part(self, place: _Place) -> _Part:
        """What is known of ``place``, prepared on first use."""
        return self._parts.get(place) or self._prepare(place)

    def violations(self, instance: Any, location: Location, name: str | None,
                   leaf: Leaf, big: Leaf, tiny: bool = False) -> Iterator[Violation]:
        """The violations of ``instance``, known to be invalid, lazily: ``leaf`` reports a
        small part, ``big`` a big one that cannot be split; ``tiny``: the instance is known
        to hold at most ``SMALL`` containers (so is every part of it)."""
        walk = _Walk(location, name, leaf, big, tiny)
        return self._locate(self._root, instance, "", 0, True, walk)

    def _locate(self, place: _Place, instance: Any, prefix: str, depth: int, known: bool,
                walk: _Walk) -> Iterator[Violation]:
        part = self._parts.get(place) or self._prepare(place)
        kind = part.kind
        if not part.selects and (walk.tiny or small(instance)):
            return walk.leaf(part.validator, instance, prefix, walk.location, walk.name)
        if depth < MAX_DESCENT:
            if kind == _OBJECT and type(instance) is dict:
                return self._object(part, instance, prefix, depth, known, walk)
            if kind == _ARRAY and type(instance) is list:
                return self._array(part, instance, prefix, depth, walk)
            if kind == _BRANCH and type(instance) is dict and admits(part.types, instance):
                chosen = selected(part, instance, prefix, walk.location, walk.name)
                if isinstance(chosen, Violation):
                    return iter((chosen,))
                return self._locate(chosen, instance, prefix, depth + 1, known, walk)
            if kind == _ALL:
                return self._all(part, instance, prefix, depth, known, walk)
            if kind == _ONE and admits(part.types, instance):
                return self._composition(part, instance, prefix, walk)
        return walk.big(part.validator, instance, prefix, walk.location, walk.name)

    def _all(self, part: _Part, instance: Any, prefix: str, depth: int, known: bool,
             walk: _Walk) -> Iterator[Violation]:
        """allOf (with a $ref beside other keywords, and the rest of the node): the members
        that fail, each located (the engine reports their errors side by side). When the
        conjunction is known to fail and every other member passed, the last one fails."""
        members = part.members
        failing: list[_Place] = []
        last = len(members) - 1
        for position, (is_valid, place) in enumerate(members):
            if (known and not failing and position == last) or not is_valid(instance):
                failing.append(place)
        for place in failing:
            yield from self._locate(place, instance, prefix, depth + 1, True, walk)

    def _composition(self, part: _Part, instance: Any, prefix: str, walk: _Walk
                     ) -> Iterator[Violation]:
        found = composition(part, instance, prefix, walk.location, walk.name)
        if found is not None:
            yield found

    def _object(self, part: _Part, instance: dict[str, Any], prefix: str, depth: int,
                known: bool, walk: _Walk) -> Iterator[Violation]:
        rest = part.rest
        if rest is not None and (walk.tiny or small(instance)):
            # A small object split only for its discriminated properties: the engine
            # reports everything else at once, then each failing union is located.
            yield from walk.leaf(rest, instance, prefix, walk.location, walk.name)
            for key, is_valid, place in part.selecting:
                if key in instance:
                    value = instance[key]
                    if not is_valid(value):
                        yield from self._locate(place, value, prefix + "/" + escape_token(key),
                                                depth + 1, True, walk)
            return
        own = part.own
        assert own is not None
        # The shallow schema looks at the names only: the values need not be converted.
        names = dict.fromkeys(instance)
        own_valid = own.is_valid(names)
        if not own_valid:
            yield from walk.leaf(own, names, prefix, walk.location, walk.name)
        # (value, its check) for each value a schema applies to: plain values first, so
        # that when the object is known to be invalid, its own keywords hold and every other
        # value passed, the last (often the big one) is known to fail without a check.
        children = part.children
        checks = [(instance[key], check) for key, check in children.items() if key in instance]
        extra = part.extra
        if extra is not None:
            checks += [(value, (key, *extra)) for key, value in instance.items()
                       if key not in children]
        checks.sort(key=_container_last)
        failing: list[tuple[str, Any, _Place]] = []
        last = len(checks) - 1
        for position, (value, check) in enumerate(checks):
            if (known and own_valid and not failing and position == last) or \
                    not check[1](value):
                failing.append((check[0], value, check[2]))
        if len(failing) > 1:  # reported in the instance's order
            order = {key: i for i, key in enumerate(instance)}
            failing.sort(key=lambda found: order[found[0]])
        for key, value, place in failing:
            yield from self._locate(place, value, prefix + "/" + escape_token(key), depth + 1,
                                    True, walk)

    def _array(self, part: _Part, instance: list[Any], prefix: str, depth: int, walk: _Walk
               ) -> Iterator[Violation]:
        own = part.own
        assert own is not None
        assert part.extra is not None
        if not own.is_valid(instance):
            if part.counts is not None and len(instance) > SMALL:
                # The engine's error would hold the whole list, converted back to Python
                # (~30 ms for 40,000 objects): the keywords are told from the list itself.
                yield from _counted(part.counts, instance, prefix, walk)
            else:
                yield from walk.leaf(own, instance, prefix, walk.location, walk.name)
        is_valid, place = part.extra
        for index, item in enumerate(instance):
            if not is_valid(item):
                yield from self._locate(place, item, f"{prefix}/{index}", depth + 1, True,
                                        walk)

    def _prepare(self, place: _Place) -> _Part:
        resolved, node = self._resolve(place)
        part = self._parts.get(resolved) or self._part(*resolved, node)
        if len(self._parts) < MAX_PARTS:
            self._parts[resolved] = part
            self._parts[place] = part
        return part

    def _resolve(self, place: _Place) -> tuple[_Place, Any]:
        """The place a chain of lone ``$ref``s leads to (in draft 4, where a ``$ref``'s
        siblings are ignored, of any ``$ref``s), and the schema there."""
        compiler = self._compiler
        def_id, path = place
        node = compiler.node(def_id, path)
        draft4 = compiler.draft == 4
        for _ in range(MAX_REF_CHAIN):
            ref = node.get("$ref") if isinstance(node, dict) and (
                len(node) == 1 or draft4) else None
            target = ref[len(self._prefix):] if isinstance(ref, str) and ref.startswith(
                self._prefix) else None
            if target is None or "/" in target or not compiler.defines(target):
                break
            def_id, path = target, ""
            node = compiler.node(def_id, path)
        return (def_id, path), node

    def _check(self, place: _Place) -> tuple[Callable[[Any], bool], _Place]:
        """``is_valid`` of the schema at ``place``, built once for the place a chain of
        ``$ref``s leads to (the engine compiles what a validator reaches: one per schema)."""
        resolved, _ = self._resolve(place)
        return self._compiler.build_at(*resolved, self._formats).is_valid, place

    def _part(self, def_id: str, path: str, node: Any) -> _Part:
        part = self._split(def_id, path, node)
        part.selects = part.kind != _LEAF and self._compiler.selects_within(def_id, path)
        return part

    def _split(self, def_id: str, path: str, node: Any) -> _Part:
        compiler = self._compiler
        formats = self._formats
        whole = compiler.build_at(def_id, path, formats)
        if not isinstance(node, dict):
            return _Part(_LEAF, whole, (def_id, path), node)
        properties = node.get("properties", {})
        extra = node.get("additionalProperties")
        if node.keys() <= _OBJECT_SPLIT and type(properties) is dict and all(
                _PLAIN_NAME.match(key) for key in properties) and (
                "properties" in node or type(extra) is dict):
            part = _Part(_OBJECT, whole, (def_id, path), node)
            part.own = compiler.build_at(compiler.variant(def_id, path, "shallow"), "", formats)
            for key in properties:
                part.children[key] = (key, *self._check((def_id, join_pointer(
                    path, "properties", key))))
            if type(extra) is dict:
                at = join_pointer(path, "additionalProperties")
                part.extra = self._check((def_id, at))
                if compiler.selects_within(def_id, at):
                    return part
            selecting = [key for key in properties if compiler.selects_within(
                def_id, join_pointer(path, "properties", key))]
            if selecting:
                part.rest = compiler.build_at(compiler.variant(
                    def_id, path, "unselected", frozenset(selecting)), "", formats)
                part.selecting = [part.children[key] for key in selecting]
            return part
        if node.keys() <= _ARRAY_SPLIT and type(node.get("items")) is dict:
            part = _Part(_ARRAY, whole, (def_id, path), node)
            part.own = compiler.build_at(compiler.variant(def_id, path, "shallow"), "", formats)
            at = join_pointer(path, "items")
            part.extra = self._check((def_id, at))
            types = node.get("type", "array")
            if types == "array" or (type(types) is list and "array" in types):
                part.counts = [
                    (keyword, _count(node[keyword]), schema_pointer_of(
                        compiler, compiler.location(def_id, join_pointer(path, keyword)), []))
                    for keyword in ("minItems", "maxItems", "uniqueItems") if keyword in node]
            return part
        keyword = "anyOf" if "anyOf" in node else "oneOf" if "oneOf" in node else None
        if keyword is not None and node.keys() <= {keyword, "type"} and \
                type(node[keyword]) is list:
            at = join_pointer(path, keyword)
            selector = compiler.selectors.get(compiler.location(def_id, at))
            part = _Part(_BRANCH if selector is not None else _ONE, whole, (def_id, at), node)
            part.selector = selector
            part.types = node.get("type")
            part.schema_pointer = schema_pointer_of(compiler, compiler.location(def_id, at), [])
            for index in range(len(node[keyword])):
                member = join_pointer(at, index)
                part.members.append(self._check((def_id, member)))
            return part
        ref = node.get("$ref")
        if ref is not None and compiler.draft == 4:  # not followed: the engine decides
            return _Part(_LEAF, whole, (def_id, path), node)
        if type(node.get("allOf")) is list or (isinstance(ref, str) and len(node) > 1):
            part = _Part(_ALL, whole, (def_id, path), node)
            places: list[_Place] = [(def_id, join_pointer(path, "allOf", index))
                                    for index in range(len(node.get("allOf") or ()))]
            if isinstance(ref, str):
                target = ref[len(self._prefix):]
                if not ref.startswith(self._prefix) or "/" in target or \
                        not compiler.defines(target):
                    return _Part(_LEAF, whole, (def_id, path), node)
                places.append((target, ""))
            if node.keys() - {"allOf", "$ref"}:
                places.append((compiler.variant(def_id, path, "remainder"), ""))
            part.members = [self._check(place) for place in places]
            return part
        return _Part(_LEAF, whole, (def_id, path), node)


def selected(part: _Part, instance: dict[str, Any], prefix: str, location: Location,
             name: str | None) -> _Place | Violation:
    """The place of the branch a discriminated oneOf/anyOf selects for ``instance``, or the
    violation that says why none is selected. The selected branch is {allOf: [guard on the
    value, {$ref: target}]}; the guard holds for the value that selected it, so the place
    returned is the target's, which decides."""
    selector = part.selector
    assert selector is not None
    chosen = select(selector, instance, prefix, location, name, part.schema_pointer)
    if isinstance(chosen, Violation):
        return chosen
    def_id, path = part.place
    return def_id, f"{path}/{chosen}/allOf/1"


def composition(part: _Part, instance: Any, prefix: str, location: Location,
                name: str | None) -> Violation | None:
    """The one violation a failing oneOf/anyOf without a discriminator stands for (None
    when it holds: the branches are asked, nothing is inferred)."""
    keyword = part.place[1].rsplit("/", 1)[1]
    matches = sum(1 for is_valid, _ in part.members if is_valid(instance))
    if keyword == "anyOf":
        message = None if matches else ANY_OF
    else:
        message = None if matches == 1 else ONE_OF_NONE if matches == 0 else ONE_OF_SEVERAL
    if message is None:
        return None
    return Violation(location, name, prefix, keyword, message, part.schema_pointer)


def admits(types: Any, instance: Any) -> bool:
    """Whether a ``type`` keyword (None: absent) admits a container instance."""
    kind = _TYPES.get(type(instance))
    return types is None or types == kind or (isinstance(types, list) and kind in types)
