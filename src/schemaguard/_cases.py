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
import math
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from ._compile import compiler_for
from ._generate import TEXT, Generator, format_strategies, number_bounds, same
from ._guard import Guard
from ._http import HttpRequest, decode_path
from ._media import MediaEntry
from ._operation import Operation, OperationPlan
from ._params import Parameter
from ._router import _PARAM as _PARAM_RE
from ._schema import SchemaValidator
from ._security import Scheme
from ._serialize import (
    JSON_ANY,
    alphabet_for,
    content_type,
    cookie_pairs,
    encode_body,
    form_ready,
    header_value,
    leaves,
    path_value,
    placeholder,
    query_fields,
    serializable,
)
from ._shape import Shape
from ._source import join_pointer, split_pointer
from ._walk import METHODS
from .errors import RequestError

Credential = str | bytes
# How a case changes valid parts (Cases._case): leave a parameter out, set one, send no
# body, put a value at a path of the body.
_DROP, _SET, _NO_BODY, _BODY_AT = range(4)
_LEFT_OUT: Any = object()  # a body member left out (_replaced)
# Characters a string may not contain where it would read as a delimiter of its style.
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


_Plan = tuple[Rule, int, Any]  # a rule, and how to break it (Cases._case)


@dataclass(frozen=True, slots=True)
class Case:
    """A generated request for an operation; ``rule`` is None for a valid one."""

    operation: Operation
    request: HttpRequest
    rule: Rule | None = None

    def __str__(self) -> str:
        """What the case is, as a test id: ``POST /items: maxLength at body /name``."""
        return (f"{self.request.method} {self.operation.path_template}: "
                + (str(self.rule) if self.rule is not None else "valid"))

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

    def _value(self, parameter: Parameter, full: bool = False) -> st.SearchStrategy[Any]:
        validator, schema, generator = self._params[parameter.key]
        alphabet = alphabet_for(parameter)
        values = generator.filled(full).strategy(schema, alphabet).filter(validator.is_valid)
        if parameter.json_content:
            return values
        literal = self.segment_literals.get(parameter.name, frozenset()) if (
            parameter.location == "path") else frozenset()
        return values.filter(lambda v: serializable(parameter, v) and not any(
            isinstance(leaf, str) and set(leaf) & literal for leaf in leaves(v)))

    def _body(self, entry: MediaEntry, full: bool = False) -> st.SearchStrategy[Any]:
        compiled = self._bodies.get(entry.key)
        essence = entry.range.essence
        binary = not entry.range.is_json and entry.range.type != "text" and essence not in (
            "application/x-www-form-urlencoded", "multipart/form-data")
        alphabet = st.characters(max_codepoint=255) if binary else TEXT
        if compiled is None:
            if entry.range.is_json:
                return JSON_ANY
            return st.text(alphabet, min_size=1, max_size=24)
        validator, schema, generator = compiled
        values = generator.filled(full).strategy(schema, alphabet).filter(validator.is_valid)
        if essence in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values = values.filter(lambda v: form_ready(entry, v))
        elif not entry.range.is_json:
            values = values.filter(lambda v: isinstance(v, str) and v != "")
        return values

    def usable_media(self) -> list[MediaEntry]:
        entries = self.plan.body.entries if self.plan.body else []
        return [e for e in entries if content_type(e) is not None]

    def parts(self) -> st.SearchStrategy[_Parts]:
        """Valid parts: required parameters, some optional ones, a body, credentials."""
        return _draw_parts(self)

    def full_parts(self, media: MediaEntry | None = None) -> st.SearchStrategy[_Parts]:
        """Valid parts with every parameter and a body (in ``media``, the first usable media
        type by default) whose optional properties are all present."""
        return _draw_parts(self, full=True, media=media)

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
                path = path.replace("{" + parameter.name + "}", path_value(parameter, value))
            elif parameter.location == "query":
                query.extend(query_fields(parameter, value))
            elif parameter.location == "header":
                headers.append((parameter.name, header_value(parameter, value)))
            else:
                cookies.extend(cookie_pairs(parameter, value))
        client_cert = None
        if parts.requirement is not None:
            for scheme, _ in self.requirements[parts.requirement]:
                client_cert = self._apply(scheme, query, headers, cookies) or client_cert
        body = b""
        if parts.has_body and parts.media is not None and parts.content_type is not None:
            content_type, body = encode_body(parts.media, parts.content_type, parts.body)
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

    def coverage(self, limit: int | None = None) -> tuple[list[Case], list[Case]]:
        """The coverage pass: (negative cases, valid cases), built without randomness, at
        most ``limit`` of each (the first ones: methods, security, media type, parameters,
        then the body from its top).

        The valid cases are one request per usable media type (one request when there is
        no body) with every parameter and every optional property present: the smallest
        such request (Hypothesis' first example, its simplest when that one is valid).
        Then that request with one value moved to an edge of its range: each other enum
        value, a bound (2**63 - 1 for an integer without a maximum), a number that is not
        whole, the longest string, the longest array, the other boolean. The negative
        cases break each rule the negative strategies can break alone, once, in those
        requests: each undeclared method, missing credentials, an undeclared media type,
        and every schema rule (types, bounds, lengths, counts, enums, required values) of
        every parameter and every body property. Random draws can miss one rule among
        many; this pass cannot.
        """
        media: list[MediaEntry | None] = [*self.usable_media()] or [None]
        bases = [b for b in map(self._smallest, media) if b is not None]
        negatives: list[Case] = []
        if not bases:
            return negatives, []
        first = bases[0]
        undeclared = [m.upper() for m in METHODS if m.upper() not in self.allowed
                      and m not in ("head", "options", "trace")]
        if undeclared and self.first_of_path:
            for method in undeclared:
                case = self._with_method(replace(first), method)
                if self._not_routed(case):
                    negatives.append(case)
        if self.needs_credentials:
            negatives.append(Case(self.operation, self.request(replace(first, requirement=None)),
                                  Rule("required", "security", status=401)))
        if not self._sendable():
            return negatives, []
        if self._breaks_media():
            negatives.append(self._undeclared_media(
                replace(first), Rule("contentMediaType", "header", "Content-Type", status=415)))
        seen: set[tuple[str, str | None, str, str]] = set()
        for base in bases:
            for rule, how, what in self._breaking(base):
                key = (rule.location, rule.name, rule.pointer, rule.keyword)
                if key not in seen:  # a parameter's rule once, not once per media type
                    seen.add(key)
                    negatives.append(self._case(base, rule, how, what))
                if limit is not None and len(negatives) >= limit:
                    break
        valids = [Case(self.operation, self.request(base)) for base in bases]
        for base in bases:
            room = None if limit is None else limit - len(valids)
            if room is not None and room <= 0:
                break
            valids.extend(self._edge_cases(base, room))
        return negatives[:limit], valids[:limit]

    def _smallest(self, media: MediaEntry | None) -> _Parts | None:
        """The smallest full parts (None when none can be built)."""
        try:
            found: _Parts = find(self.full_parts(media), lambda _: True, settings=_FIND,
                                 random=Random(0))
        except (NoSuchExample, Unsatisfiable):  # nothing valid can be built here
            return None
        return found

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
        if self._breaks_media():
            undeclared_media = Rule("contentMediaType", "header", "Content-Type", status=415)
            found.append(("contentMediaType", self.parts().map(
                lambda p: self._undeclared_media(p, undeclared_media))))
        if self._sendable():
            found.append(("schema", self.parts().flatmap(self._broken)))
        return found

    def _breaks_media(self) -> bool:
        """Whether some media type is undeclared (no wildcard range takes every type)."""
        return self.plan.body is not None and bool(self.usable_media()) and not any(
            e.range.type == "*" or e.range.essence == "application/*"
            for e in self.plan.body.entries) and self._sendable()

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
            parts.media, parts.content_type = entry, content_type(entry)
            parts.body, parts.has_body = placeholder(entry), True
        request = self.request(parts)
        headers = [(n, _UNDECLARED_MEDIA_TYPE if n == "Content-Type" else v)
                   for n, v in request.headers]
        body = request.body or b"x"
        return Case(self.operation, replace(request, headers=headers, body=body), rule)

    def _broken(self, parts: _Parts) -> st.SearchStrategy[Case]:
        """A strategy for one schema rule broken in ``parts`` (nothing when none can be)."""
        plans = list(self._breaking(parts))
        if not plans:
            return st.nothing()
        return st.sampled_from(plans).map(lambda plan: self._case(parts, *plan))

    def _breaking(self, parts: _Parts) -> Iterator[_Plan]:
        """How to break each schema rule that can be broken alone in ``parts``, lazily (a
        big body has hundreds of places; a case is built only when it is drawn or sent)."""
        status = self.guard.invalid_status
        for parameter in self.plan.parameters:
            key = parameter.key
            if parameter.required and parameter.location != "path":
                rule = Rule("required", parameter.location, parameter.name, status=status)
                yield rule, _DROP, key
            if key in parts.values and not parameter.json_content:
                _, schema, generator = self._params[key]
                for keyword, bad in _breaks(generator, schema, parts.values[key],
                                            parameter_shape=parameter.shape):
                    if not serializable(parameter, bad, strict=False):
                        continue
                    rule = Rule(keyword, parameter.location, parameter.name, status=status)
                    yield rule, _SET, (key, bad)
        body = self.plan.body
        if body is not None and body.required and self.usable_media():
            yield Rule("required", "body", status=status), _NO_BODY, None
        if parts.has_body and parts.media is not None and parts.media.key in self._bodies:
            _, schema, generator = self._bodies[parts.media.key]
            form = parts.media.range.essence in ("application/x-www-form-urlencoded",
                                                 "multipart/form-data")
            entry = parts.media
            # A text or binary body is always a string: only its bounds can be broken.
            typed = form or entry.range.is_json
            for path, keyword, bad in _body_breaks(generator, schema, parts.body,
                                                   entry if form else None):
                if keyword == "type" and not typed:
                    continue
                rule = Rule(keyword, "body", pointer=join_pointer("", *path), status=status)
                if form and not form_ready(parts.media, _replaced(parts.body, path, bad),
                                           strict=False):
                    continue  # (a form is flat and small: built here to be checked)
                yield rule, _BODY_AT, (path, bad)

    def _edge_cases(self, parts: _Parts, limit: int | None) -> Iterator[Case]:
        """Valid cases the smallest full request does not reach, each one value moved to an
        edge of its range (every enum value, the bounds, the longest string and array);
        only those the guard accepts (an edge can break a rule another keyword adds), at
        most ``limit``."""
        plans: list[tuple[int, Any]] = []
        for parameter in self.plan.parameters:
            key = parameter.key
            if key in parts.values and not parameter.json_content:
                _, schema, generator = self._params[key]
                for good in _edges(generator, schema, parts.values[key]):
                    if serializable(parameter, good, strict=False):
                        plans.append((_SET, (key, good)))
        entry = parts.media
        if parts.has_body and entry is not None and entry.key in self._bodies:
            _, schema, generator = self._bodies[entry.key]
            form = entry if entry.range.essence in ("application/x-www-form-urlencoded",
                                                   "multipart/form-data") else None
            for path, good in _body_edges(generator, schema, parts.body, form):
                if form is None or form_ready(form, _replaced(parts.body, path, good),
                                              strict=False):
                    plans.append((_BODY_AT, (path, good)))
        seen: set[tuple[Any, ...]] = set()
        for how, what in plans:
            if limit is not None and len(seen) >= limit:
                return
            case = self._case(parts, None, how, what)
            request = case.request
            sent = (request.method, request.path, request.query, tuple(request.headers),
                    request.body)
            if sent not in seen and self._accepted(request):
                seen.add(sent)
                yield case

    def _accepted(self, request: HttpRequest) -> bool:
        try:
            self.guard.check_request(request)
        except RequestError:  # past another keyword's limit: not an edge
            return False
        return True

    def _case(self, parts: _Parts, rule: Rule | None, how: int, what: Any) -> Case:
        """``parts`` changed as a plan says (_DROP a value, _SET one, _NO_BODY, _BODY_AT a
        path a new value), as a case of ``rule`` (None: a valid one)."""
        changed = replace(parts, values=dict(parts.values))
        if how == _DROP:
            changed.values.pop(what, None)
        elif how == _SET:
            changed.values[what[0]] = what[1]
        elif how == _NO_BODY:
            changed.has_body = False
        else:
            changed.body = _replaced(parts.body, what[0], what[1])
        return Case(self.operation, self.request(changed), rule)


