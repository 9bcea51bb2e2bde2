"""Parameters: every style/explode combination, decoded into typed values.

The serializations come from the Style Examples table of OAS 3.1.1 (the table that 3.1.0
§4.8.12.4 introduces, with its typo fixed: unexploded label arrays are ``.blue,black,brown``;
3.0.0-3.0.3 and 3.1.0 print ``.blue.black.brown`` there, corrected in 3.0.4/3.1.1, in line
with RFC 6570 §3.2.5). The value kinds are the table's own::

    string -> "blue"
    array  -> ["blue", "black", "brown"]
    object -> {"R": 100, "G": 200, "B": 150}

Every cell is also run "typed": the primitive and the array items as integers (``3``,
``[3, 4, 5]``) and the object with string properties (``{"R": "100", ...}``), so the decoded
value is checked to follow the schema's types and not the look of the text.

Cells the table marks *n/a* ("the behavior of combinations marked n/a is undefined") and the
cookie cells that Appendix D of 3.1.1 calls incorrect are pinned separately, as schemaguard's
implementation-defined choice. Bugs are ``xfail(strict=True)`` tests stating the correct
behaviour, with the section that decides it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import schemaguard as sg

SPECS = Path(__file__).parent.parent / "specs"
NAME = "color"

# -- helpers --------------------------------------------------------------------------------------

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
NUMBER: dict[str, Any] = {"type": "number"}


def array_of(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def rgb(prop: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"R": prop, "G": prop, "B": prop}}


def document(
    parameters: list[dict[str, Any]], path: str = "/items", **operation: Any
) -> dict[str, Any]:
    """A one-operation OAS 3.1.0 document: GET ``path`` with ``parameters``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "params", "version": "1"},
        "paths": {path: {"get": {"parameters": parameters,
                                 "responses": {"200": {"description": "ok"}}, **operation}}},
    }


def parameter(
    location: str,
    schema: dict[str, Any],
    *,
    name: str = NAME,
    style: str | None = None,
    explode: bool | None = None,
    **fields: Any,
) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "in": location, "schema": schema, **fields}
    if style is not None:
        found["style"] = style
    if explode is not None:
        found["explode"] = explode
    if location == "path":
        found["required"] = True
    return found


def guard_for(location: str, schema: dict[str, Any], style: str | None = None,
              explode: bool | None = None, **fields: Any) -> sg.Guard:
    path = "/items/{" + NAME + "}" if location == "path" else "/items"
    return sg.Guard(document([parameter(location, schema, style=style, explode=explode,
                                        **fields)], path))


def request(location: str, serialized: str) -> sg.HttpRequest:
    """The request carrying ``serialized`` (already percent-encoded where the location is)."""
    if location == "path":
        return sg.HttpRequest("GET", "/items/" + serialized)
    if location == "query":
        return sg.HttpRequest("GET", "/items", query=serialized)
    if location == "header":
        return sg.HttpRequest("GET", "/items", headers=[(NAME, serialized)])
    return sg.HttpRequest("GET", "/items", headers=[("Cookie", serialized)])


def decoded(result: sg.ValidatedRequest | None, location: str) -> dict[str, Any]:
    assert result is not None
    return {"path": result.path_params, "query": result.query, "header": result.headers,
            "cookie": result.cookies}[location]


def rejected(guard: sg.Guard, req: sg.HttpRequest) -> sg.RequestValidationError:
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(req)
    assert info.value.status_code == 400
    return info.value


def only_violation(error: sg.RequestValidationError) -> sg.Violation:
    assert len(error.violations) == 1, error.violations
    return error.violations[0]


def same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0, containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# -- the Style Examples table -----------------------------------------------------------------

# (style, explode, kind) -> serialization, transcribed from the OAS 3.1.1 Style Examples table.
# The `?` prefix the 3.1.1 table shows for query styles is the query-string delimiter, not part
# of the parameter; it is left out here as in the 3.1.0 table.
TABLE: dict[tuple[str, bool, str], str] = {
    ("matrix", False, "primitive"): ";color=blue",
    ("matrix", False, "array"): ";color=blue,black,brown",
    ("matrix", False, "object"): ";color=R,100,G,200,B,150",
    ("matrix", True, "primitive"): ";color=blue",
    ("matrix", True, "array"): ";color=blue;color=black;color=brown",
    ("matrix", True, "object"): ";R=100;G=200;B=150",
    ("label", False, "primitive"): ".blue",
    ("label", False, "array"): ".blue,black,brown",
    ("label", False, "object"): ".R,100,G,200,B,150",
    ("label", True, "primitive"): ".blue",
    ("label", True, "array"): ".blue.black.brown",
    ("label", True, "object"): ".R=100.G=200.B=150",
    ("simple", False, "primitive"): "blue",
    ("simple", False, "array"): "blue,black,brown",
    ("simple", False, "object"): "R,100,G,200,B,150",
    ("simple", True, "primitive"): "blue",
    ("simple", True, "array"): "blue,black,brown",
    ("simple", True, "object"): "R=100,G=200,B=150",
    ("form", False, "primitive"): "color=blue",
    ("form", False, "array"): "color=blue,black,brown",
    ("form", False, "object"): "color=R,100,G,200,B,150",
    ("form", True, "primitive"): "color=blue",
    ("form", True, "array"): "color=blue&color=black&color=brown",
    ("form", True, "object"): "R=100&G=200&B=150",
    ("spaceDelimited", False, "array"): "color=blue%20black%20brown",
    ("spaceDelimited", False, "object"): "color=R%20100%20G%20200%20B%20150",
    ("pipeDelimited", False, "array"): "color=blue%7Cblack%7Cbrown",
    ("pipeDelimited", False, "object"): "color=R%7C100%7CG%7C200%7CB%7C150",
    ("deepObject", True, "object"): "color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150",
}
# The 3.1.0 table printed these delimiters unencoded; 3.1.1 Appendix E explains why they "seem to
# work" (they are not RFC 3986 compliant). The decoded query is the same, so must be the value.
UNENCODED: dict[tuple[str, bool, str], str] = {
    ("pipeDelimited", False, "array"): "color=blue|black|brown",
    ("pipeDelimited", False, "object"): "color=R|100|G|200|B|150",
    ("deepObject", True, "object"): "color[R]=100&color[G]=200&color[B]=150",
}
# Which locations each style serves (OAS 3.1.0 Style Values table).
LOCATIONS = {"matrix": ("path",), "label": ("path",), "simple": ("path", "header"),
             "form": ("query", "cookie"), "spaceDelimited": ("query",),
             "pipeDelimited": ("query",), "deepObject": ("query",)}


