"""One operation of the spec, prepared for requests: parameters, body, security, validators.

Everything cheap and everything that can be wrong with the spec is prepared when the guard is
built (parameter decoders, media types, the security plan); the schema validators are
compiled on first use, once, under a lock (or all at start-up with ``eager=True``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from ._compile import compiler_for
from ._http import MediaType, parse_media_type
from ._media import MediaEntry
from ._params import (
    ALLOWED_STYLES,
    DEFAULT_STYLE,
    EMPTY,
    IGNORED_HEADERS,
    MISSING,
    ContentError,
    Parameter,
    ParamLocation,
    Reader,
    StyleError,
    reader,
)
from ._router import _PARAM
from ._schema import SchemaValidator, compile_at
from ._security import RequestContext, Scheme, SecurityPlan
from ._shape import Shape, shape_of
from ._source import join_pointer
from ._spec import Spec
from ._violations import convert, violation
from .errors import Violation

Formats = dict[str, Callable[[str], bool]]
# A declared parameter as a request reads it: (parameter, reader, combined key, location
# index, name).
Row = tuple[Parameter, Reader, str, int, str]
_SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-[]")


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """An operation of the spec: what a ValidatedRequest says was matched."""

    operation_id: str | None
    method: str
    path_template: str
    pointer: str

    def __repr__(self) -> str:
        return f"<Operation {self.method} {self.path_template} id={self.operation_id!r}>"


@dataclass(frozen=True, slots=True)
class BodySpec:
    required: bool
    entries: list[MediaEntry]


@dataclass(frozen=True, slots=True)
class Validators:
    parameters: SchemaValidator | None
    bodies: dict[str, SchemaValidator]  # by MediaEntry.key
    # The parameters' is_valid, the engine's own call, read for every request (through
    # SchemaValidator, an interpreted class, each call would look its attribute up first).
    parameters_valid: Callable[[Any], bool] | None
    # The JSON bodies whose schema bounds their nesting to a depth and keeps their numbers
    # small (_bound): parsed before any scan, scanned only when they fail validation. Each
    # with its is_valid (got once, as the parameters'), its validator and that depth.
    shallow_bodies: dict[str, tuple[Callable[[Any], bool], SchemaValidator, int]]

    @property
    def shallow_json(self) -> dict[str, int]:
        """The bounded JSON bodies' depths."""
        return {key: depth for key, (_, _, depth) in self.shallow_bodies.items()}


@dataclass(frozen=True, slots=True)
class Settings:
    """The per-operation options (guard options overridden by ``operations=``)."""

    mode: str
    validate_responses: str
    max_body_bytes: int
    max_fields: int
    max_errors: int
    body_timeout: float
    verifier_timeout: float | None


