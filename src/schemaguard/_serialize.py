"""Serializing generated values the way a spec says they travel: parameters in every style and
explode (RFC 6570 as OAS uses it), bodies as JSON, form fields and multipart parts; and the
checks that a value survives its style (no delimiter inside a string, each scalar reads back
as the same JSON type).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from ._generate import TEXT
from ._http import parse_media_type
from ._media import MediaEntry
from ._params import Parameter
from ._scan import serialize as json_bytes  # orjson, exact past 64-bit integers
from ._shape import Shape, coerce

_PATH_FORBIDDEN = frozenset("/,;=.")
_QUERY_FORBIDDEN = frozenset(", |")
_HEADER_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=",")
_COOKIE_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-_.!*'()~:@[]?")

def alphabet_for(parameter: Parameter) -> st.SearchStrategy[str]:
    if parameter.location == "header":
        return _HEADER_CHARS
    if parameter.location == "cookie":
        return _COOKIE_CHARS
    return TEXT


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *(x for v in value.values() for x in leaves(v))]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def as_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def serializable(parameter: Parameter, value: Any, *, strict: bool = True) -> bool:
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
    for leaf in leaves(value):
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
        return reads_back(value, shape)
    if kind == "array":
        return all(reads_back(v, shape.items or Shape()) for v in value)
    return all(reads_back(v, shape.property(k)) for k, v in value.items())


def reads_back(value: Any, shape: Shape) -> bool:
    typed = coerce(as_text(value), shape)
    return type(typed) is type(value) and typed == value if not isinstance(value, float) else (
        isinstance(typed, (int, float)) and typed == value)


def style_items(parameter: Parameter, value: Any, encode: Callable[[str], str]) -> list[str]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in (encode(k), encode(as_text(v)))]
    return [encode(as_text(v)) for v in value]


def encode(text: str) -> str:
    return quote(text, safe="")


def path_value(parameter: Parameter, value: Any) -> str:
    if parameter.json_content:
        return encode(json_text(value))
    style, explode, name = parameter.style, parameter.explode, parameter.name
    if not isinstance(value, (list, dict)):
        text = encode(as_text(value))
        return {"simple": text, "label": "." + text, "matrix": f";{name}={text}"}[style]
    if explode and isinstance(value, dict):
        pairs = [f"{encode(k)}={encode(as_text(v))}" for k, v in value.items()]
        return {"simple": ",".join(pairs), "label": "." + ".".join(pairs),
                "matrix": "".join(";" + p for p in pairs)}[style]
    items = style_items(parameter, value, encode)
    if explode:  # an array
        return {"simple": ",".join(items), "label": "." + ".".join(items),
                "matrix": "".join(f";{name}={i}" for i in items)}[style]
    return {"simple": ",".join(items), "label": "." + ",".join(items),
            "matrix": f";{name}=" + ",".join(items)}[style]


def query_fields(parameter: Parameter, value: Any) -> list[str]:
    name = encode(parameter.name)
    if parameter.json_content:
        return [f"{name}={encode(json_text(value))}"]
    if not isinstance(value, (list, dict)):
        return [f"{name}={encode(as_text(value))}"]
    if parameter.style == "deepObject" and isinstance(value, dict):
        return [f"{encode(parameter.name + '[' + k + ']')}={encode(as_text(v))}"
                for k, v in value.items()]
    if parameter.explode and isinstance(value, dict):
        return [f"{encode(k)}={encode(as_text(v))}" for k, v in value.items()]
    if parameter.explode:
        return [f"{name}={encode(as_text(v))}" for v in value]
    separator = {"spaceDelimited": "%20", "pipeDelimited": "|"}.get(parameter.style, ",")
    return [f"{name}=" + separator.join(style_items(parameter, value, encode))]


def header_value(parameter: Parameter, value: Any) -> str:
    if parameter.json_content:
        return json_text(value)
    if not isinstance(value, (list, dict)):
        return as_text(value)
    if parameter.explode and isinstance(value, dict):
        return ",".join(f"{k}={as_text(v)}" for k, v in value.items())
    return ",".join(style_items(parameter, value, str))


def cookie_pairs(parameter: Parameter, value: Any) -> list[str]:
    name = parameter.name
    if parameter.json_content:
        return [f"{name}={encode(json_text(value))}"]
    if not isinstance(value, (list, dict)):
        return [f"{name}={as_text(value)}"]
    if parameter.explode and isinstance(value, list):
        return [f"{name}={as_text(v)}" for v in value]
    return [f"{name}=" + ",".join(style_items(parameter, value, str))]


def json_text(value: Any) -> str:
    return json_bytes(value).decode("utf-8")


def content_type(entry: MediaEntry) -> str | None:
    media = entry.range
    if media.type == "*":
        return "application/json"
    if media.subtype == "*":
        return {"application": "application/json", "text": "text/plain",
                "multipart": "multipart/form-data"}.get(media.type, f"{media.type}/octet-stream")
    return entry.key


def placeholder(entry: MediaEntry) -> Any:
    return {} if entry.range.is_json else "x"


def form_ready(entry: MediaEntry, value: Any, *, strict: bool = True) -> bool:
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
            if not explode and any("," in as_text(i) for i in item):
                return False
            if strict and not all(reads_back(i, shape.items or Shape()) for i in item):
                return False
        elif shape.kind == "array" or (strict and not reads_back(item, shape)):
            return False
    return True


def encode_body(entry: MediaEntry, content_type: str, value: Any) -> tuple[str, bytes]:
    media = parse_media_type(content_type)
    essence = media.essence if media else ""
    if media is not None and media.is_json:
        return content_type, json_bytes(value)
    if essence == "application/x-www-form-urlencoded":
        fields = []
        for name, item in value.items():
            for text in field_texts(entry, name, item):
                fields.append(f"{quote(name, safe='')}={quote(text, safe='')}")
        return content_type, "&".join(fields).encode("ascii")
    if essence == "multipart/form-data":
        boundary = "schemaguard-fuzz-boundary"
        chunks: list[bytes] = []
        for name, item in value.items():
            binary = entry.encoding.get(name, {}).get("contentType", "").startswith(
                ("application/octet-stream", "image/"))
            for text in field_texts(entry, name, item):
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


def field_texts(entry: MediaEntry, name: str, item: Any) -> list[str]:
    if name in entry.property_json:
        return [json_text(item)]
    if isinstance(item, list):
        style = entry.encoding.get(name, {})
        explode = style.get("explode", style.get("style", "form") == "form")
        return [as_text(i) for i in item] if explode else [",".join(as_text(i) for i in item)]
    return [as_text(item)]


JSON_ANY: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)
