"""How deep a decoded instance nests, and whether it holds a long array near its root.

Compiled (hatch_build.py): this walk runs for every body that fails a bounded schema and has
more brackets than the depth limit (most big ones), and before every check of a recursive
schema. In Python it cost more than parsing the body (~1 µs a container: 100 KB, ~0.5 ms);
compiled, a fraction of that. Its work is bounded by the body, which the parser has already
walked once with the GIL held, so holding it here as well changes nothing (bad-inputs L12).
"""

from __future__ import annotations

from typing import Any, Final, cast

PRUNED_ITEMS = 256  # items an array keeps in the truncated copy of a big invalid instance
LONG_ARRAY_DEPTH = 6  # how deep first_violations looks for long arrays


def survey(instance: Any, max_depth: int, size: int = PRUNED_ITEMS,
           long_depth: int = LONG_ARRAY_DEPTH) -> tuple[bool, bool]:
    """(whether ``instance`` nests containers more than ``max_depth`` levels, whether an
    array longer than ``size`` sits within ``long_depth`` levels), in one breadth-first walk
    that stops at the level past ``max_depth``."""
    long = False
    level: list[object] = [instance] if isinstance(instance, (dict, list)) else []
    index = 0
    while level:
        if index >= max_depth:
            return True, long
        check_long = not long and index < long_depth
        deeper: list[object] = []
        for node in level:
            if isinstance(node, dict):
                for value in node.values():
                    if isinstance(value, (dict, list)):
                        deeper.append(value)
            else:
                items = cast(list[object], node)
                if check_long and len(items) > size:
                    long = True
                for value in items:
                    if isinstance(value, (dict, list)):
                        deeper.append(value)
        level = deeper
        index += 1
    return False, long


def deeper_than(instance: Any, limit: int) -> bool:
    """Whether ``instance`` nests containers more than ``limit`` levels."""
    return survey(instance, limit, 0, 0)[0]


# The magnitude from which a float parsed by orjson may stand for an integer it could not
# keep exactly: it keeps every integer of 64 bits (signed or not) and turns the others into
# floats, all at least this far from zero.
INEXACT_FROM: Final = float(2**63)  # (Final: a C constant in the compiled walk)


def survey_whole(instance: Any, max_depth: int, few: int) -> tuple[bool, bool, bool]:
    """(whether ``instance`` nests containers more than ``max_depth`` levels, whether it
    holds a float of magnitude 2**63 or more (an integer orjson may have rounded, or a float
    that big), whether it holds at most ``few`` containers), in one walk of all of it.

    For a small refused body this costs a fraction of the byte scan it replaces
    (``_body.scan_json``: ~15k instructions for 1 KB, the walk ~3k), and says exactly what
    the scan only bounds."""
    deeper = big = False
    count = 0
    level: list[object] = [instance] if isinstance(instance, (dict, list)) else []
    if type(instance) is float and abs(instance) >= INEXACT_FROM:
        big = True
    index = 0
    while level:
        if index >= max_depth:
            deeper = True
        count += len(level)
        deeper_level: list[object] = []
        for node in level:
            values = node.values() if isinstance(node, dict) else cast(list[object], node)
            for value in values:
                if isinstance(value, (dict, list)):
                    deeper_level.append(value)
                elif type(value) is float and abs(value) >= INEXACT_FROM:
                    big = True
        level = deeper_level
        index += 1
    return deeper, big, count <= few