def _cookie_cell(style: str, explode: bool, kind: str) -> bool:
    # 3.1.1 Appendix D: "For multiple values, `style: form` is always incorrect" for cookies;
    # the exploded array/object cells (`&`-joined) are pinned in test_cookie_exploded_*.
    return not (explode and kind != "primitive")


CELLS = [
    pytest.param(location, style, explode, kind, serialized,
                 id=f"{location}-{style}-{'explode' if explode else 'flat'}-{kind}-{i}")
    for table in (TABLE, UNENCODED)
    for i, ((style, explode, kind), serialized) in enumerate(table.items())
    for location in LOCATIONS[style]
    if location != "cookie" or _cookie_cell(style, explode, kind)
]

# variant -> kind -> (schema, expected value, text substitutions applied to the serialization)
VARIANTS: dict[str, dict[str, tuple[dict[str, Any], Any, dict[str, str]]]] = {
    "table": {
        "primitive": (STRING, "blue", {}),
        "array": (array_of(STRING), ["blue", "black", "brown"], {}),
        "object": (rgb(INTEGER), {"R": 100, "G": 200, "B": 150}, {}),
    },
    "typed": {
        "primitive": (INTEGER, 3, {"blue": "3"}),
        "array": (array_of(INTEGER), [3, 4, 5], {"blue": "3", "black": "4", "brown": "5"}),
        "object": (rgb(STRING), {"R": "100", "G": "200", "B": "150"}, {}),
    },
}


def _substitute(text: str, substitutions: dict[str, str]) -> str:
    for old, new in substitutions.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(("location", "style", "explode", "kind", "serialized"), CELLS)
def test_style_examples_table(
    location: str, style: str, explode: bool, kind: str, serialized: str, variant: str
) -> None:
    schema, expected, substitutions = VARIANTS[variant][kind]
    guard = guard_for(location, schema, style, explode)
    result = guard.check_request(request(location, _substitute(serialized, substitutions)))
    value = decoded(result, location)
    assert list(value) == [NAME]
    assert same(value[NAME], expected), value


@pytest.mark.parametrize(("location", "explode", "kind", "serialized"), [
    ("query", True, "primitive", "color=blue"),
    ("query", True, "array", "color=blue&color=black&color=brown"),
    ("query", True, "object", "R=100&G=200&B=150"),
    ("path", False, "primitive", "blue"),
    ("path", False, "array", "blue,black,brown"),
    ("path", False, "object", "R,100,G,200,B,150"),
    ("header", False, "array", "blue,black,brown"),
    ("cookie", True, "primitive", "color=blue"),
])
def test_default_style_and_explode(location: str, explode: bool, kind: str,
                                   serialized: str) -> None:
    """Style defaults by `in` (query/cookie form, path/header simple); explode defaults to
    true for form only (3.1.0 Parameter Object fixed fields `style`, `explode`)."""
    schema, expected, _ = VARIANTS["table"][kind]
    value = decoded(guard_for(location, schema).check_request(request(location, serialized)),
                    location)
    assert same(value[NAME], expected)


@pytest.mark.parametrize(("style", "serialized"), [("matrix", ";color"), ("label", ".")])
def test_empty_string_cells(style: str, serialized: str) -> None:
    """The empty-string cells of the 3.1.0 table's `empty` column (RFC 6570 §3.2.5/§3.2.7:
    `{.x}` and `{;x}` with x = "" expand to `.` and `;x`) decode to ""."""
    for explode in (False, True):
        guard = guard_for("path", STRING, style, explode)
        assert decoded(guard.check_request(request("path", serialized)), "path") == {NAME: ""}


def test_label_typo_of_the_old_table_is_not_a_delimiter() -> None:
    """`.blue.black.brown` for an unexploded label array is the typo of the 3.1.0 table: RFC 6570
    §3.2.5 `{.list}` separates with commas, so the dots are data (`.` is unreserved and never
    percent-encoded) and the array has one item."""
    strings = guard_for("path", array_of(STRING), "label", False)
    value = decoded(strings.check_request(request("path", ".blue.black.brown")), "path")
    assert value == {NAME: ["blue.black.brown"]}
    integers = guard_for("path", array_of(INTEGER), "label", False)
    violation = only_violation(rejected(integers, request("path", ".3.4.5")))
    assert (violation.location, violation.name, violation.keyword, violation.pointer) == \
        ("path", NAME, "type", "/0")


