"""Request bodies: choosing the declared media type, and decoding JSON, forms and multipart.

JSON goes through orjson (strict RFC 8259: no NaN or infinities, no lone surrogates, no
trailing data). Two things orjson does not do are added without a Python walk over the body:
the nesting limit (a body with more opening brackets than the limit is parsed inside
``1024 - limit`` wrapper arrays, so orjson's own 1,024 limit fires exactly past ours), and exact
integers past 64 bits (a body with a run of 19 digits is parsed again by the stdlib, which
keeps them exact, as the handler's ``json.loads`` will).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import orjson
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ._http import MediaType, parse_query
from ._media import MediaEntry
from ._shape import Shape, coerce
from ._source import join_pointer

ORJSON_DEPTH = 1024
_SCAN = bytes.maketrans(b"0123456789{", b"0000000000[")
_BIG_INT = b"0" * 19
_CHUNK = 8192
_WRAP_CACHE: dict[int, tuple[bytes, bytes]] = {}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8, UTF-16 LE and BE


class BodyError(Exception):
    """A body that cannot be decoded; ``keyword`` names the failed rule."""

    def __init__(self, message: str, keyword: str = "type", pointer: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.keyword = keyword
        self.pointer = pointer


def json_decoder(max_depth: int, reject_duplicate_keys: bool) -> Callable[[bytes], Any]:
    """A strict JSON decoder with a nesting limit; raises BodyError."""
    if not 1 <= max_depth <= ORJSON_DEPTH:
        raise ValueError(f"max_json_depth must be between 1 and {ORJSON_DEPTH}")
    wrappers = ORJSON_DEPTH - max_depth
    open_wrap, close_wrap = b"[" * wrappers, b"]" * wrappers
    levels = range(wrappers)

    def decode(body: bytes) -> Any:
        if body.startswith(_BOMS):
            raise BodyError("body must be UTF-8 JSON without a byte order mark", "contentEncoding")
        deep, big, _ = scan_json(body, max_depth)
        try:
            if not deep:
                value = orjson.loads(body)
            else:
                value = _unwrap(orjson.loads(open_wrap + body + close_wrap), levels)
        except orjson.JSONDecodeError as exc:
            message = str(exc)
            if "depth limit" in message or "recursion depth" in message:  # orjson 3.11+, 3.10
                raise too_deep(max_depth) from None
            if "UTF-8" in message or "surrogate" in message:
                raise BodyError("body is not valid UTF-8 JSON", "contentEncoding") from None
            raise BodyError("body is not valid JSON", "json") from None
        if reject_duplicate_keys or big:
            # Valid per orjson; parse again exactly (big integers, duplicate keys).
            value = json.loads(body, parse_float=_finite_float,
                               object_pairs_hook=_marking_duplicates if reject_duplicate_keys
                               else None)
            if reject_duplicate_keys:
                where = _duplicate(value)
                if where is not None:
                    raise BodyError("duplicate object key in JSON body", "uniqueKeys", where)
        return value

    return decode


def too_deep(max_depth: int) -> BodyError:
    return BodyError(f"body is nested deeper than {max_depth} levels", "maxDepth")


def scan_json(body: bytes, max_depth: int, few: int = 0) -> tuple[bool, bool, bool]:
    """(could ``body`` nest deeper than ``max_depth``, could it hold an integer of 19 digits
    or more, does it hold at most ``few`` containers), in one pass that maps digits to "0"
    and both opening brackets to "[". When the first two are False, ``orjson.loads(body)``
    is the body's exact value within the limit. The third is False for a body of more than
    one chunk, whatever it holds (it is not counted to the end)."""
    scan = body.translate(_SCAN)
    if len(scan) <= _CHUNK:
        brackets = scan.count(b"[")
        return brackets > max_depth, _BIG_INT in scan, brackets <= few
    return _more_brackets(scan, max_depth), _BIG_INT in scan, False


def _more_brackets(scan: bytes, limit: int) -> bool:
    """Whether ``scan`` holds more than ``limit`` opening brackets (a bound on its nesting).

    A big body is counted a chunk at a time: one with many brackets (most big bodies) is
    known to need the exact check after its first chunk, not after a count of all of it.
    """
    total = 0
    for start in range(0, len(scan), _CHUNK):
        total += scan.count(b"[", start, start + _CHUNK)
        if total > limit:
            return True
    return False


def _unwrap(value: Any, levels: range) -> Any:
    try:
        for _ in levels:
            # Every wrapper is a list; a body that closed one (not a single JSON value) left
            # a wrapper with two items or none. Unpacking checks that and steps in at once.
            (value,) = value
    except ValueError:
        raise orjson.JSONDecodeError("not a single JSON value", "", 0) from None
    return value


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # pragma: no cover - orjson refused it already
        raise BodyError("body is not valid JSON", "json")
    return number


class _Duplicated(dict):  # type: ignore[type-arg]
    """An object that repeated ``key`` (found after parsing, to name its pointer)."""

    key = ""


def _marking_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    marked = _Duplicated(result)
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def _duplicate(value: Any) -> str | None:
    """The JSON pointer of the first repeated key, if any object repeated one."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, _Duplicated):
            return join_pointer(pointer, node.key)
        if isinstance(node, dict):
            stack.extend((v, join_pointer(pointer, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, join_pointer(pointer, i)) for i, v in enumerate(node))
    return None


def select(entries: list[MediaEntry], media_type: MediaType) -> MediaEntry | None:
    """The most specific declared range that covers ``media_type`` (RFC 9110 §12.5.1)."""
    best: MediaEntry | None = None
    best_rank = -1
    for entry in entries:
        declared = entry.range
        if declared.type == "*" and declared.subtype == "*":
            rank = 0
        elif declared.type == media_type.type and declared.subtype == "*":
            rank = 1
        elif declared.essence == media_type.essence:
            rank = 2 + all(media_type.parameter(k) == v for k, v in declared.parameters)
        else:
            continue
        if rank > best_rank:
            best, best_rank = entry, rank
    return best


def decode_form(body: bytes, entry: MediaEntry, max_fields: int,
                decode_json: Callable[[bytes], Any]) -> dict[str, Any]:
    """application/x-www-form-urlencoded body -> object typed by the schema."""
    if body.count(b"&") + 1 > max_fields:
        raise BodyError(f"more than {max_fields} form fields", "maxProperties")
    fields = parse_query(body.decode("utf-8", "replace"))
    result: dict[str, Any] = {}
    for name, values in fields.items():
        result[name] = _field(name, values, entry, decode_json)
    return result


def decode_multipart(body: bytes, media_type: MediaType, entry: MediaEntry, max_fields: int,
                     decode_json: Callable[[bytes], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """multipart/form-data -> (object for validation, object for the handler)."""
    boundary = media_type.parameter("boundary")
    if not boundary:
        raise BodyError("multipart body without a boundary parameter", "contentMediaType")
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_parts=max_fields)
    parts: list[tuple[str, bool, bytearray]] = []
    try:
        decoder.receive_data(body)
        decoder.receive_data(None)
        while True:
            event = decoder.next_event()
            if isinstance(event, (Field, File)):
                parts.append((event.name, isinstance(event, File), bytearray()))
            elif isinstance(event, Data):
                if not parts:
                    raise BodyError("malformed multipart body", "contentMediaType")
                parts[-1][2].extend(event.data)
            elif isinstance(event, (Epilogue, NeedData)):
                break
    except BodyError:
        raise
    except Exception:  # werkzeug raises ValueError / RequestEntityTooLarge on bad input
        if decoder._parts_decoded > max_fields:
            raise BodyError(f"more than {max_fields} multipart parts", "maxProperties") from None
        raise BodyError("malformed multipart body", "contentMediaType") from None
    grouped: dict[str, list[tuple[bool, bytes]]] = {}
    for name, is_file, data in parts:
        grouped.setdefault(name, []).append((is_file, bytes(data)))
    to_validate: dict[str, Any] = {}
    to_handler: dict[str, Any] = {}
    for name, items in grouped.items():
        shape = entry.shape.property(name)
        if any(is_file for is_file, _ in items) and name not in entry.property_json:
            # Files: the handler gets bytes; validation sees one character per byte.
            raw = [data for _, data in items]
            handler_value: Any = raw if shape.kind == "array" or len(raw) > 1 else raw[0]
            to_handler[name] = handler_value
            texts = [data.decode("latin-1") for data in raw]
            to_validate[name] = texts if shape.kind == "array" or len(texts) > 1 else texts[0]
            continue
        try:
            values = [data.decode("utf-8") for _, data in items]
        except UnicodeDecodeError:
            raise BodyError("multipart text field is not UTF-8", "contentEncoding") from None
        value = _field(name, values, entry, decode_json)
        to_validate[name] = to_handler[name] = value
    return to_validate, to_handler


def _field(name: str, values: list[str], entry: MediaEntry,
           decode_json: Callable[[bytes], Any]) -> Any:
    shape = entry.shape.property(name)
    if name in entry.property_json:
        if len(values) != 1:
            raise BodyError("expected one JSON field", "type")
        return decode_json(values[0].encode("utf-8"))
    if shape.kind == "array":
        style = entry.encoding.get(name, {})
        explode = style.get("explode", style.get("style", "form") == "form")
        items = values if explode or len(values) > 1 else values[0].split(",")
        return [coerce(v, shape.items or Shape()) for v in items]
    if len(values) > 1:
        raise BodyError("expected the field once, got it more than once", "style")
    return coerce(values[0], shape)
