"""Parameters: every OAS style and explode combination, decoded into typed values.

The serializations are those of OAS 3.1.0 §4.8.12.4 (style values) with the examples table of
3.1.1/3.0.4 (label arrays are ``.3,4,5`` unexploded, ``.3.4.5`` exploded). A decoder returns the
typed value or records a violation; schema validation of the decoded values happens afterwards,
in one engine call for all of an operation's parameters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import unquote_plus

from ._security import RequestContext
from ._shape import Shape, coerce
from ._violations import violation as make_violation
from .errors import Location, Violation

ParamLocation = Literal["path", "query", "header", "cookie"]
# OAS 3.1.0 §4.8.12.1: these header parameters SHALL be ignored.
IGNORED_HEADERS: Final = frozenset({"accept", "content-type", "authorization"})
DEFAULT_STYLE: dict[str, str] = {"path": "simple", "query": "form", "header": "simple",
                                 "cookie": "form"}
ALLOWED_STYLES: dict[str, frozenset[str]] = {
    "path": frozenset({"simple", "label", "matrix"}),
    "query": frozenset({"form", "spaceDelimited", "pipeDelimited", "deepObject"}),
    "header": frozenset({"simple"}),
    "cookie": frozenset({"form"}),
}
MISSING: Final = object()
_REPEATED = "expected a single value, got the parameter more than once"


class StyleError(Exception):
    """A value that does not follow its declared serialization."""


class ContentError(StyleError):
    """A `content` parameter whose value is not of its media type (JSON)."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter, ready to decode."""

    name: str
    location: ParamLocation
    key: str  # property name in the combined parameters object: "query:limit"
    required: bool
    style: str
    explode: bool
    allow_empty: bool
    shape: Shape
    json_content: bool  # `content: {application/json: ...}` instead of `schema`
    decode_json: Callable[[bytes], Any]

    def violation(self, keyword: str, message: str, pointer: str = "") -> Violation:
        location: Location = self.location
        return make_violation(location, self.name, pointer, keyword, message, "")

    def decode(self, raw: list[str]) -> Any:
        """Typed value from the strings found for this parameter (at least one)."""
        if self.json_content:
            if len(raw) > 1:
                raise StyleError("expected a single value")
            try:
                return self.decode_json(raw[0].encode("utf-8"))
            except Exception as exc:  # BodyError; its message speaks of bodies
                raise ContentError("expected a JSON value") from exc
        shape, kind = self.shape, self.shape.kind
        if self.location == "query":
            return self._query(raw, shape, kind)
        if len(raw) > 1 and kind != "array":
            raise StyleError(_REPEATED)
        if self.location == "header":
            # RFC 9110 §5.6.1: list members are separated by commas with optional whitespace.
            items = [item.strip(" \t") for value in raw for item in value.split(",")]
            if kind == "primitive":
                return coerce(",".join(items), shape)
            return self._build(items, shape, kind, pairs="kv" if self.explode else "alternate")
        if len(raw) > 1:  # a repeated cookie: one item each (split too when not exploded)
            items = raw if self.explode else [i for value in raw for i in value.split(",")]
            return self._build(items, shape, kind, pairs="alternate")
        value = raw[0]
        if self.location == "path" and self.style in ("label", "matrix"):
            return self._prefixed(value, shape, kind)
        if kind == "primitive":
            return coerce(value, shape)
        items = value.split(",") if value else []
        exploded = self.explode and self.location == "path"
        return self._build(items, shape, kind, pairs="kv" if exploded else "alternate")

    def _prefixed(self, value: str, shape: Shape, kind: str) -> Any:
        """Label (`.`) and matrix (`;name=`) path values (RFC 6570 §3.2.5, §3.2.7)."""
        if self.style == "label":
            if not value.startswith("."):
                raise StyleError("expected label style (a leading `.`)")
            value = value[1:]
            if kind == "primitive":
                return coerce(value, shape)
            separator = "." if self.explode else ","
            items = value.split(separator) if value else []
            return self._build(items, shape, kind, pairs="kv" if self.explode else "alternate")
        if not value.startswith(";"):
            raise StyleError("expected matrix style (a leading `;`)")
        parts = value[1:].split(";")
        if kind == "object" and self.explode:
            return self._build(parts, shape, kind, pairs="kv")
        values = []
        for part in parts:
            name, _, rest = part.partition("=")
            if name != self.name:
                raise StyleError(f"expected matrix style `;{self.name}=...`")
            values.append(rest)
        if kind == "array" and self.explode:
            return self._build(values, shape, kind, pairs="kv")
        if len(values) != 1:
            raise StyleError("expected a single matrix value")
        if kind == "primitive":
            return coerce(values[0], shape)
        items = values[0].split(",") if values[0] else []
        return self._build(items, shape, kind, pairs="alternate")

    @staticmethod
    def _build(items: list[str], shape: Shape, kind: str, *, pairs: str) -> Any:
        """An array of items, or an object from `k=v` items or alternating `k,v` items."""
        if kind == "array":
            item_shape = shape.items or Shape()
            return [coerce(item, item_shape) for item in items]
        if pairs == "kv":
            result: dict[str, Any] = {}
            for pair in items:
                name, sep, item = pair.partition("=")
                if not sep:
                    raise StyleError("expected name=value pairs")
                result[name] = coerce(item, shape.property(name))
            return result
        if len(items) % 2:
            raise StyleError("expected name,value pairs")
        return {items[i]: coerce(items[i + 1], shape.property(items[i]))
                for i in range(0, len(items), 2)}

    def _query(self, raw: list[str], shape: Shape, kind: str) -> Any:
        if kind == "array" and self.explode and self.style != "deepObject":
            item_shape = shape.items or Shape()
            return [coerce(item, item_shape) for item in raw]
        if len(raw) > 1:
            raise StyleError(_REPEATED)
        if kind == "primitive":
            return coerce(raw[0], shape)
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(self.style, ",")
        items = raw[0].split(separator) if raw[0] else []
        return self._build(items, shape, kind, pairs="alternate")

    def decode_raw_query(self, raw: list[str]) -> Any:
        """A comma-delimited query value split before percent-decoding (RFC 6570 §3.2.1: an
        encoded `%2C` is data, only a literal comma delimits)."""
        if len(raw) > 1:
            raise StyleError(_REPEATED)
        items = [unquote_plus(item) for item in raw[0].split(",")] if raw[0] else []
        return self._build(items, self.shape, self.shape.kind, pairs="alternate")


