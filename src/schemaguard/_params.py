"""Parameters: every OAS style and explode combination, decoded into typed values.

The serializations are those of OAS 3.1.0 §4.8.12.4 (style values) with the examples table of
3.1.1/3.0.4 (label arrays are ``.3,4,5`` unexploded, ``.3.4.5`` exploded). A decoder returns the
typed value or records a violation; schema validation of the decoded values happens afterwards,
in one engine call for all of an operation's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ._shape import _INTEGER, Shape, coerce
from .errors import Location, Violation

ParamLocation = Literal["path", "query", "header", "cookie"]
# OAS 3.1.0 §4.8.12.1: these header parameters SHALL be ignored.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
DEFAULT_STYLE: dict[str, str] = {"path": "simple", "query": "form", "header": "simple",
                                 "cookie": "form"}
ALLOWED_STYLES: dict[str, frozenset[str]] = {
    "path": frozenset({"simple", "label", "matrix"}),
    "query": frozenset({"form", "spaceDelimited", "pipeDelimited", "deepObject"}),
    "header": frozenset({"simple"}),
    "cookie": frozenset({"form"}),
}
MISSING = object()


class StyleError(Exception):
    """A value that does not follow its declared serialization."""


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
        return Violation(location, self.name, pointer, keyword, message, "")

    def decode(self, raw: list[str]) -> Any:
        """Typed value from the raw strings found for this parameter (at least one)."""
        if self.json_content:
            if len(raw) > 1:
                raise StyleError("expected a single value")
            return self.decode_json(raw[0].encode("utf-8"))
        shape = self.shape
        kind = shape.kind
        if self.location == "query":
            return self._query(raw, shape, kind)
        if len(raw) > 1:
            if kind != "array":
                raise StyleError("expected a single value, got the parameter more than once")
            raw = [",".join(raw)]
        value = raw[0]
        if self.location == "header":
            value = value.strip(" \t")
        if self.location == "path":
            value = self._unwrap_path(value)
        return self._delimited(value, ",", shape, kind, exploded_pairs=self._pairs_exploded)

    @property
    def _pairs_exploded(self) -> bool:
        return self.explode and self.location in ("path", "header")

    def _unwrap_path(self, value: str) -> str:
        if self.style == "label":
            if not value.startswith("."):
                raise StyleError("expected label style (a leading `.`)")
            value = value[1:]
            if self.explode and self.shape.kind != "primitive":
                # `.3.4.5` / `.role=admin.firstName=Alex`: re-join on commas for one parser.
                return value.replace(".", ",")
            return value
        if self.style == "matrix":
            if not value.startswith(";"):
                raise StyleError("expected matrix style (a leading `;`)")
            parts = value[1:].split(";")
            kind = self.shape.kind
            if self.explode and kind == "object":
                return ",".join(parts)
            values = []
            for part in parts:
                name, _, rest = part.partition("=")
                if name != self.name:
                    raise StyleError(f"expected matrix style `;{self.name}=...`")
                values.append(rest)
            if kind == "array" and self.explode:
                return ",".join(values)
            if len(values) != 1:
                raise StyleError("expected a single matrix value")
            return values[0]
        return value

    def _delimited(
        self, value: str, separator: str, shape: Shape, kind: str, *, exploded_pairs: bool
    ) -> Any:
        if kind == "array":
            items = value.split(separator) if value else []
            item_shape = shape.items or Shape()
            return [coerce(item, item_shape) for item in items]
        if kind == "object":
            if exploded_pairs:
                result: dict[str, Any] = {}
                for pair in value.split(separator) if value else []:
                    name, sep, item = pair.partition("=")
                    if not sep:
                        raise StyleError("expected name=value pairs")
                    result[name] = coerce(item, shape.property(name))
                return result
            parts = value.split(separator) if value else []
            if len(parts) % 2:
                raise StyleError("expected name,value pairs")
            return {parts[i]: coerce(parts[i + 1], shape.property(parts[i]))
                    for i in range(0, len(parts), 2)}
        return coerce(value, shape)

    def _query(self, raw: list[str], shape: Shape, kind: str) -> Any:
        if kind == "array" and self.explode and self.style != "deepObject":
            item_shape = shape.items or Shape()
            return [coerce(item, item_shape) for item in raw]
        if len(raw) > 1:
            raise StyleError("expected a single value, got the parameter more than once")
        value = raw[0]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(self.style, ",")
        return self._delimited(value, separator, shape, kind, exploded_pairs=False)


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


EMPTY = object()  # a query field sent with an empty value
_REPEATED = "expected a single value, got the parameter more than once"
Reader = Callable[[dict[str, list[str]], Any, dict[str, list[str]], dict[str, str]], Any]


def converter(shape: Shape) -> Callable[[str], Any]:
    """A str -> typed value function specialised for the shape's types."""
    types = shape.types
    if not types or types[0] == "string":
        return _identity
    if types == ("integer",):
        return _to_integer
    return lambda value: coerce(value, shape)