# -- malformed serializations ---------------------------------------------------------------------

MALFORMED = [
    # path
    ("path", "label", False, "primitive", "blue"),  # no leading `.`
    ("path", "label", True, "array", "blue.black"),
    ("path", "label", False, "object", ".R,100,G"),  # odd name,value list
    ("path", "label", True, "object", ".R=100.G"),  # pair without `=`
    ("path", "matrix", False, "primitive", "color=blue"),  # no leading `;`
    ("path", "matrix", False, "primitive", ";colour=blue"),  # another parameter's name
    ("path", "matrix", True, "primitive", ";color=blue;color=black"),
    ("path", "matrix", False, "array", ";color=blue;color=black"),  # exploded, declared flat
    ("path", "matrix", True, "array", ";color=blue;colour=black"),
    ("path", "matrix", False, "object", ";color=R,100,G"),
    ("path", "matrix", True, "object", ";R=100;G"),
    ("path", "matrix", True, "object", ";R=100;;G=200"),
    ("path", "simple", False, "object", "R,100,G"),
    ("path", "simple", True, "object", "R=100,G"),
    ("path", "simple", True, "object", "R,100,G,200"),  # flat pairs, declared exploded
    # header
    ("header", "simple", False, "object", "R,100,G"),
    ("header", "simple", True, "object", "R=100,G=200,B"),
    # query
    ("query", "form", False, "object", "color=R,100,G"),
    ("query", "form", False, "primitive", "color=blue&color=black"),  # repeated, not an array
    ("query", "form", True, "primitive", "color=blue&color=black"),
    ("query", "form", False, "array", "color=blue,black&color=brown"),  # repeated, flat array
    ("query", "form", True, "object", "R=100&R=200"),  # a property twice
    ("query", "spaceDelimited", False, "object", "color=R%20100%20G"),
    ("query", "spaceDelimited", False, "array", "color=blue&color=black"),
    ("query", "pipeDelimited", False, "object", "color=R|100|G"),
    ("query", "pipeDelimited", False, "array", "color=blue&color=black"),
    ("query", "deepObject", True, "object", "color[R][x]=100"),  # nesting is undefined
    ("query", "deepObject", True, "object", "color[R]=100&color[R]=200"),
    ("query", "deepObject", True, "object", "color[R=100"),
    # cookie
    ("cookie", "form", False, "object", "color=R,100,G"),
    ("cookie", "form", False, "primitive", "color=blue; color=black"),
]


@pytest.mark.parametrize(("location", "style", "explode", "kind", "serialized"), MALFORMED)
def test_malformed_serialization_is_a_style_violation(
    location: str, style: str, explode: bool, kind: str, serialized: str
) -> None:
    schema = VARIANTS["table"][kind][0]
    error = rejected(guard_for(location, schema, style, explode),
                     request(location, serialized))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.keyword, violation.pointer) == \
        (location, NAME, "style", "")


def test_repeated_header_for_a_primitive_is_a_style_violation() -> None:
    guard = guard_for("header", INTEGER)
    error = rejected(guard, sg.HttpRequest("GET", "/items", headers=[(NAME, "1"),
                                                                     ("COLOR", "2")]))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.keyword) == ("header", NAME, "style")


# -- cells the spec leaves undefined --------------------------------------------------------------


def test_na_cells_are_implementation_defined() -> None:
    """Style Examples: "The behavior of combinations marked n/a is undefined". schemaguard's
    choices, pinned so that a change is deliberate:

    - spaceDelimited/pipeDelimited with explode: true read like form exploded (repeated keys);
    - deepObject with explode: false (3.1.1: "the combination of false with deepObject is
      undefined") reads like explode: true;
    - spaceDelimited/pipeDelimited primitives are the plain value;
    - deepObject on a non-object schema is refused when the guard is built.
    """
    for style in ("spaceDelimited", "pipeDelimited"):
        guard = guard_for("query", array_of(STRING), style, True)
        value = decoded(guard.check_request(request("query", "color=blue&color=black")),
                        "query")
        assert value == {NAME: ["blue", "black"]}
        guard = guard_for("query", STRING, style, False)
        assert decoded(guard.check_request(request("query", "color=blue")), "query") == \
            {NAME: "blue"}
    guard = guard_for("query", rgb(INTEGER), "deepObject", False)
    value = decoded(guard.check_request(request("query", "color[R]=100&color[G]=200")), "query")
    assert value == {NAME: {"R": 100, "G": 200}}
    for schema in (STRING, array_of(STRING)):
        with pytest.raises(sg.SpecError, match="deepObject"):
            guard_for("query", schema, "deepObject", True)


def test_cookie_exploded_array_reads_repeated_cookie_pairs() -> None:
    """3.1.1 Appendix D: `style: form` "is always incorrect" for several cookie values, since
    cookie pairs are separated by `; ` and not `&`. schemaguard (implementation-defined) reads
    the `; ` analogue of the table's `color=blue&color=black&color=brown`, and takes the
    table's literal `&` text as one cookie value."""
    guard = guard_for("cookie", array_of(STRING), "form", True)
    value = decoded(guard.check_request(request("cookie", "color=blue; color=black; color=brown")),
                    "cookie")
    assert value == {NAME: ["blue", "black", "brown"]}
    value = decoded(guard.check_request(request("cookie", "color=blue&color=black&color=brown")),
                    "cookie")
    assert value == {NAME: ["blue&color=black&color=brown"]}


