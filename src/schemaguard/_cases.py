"""Generated requests for one operation: valid ones, and ones that break exactly one rule.

A request is drawn as parts (typed parameter values, a body instance for one declared media
type, the credentials of one security requirement), then serialized the way the spec says:
every parameter in its style and explode, bodies as JSON, form fields or multipart parts.
Negative requests draw valid parts and break one named rule (a wrong type, a missing required
value, a value past a bound, an undeclared method or media type, missing credentials), so a
test can say exactly which violation the guard must report.
"""

from __future__ import annotations

import base64
import json
import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import orjson
from hypothesis import strategies as st

from ._body import MediaEntry
from ._compile import compiler_for
from ._generate import TEXT, Generator, format_strategies
from ._guard import Guard
from ._http import HttpRequest, decode_path, parse_media_type
from ._operation import Operation, OperationPlan
from ._params import Parameter
from ._router import _PARAM as _PARAM_RE
from ._schema import SchemaValidator
from ._security import Scheme
from ._shape import Shape, coerce
from ._source import join_pointer, split_pointer
from ._walk import METHODS

Credential = str | bytes
# Characters a string may not contain where it would read as a delimiter of its style.
_PATH_FORBIDDEN = frozenset("/,;=.")
_QUERY_FORBIDDEN = frozenset(", |")
_HEADER_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=",")
_COOKIE_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-_.!*'()~:@[]?")
_UNDECLARED_MEDIA_TYPE = "application/x-schemaguard-undeclared"


@dataclass(frozen=True, slots=True)
class Rule:
    """What a negative request breaks, as the guard reports it."""

    keyword: str  # the violation keyword: type, required, maximum, method, ...
    location: str  # path, query, header, cookie, body, route, security
    name: str | None = None  # the parameter (or header) name
    pointer: str = ""  # inside the value or body
    status: int = 400

    def __str__(self) -> str:
        where = self.location + (f" `{self.name}`" if self.name else "")
        return f"{self.keyword} at {where}" + (f" {self.pointer}" if self.pointer else "")


@dataclass(frozen=True, slots=True)
class Case:
    """A generated request for an operation; ``rule`` is None for a valid one."""

    operation: Operation
    request: HttpRequest
    rule: Rule | None = None

    def curl(self, base_url: str = "http://127.0.0.1:8000", *,
             secrets: frozenset[str] = frozenset()) -> str:
        """A one-line curl reproduction (header values in ``secrets`` are masked)."""
        request = self.request
        url = base_url.rstrip("/") + request.path + (f"?{request.query}" if request.query
                                                     else "")
        words = ["curl", "-sS", "-X", request.method, shlex.quote(url)]
        for name, value in request.headers:
            shown = "***" if name.lower() in secrets else value
            words += ["-H", shlex.quote(f"{name}: {shown}")]
        if request.body:
            try:
                text = request.body.decode("utf-8")
                printable = text.isprintable() or all(c.isprintable() or c in "\r\n\t"
                                                      for c in text)
            except UnicodeDecodeError:
                printable = False
            if printable:
                words += ["--data-binary", shlex.quote(text)]
            else:
                escaped = "".join(f"\\x{b:02x}" for b in request.body)
                return (f"printf '{escaped}' | " + " ".join(words)
                        + " --data-binary @-")
        return " ".join(words)


@dataclass(slots=True)
class _Parts:
    """A request before serialization."""

    values: dict[str, Any]  # Parameter.key -> typed value
    media: MediaEntry | None = None
    content_type: str | None = None
    body: Any = None
    has_body: bool = False
    requirement: int | None = None  # index into the satisfiable requirements
    method: str | None = None
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