def exploded_object(
    parameter: Parameter, query: dict[str, list[str]]
) -> dict[str, Any] | None:
    """A form-exploded object parameter: each declared property is its own query field."""
    shape = parameter.shape
    found: dict[str, Any] = {}
    for name, sub in shape.properties.items():
        values = query.get(name)
        if not values:
            continue
        if sub.kind == "array":
            found[name] = [coerce(v, sub.items or Shape()) for v in values]
        elif len(values) > 1:
            raise StyleError(f"expected property `{name}` once")
        else:
            found[name] = coerce(values[0], sub)
    return found or None


def deep_object(parameter: Parameter, query: dict[str, list[str]]) -> dict[str, Any] | None:
    """``name[prop]=value`` fields (OAS deepObject); nested brackets are refused."""
    prefix = parameter.name + "["
    found: dict[str, Any] = {}
    for key, values in query.items():
        if not key.startswith(prefix):
            continue
        if not key.endswith("]") or "[" in key[len(prefix):-1] or "]" in key[len(prefix):-1]:
            raise StyleError("nested deepObject keys are not supported")
        name = key[len(prefix):-1]
        sub = parameter.shape.property(name)
        if sub.kind == "array":
            found[name] = [coerce(v, sub.items or Shape()) for v in values]
        elif len(values) > 1:
            raise StyleError("expected each deepObject property once")
        else:
            found[name] = coerce(values[0], sub)
    return found or None


EMPTY: Final = object()  # a query field sent with an empty value
Reader = Callable[[RequestContext, dict[str, str]], Any]  # (context, route params) -> value


def converter(shape: Shape) -> Callable[[str], Any]:
    """A str -> typed value function specialised for the shape's types."""
    types = shape.types
    if not types or types[0] == "string":
        return _identity
    if types == ("integer",):
        return _to_integer
    if types == ("boolean",):  # exactly "true" or "false"; anything else stays a string
        return lambda value: _BOOLEANS.get(value, value)
    return lambda value: coerce(value, shape)


