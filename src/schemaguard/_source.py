"""Reading spec documents: bytes to plain data, safely, with source locations on demand.

YAML is read with PyYAML's safe loader (the C one when present) and a YAML 1.2 core schema
resolver: ``yes``/``no``/``on``/``off`` stay strings and dates stay strings, as OAS 3.0.3 §4.7.3
recommends ("YAML version 1.2 ... tags MUST be limited to those allowed by the JSON Schema
ruleset"). Mapping keys are always the source text (``200:`` is the key ``"200"``). Duplicate
keys, unsafe tags, recursive aliases and alias expansion past a budget are errors.

Locations are found only when an error needs one: the text is composed again into YAML nodes
and walked by JSON pointer, so the happy path keeps no per-node bookkeeping.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ._yaml import DuplicateKey, YamlError, YamlNotes
from ._yaml import load as load_yaml
from .errors import SpecError

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Expanded node budget for documents that use YAML aliases (billion-laughs, bad-inputs S06).
MAX_ALIAS_EXPANSION = 2_000_000
_NESTING_LIMIT = 1_000
# Up to 3.11 json's reader stops near the recursion limit (~1,000 levels: a RecursionError);
# from 3.12 on only the C stack bounds it, so the depth is checked after reading: the same
# limit as YAML's (libyaml's) on every Python.
_JSON_UNBOUNDED = sys.version_info >= (3, 12)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_STR_TAG = "tag:yaml.org,2002:str"
_MAYBE_TYPED = frozenset("-+0123456789.tTfFnN~")


class _Composer(_BaseLoader):
    """Composes YAML nodes (for source locations) with the YAML 1.2 core resolvers."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Most scalars are plain text: skip the resolver's regular expressions for them.
        if kind is yaml.ScalarNode and implicit[0] and value and value[0] not in _MAYBE_TYPED:
            return _STR_TAG
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    _Composer.add_implicit_resolver(_tag, _pattern, list(_first))


class Document:
    """One parsed file (or mapping) of a spec."""

    __slots__ = ("_nodes", "content", "file", "notes", "text", "uri")

    def __init__(self, uri: str, content: Any, file: str | None = None, text: str | None = None):
        self.uri = uri
        self.content = content
        self.file = file
        self.text = text
        self.notes = YamlNotes()
        self._nodes: Any = None

    def error(self, message: str, pointer: str = "") -> SpecError:
        """A SpecError located at ``pointer`` in this document."""
        line, column = self.locate(pointer)
        return SpecError(message, pointer=pointer, file=self.file, line=line, column=column)

    def locate(self, pointer: str) -> tuple[int | None, int | None]:
        """1-based line and column of the value at ``pointer`` (its key, for members)."""
        if self.text is None:
            return None, None
        if not pointer and self._nodes is None:
            return _first_event(self.text, yaml.NodeEvent)
        if self._nodes is None:
            try:
                self._nodes = yaml.compose(self.text, Loader=_Composer) or False
            except (yaml.YAMLError, RecursionError):
                self._nodes = False
        node = self._nodes
        if node is False:
            return None, None
        mark = node.start_mark
        for token in split_pointer(pointer):
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == token:
                        mark, node = key_node.start_mark, value_node
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and token.isascii() and token.isdigit():
                index = int(token)
                if index >= len(node.value):
                    break
                node = node.value[index]
                mark = node.start_mark
            else:
                break
        return mark.line + 1, mark.column + 1


def _first_event(text: str, kind: type[yaml.Event]) -> tuple[int | None, int | None]:
    """Where the parser's first event of ``kind`` starts (1-based), without composing the
    document: for the root node (NodeEvent), composing a document that is one big array took
    ~2 s per MB (bad-inputs S34)."""
    try:
        for event in yaml.parse(text, Loader=_Composer):
            if isinstance(event, kind) and event.start_mark is not None:
                return event.start_mark.line + 1, event.start_mark.column + 1
    except yaml.YAMLError:
        pass
    return None, None


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def split_pointer(pointer: str) -> list[str]:
    """The unescaped reference tokens of a JSON pointer (RFC 6901)."""
    if not pointer:
        return []
    if "~" not in pointer:  # the usual pointer: nothing escaped
        return pointer[1:].split("/")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def join_pointer(pointer: str, *tokens: str | int) -> str:
    for token in tokens:  # a loop, not a generator: this runs for every keyword walked
        text = token if type(token) is str else str(token)
        if "~" in text or "/" in text:
            text = escape_token(text)
        pointer = f"{pointer}/{text}"
    return pointer