class Cases:
    """The strategies of one operation of a guard."""

    def __init__(self, guard: Guard, operation: Operation,
                 credentials: Mapping[str, Credential]) -> None:
        self.guard = guard
        self.operation = operation
        self.plan: OperationPlan = guard._plans[operation]
        self.credentials = dict(credentials)
        spec = self.plan.spec
        self.base = next((b for b in sorted(guard.router.base_paths, key=len)), "")
        compiler = compiler_for(spec, spec.schema_dialect, "request")
        self._compiler = compiler
        self._formats = format_strategies(self.plan.formats)
        self._params: dict[str, tuple[SchemaValidator, Any, Generator]] = {}
        for parameter in self.plan.parameters:
            uri, pointer = self.plan._schema_locations[parameter.key]
            self._params[parameter.key] = self._compile(uri, pointer)
        self._bodies: dict[str, tuple[SchemaValidator, Any, Generator]] = {}
        for entry in self.plan.body.entries if self.plan.body else []:
            if entry.schema_pointer is not None:
                self._bodies[entry.key] = self._compile(self.plan.uri, entry.schema_pointer)
        security = self.plan.security
        # Requirements whose every scheme has a credential, in spec order.
        self.requirements = [req for req in security.requirements
                             if all(s.name in self.credentials for s, _ in req)]
        self.needs_credentials = bool(security.requirements) and not security.optional
        self.allowed = self._allowed_methods()
        # Path values may not contain the literal text around them in their segment
        # (`{kind}-{from}` cannot carry a `-` in `kind`).
        self.segment_literals: dict[str, frozenset[str]] = {}
        for segment in operation.path_template.split("/"):
            literal = _PARAM_RE.sub("", segment)
            for name in _PARAM_RE.findall(segment):
                self.segment_literals[name] = frozenset(literal)

    def _compile(self, uri: str, pointer: str) -> tuple[SchemaValidator, Any, Generator]:
        node: Any = self.plan.spec.document(uri).content
        for token in split_pointer(pointer):
            node = node[int(token)] if isinstance(node, list) else node[token]
        validator, root = self._compiler.build(node, self.plan.formats, origin=(uri, pointer))
        definitions = self._compiler.definitions(root)
        generator = Generator(definitions, self._compiler.draft, self._formats)
        schema = {"$ref": self._compiler.ref(root)}
        return SchemaValidator(self._compiler, validator), schema, generator

    def _allowed_methods(self) -> list[str]:
        for route in self.guard.router.routes:
            if route.template == self.operation.path_template:
                return list(route.operations)
        return [self.operation.method]  # pragma: no cover - every operation has its route

    @property
    def first_of_path(self) -> bool:
        return self.allowed[0] == self.operation.method

    # -- valid parts -------------------------------------------------------------------------

    def _value(self, parameter: Parameter) -> st.SearchStrategy[Any]:
        validator, schema, generator = self._params[parameter.key]
        alphabet = _alphabet(parameter)
        values = generator.strategy(schema, alphabet).filter(validator.is_valid)
        if parameter.json_content:
            return values
        literal = self.segment_literals.get(parameter.name, frozenset()) if (
            parameter.location == "path") else frozenset()
        return values.filter(lambda v: _serializable(parameter, v) and not any(
            isinstance(leaf, str) and set(leaf) & literal for leaf in _leaves(v)))

    def _body(self, entry: MediaEntry) -> st.SearchStrategy[Any]:
        compiled = self._bodies.get(entry.key)
        essence = entry.range.essence
        binary = not entry.range.is_json and entry.range.type != "text" and essence not in (
            "application/x-www-form-urlencoded", "multipart/form-data")
        alphabet = st.characters(max_codepoint=255) if binary else TEXT
        if compiled is None:
            if entry.range.is_json:
                return _JSON_ANY
            return st.text(alphabet, min_size=1, max_size=24)
        validator, schema, generator = compiled
        values = generator.strategy(schema, alphabet).filter(validator.is_valid)
        if essence in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values = values.filter(lambda v: _form_ready(entry, v))
        elif not entry.range.is_json:
            values = values.filter(lambda v: isinstance(v, str) and v != "")
        return values

    def usable_media(self) -> list[MediaEntry]:
        entries = self.plan.body.entries if self.plan.body else []
        return [e for e in entries if _content_type(e) is not None]

    def parts(self) -> st.SearchStrategy[_Parts]:
        """Valid parts: required parameters, some optional ones, a body, credentials."""
        return _draw_parts(self)

    # -- serialization -------------------------------------------------------------------------

    def request(self, parts: _Parts) -> HttpRequest:
        path = self.base + self.operation.path_template
        query: list[str] = []
        headers: list[tuple[str, str]] = []
        cookies: list[str] = []
        for parameter in self.plan.parameters:
            if parameter.key not in parts.values:
                continue
            value = parts.values[parameter.key]
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", _path_value(parameter, value))
            elif parameter.location == "query":
                query.extend(_query_fields(parameter, value))
            elif parameter.location == "header":
                headers.append((parameter.name, _header_value(parameter, value)))
            else:
                cookies.extend(_cookie_pairs(parameter, value))
        client_cert = None
        if parts.requirement is not None:
            for scheme, _ in self.requirements[parts.requirement]:
                client_cert = self._apply(scheme, query, headers, cookies) or client_cert
        body = b""
        if parts.has_body and parts.media is not None and parts.content_type is not None:
            content_type, body = _encode_body(parts.media, parts.content_type, parts.body)
            headers.append(("Content-Type", content_type))
        if cookies:
            headers.append(("Cookie", "; ".join(cookies)))
        headers.extend(parts.extra_headers)
        return HttpRequest(parts.method or self.operation.method, path, "&".join(query),
                           headers, body, client_cert)

    def _apply(self, scheme: Scheme, query: list[str], headers: list[tuple[str, str]],
               cookies: list[str]) -> bytes | None:
        credential = self.credentials[scheme.name]
        if scheme.type == "mutualTLS":
            return credential if isinstance(credential, bytes) else credential.encode()
        value = credential.decode() if isinstance(credential, bytes) else credential
        if scheme.type == "apiKey":
            if scheme.location == "header":
                headers.append((scheme.display, value))
            elif scheme.location == "query":
                query.append(f"{quote(scheme.parameter, safe='')}={quote(value, safe='')}")
            else:
                cookies.append(f"{scheme.parameter}={value}")
        elif scheme.http_scheme == "basic":
            headers.append(("Authorization",
                            "Basic " + base64.b64encode(value.encode()).decode("ascii")))
        else:
            name = "Bearer" if scheme.http_scheme == "bearer" else scheme.http_scheme
            headers.append(("Authorization", f"{name} {value}"))
        return None

    # -- strategies ----------------------------------------------------------------------------

    def valid(self) -> st.SearchStrategy[Case]:
        if self.needs_credentials and not self.requirements:
            names = sorted({s.name for req in self.plan.security.requirements for s, _ in req})
            raise ValueError(f"{self.operation!r} needs credentials for one of "
                             f"{', '.join(names)}: pass credentials={{name: value}}")
        return self.parts().map(lambda p: Case(self.operation, self.request(p)))

    def negative(self, rules: frozenset[str] | None = None) -> st.SearchStrategy[Case]:
        """Requests that break exactly one rule (of ``rules``, all kinds by default)."""
        strategies = [s for kind, s in self._negatives() if rules is None or kind in rules]
        if not strategies:
            return st.nothing()
        return st.one_of(strategies)

    def _negatives(self) -> list[tuple[str, st.SearchStrategy[Case]]]:
        found: list[tuple[str, st.SearchStrategy[Case]]] = []
        undeclared = [m.upper() for m in METHODS if m.upper() not in self.allowed
                      and m not in ("head", "options", "trace")]
        if undeclared and self.first_of_path:  # one operation per path sends these
            found.append(("method", st.tuples(self.parts(), st.sampled_from(undeclared)).map(
                lambda pm: self._with_method(*pm)).filter(self._not_routed)))
        if self.needs_credentials:  # with or without credentials to leave out
            anonymous = Rule("required", "security", status=401)
            found.append(("security", self.parts().map(
                lambda p: Case(self.operation, self.request(replace(p, requirement=None)),
                               anonymous))))
        if self.plan.body is not None and self.usable_media() and not any(
                e.range.type == "*" or e.range.essence == "application/*"
                for e in self.plan.body.entries) and self._sendable():
            undeclared_media = Rule("contentMediaType", "header", "Content-Type", status=415)
            found.append(("contentMediaType", self.parts().map(
                lambda p: self._undeclared_media(p, undeclared_media))))
        if self._sendable():
            found.append(("schema", self.parts().flatmap(self._broken)))
        return found

    def _sendable(self) -> bool:
        """Whether a valid request can be built (401 comes before anything else)."""
        return not self.needs_credentials or bool(self.requirements)

    def _with_method(self, parts: _Parts, method: str) -> Case:
        parts.method = method
        return Case(self.operation, self.request(parts), Rule("method", "route", status=405))

    def _not_routed(self, case: Case) -> bool:
        """Whether no other path template answers this method on this concrete path."""
        path = decode_path(case.request.path)
        if path is None:
            return False
        match = self.guard.router.match(case.request.method, path)
        return match is not None and match.operation is None

    def _undeclared_media(self, parts: _Parts, rule: Rule) -> Case:
        entry = self.usable_media()[0]
        if not parts.has_body:
            parts.media, parts.content_type = entry, _content_type(entry)
            parts.body, parts.has_body = _placeholder(entry), True
        request = self.request(parts)
        headers = [(n, _UNDECLARED_MEDIA_TYPE if n == "Content-Type" else v)
                   for n, v in request.headers]
        body = request.body or b"x"
        return Case(self.operation, replace(request, headers=headers, body=body), rule)

    def _broken(self, parts: _Parts) -> st.SearchStrategy[Case]:
        """A strategy for one schema rule broken in ``parts`` (nothing when none can be)."""
        options: list[st.SearchStrategy[Case]] = []
        status = self.guard.invalid_status
        for parameter in self.plan.parameters:
            key = parameter.key
            if parameter.required and parameter.location != "path":
                rule = Rule("required", parameter.location, parameter.name, status=status)
                options.append(st.just(self._case(parts, drop=key, rule=rule)))
            if key in parts.values and not parameter.json_content:
                _, schema, generator = self._params[key]
                for keyword, bad in _breaks(generator, schema, parts.values[key],
                                            parameter_shape=parameter.shape):
                    if not _serializable(parameter, bad, strict=False):
                        continue
                    rule = Rule(keyword, parameter.location, parameter.name, status=status)
                    options.append(st.just(self._case(parts, set_value=(key, bad), rule=rule)))
        body = self.plan.body
        if body is not None and body.required and self.usable_media():
            rule = Rule("required", "body", status=status)
            options.append(st.just(self._case(parts, no_body=True, rule=rule)))
        if parts.has_body and parts.media is not None and parts.media.key in self._bodies:
            _, schema, generator = self._bodies[parts.media.key]
            form = parts.media.range.essence in ("application/x-www-form-urlencoded",
                                                 "multipart/form-data")
            entry = parts.media
            # A text or binary body is always a string: only its bounds can be broken.
            typed = form or entry.range.is_json
            for pointer, keyword, bad in _body_breaks(generator, schema, parts.body,
                                                      entry if form else None):
                if keyword == "type" and not typed:
                    continue
                rule = Rule(keyword, "body", pointer=pointer, status=status)
                if form and not _form_ready(parts.media, bad, strict=False):
                    continue
                options.append(st.just(self._case(parts, body=bad, rule=rule)))
        return st.one_of(options) if options else st.nothing()

    def _case(self, parts: _Parts, *, rule: Rule, drop: str | None = None,
              set_value: tuple[str, Any] | None = None, no_body: bool = False,
              body: Any = None) -> Case:
        values = dict(parts.values)
        if drop is not None:
            values.pop(drop, None)
        if set_value is not None:
            values[set_value[0]] = set_value[1]
        changed = replace(parts, values=values)
        if no_body:
            changed.has_body = False
        elif body is not None:
            changed.body = body
        return Case(self.operation, self.request(changed), rule)


