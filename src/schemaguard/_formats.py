"""Format checks the engine lacks for a dialect, and the integer formats as bounds.

jsonschema-rs asserts date, date-time, time, email, uri, ipv4, ipv6 and hostname in every
draft, and uuid in 2020-12. OAS adds ``byte`` (RFC 4648 base64) and, for 3.0 (compiled as
draft 4), needs ``uuid``: both are compiled to patterns, so the engine checks them without
calling back into Python (a user's own checker for the same name still applies).
``int32``/``int64`` are compiled as bounds because JSON Schema formats only ever look at
strings; ``float``, ``double``, ``binary`` and ``password`` constrain nothing a JSON value can
break (NaN and infinities are never numbers here).
"""

from __future__ import annotations

from ._keywords import Dialect

INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

FORMAT_PATTERNS: dict[Dialect, dict[str, str]] = {
    "draft4": {},
    "draft2020-12": {},
    "oas30": {"byte": _BASE64, "uuid": _UUID},
    "oas31": {"byte": _BASE64},
}

# Formats asserted (or, like binary and password, meaningful) per OAS dialect; anything else
# is an annotation (`check` names it). 3.0 is compiled as draft 4, 3.1 as 2020-12.
_OAS = {"date", "date-time", "time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname",
        "int32", "int64", "float", "double", "byte", "binary", "password", "idn-email",
        "regex"}
KNOWN_FORMATS: dict[str, frozenset[str]] = {
    "oas30": frozenset(_OAS),
    "oas31": frozenset(_OAS | {"uri-reference", "iri", "iri-reference", "uri-template",
                               "json-pointer", "relative-json-pointer", "idn-hostname",
                               "duration"}),
}