def test_cookie_exploded_object_is_not_read() -> None:
    """3.1.1 Appendix D (as above): an exploded object cookie has no correct serialization.
    schemaguard does not look for the properties as separate cookies, so the parameter is
    absent: an optional one is skipped, a required one is reported missing."""
    optional = guard_for("cookie", rgb(INTEGER), "form", True)
    assert decoded(optional.check_request(request("cookie", "R=100; G=200; B=150")),
                   "cookie") == {}
    required = guard_for("cookie", rgb(INTEGER), "form", True, required=True)
    violation = only_violation(rejected(required, request("cookie", "R=100; G=200; B=150")))
    assert (violation.location, violation.name, violation.keyword) == ("cookie", NAME, "required")


def test_plus_is_a_space_delimiter_in_space_delimited() -> None:
    """3.1.1 Appendix E: `+` for space and `%20` "define the decoding as a single pass, making it
    impossible to distinguish the different usages in the decoded result" - so `+` splits too."""
    guard = guard_for("query", array_of(STRING), "spaceDelimited", False)
    assert decoded(guard.check_request(request("query", "color=blue+black")), "query") == \
        {NAME: ["blue", "black"]}


# -- delimiters inside values (RFC 6570) ------------------------------------------------------


_PATH_DECODED_FIRST = (
    "paths are percent-decoded once before routing, exactly as Starlette and Werkzeug decode "
    "them (DESIGN.md), so a `%2C` inside a path value is a comma by the time it is split; "
    "RFC 6570 §3.2.1 would keep it as data. Query values are split before decoding.")


# RFC 6570 §3.2.1 (cited by the OAS Style Values table): a comma inside a value is sent as
# %2C and is data; only a literal comma delimits.
@pytest.mark.parametrize(("location", "style", "schema", "serialized", "expected"), [
    pytest.param("query", "form", array_of(STRING), "color=a%2Cb,c", ["a,b", "c"],
                 id="query-form-array"),
    pytest.param("query", "form", {"type": "object", "properties": {"R": STRING}},
                 "color=R,a%2Cb", {"R": "a,b"}, id="query-form-object"),
    pytest.param("path", "simple", array_of(STRING), "a%2Cb,c", ["a,b", "c"],
                 marks=pytest.mark.xfail(strict=True, reason=_PATH_DECODED_FIRST),
                 id="path-simple-array"),
    pytest.param("path", "matrix", array_of(STRING), ";color=a%2Cb,c", ["a,b", "c"],
                 marks=pytest.mark.xfail(strict=True, reason=_PATH_DECODED_FIRST),
                 id="path-matrix-array"),
])
def test_percent_encoded_comma_is_data(location: str, style: str, schema: dict[str, Any],
                                       serialized: str, expected: Any) -> None:
    guard = guard_for(location, schema, style, False)
    assert decoded(guard.check_request(request(location, serialized)), location) == \
        {NAME: expected}


# RFC 6570 §3.2.5/§3.2.7: `{.list*}`/`{;list*}` separate items only with `.`/`;name=`, so
# `3,4` is one (non-integer) item.
@pytest.mark.parametrize(("style", "schema", "serialized"), [
    pytest.param("label", array_of(INTEGER), ".3,4,5", id="label-array"),
    pytest.param("label", rgb(INTEGER), ".R=1,G=2", id="label-object"),
    pytest.param("matrix", array_of(INTEGER), ";color=1,2;color=3", id="matrix-array"),
    pytest.param("matrix", rgb(INTEGER), ";R=1,G=2", id="matrix-object"),
])
def test_comma_is_not_an_exploded_label_or_matrix_delimiter(
    style: str, schema: dict[str, Any], serialized: str
) -> None:
    violation = only_violation(rejected(guard_for("path", schema, style, True),
                                        request("path", serialized)))
    assert (violation.location, violation.name, violation.keyword) == ("path", NAME, "type")


def test_encoded_comma_inside_exploded_label_item() -> None:
    # RFC 6570 §3.2.5: `{.list*}` separates with `.` only.
    guard = guard_for("path", array_of(STRING), "label", True)
    assert decoded(guard.check_request(request("path", ".a%2Cb.c")), "path") == \
        {NAME: ["a,b", "c"]}


# -- strict conversion ----------------------------------------------------------------------------

NOT_INTEGERS = ["10.0", "1e1", "0x10", "+10", " 10 ", "\uff11\uff10", "1_000", "\u0663", "ten"]
NOT_BOOLEANS = ["True", "FALSE", "1", "0", "yes", "on", "t"]
NOT_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", ".5", "5.", "0x1p3", "1,5", "01.5"]


def _strict_cases() -> list[Any]:
    cases = []
    for type_name, texts in (("integer", NOT_INTEGERS), ("boolean", NOT_BOOLEANS),
                             ("number", NOT_NUMBERS)):
        for text in texts:
            for location in ("query", "path", "header", "cookie"):
                if location in ("header", "cookie") and (
                        text != text.strip() or not text.isascii()):
                    continue  # field values lose outer whitespace (RFC 9110 §5.5) and are bytes
                if location == "cookie" and "," in text:
                    continue  # not a cookie-octet (RFC 6265 §4.1.1)
                cases.append(pytest.param(location, {"type": type_name}, text,
                                          id=f"{location}-{type_name}-{text!r}"))
    return cases