@st.composite
def _draw_parts(draw: st.DrawFn, cases: Cases) -> _Parts:
    values: dict[str, Any] = {}
    for parameter in cases.plan.parameters:
        if parameter.required or draw(st.booleans()):
            values[parameter.key] = draw(cases._value(parameter))
    parts = _Parts(values)
    media = cases.usable_media()
    body = cases.plan.body
    if media and body is not None and (body.required or draw(st.booleans())):
        entry = draw(st.sampled_from(media))
        parts.media, parts.content_type = entry, _content_type(entry)
        parts.body, parts.has_body = draw(cases._body(entry)), True
    if cases.requirements:
        parts.requirement = draw(st.integers(0, len(cases.requirements) - 1))
    return parts


# -- breaking one rule -------------------------------------------------------------------------

_PLAIN_KEYS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "enum", "uniqueItems", "minProperties", "maxProperties",
    "const",
})


def _plain(generator: Generator, schema: Any) -> dict[str, Any] | None:
    """The node when its constraints are all local (no combinators): a place where one
    rule can be broken without breaking another."""
    node = generator.flatten(schema)
    if not isinstance(node, dict) or set(node) - _PLAIN_KEYS:
        return None
    return node


def _types_of(node: dict[str, Any]) -> list[str]:
    declared = node.get("type")
    return [declared] if isinstance(declared, str) else list(declared or [])