def _identity(value: str) -> str:
    return value


def _to_integer(value: str) -> Any:
    return int(value) if _INTEGER.fullmatch(value) else value


def reader(parameter: Parameter) -> Reader:
    """A function (query, headers, cookies, route params) -> typed value, MISSING or EMPTY.

    The common shapes get straight-line code; the rest go through Parameter.decode.
    """
    name, location, shape = parameter.name, parameter.location, parameter.shape
    kind = shape.kind
    if location == "path" and kind == "primitive" and parameter.style == "simple":
        convert = converter(shape)
        return lambda query, headers, cookies, route: convert(route[name])
    if location == "query" and not parameter.json_content:
        if parameter.style == "deepObject":
            return lambda query, headers, cookies, route: _or_missing(deep_object(parameter,
                                                                                  query))
        if kind == "object" and parameter.explode:
            return lambda query, headers, cookies, route: _or_missing(
                exploded_object(parameter, query))
        if kind == "primitive":
            convert = converter(shape)

            def read_primitive(query: dict[str, list[str]], headers: Any,
                               cookies: dict[str, list[str]], route: dict[str, str]) -> Any:
                raw = query.get(name)
                if raw is None:
                    return MISSING
                if len(raw) > 1:
                    raise StyleError(_REPEATED)
                value = raw[0]
                return convert(value) if value else EMPTY

            return read_primitive
        if kind == "array" and not parameter.explode:
            item = converter(shape.items or Shape())
            separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(parameter.style, ",")

            def read_delimited(query: dict[str, list[str]], headers: Any,
                               cookies: dict[str, list[str]], route: dict[str, str]) -> Any:
                raw = query.get(name)
                if raw is None:
                    return MISSING
                if len(raw) > 1:
                    raise StyleError(_REPEATED)
                return [item(v) for v in raw[0].split(separator)] if raw[0] else []

            return read_delimited
        if kind == "array" and parameter.explode:
            item = converter(shape.items or Shape())

            def read_exploded(query: dict[str, list[str]], headers: Any,
                              cookies: dict[str, list[str]], route: dict[str, str]) -> Any:
                raw = query.get(name)
                return MISSING if raw is None else [item(v) for v in raw]

            return read_exploded
    if location == "path":
        return lambda query, headers, cookies, route: parameter.decode([route[name]])
    if location == "header" and kind == "primitive":
        lowered = name.lower()
        convert = converter(shape)

        def read_header_value(query: dict[str, list[str]], headers: Any,
                              cookies: dict[str, list[str]], route: dict[str, str]) -> Any:
            raw = headers.get_all(lowered)
            if not raw:
                return MISSING
            if len(raw) > 1:
                raise StyleError(_REPEATED)
            return convert(raw[0].strip(" \t"))

        return read_header_value
    if location == "header":
        lowered = name.lower()

        def read_header(query: dict[str, list[str]], headers: Any,
                        cookies: dict[str, list[str]], route: dict[str, str]) -> Any:
            raw = headers.get_all(lowered)
            return parameter.decode(raw) if raw else MISSING

        return read_header
    source_is_query = location == "query"

    def read_other(query: dict[str, list[str]], headers: Any, cookies: dict[str, list[str]],
                   route: dict[str, str]) -> Any:
        raw = (query if source_is_query else cookies).get(name)
        if not raw:
            return MISSING
        if source_is_query and raw == [""] and kind == "primitive" and not \
                parameter.json_content:
            return EMPTY
        return parameter.decode(raw)

    return read_other


def _or_missing(value: Any) -> Any:
    return MISSING if value is None else value
