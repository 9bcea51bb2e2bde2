"""Request bodies in the guard: which declared media type a body is read as (415), content
codings under the size cap, and decoding plus validation of the body (400)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, Final

import orjson

from ._body import (
    BodyError,
    decode_form,
    decode_multipart,
    scan_json,
    select,
    too_deep,
)
from ._depth import survey, survey_whole
from ._http import HeaderMap, MediaType, parse_media_type
from ._locate import SMALL
from ._media import MediaEntry
from ._operation import OperationPlan, Settings
from ._params import StyleError
from ._schema import LARGE_BODY, SchemaValidator
from ._violations import refusal, violation
from .errors import PayloadTooLarge, RequestValidationError, UnsupportedMediaType, Violation

_DECODE: Final = object()  # the fast JSON path's "the full decoder decides"
# Called for every JSON body: a C static once compiled, where ``orjson.loads`` would look
# its name up on the module each time.
_JSON_LOADS: Final = orjson.loads


class BodyPolicy:
    """How a guard reads request bodies (its options, fixed at construction)."""

    def __init__(self, content_encodings: tuple[str, ...], decode_json: Any,
                 invalid_status: int, allow_unexpected_body: bool,
                 shallow_depth: int | None = None) -> None:
        self.content_encodings = content_encodings
        self.decode_json = decode_json
        # Bodies whose schema keeps valid instances within this depth (and their numbers
        # small) are parsed before any scan (None: never, e.g. duplicate keys are refused).
        self.shallow_depth = shallow_depth
        self.invalid_status = invalid_status
        self.allow_unexpected_body = allow_unexpected_body

    def _invalid(self, detail: str, violations: list[Violation]) -> RequestValidationError:
        return refusal(detail, violations, self.invalid_status)

    def media_type(
        self, plan: OperationPlan, headers: HeaderMap
    ) -> tuple[MediaEntry | None, MediaType | None]:
        """The declared media type the request body will be read as (415 when none)."""
        if "content-encoding" in headers:
            self.codings(headers)
        if plan.body is None:
            return None, None
        only = headers.only("content-type")
        if only is not None:
            cached = plan.media_types.get(only)
            if cached is not None:
                return cached
        values = headers.get_all("content-type")
        if len(values) != 1:
            raise UnsupportedMediaType(
                "the request body needs one Content-Type",
                (violation("header", "Content-Type", "", "contentMediaType",
                           "missing Content-Type" if not values else "repeated Content-Type",
                           ""),))
        media_type = parse_media_type(values[0])
        entry = select(plan.body.entries, media_type) if media_type else None
        if media_type is None or entry is None:
            declared = ", ".join(e.key for e in plan.body.entries)
            raise UnsupportedMediaType(
                f"the Content-Type is not one the operation accepts ({declared})"[:200],
                (violation("header", "Content-Type", "", "contentMediaType",
                           "media type not declared for this operation", ""),))
        charset = media_type.parameter("charset")
        if media_type.is_json and charset is not None and charset.lower() not in ("utf-8",
                                                                                  "utf8"):
            raise UnsupportedMediaType(
                "JSON bodies must be UTF-8",
                (violation("header", "Content-Type", "", "contentEncoding",
                           "JSON must be UTF-8", ""),))
        if len(plan.media_types) < 64:  # Content-Type values are few; the cache stays small
            plan.media_types[values[0]] = (entry, media_type)
        return entry, media_type

    def codings(self, headers: HeaderMap) -> list[str]:
        """The body's content codings, outermost last; 415 for any not enabled."""
        codings = [c.strip().lower() for value in headers.get_all("content-encoding")
                   for c in value.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        for coding in codings:
            if coding not in self.content_encodings:
                raise UnsupportedMediaType(
                    "the content coding is not accepted",
                    (violation("header", "Content-Encoding", "", "contentEncoding",
                               "content coding not accepted", ""),),
                    [("Accept-Encoding", ", ".join(self.content_encodings) or "identity")])
        return codings

    def decode_codings(self, headers: HeaderMap, body: bytes, cap: int) -> bytes:
        for coding in reversed(self.codings(headers)):
            try:
                body = _inflate(body, coding, cap)
            except BodyError as exc:
                raise self._invalid("the request body cannot be decoded", [
                    violation("body", None, "", exc.keyword, exc.message, "")]) from None
        return body

    def value(self, plan: OperationPlan, body: bytes, entry: MediaEntry | None,
              media_type: MediaType | None, settings: Settings) -> Any:
        """The decoded body for the handler, or the RequestValidationError of a body that is
        missing, unexpected or does not conform, returned rather than raised (an exception
        is dear in compiled code: _guard.decide); one that cannot be decoded is raised."""
        if not body:
            if plan.body is not None and plan.body.required:
                return self._invalid("the request body is required", [
                    violation("body", None, "", "required", "request body is required", "")])
            return None
        if plan.body is None:
            if self.allow_unexpected_body:
                return None
            return self._invalid("this operation takes no request body", [
                violation("body", None, "", "unexpected", "operation takes no request body",
                          "")])
        if entry is None or media_type is None:  # pragma: no cover - _content refused it
            raise self._invalid("the request body cannot be read", [])
        validators = plan.compiled or plan.validators()
        key = entry.key
        limit = self.shallow_depth
        if media_type.is_json and limit is not None:
            bounded = validators.shallow_bodies.get(key)
            if bounded is not None and bounded[2] <= limit:
                value = self._bounded_json(body, bounded[0], bounded[1], settings, limit)
                if value is not _DECODE:
                    return value
        validator = validators.bodies.get(key)
        to_validate, to_handler = self._decoded(body, entry, media_type, settings)
        if validator is not None and not validator.is_valid(to_validate):
            # A JSON body's brackets bound its containers (strings only add to the count).
            few = media_type.is_json and body.count(b"{") + body.count(b"[") <= SMALL
            return self._nonconforming(validator, to_validate, body, settings, few=few)
        return to_handler

    def _bounded_json(self, body: bytes, is_valid: Callable[[Any], bool],
                      validator: SchemaValidator, settings: Settings, limit: int) -> Any:
        """A JSON body whose schema is bounded within ``limit`` (_bound): one that passes
        cannot be too deep or hold an inexact number, so it is parsed at once and the scans
        run only for one that fails, to tell why (returned, as ``value`` does). _DECODE: the
        full decoder must decide."""
        try:
            value = _JSON_LOADS(body)
        except orjson.JSONDecodeError:
            return _DECODE  # it names the error
        if is_valid(value):  # validator.is_valid, got without looking it up
            return value
        long = None
        if len(body) <= LARGE_BODY:  # walked whole: cheaper than a scan of its bytes
            deeper, big, few = survey_whole(value, limit, SMALL)
            if big:
                return _DECODE  # the exact integers may tell another story
        else:
            maybe_deep, big, few = scan_json(body, limit, SMALL)
            if big:
                return _DECODE
            deeper = False
            if maybe_deep:
                deeper, long = survey(value, limit)
        if deeper:
            return self._undecodable(too_deep(limit))
        return self._nonconforming(validator, value, body, settings, long, few=few)

    def _decoded(self, body: bytes, entry: MediaEntry, media_type: MediaType,
                 settings: Settings) -> tuple[Any, Any]:
        """(what to validate, what the handler gets) or the 400 of a body that cannot be
        decoded."""
        try:
            return self._decode(body, entry, media_type, settings)
        except (BodyError, StyleError) as exc:
            raise self._undecodable(exc) from None

    def _undecodable(self, exc: BodyError | StyleError) -> RequestValidationError:
        keyword = exc.keyword if isinstance(exc, BodyError) else "style"
        message = exc.message if isinstance(exc, BodyError) else str(exc)
        pointer = exc.pointer if isinstance(exc, BodyError) else ""
        return self._invalid("the request body cannot be decoded", [
            violation("body", None, pointer, keyword, message, "")])

    def _nonconforming(self, validator: SchemaValidator, value: Any, body: bytes,
                       settings: Settings, long: bool | None = None, few: bool = False
                       ) -> RequestValidationError:
        """The 400 of a decoded body that fails its schema; ``few`` when it holds at most
        SMALL containers (its violations are then asked of the engine at once)."""
        violations = validator.first_violations(value, settings.max_errors,
                                                large=len(body) > LARGE_BODY, long=long,
                                                small=few or None)
        return self._invalid("the request body does not conform to the spec", violations)

    def _decode(self, body: bytes, entry: MediaEntry, media_type: MediaType,
                settings: Settings) -> tuple[Any, Any]:
        if media_type.is_json:
            value = self.decode_json(body)
            return value, value
        essence = media_type.essence
        if essence == "application/x-www-form-urlencoded":
            value = decode_form(body, entry, settings.max_fields, self.decode_json)
            return value, value
        if essence == "multipart/form-data":
            return decode_multipart(body, media_type, entry, settings.max_fields,
                                    self.decode_json)
        if media_type.type == "text":
            charset = media_type.parameter("charset") or "utf-8"
            try:
                text = body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                raise BodyError(f"body is not valid {charset} text", "contentEncoding") from None
            return text, text
        return body.decode("latin-1"), body


def _inflate(body: bytes, coding: str, cap: int) -> bytes:
    """Decode one content coding, never producing more than ``cap`` bytes."""
    wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        output = inflater.decompress(body, cap + 1)
    except zlib.error:
        raise BodyError(f"body is not valid {coding} data", "contentEncoding") from None
    if len(output) > cap or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the decoded request body is larger than {cap} bytes", (
            violation("body", None, "", "maxLength", f"decoded body larger than {cap} bytes",
                      ""),))
    return output