# The coverage pass's search for its full request: the first example (Hypothesis tries its
# simplest first: every value at its least, when that passes the filters), not shrunk (a
# big body's shrinking takes seconds), no database, no health checks.
_FIND = settings(database=None, max_examples=100, deadline=None,
                 phases=(Phase.generate,),
                 suppress_health_check=list(HealthCheck))


@st.composite
def _draw_parts(draw: st.DrawFn, cases: Cases, full: bool = False,
                media: MediaEntry | None = None) -> _Parts:
    values: dict[str, Any] = {}
    for parameter in cases.plan.parameters:
        if full or parameter.required or draw(st.booleans()):
            values[parameter.key] = draw(cases._value(parameter, full))
    parts = _Parts(values)
    usable = cases.usable_media()
    body = cases.plan.body
    if usable and body is not None and (full or body.required or draw(st.booleans())):
        entry = media or (usable[0] if full else draw(st.sampled_from(usable)))
        parts.media, parts.content_type = entry, content_type(entry)
        parts.body, parts.has_body = draw(cases._body(entry, full)), True
    if cases.requirements:
        parts.requirement = 0 if full else draw(
            st.integers(0, len(cases.requirements) - 1))
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
_MAX_ENUM_EDGES = 16  # enum values tried per place: a long enum's first ones
_LARGEST = 2**63 - 1  # the edge of an integer without a maximum: what int64 storage holds


