"""YAML text to plain data straight from libyaml's event stream.

PyYAML's loaders build a node graph and then construct Python objects from it in Python; for
a 10 MB spec that is most of the time `check` and `Guard` start-up spend. This builder makes
dicts, lists and scalars directly from the parser's events, with the rules schemaguard wants:
the YAML 1.2 core schema (``yes``/``no`` and dates stay strings), mapping keys as their source
text, duplicate keys refused, only the standard JSON-compatible tags, anchors and aliases
(including ``<<`` merge keys), and one document. It also notes what YAML 1.1 tools would read
differently (plain ``yes``-like scalars, unquoted integer keys) for `check`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml._yaml import CParser as _Parser

    def _events(text: str) -> Any:
        parser = _Parser(text)
        try:
            while parser.check_event():
                yield parser.get_event()
        finally:
            parser.dispose()

except ImportError:  # pragma: no cover
    def _events(text: str) -> Any:
        return yaml.parse(text, Loader=yaml.SafeLoader)

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False,
         "FALSE": False}
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_MAYBE_TYPED = frozenset("-+0123456789.tTfFnN~")
YAML11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_STANDARD = {
    None: None, "!": "str", "tag:yaml.org,2002:str": "str", "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float", "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null", "tag:yaml.org,2002:map": "map",
    "tag:yaml.org,2002:seq": "seq",
}


class YamlError(Exception):
    """A document that is not plain YAML data; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, mark: Any, pointer: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None
        self.pointer = pointer  # where in the document, when known


class YamlNotes:
    """What YAML 1.1 tools would read differently in a document (by container id)."""

    def __init__(self) -> None:
        self.yaml11: list[tuple[int, str | int]] = []
        self.int_keys: dict[int, list[str]] = {}


def _scalar(event: Any) -> Any:
    value: str = event.value
    kind = _STANDARD.get(event.tag, "unknown")
    if kind == "unknown":
        raise YamlError("unsupported YAML tag (only plain YAML/JSON data is read)",
                        event.start_mark)
    if kind is None:
        if event.style or not event.implicit[0]:
            return value
        if value and value[0] not in _MAYBE_TYPED:
            return value
        kind = ("null" if _NULL.match(value) else "bool" if value in _BOOL
                else "int" if _INT.match(value) else "float" if _FLOAT.match(value)
                else "str")
    try:
        if kind == "str":
            return value
        if kind == "null":
            return None
        if kind == "bool":
            return _BOOL[value]
        if kind == "int":
            if value.startswith("0o"):
                return int(value[2:], 8)
            if value.startswith("0x"):
                return int(value[2:], 16)
            return int(value, 10)
        if kind == "float":
            lowered = value.lower()
            if lowered.endswith(".inf"):
                return float("-inf") if lowered.startswith("-") else float("inf")
            return float("nan") if lowered == ".nan" else float(value)
    except (KeyError, ValueError):
        raise YamlError(f"not a valid {kind}", event.start_mark) from None
    raise YamlError("a collection tag on a scalar", event.start_mark)


class _Frame:
    __slots__ = ("container", "int_keys", "key", "merges", "merging", "yaml11")

    def __init__(self, container: Any) -> None:
        self.container = container
        self.key: str | None = None
        self.merging = False
        self.merges: list[Any] = []
        self.int_keys: list[str] = []
        self.yaml11: list[str | int] = []


def load(text: str, notes: YamlNotes | None = None) -> Any:
    """One YAML document as plain data; YamlError when it is not plain data."""
    stack: list[_Frame] = []
    anchors: dict[str, Any] = {}
    root: Any = None
    documents = 0
    try:
        for event in _events(text):
            kind = type(event)
            if kind is yaml.ScalarEvent:
                value = _scalar(event)
                if event.anchor:
                    anchors[event.anchor] = value
                if stack:
                    _add(stack, value, event, plain=not event.style)
                else:
                    root = value
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                expected = "map" if kind is yaml.MappingStartEvent else "seq"
                if _STANDARD.get(event.tag, "unknown") not in (None, "str", expected):
                    raise YamlError("unsupported YAML tag (only plain YAML/JSON data is read)",
                                    event.start_mark)
                container: Any = {} if expected == "map" else []
                if event.anchor:
                    anchors[event.anchor] = container
                if stack:
                    _add(stack, container, event, plain=False)
                else:
                    root = container
                stack.append(_Frame(container))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.merges:
                    for source in frame.merges:
                        for key, value in source.items():
                            frame.container.setdefault(key, value)
                if notes is not None:
                    if frame.int_keys:
                        notes.int_keys[id(frame.container)] = frame.int_keys
                    notes.yaml11.extend((id(frame.container), k) for k in frame.yaml11)
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    raise YamlError(f"unknown alias `{event.anchor}`", event.start_mark)
                value = anchors[event.anchor]
                if stack:
                    _add(stack, value, event, plain=False)
                else:
                    root = value
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlError("expected a single document, found several",
                                    event.start_mark)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or "invalid YAML").splitlines()[0]
        if "nesting depth" in problem:  # libyaml >= 0.2.6 (PyYAML 6.0.4) stops at 1,000 levels
            raise YamlError("the document is nested too deeply", mark,
                            _pointer(stack)) from None
        raise YamlError(f"invalid YAML: {problem}", mark) from None
    except yaml.YAMLError as exc:  # e.g. a ReaderError for a control character
        raise YamlError(f"invalid YAML: {str(exc).splitlines()[0][:120]}", None) from None
    return root


def _pointer(stack: list[_Frame]) -> str:
    """The JSON pointer (RFC 6901) of the innermost container being read: each container
    is the last one added to its parent (dicts keep insertion order)."""
    tokens: list[str] = []
    for parent in stack[:-1]:
        container = parent.container
        if isinstance(container, dict):
            tokens.append(str(next(reversed(container))))
        else:
            tokens.append(str(len(container) - 1))
    if stack and stack[-1].key is not None:
        tokens.append(stack[-1].key)
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _add(stack: list[_Frame], value: Any, event: Any, *, plain: bool) -> None:
    if not stack:
        return
    frame = stack[-1]
    container = frame.container
    if isinstance(container, list):
        if plain and isinstance(value, str) and YAML11_BOOL.match(event.value):
            frame.yaml11.append(len(container))
        container.append(value)
        return
    if frame.key is None:
        if type(event) is not yaml.ScalarEvent:
            raise YamlError("mapping keys must be plain scalars", event.start_mark)
        key: str = event.value
        if key == "<<" and plain:  # a YAML merge key
            frame.key, frame.merging = key, True
            return
        if key in container:
            raise DuplicateKey(key, event.start_mark)
        if plain and key.isdigit():
            frame.int_keys.append(key)
        frame.key = key
        return
    key = frame.key
    frame.key = None
    if frame.merging:
        frame.merging = False
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            raise YamlError("a merge key needs a mapping or a list of mappings",
                            event.start_mark)
        frame.merges.extend(sources)
        return
    if type(event) is yaml.ScalarEvent and plain and isinstance(value, str) and \
            YAML11_BOOL.match(event.value):
        frame.yaml11.append(key)
    container[key] = value


class DuplicateKey(YamlError):
    def __init__(self, key: str, mark: Any) -> None:
        super().__init__(f"duplicate key `{key}`", mark)
        self.key = key