_BOOLEANS: Final[dict[str, Any]] = {"true": True, "false": False}


def _identity(value: str) -> str:
    return value


def _to_integer(value: str) -> Any:
    # _INTEGER (`-?[0-9]+`, ASCII) without a regex call: ASCII digits are exactly 0-9.
    digits = value[1:] if value[:1] == "-" else value
    return int(value) if digits.isdigit() and digits.isascii() else value


def reader(parameter: Parameter) -> Reader:
    """A function (request context, route params) -> typed value, MISSING or EMPTY.

    The common shapes get straight-line code; the rest go through Parameter.decode.
    """
    name, location, shape = parameter.name, parameter.location, parameter.shape
    kind = shape.kind
    if location == "path":
        if kind == "primitive" and parameter.style == "simple":
            convert = converter(shape)
            if convert is _identity:  # strings are read as they are: no call per request
                return lambda context, route: route[name]
            return lambda context, route: convert(route[name])
        return lambda context, route: parameter.decode([route[name]])
    if location == "header":
        # Interned, as the guard's header map keeps its names (_http.HeaderNames): a lookup
        # finds the very object, with no comparison of the text.
        lowered = sys.intern(name.lower())
        if kind == "primitive":
            convert = converter(shape)
            plain = convert is _identity

            def read_header_value(context: RequestContext, route: dict[str, str]) -> Any:
                headers = context.headers
                sent = headers.only(lowered)  # the usual case: no list built
                if sent is None:  # absent, or sent more than once
                    if headers.get_all(lowered):
                        raise StyleError(_REPEATED)
                    return MISSING
                value = sent.strip(" \t")
                return value if plain else convert(value)

            return read_header_value

        def read_header(context: RequestContext, route: dict[str, str]) -> Any:
            raw = context.headers.get_all(lowered)
            return parameter.decode(raw) if raw else MISSING

        return read_header
    if location == "cookie":
        def read_cookie(context: RequestContext, route: dict[str, str]) -> Any:
            raw = context.cookies.get(name)
            return parameter.decode(raw) if raw else MISSING

        return read_cookie
    if parameter.json_content:
        def read_json(context: RequestContext, route: dict[str, str]) -> Any:
            raw = context.query.get(name)
            return parameter.decode(raw) if raw else MISSING

        return read_json
    if parameter.style == "deepObject":
        return lambda context, route: _or_missing(deep_object(parameter, context.query))
    if kind == "object" and parameter.explode:
        return lambda context, route: _or_missing(exploded_object(parameter, context.query))
    if kind == "primitive":
        convert = converter(shape)
        plain = convert is _identity

        def read_primitive(context: RequestContext, route: dict[str, str]) -> Any:
            raw = context.query.get(name)
            if raw is None:
                return MISSING
            if len(raw) > 1:
                raise StyleError(_REPEATED)
            value = raw[0]
            if not value:
                return EMPTY
            return value if plain else convert(value)

        return read_primitive
    if kind == "array" and parameter.explode:
        item = converter(shape.items or Shape())

        def read_exploded(context: RequestContext, route: dict[str, str]) -> Any:
            raw = context.query.get(name)
            return MISSING if raw is None else [item(v) for v in raw]

        return read_exploded
    if parameter.style == "form":
        item = converter(shape.items or Shape())
        plain_items = item is _identity

        def read_comma_delimited(context: RequestContext, route: dict[str, str]) -> Any:
            query_string = context.request.query
            if kind == "array" and "%" not in query_string and "+" not in query_string:
                raw = context.query.get(name)  # nothing is encoded: split the value itself
                if raw is None:
                    return MISSING
                if len(raw) > 1:
                    raise StyleError(_REPEATED)
                if not raw[0]:
                    return []
                items = raw[0].split(",")
                return items if plain_items else [item(v) for v in items]
            raw = context.raw_query.get(name)
            return MISSING if raw is None else parameter.decode_raw_query(raw)

        return read_comma_delimited

    def read_delimited(context: RequestContext, route: dict[str, str]) -> Any:
        raw = context.query.get(name)
        return MISSING if raw is None else parameter.decode(raw)

    return read_delimited


def _or_missing(value: Any) -> Any:
    return MISSING if value is None else value
