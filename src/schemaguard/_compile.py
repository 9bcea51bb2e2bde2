"""OpenAPI schemas to JSON Schema that jsonschema-rs runs, one normalized copy per context.

A ``Compiler`` belongs to one spec, one dialect and one context (request, response or none).
It rewrites each schema it reaches once (memoized by its location in the spec) and stores it
under ``#/$defs/<id>`` of a single in-memory resource, with every ``$ref`` pointing there. A
validator is built from a registry holding only the definitions its schema can reach, so
compiling one operation of a 1,000-operation spec costs what that operation uses.

What the rewrite does (the OAS rules in front of the engine):

* OAS 3.0 is compiled as draft 4 (its base, so ``1.0`` is not an integer and boolean
  ``exclusiveMinimum`` keeps its meaning); ``nullable: true`` adds ``null`` to ``type`` only
  where ``type`` is given (OAS 3.0.3 §4.7.24.1 as clarified in 3.0.3); ``$ref`` siblings are
  dropped (§4.7.25). OAS 3.1 is compiled as JSON Schema 2020-12 with siblings kept.
* ``format: int32`` / ``int64`` become bounds (so they also hold for numbers, which JSON Schema
  formats never check); other OAS formats are asserted by format checkers.
* In the request context a ``readOnly`` property may not be sent and is not required; in the
  response context the same holds for ``writeOnly`` (OAS 3.0.3 §4.7.24.1, 3.1 JSON Schema
  Validation §9.4).
* A discriminator over ``oneOf``/``anyOf`` becomes a selector: each branch is guarded by the
  discriminator values that name it, so exactly the selected branch decides validity and its
  errors are the ones reported; an unmapped value fails (OAS 3.1.0 §4.8.25).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import jsonschema_rs

from ._formats import FORMAT_PATTERNS, INTEGER_BOUNDS
from ._graph import find_cycle
from ._keywords import OAS30_KEYWORDS, SCHEMA, SCHEMA_LIST, SCHEMA_MAP, Dialect
from ._regex import PATTERN_OPTIONS, translate
from ._source import join_pointer, split_pointer
from ._spec import Spec
from ._walk import mapping_ref
from .errors import SpecError

Context = Literal["request", "response"]
RESOURCE = "urn:schemaguard:compiled"
FRAGMENT = "urn:schemaguard:fragment"
_DRAFT_VALIDATORS: dict[int, type[jsonschema_rs.Validator]] = {
    4: jsonschema_rs.Draft4Validator,
    2020: jsonschema_rs.Draft202012Validator,
}
# Annotations and OAS-only keywords that have no validation meaning for the engine.
_DROPPED = frozenset({
    "description", "title", "example", "examples", "xml", "externalDocs", "deprecated",
    "default", "nullable", "discriminator", "readOnly", "writeOnly", "$schema", "$id",
    "$anchor", "$comment", "$dynamicAnchor", "contentMediaType", "contentEncoding",
})
Key = tuple[str, str]
MAX_BUILT = 4096  # validators of places kept per compiler (build_at)


# A user format renamed where the same schema caps the length: "code" + LENGTH_GUARD + "8".
LENGTH_GUARD = "#maxLength="


def length_guarded(schemas: dict[str, Any], formats: dict[str, Callable[[str], bool]]
                   ) -> tuple[dict[str, Any], dict[str, Callable[[str], bool]]]:
    """``schemas`` and ``formats`` such that a user format checker never sees a string longer
    than the ``maxLength`` beside it (bad-inputs P21: a checker is user code, perhaps a
    backtracking regex). Where a schema has both, its format is renamed to a checker that
    passes an over-long string on to ``maxLength``, which refuses it. Schemas are copied only
    where they change (the compiled definitions are shared)."""
    added = dict(formats)

    def rewrite(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        changed: dict[str, Any] = {}
        for key, value in node.items():
            if key in SCHEMA and isinstance(value, dict):
                new: Any = rewrite(value)
            elif key in SCHEMA_MAP and isinstance(value, dict):
                new = {name: rewrite(sub) for name, sub in value.items()}
                new = value if all(new[n] is value[n] for n in value) else new
            elif (key in SCHEMA_LIST or key == "items") and isinstance(value, list):
                new = [rewrite(sub) for sub in value]
                new = value if all(a is b for a, b in zip(new, value, strict=True)) else new
            else:
                continue
            if new is not value:
                changed[key] = new
        fmt, limit = node.get("format"), node.get("maxLength")
        if isinstance(fmt, str) and fmt in formats and isinstance(limit, int) \
                and not isinstance(limit, bool):
            name = f"{fmt}{LENGTH_GUARD}{limit}"
            added.setdefault(name, _capped(formats[fmt], limit))
            changed["format"] = name
        return {**node, **changed} if changed else node

    return {def_id: rewrite(schema) for def_id, schema in schemas.items()}, added


def _capped(check: Callable[[str], bool], limit: int) -> Callable[[str], bool]:
    return lambda value: len(value) > limit or check(value)


@dataclass(frozen=True, slots=True)
class Note:
    """How to report an engine error raised by a keyword that the rewrite introduced."""

    keyword: str
    message: str
    schema_pointer: str


@dataclass(frozen=True, slots=True)
class Selector:
    """A discriminator compiled into guarded branches."""

    property: str
    branches: dict[str, int]  # discriminator value -> index of its guarded branch


@dataclass(slots=True)
class _Definition:
    origin: Key  # where the source schema is (uri, pointer); uri FRAGMENT for user schemas
    schema: Any = None
    refs: set[str] = field(default_factory=set)
    open: bool = False  # a closed compiler's copy for allOf/anyOf/oneOf members


class Compiler:
    """Normalizes and compiles schemas of one spec for one dialect and context."""

    def __init__(
        self,
        spec: Spec | None,
        dialect: Dialect,
        context: Context | None,
        closed: bool = False,
    ) -> None:
        self.spec = spec
        self.dialect = dialect
        self.context = context
        # Closed: every object schema with declared properties also refuses undeclared ones,
        # and sensitive properties (format: password, x-sensitive: true) may not appear;
        # what response scanning runs to find excessive data exposure in one engine pass.
        self.closed = closed
        self.oas = dialect in ("oas30", "oas31")
        self.draft = 4 if dialect in ("draft4", "oas30") else 2020
        self.container = "definitions" if self.draft == 4 else "$defs"
        self.notes: dict[str, Note] = {}
        self.schema_pointers: dict[str, str] = {}  # engine keyword location -> spec pointer
        self.reports: dict[str, Any] = {}  # engine keyword location -> _violations.Report
        self.selectors: dict[str, Selector] = {}
        self._defs: dict[str, _Definition] = {}
        self._ids: dict[Key, str] = {}
        self._open_ids: dict[Key, str] = {}  # closed compilers: composition members, left open
        self._pending: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._fragments = 0
        self._variants: dict[tuple[str, str, str], str] = {}
        self._built: dict[tuple[str, str, int], tuple[Any, jsonschema_rs.Validator]] = {}

    # -- public to the package -------------------------------------------------------------

    def build(
        self,
        schema: Any,
        formats: dict[str, Callable[[str], bool]] | None,
        origin: Key | None = None,
    ) -> tuple[jsonschema_rs.Validator, str]:
        """A validator for ``schema`` (found at ``origin`` in the spec, if given) and its id."""
        with self._lock:
            if origin is None:
                self._fragments += 1
                origin = (FRAGMENT, f"/{self._fragments}")
                root = self._define(origin, schema, memo=False)
            else:
                root = self._define(origin, schema, memo=True)
            self._drain()
            reachable = None if self.addressable else self._reachable(root)
        if reachable is not None:
            # A plain JSON Schema on its own: the engine resolves its internal refs itself.
            reachable, options = self._options(reachable, formats)
            return _DRAFT_VALIDATORS[self.draft](reachable[root], **options), root
        return self.build_at(root, "", formats), root

    @property
    def addressable(self) -> bool:
        """Whether every place inside the definitions can get a validator of its own
        (``build_at``) whose errors carry the same keyword locations as the whole's."""
        return self.spec is not None or self.oas

    def build_at(self, def_id: str, path: str,
                 formats: dict[str, Callable[[str], bool]] | None) -> jsonschema_rs.Validator:
        """A validator for the schema at ``path`` (a JSON pointer, unescaped tokens) inside
        definition ``def_id``: the part of a compiled schema below that place. Kept (the
        engine compiles everything a validator reaches: ~1 MB for a schema reaching 85
        others), so each place costs that once per compiler and set of formats."""
        formats = formats or None
        key = (def_id, path, id(formats) if formats else 0)
        found = self._built.get(key)
        if found is not None and found[0] is formats:
            return found[1]
        with self._lock:
            reachable = self._reachable(def_id)
        validator = self._engine(reachable, def_id, path, formats)
        if len(self._built) < MAX_BUILT:
            self._built[key] = (formats, validator)
        return validator

    def selects_within(self, def_id: str, path: str) -> bool:
        """Whether a discriminator selector sits at or below ``path`` of ``def_id``, in it or
        in a definition it reaches."""
        here = self.location(def_id, path) + "/"
        prefix = f"{RESOURCE}#/{self.container}/"
        with self._lock:
            reachable: set[str] = set()
            for ref in _refs(self.node(def_id, path)):
                target = ref[len(prefix):].split("/", 1)[0] if ref.startswith(prefix) else ""
                if target in self._defs and target not in reachable:
                    reachable.update(self._reachable(target))
            return any(location.startswith(here) or
                       location[len(prefix):].split("/", 1)[0] in reachable
                       for location in self.selectors)

    def defines(self, def_id: str) -> bool:
        return def_id in self._defs

    def node(self, def_id: str, path: str) -> Any:
        """The normalized schema at ``path`` inside definition ``def_id``."""
        node: Any = self._defs[def_id].schema
        for token in split_pointer(path):
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def variant(self, def_id: str, path: str,
                kind: Literal["shallow", "remainder", "unselected"],
                names: Collection[str] = ()) -> str:
        """The id of a definition made from the schema at ``path`` of ``def_id``:

        * ``shallow``: without what it says about the values of its properties
          (``properties`` and an ``additionalProperties`` schema become ``true``) or of its
          items (``items`` dropped): the schema's own checks;
        * ``remainder``: without its ``allOf`` and ``$ref``, which apply to the same instance;
        * ``unselected``: the schemas of the properties ``names`` (those reaching a
          discriminator, the same for every call at one place) become ``true``.

        Its errors map to the same spec pointers and notes as the original's."""
        key = (def_id, path, kind)
        with self._lock:
            found = self._variants.get(key)
            if found is not None:
                return found
            node = dict(self.node(def_id, path))
            anything: Any = {} if self.draft == 4 else True
            if kind == "remainder":
                node.pop("allOf", None)
                node.pop("$ref", None)
            elif kind == "unselected":
                node["properties"] = {key: anything if key in names else value
                                      for key, value in node["properties"].items()}
            else:
                node.pop("items", None)
                if isinstance(node.get("properties"), dict):
                    node["properties"] = dict.fromkeys(node["properties"], anything)
                if isinstance(node.get("additionalProperties"), dict):
                    node["additionalProperties"] = anything
            uri, pointer = self._defs[def_id].origin
            definition = _Definition((uri, pointer + path), node)
            prefix = f"{RESOURCE}#/{self.container}/"
            definition.refs = {ref[len(prefix):].split("/", 1)[0] for ref in _refs(node)
                               if ref.startswith(prefix)} & set(self._defs)
            new_id = str(len(self._defs))
            self._defs[new_id] = definition
            # The rewrite's notes and selectors inside the node hold for the copy too.
            here, there = self.location(def_id, path), self.location(new_id, "")
            for location in [k for k in self.notes if k.startswith(here + "/")]:
                self.notes[there + location[len(here):]] = self.notes[location]
            for location in [k for k in self.selectors if k.startswith(here + "/")]:
                self.selectors[there + location[len(here):]] = self.selectors[location]
            self._variants[key] = new_id
            return new_id

    def _options(self, reachable: dict[str, Any],
                 formats: dict[str, Callable[[str], bool]] | None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        user_formats = dict(formats or {})
        if user_formats:
            reachable, user_formats = length_guarded(reachable, user_formats)
        return reachable, {
            "formats": user_formats,
            "validate_formats": self.oas or bool(formats),
            "pattern_options": PATTERN_OPTIONS,
            "offline": True,
        }

    def _engine(self, reachable: dict[str, Any], def_id: str, path: str,
                formats: dict[str, Callable[[str], bool]] | None) -> jsonschema_rs.Validator:
        reachable, options = self._options(reachable, formats)
        resource = {self.container: reachable}
        registry = jsonschema_rs.Registry([(RESOURCE, resource)], draft=self._engine_draft())
        target = self.ref(def_id) + quote(path, safe=_POINTER_SAFE)
        return _DRAFT_VALIDATORS[self.draft]({"$ref": target}, registry=registry, **options)

    def recursive(self, root: str) -> bool:
        """Whether a definition reachable from ``root`` reaches itself again."""
        with self._lock:
            graph = {d: sorted(self._defs[d].refs) for d in self._reachable(root)}
        return find_cycle(graph) is not None

    def definitions(self, root: str) -> dict[str, Any]:
        """The normalized schemas reachable from ``root``, by definition id."""
        with self._lock:
            return dict(self._reachable(root))

    def ref(self, def_id: str) -> str:
        return f"{RESOURCE}#/{self.container}/{def_id}"

    def origin(self, location: str) -> tuple[Key, str] | None:
        """The source (uri, pointer) and keyword path of an engine keyword location."""
        _, _, fragment = location.partition("#")
        tokens = split_pointer(fragment)
        if len(tokens) < 2 or tokens[0] != self.container:
            return None
        definition = self._defs.get(tokens[1])
        if definition is None:
            return None
        return definition.origin, join_pointer("", *tokens[2:])

    def display(self, key: Key, rest: str) -> str:
        uri, pointer = key
        if uri == FRAGMENT or self.spec is None:
            # User schemas: pointers are relative to the schema given (drop the fragment id).
            return join_pointer("", *split_pointer(pointer)[1:]) + rest
        return self.spec.display(uri, pointer + rest)

    # -- definitions -----------------------------------------------------------------------

    def _engine_draft(self) -> int:
        return jsonschema_rs.Draft4 if self.draft == 4 else jsonschema_rs.Draft202012

    def _define(self, origin: Key, schema: Any, *, memo: bool, open_: bool = False) -> str:
        ids = self._open_ids if open_ else self._ids
        if memo and origin in ids:
            return ids[origin]
        def_id = str(len(self._defs))
        self._defs[def_id] = _Definition(origin, open=open_)
        if memo:
            ids[origin] = def_id
        self._pending.append((def_id, schema))
        return def_id

    def _drain(self) -> None:
        while self._pending:
            def_id, schema = self._pending.pop()
            definition = self._defs[def_id]
            uri, pointer = definition.origin
            definition.schema = self._schema(schema, uri, pointer, def_id, "", definition.refs,
                                             open_=definition.open)

    def _reachable(self, root: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        stack = [root]
        while stack:
            def_id = stack.pop()
            if def_id in out:
                continue
            definition = self._defs[def_id]
            out[def_id] = definition.schema
            stack.extend(definition.refs)
        return out

    def _resolve(self, ref: Any, uri: str, pointer: str, refs: set[str],
                 open_: bool = False) -> str:
        """Define the target of ``ref`` and return its id."""
        base = self.spec.uri if uri == FRAGMENT and self.spec is not None else uri
        if self.spec is None:
            raise _unresolvable(ref, pointer)
        try:
            target_uri, target_pointer, target = self.spec.resolve(ref, base, pointer)
        except SpecError as exc:
            if uri != FRAGMENT:
                raise
            # Point into the schema the caller gave, not at the fragment's internal slot.
            local = join_pointer("", *split_pointer(pointer)[1:])
            raise SpecError(exc.message, pointer=local) from None
        def_id = self._define((target_uri, target_pointer), target, memo=True,
                              open_=open_ and self.closed)
        refs.add(def_id)
        return def_id

    # -- the rewrite -----------------------------------------------------------------------

    def _schema(
        self, node: Any, uri: str, pointer: str, def_id: str, path: str, refs: set[str],
        open_: bool = False,
    ) -> Any:
        """The normalized form of ``node`` (at ``path`` inside definition ``def_id``);
        ``open_`` for a member of allOf/anyOf/oneOf, which a closed compiler leaves open
        (the composition's owner is closed over the names of all its members)."""
        if isinstance(node, bool):
            # Draft 4 has boolean schemas only as additionalProperties/additionalItems.
            if self.draft != 4 or path.endswith(("/additionalProperties", "/additionalItems")):
                return node
            return {} if node else {"not": {}}
        if not isinstance(node, dict):  # refused at load time for specs
            return node
        if not self.oas:
            return self._plain(node, uri, pointer, def_id, path, refs)
        out: dict[str, Any] = {}
        if "$ref" in node:
            out["$ref"] = self.ref(self._resolve(node["$ref"], uri, join_pointer(pointer, "$ref"),
                                                 refs, open_))
            if self.dialect == "oas30":
                return out  # OAS 3.0.3 §4.7.25: siblings of $ref are ignored
        for key, value in node.items():
            if key in _DROPPED or key.startswith("x-") or key == "$ref":
                continue
            if self.dialect == "oas30" and key not in OAS30_KEYWORDS:
                continue
            out[key] = self._keyword(key, value, uri, pointer, def_id, path, refs)
        if out.get("additionalProperties") is False and "properties" not in out and \
                "patternProperties" not in out:
            # Without a sibling `properties` the engine folds every extra property into one
            # error that names none of them; an empty `properties` keeps them apart.
            out["properties"] = {}
        if self.dialect == "oas30" and node.get("nullable") is True and "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            out["type"] = [*types, "null"] if "null" not in types else types
        fmt = node.get("format")
        if fmt in INTEGER_BOUNDS:
            self._integer_bounds(out, fmt, def_id, path, pointer)
        elif fmt in FORMAT_PATTERNS[self.dialect]:
            self._format_pattern(out, fmt, def_id, path, pointer)
        if self.context is not None and isinstance(node.get("properties"), dict):
            self._hide_properties(node, out, uri, pointer, def_id, path)
        if isinstance(node.get("discriminator"), dict):
            self._discriminate(node, out, uri, pointer, def_id, path, refs)
        if self.closed and not open_:
            self._close(node, out, uri, pointer)
        return out

    def _keyword(
        self, key: str, value: Any, uri: str, pointer: str, def_id: str, path: str,
        refs: set[str],
    ) -> Any:
        at = join_pointer(pointer, key)
        sub = join_pointer(path, key)
        if key in SCHEMA and not isinstance(value, list):
            return self._schema(value, uri, at, def_id, sub, refs)
        if key in SCHEMA_MAP and isinstance(value, dict):
            names = (translate(k) for k in value) if key == "patternProperties" else iter(value)
            return {
                new: self._schema(v, uri, join_pointer(at, k), def_id, join_pointer(sub, k), refs)
                for new, (k, v) in zip(names, value.items(), strict=False)
            }
        if (key in SCHEMA_LIST or key == "items") and isinstance(value, list):
            member = key in ("allOf", "anyOf", "oneOf")
            members = [
                self._schema(v, uri, join_pointer(at, i), def_id, join_pointer(sub, i), refs,
                             open_=member)
                for i, v in enumerate(value)
            ]
            if key in ("allOf", "anyOf"):
                # A repeated identical $ref is evaluated once (bad-inputs S10): it becomes
                # `true` in allOf and `false` in anyOf, keeping every index in place.
                filler: Any = key == "allOf"
                if self.draft == 4:
                    filler = {} if filler else {"not": {}}
                seen: list[Any] = []
                for i, member in enumerate(members):
                    if isinstance(member, dict) and list(member) == ["$ref"]:
                        if member in seen:
                            members[i] = filler
                        else:
                            seen.append(member)
            return members
        if key == "dependencies" and isinstance(value, dict):
            return {
                k: v if isinstance(v, list)
                else self._schema(v, uri, join_pointer(at, k), def_id, join_pointer(sub, k), refs)
                for k, v in value.items()
            }
        if key == "pattern" and isinstance(value, str):
            return translate(value)
        return value

    def _plain(
        self, node: dict[str, Any], uri: str, pointer: str, def_id: str, path: str,
        refs: set[str],
    ) -> dict[str, Any]:
        # Plain JSON Schema dialects: only ECMA pattern spellings change; refs to the spec's
        # components are followed, other refs are the engine's.
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and self.spec is not None:
                out[key] = self.ref(self._resolve(value, uri, join_pointer(pointer, key), refs))
            else:
                out[key] = self._keyword(key, value, uri, pointer, def_id, path, refs)
        if out.get("additionalProperties") is False and "properties" not in out and \
                "patternProperties" not in out:
            out["properties"] = {}  # see _schema: one violation per extra property
        return out

    def _integer_bounds(
        self, out: dict[str, Any], fmt: str, def_id: str, path: str, pointer: str
    ) -> None:
        low, high = INTEGER_BOUNDS[fmt]
        all_of = list(out.get("allOf", []))
        index = len(all_of)
        all_of.append({"minimum": low, "maximum": high})
        out["allOf"] = all_of
        schema_pointer = join_pointer(pointer, "format")
        note = Note("format", f"expected an {fmt} integer ({low} to {high})", schema_pointer)
        for bound in ("minimum", "maximum"):
            self.notes[self.location(def_id, join_pointer(path, "allOf", index, bound))] = note

    def _format_pattern(
        self, out: dict[str, Any], fmt: str, def_id: str, path: str, pointer: str
    ) -> None:
        all_of = list(out.get("allOf", []))
        index = len(all_of)
        all_of.append({"pattern": FORMAT_PATTERNS[self.dialect][fmt]})
        out["allOf"] = all_of
        note = Note("format", f"expected a valid {fmt}", join_pointer(pointer, "format"))
        self.notes[self.location(def_id, join_pointer(path, "allOf", index, "pattern"))] = note

    def _hide_properties(
        self, node: dict[str, Any], out: dict[str, Any], uri: str, pointer: str, def_id: str,
        path: str,
    ) -> None:
        flag = "readOnly" if self.context == "request" else "writeOnly"
        hidden: dict[str, str] = {}
        for name, sub in node["properties"].items():
            at_sub = join_pointer(pointer, "properties", name)
            if self._flagged(sub, uri, at_sub, flag):
                hidden[name] = flag
            elif self.closed and (self._flagged(sub, uri, at_sub, "x-sensitive")
                                  or self._flagged(sub, uri, at_sub, "format", "password")):
                hidden[name] = "sensitive"
        if not hidden:
            return
        where = "a request" if self.context == "request" else "a response"
        properties = dict(out["properties"])
        for name, why in hidden.items():
            properties[name] = {"not": {}} if self.draft == 4 else False
            at = join_pointer(path, "properties", name)
            keyword = "sensitive" if why == "sensitive" else flag
            note = Note(keyword, f"{'sensitive' if why == 'sensitive' else flag} property must "
                                 f"not appear in {where}",
                        join_pointer(pointer, "properties", name, flag) if why != "sensitive"
                        else join_pointer(pointer, "properties", name))
            self.notes[self.location(def_id, at)] = note
            self.notes[self.location(def_id, join_pointer(at, "not"))] = note
        out["properties"] = properties
        if isinstance(out.get("required"), list):
            out["required"] = [r for r in out["required"] if r not in hidden]

    def _close(self, node: dict[str, Any], out: dict[str, Any], uri: str, pointer: str) -> None:
        """Refuse properties ``node`` does not declare (itself or through its members)."""
        if any(k in node for k in ("additionalProperties", "patternProperties",
                                   "unevaluatedProperties")):
            return
        if "properties" not in node and not any(k in node for k in ("allOf", "anyOf",
                                                                       "oneOf")):
            return
        names = self._declared(node, uri, pointer, 0)
        if names is None or (not names and "properties" not in node):
            return
        properties: dict[str, Any] = {name: ({} if self.draft == 4 else True)
                                      for name in sorted(names)}
        properties.update(out.get("properties") or {})
        out["properties"] = properties
        out["additionalProperties"] = False

    def _declared(self, node: Any, uri: str, pointer: str, depth: int) -> set[str] | None:
        """The property names ``node`` declares with its members; None when it is open."""
        if not isinstance(node, dict) or depth > 16 or self.spec is None:
            return set() if isinstance(node, dict) or node is True else None
        if any(k in node for k in ("additionalProperties", "patternProperties",
                                   "unevaluatedProperties")):
            return None
        names = set(node.get("properties") or {}) if isinstance(node.get("properties"),
                                                                 dict) else set()
        if isinstance(node.get("$ref"), str):
            base = self.spec.uri if uri == FRAGMENT else uri
            t_uri, t_pointer, target = self.spec.resolve(node["$ref"], base,
                                                         join_pointer(pointer, "$ref"))
            found = self._declared(target, t_uri, t_pointer, depth + 1)
            if found is None:
                return None
            if self.dialect == "oas30":
                return found
            names |= found
        for key in ("allOf", "anyOf", "oneOf"):
            for i, member in enumerate(node.get(key) or []):
                found = self._declared(member, uri, join_pointer(pointer, key, i), depth + 1)
                if found is None:
                    return None
                names |= found
        return names

    def _flagged(self, schema: Any, uri: str, pointer: str, flag: str,
                 value: Any = True) -> bool:
        for _ in range(16):  # follow a short $ref chain; the walker refused cycles
            if not isinstance(schema, dict):
                return False
            found = schema.get(flag)
            if found is True if value is True else found == value:
                return True
            if "$ref" not in schema or self.spec is None:
                return False
            base = self.spec.uri if uri == FRAGMENT else uri
            uri, pointer, schema = self.spec.resolve(schema["$ref"], base,
                                                     join_pointer(pointer, "$ref"))
        return False

    def _discriminate(
        self, node: dict[str, Any], out: dict[str, Any], uri: str, pointer: str, def_id: str,
        path: str, refs: set[str],
    ) -> None:
        keyword = "oneOf" if "oneOf" in node else "anyOf" if "anyOf" in node else None
        if keyword is None or self.spec is None:
            return  # allOf-style inheritance: the discriminator is an annotation here
        branches = node[keyword]
        if not all(isinstance(b, dict) and isinstance(b.get("$ref"), str) for b in branches):
            return  # inline branches cannot be named by a discriminator value
        prop = node["discriminator"]["propertyName"]
        base = self.spec.uri if uri == FRAGMENT else uri
        at = join_pointer(pointer, "discriminator", "mapping")
        targets: dict[str, list[str]] = {}  # target def id -> values naming it
        for value, target in node["discriminator"].get("mapping", {}).items():
            def_id_t = self._resolve(mapping_ref(self.spec, target), base,
                                     join_pointer(at, value), refs, True)
            targets.setdefault(def_id_t, []).append(value)
        explicit = set(targets)
        for i, branch in enumerate(branches):
            target_id = self._resolve(branch["$ref"], uri,
                                      join_pointer(pointer, keyword, i, "$ref"), refs, True)
            tokens = split_pointer(self._defs[target_id].origin[1])
            if target_id not in explicit and len(tokens) == 3 and tokens[:2] == [
                "components", "schemas"
            ]:
                targets.setdefault(target_id, []).append(tokens[2])
        guarded: list[Any] = []
        selected: dict[str, int] = {}
        for target_id, values in targets.items():
            selected.update(dict.fromkeys(values, len(guarded)))
            guarded.append({"allOf": [
                {"properties": {prop: {"enum": values}}, "required": [prop]},
                {"$ref": self.ref(target_id)},
            ]})
        # The guards make the branches mutually exclusive, so `anyOf` means the same as
        # `oneOf` here and lets the engine stop at the selected branch.
        target = "anyOf" if keyword == "anyOf" or "anyOf" not in node else keyword
        del out[keyword]
        out[target] = guarded
        self.selectors[self.location(def_id, join_pointer(path, target))] = Selector(
            prop, selected
        )

    def location(self, def_id: str, path: str) -> str:
        """The engine's keyword location of ``path`` inside definition ``def_id``."""
        return f"{self.ref(def_id)}{path}"


# What a fragment keeps as it is: a property name outside these is percent-encoded (RFC 3986).
_POINTER_SAFE = "/~!$&'()*+,;=:@-._"


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` inside a normalized schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _unresolvable(ref: Any, pointer: str) -> Exception:
    local = join_pointer("", *split_pointer(pointer)[1:])
    return SpecError(f"cannot resolve `{ref}` without a spec (pass `spec=`)", pointer=local)


def compiler_for(spec: Spec | None, dialect: Dialect, context: Context | None,
                 closed: bool = False) -> Compiler:
    """The shared compiler of ``spec`` for (dialect, context), or a fresh one without a spec."""
    if spec is None:
        return Compiler(None, dialect, context, closed)
    key: tuple[Any, ...] = (dialect, context, "closed") if closed else (dialect, context)
    compiler = spec.compilers.get(key)
    if compiler is None:
        with spec.lock:
            compiler = spec.compilers.get(key)
            if compiler is None:
                compiler = Compiler(spec, dialect, context, closed)
                spec.compilers[key] = compiler
    result: Compiler = compiler
    return result