@pytest.mark.parametrize(("location", "schema", "text"), _strict_cases())
def test_strict_conversion(location: str, schema: dict[str, Any], text: str) -> None:
    """Integers are `-?[0-9]+` (ASCII), numbers JSON number syntax (finite), booleans exactly
    `true`/`false`; anything else is a `type` violation, never a lenient conversion."""
    serialized = {"query": f"{NAME}={quote(text, safe='')}", "path": quote(text, safe=""),
                  "header": text, "cookie": f"{NAME}={text}"}[location]
    violation = only_violation(rejected(guard_for(location, schema),
                                        request(location, serialized)))
    assert (violation.location, violation.name, violation.keyword, violation.pointer) == \
        (location, NAME, "type", "")


@pytest.mark.parametrize(("schema", "text", "expected"), [
    (INTEGER, "10", 10), (INTEGER, "-5", -5), (INTEGER, "0", 0),
    (BOOLEAN, "true", True), (BOOLEAN, "false", False),
    (NUMBER, "1.5", 1.5), (NUMBER, "-2e-3", -0.002), (NUMBER, "10", 10), (NUMBER, "1E3", 1000),
    (STRING, "10", "10"), (STRING, "true", "true"),
])
def test_conversion_follows_the_schema_type(schema: dict[str, Any], text: str,
                                            expected: Any) -> None:
    value = decoded(guard_for("query", schema).check_request(request("query", f"{NAME}={text}")),
                    "query")
    assert same(value[NAME], expected)


def test_header_whitespace_is_not_part_of_the_value() -> None:
    """RFC 9110 §5.5: leading and trailing whitespace is excluded from a field value."""
    value = decoded(guard_for("header", INTEGER).check_request(request("header", " 10\t")),
                    "header")
    assert value == {NAME: 10}


@pytest.mark.parametrize(("location", "style", "serialized", "pointer"), [
    ("query", "form", "color=1,2.0,3", "/1"),
    ("path", "simple", "1,2,0x3", "/2"),
    ("header", "simple", "1,+2", "/1"),
])
def test_strict_conversion_of_items(location: str, style: str, serialized: str,
                                    pointer: str) -> None:
    guard = guard_for(location, array_of(INTEGER), style, False)
    violation = only_violation(rejected(guard, request(location, serialized)))
    assert (violation.location, violation.name, violation.keyword, violation.pointer) == \
        (location, NAME, "type", pointer)


def test_strict_conversion_of_properties() -> None:
    guard = guard_for("query", {"type": "object", "properties": {"n": INTEGER, "b": BOOLEAN}},
                      "form", False)
    error = rejected(guard, request("query", "color=n,1.0,b,True"))
    found = {(v.location, v.name, v.pointer, v.keyword) for v in error.violations}
    assert found == {("query", NAME, "/n", "type"), ("query", NAME, "/b", "type")}


# -- content: application/json --------------------------------------------------------------------

JSON_PARAM = {
    "name": "filter", "in": "query",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["ids"], "additionalProperties": False,
        "properties": {"ids": array_of(INTEGER), "mode": STRING}}}},
}


def test_content_json_query_parameter() -> None:
    guard = sg.Guard(document([JSON_PARAM]))
    raw = quote('{"ids": [1, 2], "mode": "any"}', safe="")
    value = decoded(guard.check_request(sg.HttpRequest("GET", "/items", query=f"filter={raw}")),
                    "query")
    assert same(value, {"filter": {"ids": [1, 2], "mode": "any"}})


@pytest.mark.parametrize("text", ['{"ids": [1, 2]', "ids=1", "{'ids': [1]}", "", "[1,]"])
def test_content_json_query_parameter_invalid_json(text: str) -> None:
    guard = sg.Guard(document([JSON_PARAM]))
    error = rejected(guard, sg.HttpRequest("GET", "/items", query="filter=" + quote(text)))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.keyword) == \
        ("query", "filter", "content")


@pytest.mark.parametrize(("text", "pointer", "keyword"), [
    ('{"mode": "x"}', "/ids", "required"),
    ('{"ids": ["1"]}', "/ids/0", "type"),
    ('{"ids": [], "extra": 1}', "/extra", "additionalProperties"),
    ("[1]", "", "type"),
])
def test_content_json_query_parameter_schema(text: str, pointer: str, keyword: str) -> None:
    guard = sg.Guard(document([JSON_PARAM]))
    error = rejected(guard, sg.HttpRequest("GET", "/items", query="filter=" + quote(text)))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.pointer, violation.keyword) == \
        ("query", "filter", pointer, keyword)


def test_content_json_header_parameter() -> None:
    param = {**JSON_PARAM, "name": "X-Filter", "in": "header"}
    guard = sg.Guard(document([param]))
    result = guard.check_request(sg.HttpRequest("GET", "/items",
                                                headers=[("x-filter", '{"ids": [7]}')]))
    assert decoded(result, "header") == {"X-Filter": {"ids": [7]}}


# -- allowEmptyValue, defaults, required ----------------------------------------------------------


def _misc_guard() -> sg.Guard:
    return sg.Guard(document([
        parameter("query", {"type": "string", "enum": ["summary", "full"]}, name="detail",
                  allowEmptyValue=True),
        parameter("query", {"type": "integer", "minimum": 1}, name="page"),
        parameter("query", {"type": "integer", "default": 25}, name="size"),
        parameter("query", array_of(STRING) | {"default": ["a", "b"]}, name="tags"),
        parameter("header", {"type": "string", "default": "none"}, name="X-Trace"),
        parameter("cookie", {"type": "integer", "default": 7}, name="theme"),
        parameter("query", INTEGER, name="id", required=True),
        parameter("header", INTEGER, name="X-Required", required=True),
        parameter("cookie", STRING, name="session", required=True),
    ]))