class OperationPlan:
    """An operation with its decoders and (lazily) its validators."""

    def __init__(
        self,
        spec: Spec,
        operation: Operation,
        uri: str,
        parameters: list[tuple[Parameter, str, str]],
        body: BodySpec | None,
        security: SecurityPlan,
        settings: Settings,
        formats: Formats,
    ) -> None:
        self.spec = spec
        self.operation = operation
        self.uri = uri
        self.parameters = [p for p, _, _ in parameters]
        self._schema_locations = {p.key: (u, ptr) for p, u, ptr in parameters}
        self.body = body
        self.security = security
        self.open = security.open  # read for every request: no property call
        self.settings = settings
        self.formats = formats
        self.rows: list[Row] = [(p, reader(p), p.key, LOCATIONS[p.location], p.name)
                     for p in self.parameters]
        self._by_key = {p.key: p for p in self.parameters}
        # Query fields that belong to a declared parameter (reject_unknown_query).
        self.query_names = frozenset(
            [p.name for p in self.parameters if p.location == "query"]
            + [name for p in self.parameters if p.location == "query"
               and p.shape.kind == "object" and p.explode for name in p.shape.properties])
        self.deep_prefixes = tuple(p.name + "[" for p in self.parameters
                                   if p.location == "query" and p.style == "deepObject")
        self.needs_cookies = any(p.location == "cookie" for p in self.parameters) or any(
            s.location == "cookie" for req in security.requirements for s, _ in req)
        # The validators once built: a plain attribute, read for every request (no property).
        self.compiled: Validators | None = None
        self._closed: dict[str, SchemaValidator] = {}
        self._lock = threading.Lock()
        # Content-Type header value -> the declared entry it selects (accepted values only).
        self.media_types: dict[str, tuple[MediaEntry | None, MediaType | None]] = {}

    def validators(self) -> Validators:
        """The compiled validators, built exactly once."""
        found = self.compiled
        if found is not None:
            return found
        with self._lock:
            if self.compiled is None:
                self.compiled = self._compile()
            return self.compiled

    def read_parameters(
        self, context: RequestContext, route_params: dict[str, str], reject_unknown: bool
    ) -> Found:
        """Every declared parameter read and typed (defaults applied), and what went wrong
        before schema validation (missing, malformed, empty, undeclared query fields)."""
        found = Found(self.rows)
        values = found.values
        violations: list[Violation] | None = None  # the usual request meets none
        for parameter, read, key, _location, _name in self.rows:
            try:
                value = read(context, route_params)
            except StyleError as exc:
                keyword = "content" if isinstance(exc, ContentError) else "style"
                violations = _add(violations, parameter.violation(keyword, str(exc)))
                continue
            if value is not MISSING and value is not EMPTY:  # the usual case first
                values[key] = value
            elif value is MISSING:
                if parameter.required:
                    violations = _add(violations, parameter.violation(
                        "required", f"missing required {parameter.location} parameter"))
                elif parameter.shape.has_default:
                    found.unsent(key, parameter.shape.default)
            elif parameter.allow_empty:  # EMPTY
                found.unsent(key, "")
            else:
                violations = _add(violations, parameter.violation(
                    "allowEmptyValue", "empty value is not allowed"))
        if reject_unknown:
            for name in context.query:
                if name not in self.query_names and not name.startswith(self.deep_prefixes):
                    safe = name if len(name) <= 64 and set(name) <= _SAFE_NAME else None
                    violations = _add(violations, violation(
                        "query", safe, "", "additionalProperties",
                        "undeclared query parameter", ""))
        found.violations = violations
        return found

    def parameter_violations(self, values: dict[str, Any], limit: int) -> list[Violation]:
        """The schema violations of the parameters, located by parameter."""
        validator = self.validators().parameters
        if validator is None:  # pragma: no cover - only called when there are parameters
            return []
        by_key = self._by_key
        found: list[Violation] = []
        errors = validator.engine_errors(values)
        if errors is not None:
            # The engine's errors converted here, each once, for the parameter it names.
            compiler, plain = validator.compiler, validator.plain
            for error in errors:
                path = error.instance_path
                parameter = by_key.get(path[0]) if path and isinstance(path[0], str) else None
                if parameter is None:  # pragma: no cover - the object has no other keyword
                    continue
                found += convert(compiler, error, parameter.location, parameter.name, "",
                                 values, plain, keyed=True)
                if len(found) >= limit:
                    return found[:limit]
        if not found:
            # The engine could not tell (its recursion limit: decoders bound the nesting
            # first): still a refusal, never a pass, named after the nested value.
            nested = [key for key, value in values.items() if type(value) in (dict, list)]
            parameter = by_key[(nested or list(values))[0]]
            found.append(parameter.violation(
                "maxDepth", "value is nested too deeply to report its violations"))
        return found

    def closed_validator(self, entry: MediaEntry) -> SchemaValidator:
        """The body schema of ``entry`` closed over its declared properties (drift)."""
        found = self._closed.get(entry.key)
        if found is None and entry.schema_pointer is not None:
            found = compile_at(self.spec, entry.schema_pointer, context="request",
                               formats=self.formats, uri=self.uri, closed=True)
            self._closed[entry.key] = found
        if found is None:  # pragma: no cover - callers pass entries with a schema
            raise ValueError(f"{entry.key} has no schema")
        return found

    def _compile(self) -> Validators:
        params: SchemaValidator | None = None
        if self._schema_locations:
            properties = {key: {"$ref": _ref(self.spec, uri, pointer)}
                          for key, (uri, pointer) in self._schema_locations.items()}
            compiler = compiler_for(self.spec, self.spec.schema_dialect, "request")
            validator, root = compiler.build({"type": "object", "properties": properties},
                                             self.formats)
            params = SchemaValidator(compiler, validator, root=root, formats=self.formats)
        bodies: dict[str, SchemaValidator] = {}
        shallow: dict[str, tuple[Callable[[Any], bool], SchemaValidator, int]] = {}
        for entry in self.body.entries if self.body else []:
            if entry.schema_pointer is not None:
                body = compile_at(self.spec, entry.schema_pointer, context="request",
                                  formats=self.formats, uri=self.uri)
                bodies[entry.key] = body
                bound = body.instance_bound()
                if bound.small_numbers and bound.depth is not None:
                    shallow[entry.key] = (body.is_valid, body, bound.depth)
        return Validators(params, bodies, params.is_valid if params else None, shallow)


def _ref(spec: Spec, uri: str, pointer: str) -> str:
    fragment = "#" + quote(pointer, safe="/~")
    return fragment if uri == spec.uri else uri + fragment


