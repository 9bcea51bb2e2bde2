"""schemaguard's parameter decoding against openapi-core (0.23, ``V31RequestUnmarshaller``).

Hypothesis draws a parameter schema (an integer, number, boolean or patterned string; an array
of those; an object of one to three of those), a location/style/explode combination the OAS
3.1.0 Style Values table allows for it, and a value valid for the schema. The value is
serialized here, by hand, per the OAS 3.1.1 Style Examples table (RFC 6570 percent-encoding in
the path and query, raw text in headers and cookies), sent through both, and both decoded
values must equal the generated one (JSON equality: ``1 == 1.0``, ``True != 1``).

Where openapi-core disagrees with the spec the combination is set aside for the oracle only
(``hypothesis.event`` names it; schemaguard is still checked against the generated value) and
the disagreement is pinned below by an explicit test citing the text that decides it:

- form + explode: true objects (`R=100&G=200&B=150`): openapi-core finds no parameter;
- spaceDelimited (`color=blue%20black%20brown`): openapi-core splits the *decoded* value on the
  literal text ``%20``, so nothing is split;
- label and matrix in a real path: openapi-core looks the value up under ``.name``/``;name*``
  keys its own path templating never produces, so the parameter is "missing". Its label/matrix
  *decoders* are still compared, by handing them those keys directly (``view_args``).

Kept out of the property on purpose (no single right answer): values whose serialization is
ambiguous by construction (numbers, which contain `.`, inside exploded label collections), the
*n/a* cells of the table, and cookie arrays/objects with explode: true (3.1.1 Appendix D:
`style: form` "is always incorrect" for several cookie values).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from jsonschema_path import SchemaPath
from openapi_core import V31RequestUnmarshaller
from openapi_core.testing import MockRequest
from werkzeug.datastructures import MultiDict

import schemaguard as sg
from test_params import LOCATIONS, TABLE, same

EXAMPLES = max(10, settings.default.max_examples // 2)  # 50 in the dev profile

# -- combinations ---------------------------------------------------------------------------------

Combo = tuple[str, str, bool, str]  # location, style, explode, kind


def _combos() -> list[Combo]:
    found: list[Combo] = []
    for kind in ("primitive", "array", "object"):
        for explode in (False, True):
            found += [("path", style, explode, kind) for style in ("simple", "label", "matrix")]
            found += [("query", "form", explode, kind), ("header", "simple", explode, kind)]
        if kind != "primitive":
            found += [("query", "spaceDelimited", False, kind),
                      ("query", "pipeDelimited", False, kind)]
        if kind == "object":
            found.append(("query", "deepObject", True, kind))
        found.append(("cookie", "form", False, kind))
        if kind == "primitive":
            found.append(("cookie", "form", True, kind))
    return found


COMBOS = _combos()

# Combinations where openapi-core is not asked (each is pinned by a test below).
ORACLE_EXCLUDED: dict[tuple[str, str, bool | None, str | None], str] = {
    ("query", "form", True, "object"): "form-exploded object (test_openapi_core_form_exploded_"
                                       "object)",
    ("query", "spaceDelimited", False, None): "spaceDelimited (test_openapi_core_space_"
                                              "delimited)",
}


def _excluded(combo: Combo) -> str | None:
    location, style, explode, kind = combo
    return (ORACLE_EXCLUDED.get((location, style, explode, kind))
            or ORACLE_EXCLUDED.get((location, style, explode, None)))


# -- schemas and values ---------------------------------------------------------------------------

# ECMA pattern in the schema -> the same language for generation (no delimiter of any style)
PATTERNS = {
    "^[a-z]{1,8}$": "[a-z]{1,8}",
    "^[a-z][a-z0-9_-]{0,7}$": "[a-z][a-z0-9_-]{0,7}",
    "^[0-9]{1,4}$": "[0-9]{1,4}",  # digits that must stay a string
    "^[A-Z][a-z]{0,3}$": "[A-Z][a-z]{0,3}",
}
# In the path and query only (percent-encoded there): reserved and non-ASCII characters that
# are no delimiter of any style. Header and cookie values are raw octets, kept to ASCII tokens.
ENCODED_PATTERNS = {"^[a-z\u00e9\u4e2d~!*'()]{1,6}$": "[a-z\u00e9\u4e2d~!*'()]{1,6}"}


PROPERTY_NAMES = ["R", "G", "B", "lat", "lng", "role", "active", "minAge", "x", "y", "id", "q"]


@st.composite
def primitive_schemas(draw: st.DrawFn, *, numbers: bool = True,
                      encoded: bool = False) -> dict[str, Any]:
    kinds = ["integer", "boolean", "string"] + (["number"] if numbers else [])
    kind = draw(st.sampled_from(kinds))
    schema: dict[str, Any] = {"type": kind}
    if kind in ("integer", "number") and draw(st.booleans()):
        low = draw(st.integers(-1000, 1000))
        schema.update(minimum=low, maximum=low + draw(st.integers(0, 5000)))
    if kind == "string":
        patterns = {**PATTERNS, **ENCODED_PATTERNS} if encoded else PATTERNS
        schema["pattern"] = draw(st.sampled_from(sorted(patterns)))
    return schema


def values_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema["type"]
    if kind == "array":
        return st.lists(values_for(schema["items"]), min_size=1, max_size=4)
    if kind == "object":
        required = schema["required"]
        optional = [name for name in schema["properties"] if name not in required]
        return st.fixed_dictionaries(
            {name: values_for(schema["properties"][name]) for name in required},
            optional={name: values_for(schema["properties"][name]) for name in optional})
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        regex = {**PATTERNS, **ENCODED_PATTERNS}[schema["pattern"]]
        return st.from_regex(regex, fullmatch=True)
    low, high = schema.get("minimum", -10**6), schema.get("maximum", 10**6)
    if kind == "integer":
        return st.integers(low, high)
    return st.integers(low, high) | st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def schemas_for(draw: st.DrawFn, combo: Combo) -> dict[str, Any]:
    location, style, explode, kind = combo
    # RFC 6570 never encodes `.` (unreserved), so numbers cannot be told from exploded label
    # separators: `.1.5.2` is ambiguous. Those values have no decodable serialization.
    numbers = not (style == "label" and explode and kind != "primitive")
    primitives = primitive_schemas(numbers=numbers, encoded=location in ("path", "query"))
    if kind == "primitive":
        return draw(primitives)
    if kind == "array":
        return {"type": "array", "items": draw(primitives)}
    names = draw(st.lists(st.sampled_from(PROPERTY_NAMES), min_size=1, max_size=3, unique=True))
    properties = {name: draw(primitives) for name in names}
    required = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    return {"type": "object", "properties": properties, "required": sorted(required),
            "additionalProperties": False}


# -- serialization (OAS 3.1.1 Style Examples) -----------------------------------------------------


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Case:
    combo: Combo
    schema: dict[str, Any]
    value: Any
    path: str  # raw (percent-encoded) request path
    query: str
    headers: tuple[tuple[str, str], ...]

    @property
    def location(self) -> str:
        return self.combo[0]

    @property
    def name(self) -> str:
        return "X-Val" if self.location == "header" else "val"

    def document(self) -> dict[str, Any]:
        location, style, explode, _ = self.combo
        param = {"name": self.name, "in": location, "required": True, "style": style,
                 "explode": explode, "schema": self.schema}
        path = "/p/{val}" if location == "path" else "/p"
        return {"openapi": "3.1.0", "info": {"title": "differential", "version": "1"},
                "paths": {path: {"get": {"parameters": [param],
                                         "responses": {"200": {"description": "ok"}}}}}}


def _pieces(value: Any, kind: str, encode: bool) -> tuple[list[str], list[tuple[str, str]]]:
    """Items (arrays) or name/value pairs (objects), as text, percent-encoded if ``encode``."""
    def enc(part: str) -> str:
        return quote(part, safe="") if encode else part

    if kind == "array":
        return [enc(text(item)) for item in value], []
    if kind == "object":
        return [], [(enc(k), enc(text(v))) for k, v in value.items()]
    return [enc(text(value))], []


Wire = tuple[str, str, list[tuple[str, str]]]  # raw path, raw query, headers


def serialize(combo: Combo, value: Any, name: str, pipe: str = "%7C",
              brackets: tuple[str, str] = ("%5B", "%5D")) -> Wire:
    """(path, query, headers) carrying ``value`` as the Style Examples table serializes it."""
    location, style, explode, kind = combo
    items, pairs = _pieces(value, kind, encode=location in ("path", "query"))
    flat = ",".join(items) if kind != "object" else ",".join(f"{k},{v}" for k, v in pairs)
    if style == "simple":
        serialized = (",".join(f"{k}={v}" for k, v in pairs) if kind == "object" and explode
                      else flat)
    elif style == "label":
        if explode and kind == "array":
            serialized = "." + ".".join(items)
        elif explode and kind == "object":
            serialized = "." + ".".join(f"{k}={v}" for k, v in pairs)
        else:
            serialized = "." + flat
    elif style == "matrix":
        if explode and kind == "array":
            serialized = "".join(f";{name}={item}" for item in items)
        elif explode and kind == "object":
            serialized = "".join(f";{k}={v}" for k, v in pairs)
        else:
            serialized = f";{name}={flat}"
    elif style == "form":
        if explode and kind == "array":
            serialized = "&".join(f"{name}={item}" for item in items)
        elif explode and kind == "object":
            serialized = "&".join(f"{k}={v}" for k, v in pairs)
        else:
            serialized = f"{name}={flat}"
    elif style in ("spaceDelimited", "pipeDelimited"):
        separator = "%20" if style == "spaceDelimited" else pipe
        parts = items if kind == "array" else [p for pair in pairs for p in pair]
        serialized = f"{name}={separator.join(parts)}"
    else:  # deepObject
        serialized = "&".join(f"{name}{brackets[0]}{k}{brackets[1]}={v}" for k, v in pairs)
    if location == "path":
        return "/p/" + serialized, "", []
    if location == "query":
        return "/p", serialized, []
    if location == "header":
        return "/p", "", [(name, serialized)]
    return "/p", "", [("Cookie", serialized)]


@st.composite
def cases(draw: st.DrawFn, combos: list[Combo] = COMBOS) -> Case:
    combo = draw(st.sampled_from(combos))
    schema = draw(schemas_for(combo))
    value = draw(values_for(schema))
    name = "X-Val" if combo[0] == "header" else "val"
    pipe = draw(st.sampled_from(["%7C", "|"]))  # 3.1.1 encodes `|`, `[`, `]`; 3.1.0 did not
    brackets = draw(st.sampled_from([("%5B", "%5D"), ("[", "]")]))
    path, query, headers = serialize(combo, value, name, pipe=pipe, brackets=brackets)
    return Case(combo, schema, value, path, query, tuple(headers))


@pytest.mark.parametrize("cell", sorted(TABLE, key=str), ids=str)
def test_serializer_reproduces_the_style_examples_table(cell: tuple[str, bool, str]) -> None:
    """The oracle's serializer against the table itself (test_params.TABLE, OAS 3.1.1)."""
    style, explode, kind = cell
    value = {"primitive": "blue", "array": ["blue", "black", "brown"],
             "object": {"R": 100, "G": 200, "B": 150}}[kind]
    for location in LOCATIONS[style]:
        path, query, headers = serialize((location, style, explode, kind), value, "color")
        wire = {"path": path.removeprefix("/p/"), "query": query,
                "header": headers[0][1] if headers else "",
                "cookie": headers[0][1] if headers else ""}[location]
        assert wire == TABLE[cell]