REQUIRED_HEADERS = [("X-Required", "1"), ("Cookie", "session=s")]


def _misc(query: str, headers: list[tuple[str, str]] | None = None) -> sg.HttpRequest:
    return sg.HttpRequest("GET", "/items", query=query,
                          headers=REQUIRED_HEADERS if headers is None else headers)


@pytest.mark.parametrize("query", ["id=1&detail=", "id=1&detail"])
def test_allow_empty_value(query: str) -> None:
    """`allowEmptyValue: true` admits `?detail=`; schema interaction is implementation-defined
    (3.1.1), schemaguard passes the empty string through without checking the enum."""
    result = _misc_guard().check_request(_misc(query))
    assert result is not None
    assert result.query["detail"] == ""


@pytest.mark.parametrize(("query", "name"), [("id=1&page=", "page"), ("id=", "id"),
                                             ("id=1&page", "page")])
def test_empty_value_without_allow_empty_value(query: str, name: str) -> None:
    violation = only_violation(rejected(_misc_guard(), _misc(query)))
    assert (violation.location, violation.name, violation.keyword) == \
        ("query", name, "allowEmptyValue")


def test_allow_empty_value_still_validates_non_empty_values() -> None:
    violation = only_violation(rejected(_misc_guard(), _misc("id=1&detail=brief")))
    assert (violation.location, violation.name, violation.keyword) == ("query", "detail", "enum")


def test_defaults_applied_when_absent() -> None:
    result = _misc_guard().check_request(_misc("id=1"))
    assert result is not None
    assert result.query == {"id": 1, "size": 25, "tags": ["a", "b"]}
    assert result.headers == {"X-Trace": "none", "X-Required": 1}
    assert result.cookies == {"theme": 7, "session": "s"}


def test_defaults_not_applied_when_present() -> None:
    headers = [("X-Trace", "abc"), ("X-Required", "2"), ("Cookie", "theme=3; session=s")]
    result = _misc_guard().check_request(_misc("id=1&size=5&tags=x", headers))
    assert result is not None
    assert result.query == {"id": 1, "size": 5, "tags": ["x"]}
    assert result.headers == {"X-Trace": "abc", "X-Required": 2}
    assert result.cookies == {"theme": 3, "session": "s"}


def test_present_invalid_value_is_not_replaced_by_the_default() -> None:
    violation = only_violation(rejected(_misc_guard(), _misc("id=1&size=big")))
    assert (violation.location, violation.name, violation.keyword) == ("query", "size", "type")


def test_defaults_are_not_shared_between_requests() -> None:
    # A handler that mutates the default it received must not change later requests.
    guard = _misc_guard()
    first = guard.check_request(_misc("id=1"))
    assert first is not None
    first.query["tags"].append("mutated")
    second = guard.check_request(_misc("id=1"))
    assert second is not None
    assert second.query["tags"] == ["a", "b"]


@pytest.mark.parametrize(("query", "headers", "missing"), [
    ("", REQUIRED_HEADERS, ("query", "id")),
    ("id=1", [("Cookie", "session=s")], ("header", "X-Required")),
    ("id=1", [("X-Required", "1")], ("cookie", "session")),
    ("id=1", [("X-Required", "1"), ("Cookie", "SESSION=s")], ("cookie", "session")),
])
def test_required_missing(query: str, headers: list[tuple[str, str]],
                          missing: tuple[str, str]) -> None:
    violation = only_violation(rejected(_misc_guard(), _misc(query, headers)))
    assert (violation.location, violation.name, violation.keyword, violation.pointer) == \
        (*missing, "required", "")


def test_all_missing_required_parameters_are_reported() -> None:
    error = rejected(_misc_guard(), _misc("", []))
    assert {(v.location, v.name, v.keyword) for v in error.violations} == {
        ("query", "id", "required"), ("header", "X-Required", "required"),
        ("cookie", "session", "required")}


# -- headers --------------------------------------------------------------------------------------


def test_accept_content_type_authorization_header_parameters_are_ignored() -> None:
    """3.1.0 Parameter Object, `name`: for `in: header` and name "Accept", "Content-Type" or
    "Authorization", "the parameter definition SHALL be ignored"."""
    strict = {"type": "string", "enum": ["never-sent"]}
    guard = sg.Guard(document([
        parameter("header", strict, name=name, required=True)
        for name in ("Accept", "Content-Type", "Authorization")
    ] + [parameter("header", INTEGER, name="X-Other", required=True)]))
    result = guard.check_request(sg.HttpRequest("GET", "/items", headers=[
        ("Accept", "text/html"), ("Authorization", "Basic eDp5"), ("X-Other", "1")]))
    assert decoded(result, "header") == {"X-Other": 1}
    result = guard.check_request(sg.HttpRequest("GET", "/items", headers=[("X-Other", "1")]))
    assert decoded(result, "header") == {"X-Other": 1}
    # a header not on the list is still checked
    violation = only_violation(rejected(guard, sg.HttpRequest("GET", "/items")))
    assert (violation.name, violation.keyword) == ("X-Other", "required")