def _edges(generator: Generator, schema: Any, value: Any) -> list[Any]:
    """Valid replacements for ``value`` at the edges of its schema's ranges."""
    node = _plain(generator, schema)
    if node is None:
        return []
    if "enum" in node:
        return [option for option in node["enum"][:_MAX_ENUM_EDGES]
                if not same(option, value)]
    if "const" in node:
        return []
    direct = generator.resolve(schema)
    direct = direct if isinstance(direct, dict) else {}
    types = _types_of(node)
    found: list[Any] = []
    if isinstance(value, bool):
        found.append(not value)
    elif isinstance(value, (int, float)) and "multipleOf" not in node:
        low, high, low_open, high_open = number_bounds(direct, generator.draft)
        integer = types == ["integer"]
        for bound, is_open, top in ((high, high_open, True), (low, low_open, False)):
            if not isinstance(bound, (int, float)) or isinstance(bound, bool):
                continue
            edge: Any
            if integer:  # the last whole number inside the bound
                edge = (math.ceil(bound) - 1 if is_open else math.floor(bound)) if top else (
                    math.floor(bound) + 1 if is_open else math.ceil(bound))
            elif is_open:
                continue  # no last number below an open bound
            else:
                edge = bound
            if edge != value:
                found.append(edge)
        if integer and high is None:
            found.append(_LARGEST)  # no maximum: the practical one
        if not integer and float(value).is_integer():
            found.append(value + 0.5)  # a number that is not whole
    elif isinstance(value, str) and not any(k in node for k in ("pattern", "format")):
        longest = direct.get("maxLength")
        if isinstance(longest, int) and not isinstance(longest, bool) and \
                len(value) < longest <= 10_000:
            found.append("a" * longest)
    elif isinstance(value, list) and value and node.get("uniqueItems") is not True:
        longest = direct.get("maxItems")
        if isinstance(longest, int) and not isinstance(longest, bool) and \
                len(value) < longest <= 1000:
            found.append((value * longest)[:longest])
    return found


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