def _resolved(spec: Spec, uri: str, pointer: str, node: Any) -> tuple[str, str, Any]:
    for _ in range(32):
        if not (isinstance(node, dict) and "$ref" in node):
            break
        uri, pointer, node = spec.resolve(node["$ref"], uri, join_pointer(pointer, "$ref"))
    return uri, pointer, node


def build_parameters(
    spec: Spec,
    uri: str,
    item_pointer: str,
    item: Mapping[str, Any],
    op_pointer: str,
    op: Mapping[str, Any],
    template: str,
    decode_json: Callable[[bytes], Any],
) -> list[tuple[Parameter, str, str]]:
    """The operation's parameters (path-item ones overridden by the operation's own)."""
    merged: dict[tuple[str, str], tuple[Parameter, str, str]] = {}
    for pointer, params in ((item_pointer, item.get("parameters")), (op_pointer,
                                                                      op.get("parameters"))):
        for i, raw in enumerate(params or []):
            at = join_pointer(pointer, "parameters", i)
            p_uri, p_pointer, param = _resolved(spec, uri, at, raw)
            compiled = _parameter(spec, p_uri, p_pointer, param, decode_json)
            if compiled is not None:
                merged[(compiled[0].location, compiled[0].name)] = compiled
    declared = {name for (location, name) in merged if location == "path"}
    in_template = set(_PARAM.findall(template))
    missing = in_template - declared
    if missing:
        raise spec.error(uri, op_pointer, f"path parameter `{sorted(missing)[0]}` of "
                                          f"`{template}` is not declared")
    extra = declared - in_template
    if extra:
        raise spec.error(uri, op_pointer, f"path parameter `{sorted(extra)[0]}` is not in "
                                          f"the path `{template}`")
    return list(merged.values())


def _parameter(
    spec: Spec, uri: str, pointer: str, param: Any, decode_json: Callable[[bytes], Any]
) -> tuple[Parameter, str, str] | None:
    if not isinstance(param, dict):
        raise spec.error(uri, pointer, "expected a parameter object")
    name, location = param.get("name"), param.get("in")
    if not isinstance(name, str) or location not in ("path", "query", "header", "cookie"):
        raise spec.error(uri, pointer, "a parameter needs a string `name` and `in` of path, "
                                       "query, header or cookie")
    loc: ParamLocation = location
    if loc == "header" and name.lower() in IGNORED_HEADERS:
        return None  # OAS 3.1.0 §4.8.12.1
    if loc == "path" and param.get("required") is not True:
        raise spec.error(uri, join_pointer(pointer, "required"),
                         "a path parameter must have `required: true`")
    style = param.get("style", DEFAULT_STYLE[loc])
    if style not in ALLOWED_STYLES[loc]:
        raise spec.error(uri, join_pointer(pointer, "style"),
                         f"style `{style}` cannot be used for {loc} parameters")
    explode = param.get("explode", style == "form")
    json_content = False
    if "schema" in param:
        schema_pointer = join_pointer(pointer, "schema")
        shape = shape_of(spec, uri, schema_pointer, param["schema"])
    elif isinstance(param.get("content"), dict) and len(param["content"]) == 1:
        media_key, media = next(iter(param["content"].items()))
        media_type = parse_media_type(media_key)
        if media_type is None or not media_type.is_json:
            raise spec.error(uri, join_pointer(pointer, "content"),
                             "only JSON `content` parameters can be validated")
        json_content = True
        schema_pointer = join_pointer(pointer, "content", media_key, "schema")
        shape = shape_of(spec, uri, schema_pointer, media.get("schema", {}))
    else:
        raise spec.error(uri, pointer, "a parameter needs `schema` or one `content` entry")
    if style == "deepObject" and any(s.kind == "object" for s in shape.properties.values()):
        # OAS leaves nested deepObject serialization undefined (bad-inputs S27).
        raise spec.error(uri, pointer, "deepObject with nested objects cannot be validated")
    if style == "deepObject" and shape.kind != "object":
        raise spec.error(uri, join_pointer(pointer, "style"), "deepObject needs an object schema")
    parameter = Parameter(
        name=name,
        location=loc,
        key=f"{loc}:{name.lower() if loc == 'header' else name}",
        required=param.get("required") is True,
        style=style,
        explode=explode is True,
        allow_empty=param.get("allowEmptyValue") is True,
        shape=shape,
        json_content=json_content,
        decode_json=decode_json,
    )
    return parameter, uri, schema_pointer