def test_header_names_match_case_insensitively() -> None:
    guard = sg.Guard(document([parameter("header", INTEGER, name="X-Rate-Limit")]))
    for sent in ("x-rate-limit", "X-RATE-LIMIT", "X-Rate-Limit"):
        result = guard.check_request(sg.HttpRequest("GET", "/items", headers=[(sent, "5")]))
        assert decoded(result, "header") == {"X-Rate-Limit": 5}


def test_repeated_header_for_array_parameter_is_joined() -> None:
    """RFC 9110 §5.3: repeated field lines are one comma-separated list, in order."""
    guard = sg.Guard(document([parameter("header", array_of(INTEGER), name="X-Ids")]))
    result = guard.check_request(sg.HttpRequest("GET", "/items", headers=[
        ("X-Ids", "1"), ("x-ids", "2,3"), ("X-IDS", "4")]))
    assert decoded(result, "header") == {"X-Ids": [1, 2, 3, 4]}


# -- unknown query parameters ---------------------------------------------------------------------


def _declared_query() -> dict[str, Any]:
    return document([
        parameter("query", INTEGER, name="page"),
        parameter("query", {"type": "object", "properties": {"lo": INTEGER, "hi": INTEGER}},
                  name="range", style="form", explode=True),
        parameter("query", {"type": "object", "properties": {"k": STRING}}, name="f",
                  style="deepObject", explode=True),
    ])


def test_unknown_query_parameters_allowed_by_default() -> None:
    result = sg.Guard(_declared_query()).check_request(
        sg.HttpRequest("GET", "/items", query="page=1&utm_source=x&other"))
    assert decoded(result, "query") == {"page": 1}


def test_unknown_query_parameters_rejected_on_request() -> None:
    guard = sg.Guard(_declared_query(), reject_unknown_query=True)
    error = rejected(guard, sg.HttpRequest("GET", "/items", query="page=1&utm_source=x"))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.keyword) == \
        ("query", "utm_source", "additionalProperties")
    # exploded-object properties and deepObject keys belong to their parameters
    result = guard.check_request(sg.HttpRequest("GET", "/items",
                                                query="page=1&lo=1&hi=9&f[k]=v"))
    assert decoded(result, "query") == {"page": 1, "range": {"lo": 1, "hi": 9}, "f": {"k": "v"}}
    # a name that is not safe to echo is reported without it
    error = rejected(guard, sg.HttpRequest("GET", "/items", query="%3Cscript%3E=1"))
    violation = only_violation(error)
    assert (violation.name, violation.keyword) == (None, "additionalProperties")


# -- cookies --------------------------------------------------------------------------------------


def _cookie_guard() -> sg.Guard:
    return sg.Guard(document([
        parameter("cookie", STRING, name="sid", required=True),
        parameter("cookie", INTEGER, name="n"),
        parameter("cookie", array_of(INTEGER), name="ids", explode=False),
    ]))


@pytest.mark.parametrize(("headers", "expected"), [
    ([("Cookie", "sid=abc; n=3")], {"sid": "abc", "n": 3}),
    ([("Cookie", "sid=abc;n=3")], {"sid": "abc", "n": 3}),
    ([("Cookie", "other=1; sid=abc"), ("cookie", "n=7")], {"sid": "abc", "n": 7}),
    ([("Cookie", 'sid="quoted"')], {"sid": "quoted"}),
    ([("Cookie", "sid=a=b")], {"sid": "a=b"}),
    ([("Cookie", "sid=; n=1")], {"sid": "", "n": 1}),
    ([("Cookie", "sid=abc; ids=1,2,3")], {"sid": "abc", "ids": [1, 2, 3]}),
    ([("Cookie", "junk; sid=abc; =x")], {"sid": "abc"}),
])
def test_cookie_parsing(headers: list[tuple[str, str]], expected: dict[str, Any]) -> None:
    result = _cookie_guard().check_request(sg.HttpRequest("GET", "/items", headers=headers))
    assert decoded(result, "cookie") == expected


@pytest.mark.parametrize(("cookie", "name", "keyword"), [
    ("SID=abc", "sid", "required"),  # cookie names are case-sensitive (RFC 6265 §5.4)
    ("sid=abc; n=x", "n", "type"),
    ("sid=a; sid=b", "sid", "style"),
])
def test_cookie_violations(cookie: str, name: str, keyword: str) -> None:
    error = rejected(_cookie_guard(), sg.HttpRequest("GET", "/items",
                                                     headers=[("Cookie", cookie)]))
    violation = only_violation(error)
    assert (violation.location, violation.name, violation.keyword) == ("cookie", name, keyword)


# -- specs/parameter-styles.yaml ------------------------------------------------------------------

STYLES_SPEC = SPECS / "parameter-styles.yaml"
BASE = "/api"  # servers[0].url