def decode(raw: bytes, file: str | None) -> str:
    """Bytes to text: UTF-8 (a BOM is dropped); anything else is a SpecError."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        raise SpecError("the document is binary, not YAML or JSON text", file=file)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the document is not UTF-8 text (byte {exc.start})", file=file) from None


def parse(text: str, file: str | None = None, *, json_hint: bool = False,
          notes: YamlNotes | None = None) -> Any:
    """YAML or JSON text to plain data, refusing what cannot be read safely."""
    stripped = text.lstrip()
    if not stripped:
        raise SpecError("the document is empty", file=file)
    if json_hint or stripped[0] in "{[":
        try:
            data = json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_json_constant)
            if _JSON_UNBOUNDED and _nests_deeper(data, text, _NESTING_LIMIT):
                raise _too_deep(text, file)
            return data
        except _DuplicateJsonKey as exc:
            line, column = _yaml_duplicate_mark(text)
            raise SpecError(f"duplicate key `{exc.args[0]}`", file=file, line=line,
                            column=column) from None
        except json.JSONDecodeError as exc:
            if json_hint:
                raise SpecError(
                    f"invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno
                ) from None
        except ValueError:  # the integer-length limit of int() (sys.get_int_max_str_digits)
            found = re.search(r"[0-9]{4301,}", text)
            line = column = None
            if found is not None:
                line = text.count("\n", 0, found.start()) + 1
                column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
            raise SpecError("invalid JSON: an integer with more than 4,300 digits", file=file,
                            line=line, column=column) from None
        except RecursionError:
            raise _too_deep(text, file) from None
    try:
        data = load_yaml(text, notes)
    except YamlError as exc:
        message = exc.message if exc.message.startswith(
            ("invalid YAML", "duplicate key", "the document is nested too deeply")) \
            else f"invalid YAML: {exc.message}"
        raise SpecError(message, file=file, line=exc.line, column=exc.column,
                        pointer=exc.pointer or "") from None
    except RecursionError:
        raise SpecError("the document is nested too deeply", file=file) from None
    if "&" in text or "*" in text:
        try:
            check_expansion(data, file)
        except SpecError as exc:
            if exc.line is None:
                exc.line, exc.column = _first_event(text, yaml.AliasEvent)
                exc.args = (exc._render(),)
            raise
    return data


def _nests_deeper(data: Any, text: str, limit: int) -> bool:
    """Whether parsed JSON ``data`` nests containers more than ``limit`` levels deep (only
    looked at when ``text`` has that many opening brackets at all)."""
    if text.count("{") + text.count("[") <= limit:
        return False
    level, depth = [data] if type(data) is dict or type(data) is list else [], 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [child for node in level
                 for child in (node.values() if type(node) is dict else node)
                 if type(child) is dict or type(child) is list]
    return False


def _too_deep(text: str, file: str | None) -> SpecError:
    line, column = _deep_position(text)
    return SpecError("the document is nested too deeply", file=file, line=line, column=column)


def _yaml_duplicate_mark(text: str) -> tuple[int | None, int | None]:
    """Where a JSON document repeats a key (JSON is YAML: the YAML reader knows the line)."""
    try:
        load_yaml(text)
    except DuplicateKey as exc:
        return exc.line, exc.column
    except (YamlError, RecursionError):
        pass
    return None, None


def _deep_position(text: str, limit: int = 500) -> tuple[int | None, int | None]:
    """Line and column where brackets first nest past ``limit`` (strings skipped)."""
    depth, in_string, escaped, line, column = 0, False, False, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line, column
        elif char in "]}":
            depth -= 1
    return None, None


def check_expansion(data: Any, file: str | None) -> None:
    """Refuse recursive aliases and documents whose aliases expand past the budget."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise SpecError("recursive YAML alias (a node contains itself)", file=file)
        if depth > _NESTING_LIMIT:
            raise SpecError("the document is nested too deeply", file=file)
        active.add(key)
        children = node.values() if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_ALIAS_EXPANSION:
                raise SpecError(
                    f"YAML alias expansion limit exceeded ({MAX_ALIAS_EXPANSION:,} nodes)",
                    file=file,
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(data, 0)


class _DuplicateJsonKey(ValueError):
    pass


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return result


def _json_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def read_file(path: Path, display: str) -> Document:
    """Read and parse one spec file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file ({exc.strerror})", file=display) from None
    text = decode(raw, display)
    notes = YamlNotes()
    content = parse(text, display, json_hint=path.suffix.lower() == ".json", notes=notes)
    document = Document(path.as_uri(), content, file=display, text=text)
    document.notes = notes
    return document