def _breaks(generator: Generator, schema: Any, value: Any, *,
            parameter_shape: Shape | None = None) -> list[tuple[str, Any]]:
    """(keyword, a replacement for ``value`` that breaks only that keyword) pairs."""
    node = _plain(generator, schema)
    if node is None:
        return []
    direct = generator.resolve(schema)
    direct = direct if isinstance(direct, dict) else {}
    types = _types_of(node)
    found: list[tuple[str, Any]] = []
    if types and "enum" not in node and "const" not in node:
        wrong = _wrong_type(types, parameter_shape)
        if wrong is not _NONE:
            found.append(("type", wrong))
    if "enum" in node and types == ["string"] and isinstance(value, str):
        outside = "zzNotInEnum"
        if outside not in node["enum"]:
            found.append(("enum", outside))
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and "multipleOf" not in node and "enum" not in node:
        integer = types == ["integer"]
        if isinstance(direct.get("maximum"), (int, float)) and direct.get(
                "exclusiveMaximum") is not True:
            top = direct["maximum"]
            found.append(("maximum", math.floor(top) + 1 if integer else top + 1))
        if isinstance(direct.get("minimum"), (int, float)) and direct.get(
                "exclusiveMinimum") is not True:
            bottom = direct["minimum"]
            found.append(("minimum", math.ceil(bottom) - 1 if integer else bottom - 1))
    text = isinstance(value, str) and not any(k in node for k in ("pattern", "format", "enum"))
    if text and isinstance(direct.get("maxLength"), int) and direct["maxLength"] < 10_000:
        found.append(("maxLength", "a" * (direct["maxLength"] + 1)))
    if text and isinstance(direct.get("minLength"), int) and direct["minLength"] > 0:
        found.append(("minLength", "a" * (direct["minLength"] - 1)))
    longest = direct.get("maxItems")
    if isinstance(value, list) and value and node.get("uniqueItems") is not True and \
            isinstance(longest, int) and longest < 1000:
        found.append(("maxItems", (value * (longest + 1))[:longest + 1]))
    if isinstance(value, list) and isinstance(direct.get("minItems"), int) and \
            direct["minItems"] > 0 and len(value) >= direct["minItems"]:
        found.append(("minItems", value[:direct["minItems"] - 1]))
    return found