# Decoded values for the request each operation's own summary example describes (`e.g. ...`),
# or, for queryMisc (no example), the one its parameter descriptions describe.
EXPECTED: dict[str, dict[str, dict[str, Any]]] = {
    "pathSimple": {"path": {"pathSimpleInt": 7, "pathSimpleArr": [1, 2, 3],
                            "pathSimpleObj": {"R": 10, "G": 20, "B": 30}}},
    "pathSimpleExplode": {"path": {"pathSimpleXBool": True, "pathSimpleXArr": ["red", "blue"],
                                   "pathSimpleXObj": {"lat": 1.5, "lng": -2}}},
    "pathLabel": {"path": {"pathLabelEnum": "asc", "pathLabelArr": [1, 2, 3],
                           "pathLabelObj": {"x": 1, "y": 2}}},
    "pathLabelExplode": {"path": {"pathLabelXInt": 42, "pathLabelXArr": [True, False],
                                  "pathLabelXObj": {"role": "admin", "active": True}}},
    "pathMatrix": {"path": {"pathMatrixNum": 2.5, "pathMatrixArr": ["ab", "cd"],
                            "pathMatrixObj": {"R": 1, "G": 2, "B": 3}}},
    "pathMatrixExplode": {"path": {"pathMatrixXInt": 3, "pathMatrixXArr": [1, 2],
                                   "pathMatrixXObj": {"x": 1, "y": 2}}},
    "queryFormExplode": {"query": {"queryFormXInt": 5, "queryFormXArr": [1, 2],
                                   "queryFormXObj": {"minPrice": 1, "maxPrice": 9.5}}},
    "queryForm": {"query": {"queryFormBool": True, "queryFormArr": ["new", "used"],
                            "queryFormObj": {"R": 1, "G": 2, "B": 3}}},
    "querySpaceDelimited": {"query": {"querySpaceArr": [1, 2, 3]}},
    "queryPipeDelimited": {"query": {"queryPipeArr": ["draft", "published"]}},
    "queryDeepObject": {"query": {"queryDeepObj": {"status": "active", "minAge": 18}}},
    "queryContent": {"query": {"queryJson": {"ids": [1, 2]}}},
    "queryMisc": {"query": {"redirectTo": "/a/b:c@d!$'()*,;=x", "detail": "",
                            "pageSize": 25}},
    "headerSimple": {"header": {"X-Hdr-Int": 7, "X-Hdr-Arr": [1, 2],
                                "X-Hdr-Obj": {"R": 1, "G": 2, "B": 3}}},
    "headerSimpleExplode": {"header": {"X-Hdr-X-Bool": False, "X-Hdr-X-Arr": ["a", "b"],
                                       "X-Hdr-X-Obj": {"role": "user", "active": True}}},
    "cookieForm": {"cookie": {"cookieInt": 3, "cookieArr": [1, 2, 3],
                              "cookieObj": {"R": 1, "G": 2, "B": 3}}},
}


def _styles_operations() -> list[tuple[str, str, dict[str, Any]]]:
    content = sg.load_spec(STYLES_SPEC).content
    assert content["servers"][0]["url"].endswith(BASE)
    return [(template, method, op) for template, item in content["paths"].items()
            for method, op in item.items()]


def _example_request(template: str, op: dict[str, Any]) -> sg.HttpRequest:
    summary: str = op["summary"]
    if op["operationId"] == "queryMisc":
        # redirectTo: "Reserved characters (:/?#[]@!$&'()*+,;=) may appear unencoded" - all but
        # the query's own delimiters `#`, `&`, `+` and the `[]` a URL parser refuses;
        # detail: "`?detail=` (empty value) is accepted"; pageSize: "Defaults to 25 when absent".
        descriptions = {p["name"]: p["description"] for p in op["parameters"]}
        assert "may appear unencoded" in descriptions["redirectTo"]
        assert "`?detail=`" in descriptions["detail"]
        assert "Defaults to 25" in descriptions["pageSize"]
        return sg.HttpRequest("GET", BASE + template, query="redirectTo=/a/b:c@d!$'()*,;=x"
                              "&detail=")
    example = summary.split("e.g. ", 1)[1].strip()
    if example.startswith("/"):
        return sg.HttpRequest("GET", BASE + example)
    if example.startswith("?"):
        return sg.HttpRequest("GET", BASE + template, query=example[1:])
    headers = [tuple(part.split(": ", 1)) for part in example.split(" / ")]
    return sg.HttpRequest("GET", BASE + template, headers=[(n, v) for n, v in headers])


def test_parameter_styles_spec_has_an_expectation_per_operation() -> None:
    assert sorted(op["operationId"] for _, _, op in _styles_operations()) == sorted(EXPECTED)


@pytest.mark.parametrize("operation_id", sorted(EXPECTED))
def test_parameter_styles_spec_examples(operation_id: str) -> None:
    guard = sg.Guard(STYLES_SPEC)
    [(template, method, op)] = [(t, m, o) for t, m, o in _styles_operations()
                                if o["operationId"] == operation_id]
    req = _example_request(template, op)
    assert req.method.lower() == method
    result = guard.check_request(req)  # 2xx-equivalent: no RequestError
    assert result is not None
    assert result.operation.operation_id == operation_id
    for location, expected in EXPECTED[operation_id].items():
        assert same(decoded(result, location), expected)


def test_parameter_styles_spec_defaults_and_required_header() -> None:
    guard = sg.Guard(STYLES_SPEC)
    result = guard.check_request(sg.HttpRequest("GET", BASE + "/query/misc",
                                                query="pageSize=200"))
    assert result is not None
    assert result.query == {"pageSize": 200}
    violation = only_violation(rejected(guard, sg.HttpRequest("GET", BASE + "/header/simple")))
    assert (violation.location, violation.name, violation.keyword) == \
        ("header", "X-Hdr-Int", "required")


def test_original_document_is_not_modified() -> None:
    doc = document([parameter("query", array_of(INTEGER) | {"default": [1]}, name="l")])
    before = copy.deepcopy(doc)
    sg.Guard(doc).check_request(sg.HttpRequest("GET", "/items"))
    assert doc == before
