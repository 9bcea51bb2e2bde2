"""ECMA-262 patterns as jsonschema-rs runs them.

jsonschema-rs already gives ECMA-262 meaning to ``\\d``, ``\\w``, ``\\s`` and ``$`` (fancy-regex
over the regex crate). Where the engine's meaning still differs, the pattern is rewritten to
an exact equivalent before it is compiled:

* ``.`` excludes every ECMA line terminator (``\\n``, ``\\r``, U+2028, U+2029), not only ``\\n``;
* ``\\b`` / ``\\B`` are ASCII word boundaries (ECMA's ``\\w`` is ``[A-Za-z0-9_]``);
* ``[^]`` (any character) and ``[]`` (no character), which the engine refuses.

Patterns that need backtracking (lookaround, backreferences) run with a small backtrack budget;
a match that exhausts it fails (fail closed) instead of stalling a worker.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jsonschema_rs

BACKTRACK_LIMIT = 20_000
PATTERN_OPTIONS = jsonschema_rs.FancyRegexOptions(backtrack_limit=BACKTRACK_LIMIT)

_DOT = "[^\\n\\r\\u2028\\u2029]"
_WORD = "[A-Za-z0-9_]"
_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_BOUNDARY = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
_ANY = "[\\s\\S]"
_NOTHING = "[^\\x00-\\x{10FFFF}]"
_FANCY = re.compile(r"\(\?<?[=!]|\\[1-9]|\\k<")
_ORIGINALS: dict[str, str] = {}


def translate(pattern: str) -> str:
    """The jsonschema-rs spelling of an ECMA-262 pattern with the same meaning."""
    if "." not in pattern and "[" not in pattern and "\\b" not in pattern \
            and "\\B" not in pattern:
        return pattern
    out: list[str] = []
    i, size, in_class = 0, len(pattern), False
    while i < size:
        char = pattern[i]
        if char == "\\" and i + 1 < size:
            escaped = pattern[i + 1]
            if not in_class and escaped == "b":
                out.append(_BOUNDARY)
            elif not in_class and escaped == "B":
                out.append(_NOT_BOUNDARY)
            else:
                out.append(pattern[i:i + 2])  # inside a class \b is a backspace
            i += 2
        elif in_class:
            in_class = char != "]"
            out.append(char)
            i += 1
        elif pattern.startswith("[]", i):
            out.append(_NOTHING)
            i += 2
        elif pattern.startswith("[^]", i):
            out.append(_ANY)
            i += 3
        elif char == "[":
            in_class = True
            start = 2 if pattern.startswith("[^", i) else 1
            out.append(pattern[i:i + start])
            i += start
        else:
            out.append(_DOT if char == "." else char)
            i += 1
    translated = "".join(out)
    if translated != pattern:
        _ORIGINALS[translated] = pattern
    return translated


def original(pattern: str) -> str:
    """The pattern as the spec wrote it, for a pattern the engine reports."""
    return _ORIGINALS.get(pattern, pattern)


def needs_backtracking(pattern: str) -> bool:
    """Whether the pattern uses lookaround or backreferences (the backtracking engine)."""
    return _FANCY.search(pattern) is not None


@lru_cache(maxsize=4096)
def regex_error(pattern: str) -> str | None:
    """Why jsonschema-rs cannot compile the (translated) pattern, or None when it can."""
    try:
        jsonschema_rs.validator_for(
            {"pattern": translate(pattern)}, pattern_options=PATTERN_OPTIONS
        )
    except jsonschema_rs.ValidationError:
        return "invalid regular expression (ECMA-262 syntax expected)"
    return None