_NONE = object()


def _wrong_type(types: list[str], shape: Shape | None) -> Any:
    """A value of a JSON type ``types`` does not admit. Given the ``shape`` of a value that
    travels as text (a URL, header or form field), only a non-numeric text can break a type,
    and only a numeric or boolean one."""
    if shape is not None:
        if "string" in types or shape.kind != "primitive":
            return _NONE
        return "notANumber"
    for candidate, kind in (("notANumber", "string"), (True, "boolean"), ({"k": 1}, "object"),
                            ([1], "array"), (None, "null"), (0.5, "number")):
        if kind not in types:
            return candidate
    return _NONE


def _body_breaks(generator: Generator, schema: Any, body: Any,
                 form: MediaEntry | None) -> list[tuple[str, str, Any]]:
    """(pointer, keyword, a new body) for each rule that can be broken alone in ``body``."""
    found: list[tuple[str, str, Any]] = []

    def walk(node_schema: Any, value: Any, path: list[str | int], depth: int) -> None:
        node = _plain(generator, node_schema)
        if node is None or depth > 6:
            return
        pointer = join_pointer("", *path)
        textual, field = _form_field(form, path)
        if textual:
            for keyword, bad in _breaks(generator, node_schema, value, parameter_shape=field):
                found.append((pointer, keyword, _replaced(body, path, bad)))
        if isinstance(value, dict):
            properties = node.get("properties") or {}
            for name in node.get("required", []):
                if name in value:
                    found.append((join_pointer(pointer, name), "required",
                                  _replaced(body, path, {k: v for k, v in value.items()
                                                         if k != name})))
            for name, item in value.items():
                if name in properties:
                    walk(properties[name], item, [*path, name], depth + 1)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value[:2]):
                walk(node["items"], item, [*path, i], depth + 1)

    walk(schema, body, [], 0)
    return found


def _form_field(form: MediaEntry | None, path: list[str | int]) -> tuple[bool, Shape | None]:
    """Whether a rule can be broken at ``path`` of a body, and the shape that types it when
    it travels as text (a form field or one item of a repeated field)."""
    if form is None:
        return True, None
    if not path:
        return False, None  # a form body is an object: its own type cannot be broken
    name = str(path[0])
    if name in form.property_json:
        return True, None  # a JSON-encoded field keeps its JSON types
    shape = form.shape.property(name)
    if len(path) == 1:
        return True, shape
    if len(path) == 2 and shape.kind == "array":
        return True, shape.items or Shape()
    return False, None