_Place = tuple[list[str | int], Any, dict[str, Any], Any, bool, "Shape | None"]


def _body_places(generator: Generator, schema: Any, body: Any,
                 form: MediaEntry | None) -> Iterator[_Place]:
    """Each place of ``body`` whose schema is plain (``_plain``), from the top down (at most
    6 deep, an array's first two items): (path, its schema, the plain node, the value,
    whether a rule can be broken there alone, the shape that types it as text)."""

    def walk(node_schema: Any, value: Any, path: list[str | int],
             depth: int) -> Iterator[_Place]:
        node = _plain(generator, node_schema)
        if node is None or depth > 6:
            return
        textual, shape = _form_field(form, path)
        yield path, node_schema, node, value, textual, shape
        if isinstance(value, dict):
            properties = node.get("properties") or {}
            for name, item in value.items():
                if name in properties:
                    yield from walk(properties[name], item, [*path, name], depth + 1)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value[:2]):
                yield from walk(node["items"], item, [*path, i], depth + 1)

    return walk(schema, body, [], 0)


def _body_breaks(generator: Generator, schema: Any, body: Any,
                 form: MediaEntry | None) -> Iterator[tuple[list[str | int], str, Any]]:
    """(path, keyword, the new value there) for each rule that can be broken alone in
    ``body``, lazily, from the top of the body down."""
    for path, node_schema, node, value, textual, shape in _body_places(
            generator, schema, body, form):
        if textual:
            for keyword, bad in _breaks(generator, node_schema, value, parameter_shape=shape):
                yield path, keyword, bad
        if isinstance(value, dict):
            for name in node.get("required", []):
                if name in value:
                    yield [*path, name], "required", _LEFT_OUT


def _body_edges(generator: Generator, schema: Any, body: Any,
                form: MediaEntry | None) -> Iterator[tuple[list[str | int], Any]]:
    """(path, a new value there) for each edge (``_edges``) of each place where
    ``_body_breaks`` breaks rules, lazily."""
    for path, node_schema, _, value, textual, _ in _body_places(generator, schema, body, form):
        if textual:
            for good in _edges(generator, node_schema, value):
                yield path, good


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
    """``document`` with ``value`` at ``path`` (a member left out for ``_LEFT_OUT``); the
    containers on the path are copied, the rest shared."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        if not rest and value is _LEFT_OUT:
            return {k: v for k, v in document.items() if k != head}
        return {**document, str(head): _replaced(document[head], rest, value)}
    copy = list(document)
    copy[int(head)] = _replaced(document[int(head)], rest, value)
    return copy