def build_body(spec: Spec, uri: str, pointer: str, raw: Any) -> tuple[BodySpec, str] | None:
    """The request body's media types, or None when the operation declares none."""
    if raw is None:
        return None
    b_uri, b_pointer, body = _resolved(spec, uri, pointer, raw)
    entries: list[MediaEntry] = []
    content = body.get("content") or {}
    for key, media in content.items():
        media_range = parse_media_type(key)
        if media_range is None:
            raise spec.error(b_uri, join_pointer(b_pointer, "content", key),
                             "not a media type or range")
        schema_pointer = join_pointer(b_pointer, "content", key, "schema")
        has_schema = isinstance(media, dict) and "schema" in media
        # Only form and multipart bodies are typed field by field; JSON needs no shape.
        typed = media_range.essence in ("application/x-www-form-urlencoded",
                                        "multipart/form-data", "multipart/*", "*/*")
        shape = (shape_of(spec, b_uri, schema_pointer, media["schema"])
                 if has_schema and typed else Shape())
        encoding = media.get("encoding") or {} if isinstance(media, dict) else {}
        json_fields = frozenset(
            name for name, enc in encoding.items()
            if isinstance(enc, dict) and isinstance(enc.get("contentType"), str)
            and (parse_media_type(enc["contentType"].split(",")[0]) or MediaType("", "")).is_json
        )
        entries.append(MediaEntry(key, media_range, schema_pointer if has_schema else None,
                                  shape, encoding, json_fields))
    return BodySpec(body.get("required") is True, entries), b_uri


def build_security(
    spec: Spec, requirements: Any, schemes: Mapping[str, Scheme], uri: str, pointer: str
) -> SecurityPlan:
    """The security plan of an operation from its Security Requirement Objects."""
    if not isinstance(requirements, list):
        raise spec.error(uri, pointer, "`security` must be an array")
    compiled: list[tuple[tuple[Scheme, tuple[str, ...]], ...]] = []
    optional = False
    for i, requirement in enumerate(requirements):
        at = join_pointer(pointer, i)
        if not isinstance(requirement, dict):
            raise spec.error(uri, at, "a security requirement must be an object")
        if not requirement:
            optional = True
            continue
        entries = []
        for name, scopes in requirement.items():
            scheme = schemes.get(name)
            if scheme is None:
                raise spec.error(uri, join_pointer(at, name),
                                 f"security scheme `{name}` is not defined in components")
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise spec.error(uri, join_pointer(at, name), "scopes must be strings")
            entries.append((scheme, tuple(scopes)))
        compiled.append(tuple(entries))
    return SecurityPlan(tuple(compiled), optional)


# A parameter location's place in Found.by_location (Final: compiled as constants).
PATH: Final = 0
QUERY: Final = 1
HEADER: Final = 2
COOKIE: Final = 3
LOCATIONS = {"path": PATH, "query": QUERY, "header": HEADER, "cookie": COOKIE}


class Found:
    """What the checks before the body found: the parameters sent, typed, by combined key
    (``values``, what their schema validates); the defaults and allowed empty values of the
    others apart; the violations met reading them (None: none); and the declared media type
    the body will be read as (``entry``, ``media_type``: set by the guard).

    The values by location (``split``) are made only when asked for (ValidatedRequest's
    ``path_params``, ``query``, ``headers``, ``cookies``): most handlers never do."""

    __slots__ = ("_unsent", "entry", "media_type", "rows", "values", "violations")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.values: dict[str, Any] = {}
        self._unsent: dict[str, Any] | None = None
        self.violations: list[Violation] | None = None
        self.entry: MediaEntry | None = None
        self.media_type: MediaType | None = None

    def unsent(self, key: str, value: Any) -> None:
        """``value`` stands for the parameter ``key``, which was not sent (its default, or
        the empty value it allows)."""
        unsent = self._unsent
        if unsent is None:
            unsent = self._unsent = {}
        unsent[key] = value

    def split(self) -> list[dict[str, Any]]:
        """The values by location (a list indexed PATH, QUERY, HEADER, COOKIE), each in the
        order the parameters are declared; a default is a copy, never the spec's object."""
        by_location: list[dict[str, Any]] = [{}, {}, {}, {}]
        values, unsent = self.values, self._unsent
        for _parameter, _read, key, location, name in self.rows:
            value = values.get(key, MISSING)
            if value is MISSING and unsent is not None:
                value = unsent.get(key, MISSING)
                if isinstance(value, (dict, list)):
                    value = copy.deepcopy(value)
            if value is not MISSING:
                by_location[location][name] = value
        return by_location


def _add(violations: list[Violation] | None, found: Violation) -> list[Violation]:
    if violations is None:
        return [found]
    violations.append(found)
    return violations