def _replaced(document: Any, path: list[str | int], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, str(head): _replaced(document[head], rest, value)}
    copy = list(document)
    copy[int(head)] = _replaced(document[int(head)], rest, value)
    return copy


# -- serializing -------------------------------------------------------------------------------

def _alphabet(parameter: Parameter) -> st.SearchStrategy[str]:
    if parameter.location == "header":
        return _HEADER_CHARS
    if parameter.location == "cookie":
        return _COOKIE_CHARS
    return TEXT


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *(x for v in value.values() for x in _leaves(v))]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def _serializable(parameter: Parameter, value: Any, *, strict: bool = True) -> bool:
    """Whether ``value`` survives ``parameter``'s style: no delimiter inside a string, no
    null, no empty container, and each scalar reads back as the same JSON type."""
    shape = parameter.shape
    kind = "array" if isinstance(value, list) else "object" if isinstance(value, dict) else (
        "primitive")
    if kind != shape.kind or (kind != "primitive" and not value):
        return False
    if kind == "object" and any(isinstance(v, (dict, list)) for v in value.values()):
        return False
    if kind == "array" and any(isinstance(v, (dict, list)) for v in value):
        return False
    forbidden = {"path": _PATH_FORBIDDEN, "query": _QUERY_FORBIDDEN,
                 "header": frozenset(","), "cookie": frozenset(",; \"\\")}[parameter.location]
    for leaf in _leaves(value):
        if leaf is None:
            return False
        if isinstance(leaf, str):
            if set(leaf) & forbidden:
                return False
            if parameter.location == "path" and leaf in ("", ".", ".."):
                return False
            if parameter.location in ("header", "cookie") and (leaf != leaf.strip() or (
                    kind == "primitive" and leaf == "")):
                return False
            if parameter.location == "query" and kind == "primitive" and leaf == "":
                return False
            if kind == "object" and leaf == "":
                return False
    if not strict:
        return True
    if kind == "primitive":
        return _reads_back(value, shape)
    if kind == "array":
        return all(_reads_back(v, shape.items or Shape()) for v in value)
    return all(_reads_back(v, shape.property(k)) for k, v in value.items())


def _reads_back(value: Any, shape: Shape) -> bool:
    typed = coerce(_text(value), shape)
    return type(typed) is type(value) and typed == value if not isinstance(value, float) else (
        isinstance(typed, (int, float)) and typed == value)


def _items(parameter: Parameter, value: Any, encode: Callable[[str], str]) -> list[str]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in (encode(k), encode(_text(v)))]
    return [encode(_text(v)) for v in value]


def _enc(text: str) -> str:
    return quote(text, safe="")


def _path_value(parameter: Parameter, value: Any) -> str:
    if parameter.json_content:
        return _enc(_json_text(value))
    style, explode, name = parameter.style, parameter.explode, parameter.name
    if not isinstance(value, (list, dict)):
        text = _enc(_text(value))
        return {"simple": text, "label": "." + text, "matrix": f";{name}={text}"}[style]
    if explode and isinstance(value, dict):
        pairs = [f"{_enc(k)}={_enc(_text(v))}" for k, v in value.items()]
        return {"simple": ",".join(pairs), "label": "." + ".".join(pairs),
                "matrix": "".join(";" + p for p in pairs)}[style]
    items = _items(parameter, value, _enc)
    if explode:  # an array
        return {"simple": ",".join(items), "label": "." + ".".join(items),
                "matrix": "".join(f";{name}={i}" for i in items)}[style]
    return {"simple": ",".join(items), "label": "." + ",".join(items),
            "matrix": f";{name}=" + ",".join(items)}[style]


def _query_fields(parameter: Parameter, value: Any) -> list[str]:
    name = _enc(parameter.name)
    if parameter.json_content:
        return [f"{name}={_enc(_json_text(value))}"]
    if not isinstance(value, (list, dict)):
        return [f"{name}={_enc(_text(value))}"]
    if parameter.style == "deepObject" and isinstance(value, dict):
        return [f"{_enc(parameter.name + '[' + k + ']')}={_enc(_text(v))}"
                for k, v in value.items()]
    if parameter.explode and isinstance(value, dict):
        return [f"{_enc(k)}={_enc(_text(v))}" for k, v in value.items()]
    if parameter.explode:
        return [f"{name}={_enc(_text(v))}" for v in value]
    separator = {"spaceDelimited": "%20", "pipeDelimited": "|"}.get(parameter.style, ",")
    return [f"{name}=" + separator.join(_items(parameter, value, _enc))]


