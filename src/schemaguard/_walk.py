"""The load-time walk: every object of an OpenAPI document, every reference, every schema.

It follows the OAS object model (paths, operations, parameters, bodies, responses, headers,
callbacks, webhooks, components) instead of looking for ``$ref`` keys anywhere, because
``$ref`` inside an ``example`` or an ``enum`` is data, not a reference. It raises the first
``SpecError`` it meets; ``check_spec`` returning means the spec can be compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

from ._graph import MAX_IN_PLACE_COST, find_cycle, over_budget
from ._keywords import ANNOTATIONS, check_keywords, subschemas
from ._source import join_pointer, split_pointer
from ._spec import SCHEMA_DIALECTS, Spec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_SCHEMA_DEPTH = 256  # pointer tokens below the schema's document root (bad-inputs S12)

Key = tuple[str, str]  # (document uri, pointer)
Visit = Callable[[str, str, Any], None]
Context = Literal["request", "response"] | None


class SchemaUse(NamedTuple):
    """A schema an operation uses directly, and the direction it applies to."""

    uri: str
    pointer: str
    context: Context


class Example(NamedTuple):
    """An example value in the spec and the schema it should satisfy."""

    uri: str
    pointer: str
    schema_uri: str
    schema_pointer: str
    context: Context


class SpecIndex(NamedTuple):
    """What the load-time walk found: schema uses and examples, in document order."""

    uses: tuple[SchemaUse, ...]
    examples: tuple[Example, ...]


class _Walker:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.dialect = spec.schema_dialect
        self.seen: set[tuple[str, str, str]] = set()
        self.schemas: set[Key] = set()
        self.in_place: dict[Key, list[Key]] = {}
        self.ref_targets: set[Key] = set()
        self.uses: list[SchemaUse] = []
        self.examples: list[Example] = []

    # -- OpenAPI objects -------------------------------------------------------------------

    def run(self) -> None:
        uri, doc = self.spec.uri, self.spec.content
        for name in ("paths", "webhooks"):
            for key, item in self._mapping(uri, f"/{name}", doc.get(name)):
                self._object(uri, join_pointer(f"/{name}", key), item, "pathItem", self._path_item)
        components = self._mapping(uri, "/components", doc.get("components"))
        kinds: dict[str, tuple[str, Visit]] = {
            "schemas": ("schema", self._schema_root),
            "responses": ("response", self._response),
            "parameters": ("parameter", self._parameter),
            "requestBodies": ("requestBody", self._request_body),
            "headers": ("header", self._response_header),
            "callbacks": ("callback", self._callback),
            "pathItems": ("pathItem", self._path_item),
        }
        for section, members in components:
            if section in kinds:
                kind, visit = kinds[section]
                base = join_pointer("/components", section)
                for name, value in self._mapping(uri, base, members):
                    self._object(uri, join_pointer(base, name), value, kind, visit)
        self._check_cycles()

    def _mapping(self, uri: str, pointer: str, value: Any) -> list[tuple[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, dict):
            raise self.spec.error(uri, pointer, "expected an object")
        return list(value.items())

    def _object(self, uri: str, pointer: str, node: Any, kind: str, visit: Visit) -> None:
        """Visit an object that may be a Reference Object, once per location."""
        hops = 0
        while isinstance(node, dict) and "$ref" in node and kind != "schema":
            uri, pointer, node = self.spec.resolve(node["$ref"], uri, join_pointer(pointer, "$ref"))
            hops += 1
            if hops > 64:
                raise self.spec.error(uri, pointer, "reference chain too long (a cycle?)")
        if (kind, uri, pointer) in self.seen:
            return
        self.seen.add((kind, uri, pointer))
        if not isinstance(node, dict):
            raise self.spec.error(uri, pointer, f"expected a {kind} object")
        visit(uri, pointer, node)

    def _path_item(self, uri: str, pointer: str, item: dict[str, Any]) -> None:
        self._parameters(uri, join_pointer(pointer, "parameters"), item.get("parameters"))
        for method in METHODS:
            if method in item:
                self._operation(uri, join_pointer(pointer, method), item[method])

    def _operation(self, uri: str, pointer: str, op: Any) -> None:
        if not isinstance(op, dict):
            raise self.spec.error(uri, pointer, "expected an operation object")
        self._parameters(uri, join_pointer(pointer, "parameters"), op.get("parameters"))
        if "requestBody" in op:
            self._object(uri, join_pointer(pointer, "requestBody"), op["requestBody"],
                         "requestBody", self._request_body)
        responses = join_pointer(pointer, "responses")
        for code, response in self._mapping(uri, responses, op.get("responses")):
            self._object(uri, join_pointer(responses, code), response, "response", self._response)
        callbacks = join_pointer(pointer, "callbacks")
        for name, callback in self._mapping(uri, callbacks, op.get("callbacks")):
            self._object(uri, join_pointer(callbacks, name), callback, "callback", self._callback)

    def _parameters(self, uri: str, pointer: str, params: Any) -> None:
        if params is None:
            return
        if not isinstance(params, list):
            raise self.spec.error(uri, pointer, "expected an array of parameters")
        for i, param in enumerate(params):
            self._object(uri, join_pointer(pointer, i), param, "parameter", self._parameter)

    def _parameter(self, uri: str, pointer: str, param: dict[str, Any]) -> None:
        self._header(uri, pointer, param, "request")

    def _response_header(self, uri: str, pointer: str, header: dict[str, Any]) -> None:
        self._header(uri, pointer, header, "response")

    def _request_header(self, uri: str, pointer: str, header: dict[str, Any]) -> None:
        self._header(uri, pointer, header, "request")

    def _header(self, uri: str, pointer: str, header: dict[str, Any], context: Context) -> None:
        if "schema" in header:
            at = join_pointer(pointer, "schema")
            self.uses.append(SchemaUse(uri, at, context))
            self._examples(uri, pointer, header, at, context)
            self._schema_root(uri, at, header["schema"])
        self._content(uri, join_pointer(pointer, "content"), header.get("content"), context)

    def _request_body(self, uri: str, pointer: str, body: dict[str, Any]) -> None:
        self._content(uri, join_pointer(pointer, "content"), body.get("content"), "request")

    def _response(self, uri: str, pointer: str, response: dict[str, Any]) -> None:
        headers = join_pointer(pointer, "headers")
        for name, header in self._mapping(uri, headers, response.get("headers")):
            self._object(uri, join_pointer(headers, name), header, "header", self._response_header)
        self._content(uri, join_pointer(pointer, "content"), response.get("content"), "response")

    def _callback(self, uri: str, pointer: str, callback: dict[str, Any]) -> None:
        for expression, item in callback.items():
            if not expression.startswith("x-"):
                self._object(uri, join_pointer(pointer, expression), item, "pathItem",
                             self._path_item)

    def _content(self, uri: str, pointer: str, content: Any, context: Context) -> None:
        for media_type, media in self._mapping(uri, pointer, content):
            at = join_pointer(pointer, media_type)
            if not isinstance(media, dict):
                raise self.spec.error(uri, at, "expected a media type object")
            if "schema" in media:
                schema_at = join_pointer(at, "schema")
                self.uses.append(SchemaUse(uri, schema_at, context))
                self._examples(uri, at, media, schema_at, context)
                self._schema_root(uri, schema_at, media["schema"])
            encodings = join_pointer(at, "encoding")
            for name, encoding in self._mapping(uri, encodings, media.get("encoding")):
                enc_at = join_pointer(encodings, name)
                if not isinstance(encoding, dict):
                    raise self.spec.error(uri, enc_at, "expected an encoding object")
                headers = join_pointer(enc_at, "headers")
                for header_name, header in self._mapping(uri, headers, encoding.get("headers")):
                    self._object(uri, join_pointer(headers, header_name), header, "header",
                                 self._request_header)

    def _examples(
        self, uri: str, pointer: str, holder: dict[str, Any], schema_at: str, context: Context
    ) -> None:
        """Record the examples of a media type, parameter or header, with their schema."""
        if "example" in holder:
            self.examples.append(Example(uri, join_pointer(pointer, "example"), uri, schema_at,
                                         context))
        for name, example in self._mapping(uri, join_pointer(pointer, "examples"),
                                           holder.get("examples")):
            at = join_pointer(pointer, "examples", name)
            ex_uri, ex_at = uri, at
            if isinstance(example, dict) and "$ref" in example:
                ex_uri, ex_at, example = self.spec.resolve(example["$ref"], uri,
                                                           join_pointer(at, "$ref"))
            if isinstance(example, dict) and "value" in example:
                self.examples.append(Example(ex_uri, join_pointer(ex_at, "value"), uri,
                                             schema_at, context))

    # -- schemas ---------------------------------------------------------------------------

    def _schema_root(self, uri: str, pointer: str, node: Any) -> None:
        stack: list[tuple[str, str, Any]] = [(uri, pointer, node)]
        while stack:
            self._schema(*stack.pop(), stack)

    def _schema(self, uri: str, pointer: str, node: Any, stack: list[tuple[str, str, Any]]) -> None:
        key = (uri, pointer)
        if key in self.schemas:
            return
        self.schemas.add(key)
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            raise self.spec.error(uri, pointer, "a schema must be an object or a boolean")
        if len(split_pointer(pointer)) > MAX_SCHEMA_DEPTH:
            raise self.spec.error(uri, pointer, "schema is nested too deeply")
        edges = self.in_place.setdefault(key, [])
        if "$ref" in node:
            target = self.spec.resolve(node["$ref"], uri, join_pointer(pointer, "$ref"))
            edges.append(target[:2])
            self.ref_targets.add(target[:2])
            stack.append(target)
            if self.dialect == "oas30":
                return  # OAS 3.0.3 §4.7.25: siblings of $ref are ignored
        if "$schema" in node and SCHEMA_DIALECTS.get(node["$schema"]) != self.dialect:
            raise self.spec.error(uri, join_pointer(pointer, "$schema"),
                                  "a schema with its own `$schema` dialect is not supported")
        for keyword, problem in check_keywords(node, self.dialect):
            raise self.spec.error(uri, join_pointer(pointer, keyword), f"`{keyword}` {problem}")
        if "example" in node and self.spec.dialect == "oas30":
            self.examples.append(Example(uri, join_pointer(pointer, "example"), uri, pointer, None))
        if isinstance(node.get("examples"), list) and self.spec.dialect == "oas31":
            for i in range(len(node["examples"])):
                self.examples.append(Example(uri, join_pointer(pointer, "examples", i), uri,
                                             pointer, None))
        if "discriminator" in node:
            self._discriminator(uri, join_pointer(pointer, "discriminator"), node["discriminator"])
        for path, child, in_place in subschemas(node):
            child_pointer = join_pointer(pointer, *path)
            if in_place and path[0] in ("allOf", "anyOf") and self._pure_ref(child):
                # Identical $ref members are evaluated once (the compiler dedupes them).
                target_uri, target_pointer, _ = self.spec.resolve(
                    child["$ref"], uri, join_pointer(child_pointer, "$ref"))
                if (target_uri, target_pointer) not in edges:
                    edges.append((target_uri, target_pointer))
            elif in_place:
                edges.append((uri, child_pointer))
            stack.append((uri, child_pointer, child))

    def _pure_ref(self, schema: Any) -> bool:
        if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
            return False
        return self.dialect == "oas30" or all(
            key == "$ref" or key in ANNOTATIONS or key.startswith("x-") for key in schema)

    def _discriminator(self, uri: str, pointer: str, discriminator: dict[str, Any]) -> None:
        mapping = join_pointer(pointer, "mapping")
        for value, target in discriminator.get("mapping", {}).items():
            at = join_pointer(mapping, value)
            resolved = self.spec.resolve(mapping_ref(self.spec, target), uri, at)
            self._schema_root(*resolved)

    def _check_cycles(self) -> None:
        """Refuse $ref cycles that never descend into the instance (bad-inputs S02) and
        $ref fan-outs whose evaluation explodes (S10)."""
        cycle = find_cycle(self.in_place)
        if cycle is not None:
            names = " → ".join(self._name(k) for k in cycle if k in self.ref_targets)
            raise self.spec.error(cycle[-1][0], cycle[-1][1],
                                  f"unresolvable $ref cycle {names or self._name(cycle[0])}")
        heavy = over_budget(self.in_place)
        if heavy is not None:
            raise self.spec.error(heavy[0], heavy[1],
                                  "schema expands to more than "
                                  f"{MAX_IN_PLACE_COST:,} in-place evaluations ($ref fan-out)")

    def _name(self, key: Key) -> str:
        tokens = split_pointer(key[1])
        if len(tokens) == 3 and tokens[:2] == ["components", "schemas"]:
            return tokens[2]
        return self.spec.display(*key) or "#"


def mapping_ref(spec: Spec, target: str) -> str:
    """A discriminator mapping value as a reference: a bare schema name means the component."""
    schemas = spec.content.get("components", {}).get("schemas", {})
    named = isinstance(schemas, dict) and target in schemas
    if "/" not in target and "#" not in target and ("." not in target or named):
        return "#" + join_pointer("/components/schemas", target)
    return target


def check_spec(spec: Spec) -> SpecIndex:
    """Walk and check the whole spec; raise the first SpecError found."""
    walker = _Walker(spec)
    walker.run()
    return SpecIndex(tuple(walker.uses), tuple(walker.examples))
