"""Reading documents: YAML 1.2 core schema, safety, and lazy source locations."""

from __future__ import annotations

from typing import Any

import pytest

from schemaguard import SpecError
from schemaguard._source import Document, _nests_deeper, decode, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes", {"a": "yes"}),
        ("a: [on, off, NO, y]", {"a": ["on", "off", "NO", "y"]}),
        ("a: true", {"a": True}),
        ("a: 2024-01-01", {"a": "2024-01-01"}),
        ("200: ok", {"200": "ok"}),
        ("a: 0x1F", {"a": 31}),
        ("a: 1_000", {"a": "1_000"}),
        ("a: 1.10", {"a": 1.1}),
        ("a: ~", {"a": None}),
        ("a: 1:20", {"a": "1:20"}),
        ('{"a": [1, 2.5, null]}', {"a": [1, 2.5, None]}),
        ("{a: 1}", {"a": 1}),
    ],
    ids=["yes", "yaml11-bools", "true", "date", "int-key", "hex", "underscore", "float",
         "null", "sexagesimal", "json", "flow-yaml"],
)
def test_yaml_is_read_with_the_yaml_12_core_schema(text: str, expected: Any) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key `a`", 3),
        ("x: !!python/object/apply:os.system ['true']\n", "unsupported YAML tag", 1),
        ("x: !!binary aGk=\n", "unsupported YAML tag", 1),
        ("a: [\n", "invalid YAML", 2),
        ("a: &x [*x]\n", "recursive YAML alias", 1),
        ("", "empty", None),
        ("? [a]\n: 1\n", "plain scalars", 1),
    ],
    ids=["duplicate", "python-tag", "binary-tag", "syntax", "recursive-alias", "empty",
         "complex-key"],
)
def test_unsafe_or_ambiguous_yaml_is_refused(text: str, message: str, line: int | None) -> None:
    with pytest.raises(SpecError, match=message) as info:
        parse(text, "spec.yaml")
    assert info.value.line == line
    assert info.value.file == "spec.yaml"


def test_duplicate_json_keys_are_refused() -> None:
    with pytest.raises(SpecError, match="duplicate key `a`"):
        parse('{"a": 1, "b": {}, "a": 2}', json_hint=True)


def test_json_constants_are_not_json() -> None:
    with pytest.raises(SpecError, match="invalid JSON"):
        parse('{"a": NaN}', json_hint=True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"\xff\xfe\x00a", "binary"), (b"a: \xe9\n", "not UTF-8")],
    ids=["nul-bytes", "latin-1"],
)
def test_undecodable_bytes_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        decode(raw, "x.yaml")


def test_bom_is_dropped() -> None:
    assert decode(b"\xef\xbb\xbfa: 1", None) == "a: 1"


TEXT = """\
openapi: 3.1.0
paths:
  /pets:
    get:
      parameters:
        - name: a
          in: query
        - name: "b/c"
"""


@pytest.mark.parametrize(
    ("pointer", "where"),
    [
        ("", (1, 1)),
        ("/paths", (2, 1)),
        ("/paths/~1pets/get", (4, 5)),
        ("/paths/~1pets/get/parameters/1", (8, 11)),
        ("/paths/~1pets/get/parameters/1/name", (8, 11)),
        ("/paths/~1pets/get/parameters/9", (5, 7)),
    ],
    ids=["root", "key", "escaped", "list-item", "member", "missing-falls-back"],
)
def test_locations_are_found_by_pointer(pointer: str, where: tuple[int, int]) -> None:
    document = Document("file:///spec.yaml", parse(TEXT), "spec.yaml", TEXT)
    assert document.locate(pointer) == where


def test_errors_carry_file_line_and_column() -> None:
    document = Document("file:///spec.yaml", parse(TEXT), "spec.yaml", TEXT)
    error = document.error("bad", "/paths/~1pets/get")
    assert (error.file, error.line, error.column, error.pointer) == ("spec.yaml", 4, 5,
                                                                      "/paths/~1pets/get")
    assert str(error) == "spec.yaml:4:5: bad (at #/paths/~1pets/get)"


def test_documents_without_text_have_no_location() -> None:
    assert Document("urn:x", {}).locate("/a") == (None, None)


def _nested_list(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels - 1):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


@pytest.mark.parametrize(("levels", "deeper"), [(1000, False), (1001, True)])
def test_json_nesting_is_bounded_on_every_python(levels: int, deeper: bool) -> None:
    """JSON nested past 1,000 levels is refused like YAML past libyaml's 1,000. Python 3.11's
    json reader stops near the recursion limit on its own; from 3.12 on it reads far deeper
    (bounded by the C stack), so the depth is checked after parsing."""
    data = _nested_list(levels)
    text = "[" * levels + "]" * levels
    assert _nests_deeper(data, text, 1000) is deeper
    assert _nests_deeper({"a": [data]}, "{" + text, 1002) is False
    assert _nests_deeper("scalar", "[" * 2000, 1000) is False


def test_deep_json_document_is_refused_with_its_line() -> None:
    text = '{"openapi": "3.1.0",\n"x": ' + "[" * 1100 + "]" * 1100 + "}"
    with pytest.raises(SpecError, match="nested too deeply") as caught:
        parse(text, "deep.json")
    assert caught.value.line == 2