def _header_value(parameter: Parameter, value: Any) -> str:
    if parameter.json_content:
        return _json_text(value)
    if not isinstance(value, (list, dict)):
        return _text(value)
    if parameter.explode and isinstance(value, dict):
        return ",".join(f"{k}={_text(v)}" for k, v in value.items())
    return ",".join(_items(parameter, value, str))


def _cookie_pairs(parameter: Parameter, value: Any) -> list[str]:
    name = parameter.name
    if parameter.json_content:
        return [f"{name}={_enc(_json_text(value))}"]
    if not isinstance(value, (list, dict)):
        return [f"{name}={_text(value)}"]
    if parameter.explode and isinstance(value, list):
        return [f"{name}={_text(v)}" for v in value]
    return [f"{name}=" + ",".join(_items(parameter, value, str))]


def _json_text(value: Any) -> str:
    return _json_bytes(value).decode("utf-8")


def _json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers past 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _content_type(entry: MediaEntry) -> str | None:
    media = entry.range
    if media.type == "*":
        return "application/json"
    if media.subtype == "*":
        return {"application": "application/json", "text": "text/plain",
                "multipart": "multipart/form-data"}.get(media.type, f"{media.type}/octet-stream")
    return entry.key


def _placeholder(entry: MediaEntry) -> Any:
    return {} if entry.range.is_json else "x"


def _form_ready(entry: MediaEntry, value: Any, *, strict: bool = True) -> bool:
    """Whether an object can travel as form fields or parts and read back the same."""
    if not isinstance(value, dict):
        return False
    for name, item in value.items():
        if name in entry.property_json:
            continue
        shape = entry.shape.property(name)
        if isinstance(item, dict) or item is None:
            return False
        if isinstance(item, list):
            if shape.kind != "array" or not item or any(
                    isinstance(i, (dict, list)) or i is None for i in item):
                return False
            style = entry.encoding.get(name, {})
            explode = style.get("explode", style.get("style", "form") == "form")
            if not explode and any("," in _text(i) for i in item):
                return False
            if strict and not all(_reads_back(i, shape.items or Shape()) for i in item):
                return False
        elif shape.kind == "array" or (strict and not _reads_back(item, shape)):
            return False
    return True


def _encode_body(entry: MediaEntry, content_type: str, value: Any) -> tuple[str, bytes]:
    media = parse_media_type(content_type)
    essence = media.essence if media else ""
    if media is not None and media.is_json:
        return content_type, _json_bytes(value)
    if essence == "application/x-www-form-urlencoded":
        fields = []
        for name, item in value.items():
            for text in _field_texts(entry, name, item):
                fields.append(f"{quote(name, safe='')}={quote(text, safe='')}")
        return content_type, "&".join(fields).encode("ascii")
    if essence == "multipart/form-data":
        boundary = "schemaguard-fuzz-boundary"
        chunks: list[bytes] = []
        for name, item in value.items():
            binary = entry.encoding.get(name, {}).get("contentType", "").startswith(
                ("application/octet-stream", "image/"))
            for text in _field_texts(entry, name, item):
                head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                if binary:
                    head += f'; filename="{name}.bin"\r\nContent-Type: application/octet-stream'
                    data = text.encode("latin-1", "replace")
                elif name in entry.property_json:
                    head += "\r\nContent-Type: application/json"
                    data = text.encode("utf-8")
                else:
                    data = text.encode("utf-8")
                chunks.append(head.encode("utf-8") + b"\r\n\r\n" + data + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode("ascii"))
        return f"multipart/form-data; boundary={boundary}", b"".join(chunks)
    if isinstance(value, bytes):
        return content_type, value
    if media is not None and media.type == "text":
        return content_type, str(value).encode("utf-8")
    return content_type, str(value).encode("latin-1", "replace")


def _field_texts(entry: MediaEntry, name: str, item: Any) -> list[str]:
    if name in entry.property_json:
        return [_json_text(item)]
    if isinstance(item, list):
        style = entry.encoding.get(name, {})
        explode = style.get("explode", style.get("style", "form") == "form")
        return [_text(i) for i in item] if explode else [",".join(_text(i) for i in item)]
    return [_text(item)]


_JSON_ANY: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)
