"""Responses: the declared status, media type, headers and body of what an operation returns.

Bodies are validated in the response context, so ``writeOnly`` properties are violations
(excessive data exposure, OWASP API3) and ``additionalProperties: false`` catches leaked
fields. The status is matched exactly, then by range (``2XX``), then ``default``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._body import BodyError, select
from ._http import HeaderMap, HttpResponse, MediaType, parse_media_type
from ._media import MediaEntry
from ._params import Parameter, StyleError
from ._scan import (
    Finding,
    Scanner,
    path_of,
    redact_text,
    redacted_document,
    secrets_in,
    serialize,
)
from ._schema import LARGE_BODY, SchemaValidator, compile_at
from ._shape import Shape, shape_of
from ._source import join_pointer
from ._spec import Spec
from .errors import ResponseValidationError, Violation

Formats = dict[str, Callable[[str], bool]]
_NOTHING: Any = object()
# Closed-validator keywords and the finding each one is.
_EXPOSURE = {"additionalProperties": "undeclared_property", "writeOnly": "write_only_property",
             "sensitive": "sensitive_property"}


@dataclass(slots=True)
class Inspection:
    """What inspecting a response found: violations (validation), findings (scanning), and
    the body to send instead when redaction changed it."""

    violations: list[Violation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    body: bytes | None = None


def _text(body: bytes, media_type: MediaType) -> str:
    return body.decode(media_type.parameter("charset") or "utf-8", "replace")


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
        self._validators: dict[tuple[str, str, bool], SchemaValidator] = {}
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

    def _validator(self, uri: str, schema_pointer: str, closed: bool = False) -> SchemaValidator:
        key = (uri, schema_pointer, closed)
        found = self._validators.get(key)
        if found is None:
            with self._lock:
                found = self._validators.get(key)
                if found is None:
                    found = compile_at(self.spec, schema_pointer, context="response",
                                       formats=self.formats, uri=uri, closed=closed)
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
        declared = self._status(response.status)
        if declared is None:
            raise ResponseValidationError("the response status is not declared", (
                Violation("response", None, "", "status", "status code not declared", ""),))
        violations = self._headers(declared, response)
        if not head:
            violations += self._body(declared, HeaderMap(response.headers), response.body,
                                     max_errors)
        if violations:
            raise ResponseValidationError("the response does not conform to the spec",
                                          violations[:max_errors])

    def declares(self, response: HttpResponse) -> tuple[bool, bool]:
        """Whether the status is declared, and whether its media type is (drift)."""
        declared = self._status(response.status)
        if declared is None:
            return False, False
        values = HeaderMap(response.headers).get_all("content-type")
        if not values or not response.body:  # no body: no media type to declare
            return True, True
        media_type = parse_media_type(values[0]) if len(values) == 1 else None
        return True, media_type is not None and select(list(declared.entries),
                                                        media_type) is not None

    def inspect(self, response: HttpResponse, max_errors: int, *, head: bool, validate: bool,
                scanner: Scanner | None, redact: bool, closed: bool = False) -> Inspection:
        """Validation (when ``validate``) and sensitive-data scanning (with ``scanner``) of a
        response, parsing its body once. The closed validator runs first: when it accepts
        the body, the body also conforms, and nothing undeclared or sensitive is exposed."""
        result = Inspection()
        declared = self._status(response.status)
        if declared is None and validate:
            result.violations.append(
                Violation("response", None, "", "status", "status code not declared", ""))
        if declared is not None and validate:
            result.violations += self._headers(declared, response)
        body = response.body
        if head or not body:
            return result
        headers = HeaderMap(response.headers)
        values = headers.get_all("content-type")
        media_type = parse_media_type(values[0]) if len(values) == 1 else None
        entry = None
        if declared is not None and media_type is not None:
            entry = select(list(declared.entries), media_type)
        if declared is not None and validate and (entry is None or media_type is None):
            result.violations += self._body(declared, headers, body, max_errors)
            validate = False  # the media type is wrong: nothing more to validate
        textual = media_type is not None and (media_type.is_json or media_type.type == "text")
        if media_type is None or not textual:
            if validate and declared is not None:
                result.violations += self._body(declared, headers, body, max_errors)
            return result
        value: Any = _NOTHING
        if media_type.is_json:
            try:
                value = self.decode_json(body)
            except BodyError as exc:
                if validate:
                    result.violations.append(Violation("response", None, "", exc.keyword,
                                                       exc.message, ""))
                return result
        schema = entry.schema_pointer if entry is not None else None
        closed_ok = False
        if (scanner is not None or closed) and schema is not None and value is not _NOTHING \
                and declared is not None:
            strict = self._validator(declared.uri, schema, closed=True)
            closed_ok = strict.is_valid(value)
            if not closed_ok:
                for violation in strict.iter_violations(value, location="response"):
                    kind = _EXPOSURE.get(violation.keyword)
                    if kind is not None:
                        result.findings.append(Finding(violation.pointer, kind))
        if validate and not closed_ok and declared is not None:
            result.violations += self._body(declared, headers, body, max_errors, value=value)
        if scanner is None:
            return result
        secret_paths: list[Any] = []
        texts = scanner.found(body)
        if texts:
            if value is _NOTHING:  # a text body: the body itself is the place
                text = _text(body, media_type)
                result.findings += [Finding("", d.name) for d, _, _ in scanner.in_text(text)]
                if redact and result.findings:
                    result.body = redact_text(scanner, text).encode("utf-8")
                return result
            for pointer, detector, path in secrets_in(scanner, value, texts):
                result.findings.append(Finding(pointer, detector.name))
                secret_paths.append(path)
        if redact and result.findings and value is not _NOTHING:
            removed, masked = [], []
            for finding in result.findings:
                path = path_of(value, finding.pointer)
                if path is None:
                    continue
                if finding.detector == "undeclared_property":
                    removed.append(path)
                elif finding.detector in ("sensitive_property", "write_only_property"):
                    masked.append(path)
            result.body = serialize(redacted_document(scanner, value, secret_paths, removed,
                                                      masked))
        return result

    def _status(self, code: int) -> _Declared | None:
        status = str(code)
        return (self._declared.get(status) or self._declared.get(status[0] + "XX")
                or self._declared.get("DEFAULT"))

    def _headers(self, declared: _Declared, response: HttpResponse) -> list[Violation]:
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
        return violations

    def _body(self, declared: _Declared, headers: HeaderMap, body: bytes,
              max_errors: int, value: Any = _NOTHING) -> list[Violation]:
        """The body's violations; ``value`` is the body already parsed, when it was."""
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
            if value is _NOTHING:
                try:
                    value = self.decode_json(body)
                except BodyError as exc:
                    return [Violation("response", None, "", exc.keyword, exc.message, "")]
        elif media_type.type == "text":
            value = body.decode(media_type.parameter("charset") or "utf-8", "replace")
        else:
            return []  # binary bodies are not structurally validated
        if validator.is_valid(value):
            return []
        # At most max_errors, found part by part: the engine would build every error of a
        # big body before the first could be read (20,000 failing items: over a second).
        return validator.first_violations(value, max_errors, location="response",
                                          large=len(body) > LARGE_BODY)