# -- the two decoders -----------------------------------------------------------------------------


def schemaguard_decode(case: Case) -> Any:
    result = sg.Guard(case.document()).check_request(
        sg.HttpRequest("GET", case.path, query=case.query, headers=list(case.headers)))
    assert result is not None
    found = {"path": result.path_params, "query": result.query, "header": result.headers,
             "cookie": result.cookies}[case.location]
    assert list(found) == [case.name], found
    return found[case.name]


def openapi_core_request(case: Case, *, adapt_path_keys: bool = True) -> MockRequest:
    """The request as a framework hands it over: path and query percent-decoded."""
    location, style, _, _ = case.combo
    path = unquote(case.path)
    view_args = None
    if location == "path" and style in ("label", "matrix") and adapt_path_keys:
        # openapi-core's label/matrix loaders read these keys (deserializing/styles/util.py)
        raw = path.rsplit("/", 1)[1]
        view_args = {key.format(case.name): raw for key in (".{}", ".{}*", ";{}", ";{}*")}
    cookies = None
    if location == "cookie":
        cookies = MultiDict([tuple(pair.split("=", 1)) for pair in case.headers[0][1].split("; ")])
    return MockRequest("http://localhost", "get", path, view_args=view_args,
                       args=MultiDict(parse_qsl(case.query, keep_blank_values=True)),
                       headers=dict(case.headers) if location == "header" else None,
                       cookies=cookies)


