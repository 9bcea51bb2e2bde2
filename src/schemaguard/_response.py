"""Responses: the declared status, media type, headers and body of what an operation returns.

Bodies are validated in the response context, so ``writeOnly`` properties are violations
(excessive data exposure, OWASP API3) and ``additionalProperties: false`` catches leaked
fields. The status is matched exactly, then by range (``2XX``), then ``default``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._body import BodyError, MediaEntry, select
from ._http import HeaderMap, HttpResponse, parse_media_type
from ._params import Parameter, StyleError
from ._schema import SchemaValidator, compile_at
from ._shape import Shape, shape_of
from ._source import join_pointer
from ._spec import Spec
from .errors import ResponseValidationError, Violation

Formats = dict[str, Callable[[str], bool]]


@dataclass(frozen=True, slots=True)
class _Header:
    parameter: Parameter
    uri: str
    schema_pointer: str


@dataclass(frozen=True, slots=True)
class _Declared:
    pointer: str
    uri: str
    headers: tuple[_Header, ...]
    entries: tuple[MediaEntry, ...]


class ResponsePlan:
    """The responses of one operation, with validators compiled on first use."""

    def __init__(self, spec: Spec, uri: str, pointer: str, responses: Any, formats: Formats,
                 decode_json: Callable[[bytes], Any]) -> None:
        self.spec = spec
        self.formats = formats
        self.decode_json = decode_json
        self._declared: dict[str, _Declared] = {}
        self._validators: dict[tuple[str, str], SchemaValidator] = {}
        self._lock = threading.Lock()
        for code, raw in (responses or {}).items():
            at = join_pointer(pointer, code)
            r_uri, r_pointer, response = uri, at, raw
            while isinstance(response, dict) and "$ref" in response:
                r_uri, r_pointer, response = spec.resolve(response["$ref"], r_uri,
                                                          join_pointer(r_pointer, "$ref"))
            if isinstance(response, dict):
                self._declared[str(code).upper()] = self._declare(r_uri, r_pointer, response)

    def _declare(self, uri: str, pointer: str, response: dict[str, Any]) -> _Declared:
        headers: list[_Header] = []
        for name, raw in (response.get("headers") or {}).items():
            at = join_pointer(pointer, "headers", name)
            h_uri, h_pointer, header = self.uri_resolved(uri, at, raw)
            if name.lower() == "content-type" or not isinstance(header, dict):
                continue  # OAS 3.1.0 §4.8.17.1: a Content-Type header definition is ignored
            schema_pointer = join_pointer(h_pointer, "schema")
            shape = shape_of(self.spec, h_uri, schema_pointer, header.get("schema", {}))
            parameter = Parameter(name, "header", name.lower(), header.get("required") is True,
                                  "simple", header.get("explode") is True, False, shape,
                                  False, self.decode_json)
            if "schema" in header:
                headers.append(_Header(parameter, h_uri, schema_pointer))
            elif parameter.required:
                headers.append(_Header(parameter, h_uri, ""))
        entries: list[MediaEntry] = []
        for key, media in (response.get("content") or {}).items():
            media_range = parse_media_type(key)
            if media_range is None:
                continue
            has_schema = isinstance(media, dict) and "schema" in media
            schema_pointer = join_pointer(pointer, "content", key, "schema")
            entries.append(MediaEntry(key, media_range, schema_pointer if has_schema else None,
                                      Shape(), {}, frozenset()))
        return _Declared(pointer, uri, tuple(headers), tuple(entries))

    def uri_resolved(self, uri: str, pointer: str, node: Any) -> tuple[str, str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            uri, pointer, node = self.spec.resolve(node["$ref"], uri, join_pointer(pointer,
                                                                                   "$ref"))
        return uri, pointer, node

    def _validator(self, uri: str, schema_pointer: str) -> SchemaValidator:
        key = (uri, schema_pointer)
        found = self._validators.get(key)
        if found is None:
            with self._lock:
                found = self._validators.get(key)
                if found is None:
                    found = compile_at(self.spec, schema_pointer, context="response",
                                       formats=self.formats, uri=uri)
                    self._validators[key] = found
        return found

    def compile_all(self) -> None:
        for declared in self._declared.values():
            for entry in declared.entries:
                if entry.schema_pointer is not None:
                    self._validator(declared.uri, entry.schema_pointer)
            for header in declared.headers:
                if header.schema_pointer:
                    self._validator(header.uri, header.schema_pointer)

    def check(self, response: HttpResponse, max_errors: int, *, head: bool = False) -> None:
        """Raise ResponseValidationError when ``response`` breaks the operation's spec."""
        status = str(response.status)
        declared = (self._declared.get(status) or self._declared.get(status[0] + "XX")
                    or self._declared.get("DEFAULT"))
        if declared is None:
            raise ResponseValidationError("the response status is not declared", (
                Violation("response", None, "", "status", "status code not declared", ""),))
        violations: list[Violation] = []
        headers = HeaderMap(response.headers)
        for header in declared.headers:
            parameter = header.parameter
            raw = headers.get_all(parameter.name.lower())
            if not raw:
                if parameter.required:
                    violations.append(Violation("response", parameter.name, "", "required",
                                                "missing required response header", ""))
                continue
            if not header.schema_pointer:
                continue
            try:
                value = parameter.decode(raw)
            except StyleError as exc:
                violations.append(Violation("response", parameter.name, "", "style", str(exc),
                                            ""))
                continue
            validator = self._validator(header.uri, header.schema_pointer)
            for violation in validator.iter_violations(value, location="response",
                                                       name=parameter.name):
                violations.append(violation)
        if not head:
            violations += self._body(declared, headers, response.body, max_errors)
        if violations:
            raise ResponseValidationError("the response does not conform to the spec",
                                          violations[:max_errors])

    def _body(self, declared: _Declared, headers: HeaderMap, body: bytes,
              max_errors: int) -> list[Violation]:
        if not declared.entries:
            if body:
                return [Violation("response", None, "", "unexpected",
                                  "response has a body the spec does not declare", "")]
            return []
        values = headers.get_all("content-type")
        media_type = parse_media_type(values[0]) if len(values) == 1 else None
        entry = select(list(declared.entries), media_type) if media_type else None
        if entry is None or media_type is None:
            if not body and not values:
                return []
            return [Violation("response", "Content-Type", "", "contentMediaType",
                              "response media type not declared", "")]
        if entry.schema_pointer is None:
            return []
        validator = self._validator(declared.uri, entry.schema_pointer)
        if media_type.is_json:
            try:
                value: Any = self.decode_json(body)
            except BodyError as exc:
                return [Violation("response", None, "", exc.keyword, exc.message, "")]
        elif media_type.type == "text":
            value = body.decode(media_type.parameter("charset") or "utf-8", "replace")
        else:
            return []  # binary bodies are not structurally validated
        found: list[Violation] = []
        if not validator.is_valid(value):
            for violation in validator.iter_violations(value, location="response"):
                found.append(violation)
                if len(found) >= max_errors:
                    break
        return found
