"""ECMA-262 patterns as jsonschema-rs runs them.

jsonschema-rs already gives ECMA-262 meaning to ``\\d``, ``\\w``, ``\\s``, ``$`` and ``.``
(fancy-regex over the regex crate). Two ECMA constructs it refuses are rewritten to their exact
equivalents: ``[^]`` (any character, line terminators included) and ``[]`` (matches nothing).
Patterns that need backtracking (lookaround, backreferences) run with a small backtrack budget;
a match that exhausts it fails (fail closed) instead of stalling a worker.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jsonschema_rs

BACKTRACK_LIMIT = 20_000
PATTERN_OPTIONS = jsonschema_rs.FancyRegexOptions(backtrack_limit=BACKTRACK_LIMIT)

# `[^]` and `[]` outside a character class, not escaped.
_EMPTY_CLASSES = re.compile(r"(?<!\\)((?:\\\\)*)\[(\^?)\]")
_FANCY = re.compile(r"\(\?<?[=!]|\\[1-9]|\\k<")


def translate(pattern: str) -> str:
    """The jsonschema-rs spelling of an ECMA-262 pattern with the same meaning."""
    if "[]" not in pattern and "[^]" not in pattern:
        return pattern
    return _EMPTY_CLASSES.sub(
        lambda m: m.group(1) + (r"[\s\S]" if m.group(2) else r"(?!)"), pattern
    )


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