def openapi_core_decode(case: Case, *, adapt_path_keys: bool = True) -> tuple[bool, Any]:
    """(True, value) or (False, the errors / the parameters found)."""
    unmarshaller = V31RequestUnmarshaller(SchemaPath.from_dict(case.document()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = unmarshaller.unmarshal(openapi_core_request(case,
                                                             adapt_path_keys=adapt_path_keys))
    if result.errors:
        return False, [f"{type(e).__name__}: {e} <- {e.__cause__!r}" for e in result.errors]
    found = getattr(result.parameters, case.location)
    if case.name not in found:
        return False, dict(found)
    return True, found[case.name]


def _note(message: str) -> None:
    if currently_in_test_context():  # hypothesis statistics; a no-op in plain tests
        event(message)


def check(case: Case) -> None:
    ours = schemaguard_decode(case)
    assert same(ours, case.value), (ours, case.value)
    reason = _excluded(case.combo)
    if reason is not None:
        _note(f"openapi-core not asked: {reason}")
        return
    _note(f"compared: {'-'.join(map(str, case.combo))}")
    ok, theirs = openapi_core_decode(case)
    assert ok, theirs
    assert same(theirs, case.value), (theirs, case.value)


# -- the property ---------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_decoding_agrees_with_openapi_core(case: Case) -> None:
    check(case)


FIXED: dict[str, tuple[dict[str, Any], Any]] = {
    "primitive": ({"type": "integer"}, -7),
    "array": ({"type": "array", "items": {"type": "boolean"}}, [True, False, True]),
    "object": ({"type": "object", "required": ["R", "G", "B"],
                "properties": {"R": {"type": "integer"}, "G": {"type": "string"},
                               "B": {"type": "boolean"}}},
               {"R": 100, "G": "200", "B": False}),
}


@pytest.mark.parametrize("combo", COMBOS, ids=["-".join(map(str, c)) for c in COMBOS])
def test_every_combination_once(combo: Combo) -> None:
    """Each combination at least once (the property samples them at random)."""
    schema, value = FIXED[combo[3]]
    name = "X-Val" if combo[0] == "header" else "val"
    path, query, headers = serialize(combo, value, name)
    check(Case(combo, schema, value, path, query, tuple(headers)))


# -- pinned disagreements -------------------------------------------------------------------------

RGB = {"type": "object", "properties": {"R": {"type": "integer"}, "G": {"type": "integer"},
                                        "B": {"type": "integer"}}}
RGB_VALUE = {"R": 100, "G": 200, "B": 150}
COLORS = {"type": "array", "items": {"type": "string"}}


def _case(combo: Combo, schema: dict[str, Any], value: Any, serialized: str) -> Case:
    location = combo[0]
    if location == "path":
        return Case(combo, schema, value, "/p/" + serialized, "", ())
    if location == "query":
        return Case(combo, schema, value, "/p", serialized, ())
    if location == "header":
        return Case(combo, schema, value, "/p", "", (("X-Val", serialized),))
    return Case(combo, schema, value, "/p", "", (("Cookie", serialized),))


def test_openapi_core_form_exploded_object() -> None:
    """OAS 3.1.0 Style Examples, form/explode: true/object: `R=100&G=200&B=150`. The properties
    are the query fields; openapi-core's form_loads reads ``location[name]`` and splits that on
    `&`, so it finds no parameter at all (a required one is reported missing). Spec-decided for
    schemaguard."""
    case = _case(("query", "form", True, "object"), RGB, RGB_VALUE, "R=100&G=200&B=150")
    assert schemaguard_decode(case) == RGB_VALUE
    ok, theirs = openapi_core_decode(case)
    assert not ok
    assert "MissingRequiredParameter" in str(theirs)


def test_openapi_core_space_delimited() -> None:
    """OAS 3.1.0 Style Examples, spaceDelimited: `color=blue%20black%20brown` is the array
    ["blue", "black", "brown"]. openapi-core splits the already percent-decoded value on the
    literal text `%20` (``delimiter="%20"``), so the array has one item "blue black brown" and
    an object decodes to {}. Spec-decided for schemaguard."""
    array = _case(("query", "spaceDelimited", False, "array"), COLORS,
                  ["blue", "black", "brown"], "val=blue%20black%20brown")
    assert schemaguard_decode(array) == ["blue", "black", "brown"]
    assert openapi_core_decode(array) == (True, ["blue black brown"])
    obj = _case(("query", "spaceDelimited", False, "object"), RGB, RGB_VALUE,
                "val=R%20100%20G%20200%20B%20150")
    assert schemaguard_decode(obj) == RGB_VALUE
    assert openapi_core_decode(obj) == (True, {})


@pytest.mark.parametrize(("style", "explode", "serialized"), [
    ("label", False, ".blue,black,brown"),
    ("label", True, ".blue.black.brown"),
    ("matrix", False, ";val=blue,black,brown"),
    ("matrix", True, ";val=blue;val=black;val=brown"),
])
def test_openapi_core_label_and_matrix_in_a_real_path(style: str, explode: bool,
                                                      serialized: str) -> None:
    """OAS 3.1.0 Style Values: label and matrix are `in: path` styles. From a real request path
    openapi-core's templating yields ``{"val": ...}`` but its loaders read ``.val`` / ``;val*``,
    so the parameter is reported missing. Spec-decided for schemaguard (the property compares
    openapi-core's loaders through ``view_args`` instead)."""
    case = _case(("path", style, explode, "array"), COLORS, ["blue", "black", "brown"],
                 serialized)
    assert schemaguard_decode(case) == ["blue", "black", "brown"]
    ok, theirs = openapi_core_decode(case, adapt_path_keys=False)
    assert not ok
    assert "MissingRequiredParameter" in str(theirs)
    assert openapi_core_decode(case) == (True, ["blue", "black", "brown"])


@pytest.mark.parametrize(("schema", "raw", "lenient"), [
    ({"type": "integer"}, " 10 ", 10),
    ({"type": "integer"}, "+10", 10),
    ({"type": "integer"}, "\uff11\uff10", 10),  # fullwidth digits
    ({"type": "integer"}, "1_000", 1000),
    ({"type": "boolean"}, "yes", True),
    ({"type": "boolean"}, "1", True),
    ({"type": "boolean"}, "True", True),
    ({"type": "boolean"}, "off", False),
])
def test_openapi_core_converts_leniently(schema: dict[str, Any], raw: str, lenient: Any) -> None:
    """openapi-core converts with Python's ``int()`` and a yes/no/on/off/1/0 boolean table;
    schemaguard accepts only `-?[0-9]+` and `true`/`false`. OAS 3.1.1 Appendix B leaves the
    text-to-type conversion implementation-defined while Schema Object types are JSON's, whose
    literals are the strict forms - so both are conforming; schemaguard's stricter choice is
    the one that cannot turn a value the client did not write into a valid one."""
    case = _case(("query", "form", False, "primitive"), schema, lenient,
                 "val=" + quote(raw, safe=""))
    with pytest.raises(sg.RequestValidationError) as info:
        schemaguard_decode(case)
    assert [v.keyword for v in info.value.violations] == ["type"]
    ok, theirs = openapi_core_decode(case)
    assert ok
    assert same(theirs, lenient)


@pytest.mark.parametrize(("combo", "serialized", "ours"), [
    (("query", "spaceDelimited", True, "array"), "val=blue&val=black", ["blue", "black"]),
    (("query", "pipeDelimited", True, "array"), "val=blue&val=black", ["blue", "black"]),
    (("query", "deepObject", False, "object"), "val[R]=100", {"R": 100}),
])
def test_na_cells_differ(combo: Combo, serialized: str, ours: Any) -> None:
    """Cells the Style Examples table marks n/a ("the behavior ... is undefined"; 3.1.1 also
    "the combination of false with deepObject is undefined"): schemaguard reads them like their
    defined neighbour, openapi-core refuses them. Neither is wrong; out of the property."""
    schema = RGB if combo[3] == "object" else COLORS
    case = _case(combo, schema, ours, serialized)
    assert schemaguard_decode(case) == ours
    ok, theirs = openapi_core_decode(case)
    assert not ok
    assert "DeserializeError" in str(theirs)


def test_exploded_label_comma_both_follow_rfc6570() -> None:
    """RFC 6570 §3.2.5 `{.list*}` separates items with `.` only, so `.3,4,5` is one item
    "3,4,5", not an integer: both openapi-core and schemaguard reject it."""
    case = _case(("path", "label", True, "array"), {"type": "array", "items": {"type":
                                                                               "integer"}},
                 [3, 4, 5], ".3,4,5")
    with pytest.raises(sg.RequestValidationError) as info:
        schemaguard_decode(case)
    assert [(v.pointer, v.keyword) for v in info.value.violations] == [("/0", "type")]
    ok, theirs = openapi_core_decode(case)
    assert not ok
    assert "CastError(value='3,4,5', type='integer')" in str(theirs)


def test_percent_encoded_comma_is_data_openapi_core_splits() -> None:
    """RFC 6570 §3.2.1 percent-encodes a comma inside a value, so `val=a%2Cb,c` is ["a,b", "c"].
    schemaguard splits the query value before percent-decoding (right); openapi-core decodes
    first and reads ["a", "b", "c"]. The property draws no values with commas."""
    case = _case(("query", "form", False, "array"), COLORS, ["a,b", "c"], "val=a%2Cb,c")
    assert schemaguard_decode(case) == ["a,b", "c"]
    assert openapi_core_decode(case) == (True, ["a", "b", "c"])
