"""The schema bound (_bound.py) and the JSON fast path it opens in the guard.

A JSON body whose schema bounds its nesting and keeps its numbers inside +-2**63 is parsed
before the depth and big-integer scans, which then run only when the body fails validation.
Soundness is what matters: every instance the engine accepts must lie within the bound, and the
guard must answer every body exactly as it does without the fast path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import schemaguard as sg
from schemaguard._bound import Bound, schema_bound
from schemaguard._depth import deeper_than, survey, survey_whole
from strategies import KEYS, body_specs, closing, from_schema, json_values, schemas

SPECS = Path(__file__).resolve().parent.parent / "specs"
BIG = 2**63


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def numbers(value: Any) -> list[int | float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    return []


def bound(schema: Any, dialect: str = "oas31") -> Bound:
    return sg.compile_schema(schema, dialect, context="request").instance_bound()


def closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


INT = {"type": "integer", "minimum": 0, "maximum": 10}


@pytest.mark.parametrize(("schema", "dialect", "expected"), [
    ({"type": "string"}, "oas31", Bound(0, True)),
    ({"type": "integer"}, "oas31", Bound(0, False)),  # unbounded integers: scan
    (INT, "oas31", Bound(0, True)),
    ({"type": "integer", "format": "int32"}, "oas30", Bound(0, True)),
    # int64's minimum is -2**63: -2**63 - 1 becomes that float in orjson and would pass.
    ({"type": "integer", "format": "int64"}, "oas30", Bound(0, False)),
    ({"type": "number", "exclusiveMinimum": -BIG, "exclusiveMaximum": BIG}, "oas31",
     Bound(0, True)),
    ({"type": "integer", "minimum": 0, "maximum": BIG}, "oas31", Bound(0, False)),
    ({"type": "integer", "minimum": 0, "maximum": 2**64}, "oas31", Bound(0, False)),
    ({"type": "integer", "minimum": -BIG, "maximum": 0}, "oas31", Bound(0, False)),
    ({"type": "integer", "allOf": [{"minimum": 0, "maximum": 5}]}, "oas31", Bound(0, True)),
    # Conservative: each member bounds one side only, and sides are not combined across
    # members (specs write both bounds together); unbounded means the body is scanned.
    ({"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 5}]}, "oas31", Bound(0, False)),
    (closed({"a": INT, "b": closed({"c": {"type": "array", "items": INT}})}), "oas31",
     Bound(3, True)),
    ({"type": "object", "properties": {"a": INT}}, "oas31", Bound(None, False)),  # open
    ({"type": "object", "additionalProperties": INT}, "oas31", Bound(1, True)),
    ({"type": "object", "additionalProperties": False,
      "patternProperties": {"^x": {"type": "array", "items": INT}}}, "oas31", Bound(2, True)),
    ({"type": "array"}, "oas31", Bound(None, False)),
    ({"type": "array", "prefixItems": [INT], "items": False}, "oas31", Bound(1, True)),
    ({"type": "array", "items": [INT], "additionalItems": False}, "draft4", Bound(1, True)),
    ({"type": "array", "items": [INT]}, "draft4", Bound(None, False)),
    ({"enum": [[1, [2]], "x"]}, "oas31", Bound(2, True)),
    ({"enum": [BIG]}, "oas31", Bound(0, False)),
    ({"const": {"a": []}}, "oas31", Bound(2, True)),
    ({"anyOf": [INT, closed({"a": INT})]}, "oas31", Bound(1, True)),
    ({"oneOf": [INT, {"type": "array"}]}, "oas31", Bound(None, False)),
    ({"allOf": [{"type": "array"}, {"items": INT}]}, "oas31", Bound(1, True)),
    ({"not": {}}, "oas31", Bound(-1, True)),
    (False, "oas31", Bound(-1, True)),
    (True, "oas31", Bound(None, False)),
    ({"type": ["string", "null"]}, "oas31", Bound(0, True)),
    ({"type": "string", "nullable": True}, "oas30", Bound(0, True)),
])
def test_bound_of_schema(schema: Any, dialect: str, expected: Bound) -> None:
    assert bound(schema, dialect) == expected


def test_recursion_is_unbounded() -> None:
    spec = sg.load_spec(SPECS / "recursive.yaml")
    guard = sg.Guard(spec)
    bounds = [v.instance_bound() for plan in guard._plans.values()
              for v in plan.validators().bodies.values()]
    assert len(bounds) == 3
    assert all(b == Bound(None, False) for b in bounds)


def test_read_only_property_is_never_in_a_request() -> None:
    """The request context rewrites a readOnly property to `not: {}`: nothing can fill it, so
    it adds nothing to the bound."""
    schema = closed({"id": {"type": "object", "readOnly": True}, "name": {"type": "string"}})
    assert bound(schema) == Bound(1, True)


# -- soundness: every accepted instance lies within the bound ---------------------------------

_HOSTILE = st.one_of(
    st.sampled_from([BIG, -BIG - 1, 2**64 + 5, 1e19, -1e300, 9.3e18]),
    st.recursive(st.just([]), lambda inner: st.lists(inner, max_size=2), max_leaves=30),
)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), dialect=st.sampled_from(["draft4", "draft2020-12", "oas30", "oas31"]),
       close=st.booleans())
def test_accepted_instances_lie_within_the_bound(data: st.DataObject, dialect: str,
                                                 close: bool) -> None:
    schema = data.draw(schemas(dialect))
    if close:
        schema = closing(schema)
    try:
        validator = sg.compile_schema(schema, dialect, context="request")
    except sg.SpecError:
        return
    found = validator.instance_bound()
    instance = data.draw(st.one_of(from_schema(schema), json_values(), _HOSTILE))
    if not validator.is_valid(instance):
        return
    event(f"accepted, depth {'unbounded' if found.depth is None else 'bounded'}, numbers "
          f"{'small' if found.small_numbers else 'any'}")
    if found.depth is not None:
        assert depth(instance) <= found.depth, (schema, instance, found)
    if found.small_numbers:
        assert all(-BIG < n < BIG for n in numbers(instance)), (schema, instance, found)


# -- the guard answers the same with and without the fast path --------------------------------

def _twins() -> tuple[sg.Guard, sg.Guard]:
    fast = sg.Guard(SPECS / "bench.yaml")
    slow = sg.Guard(SPECS / "bench.yaml")
    slow.bodies.shallow_depth = None  # never take the fast path
    return fast, slow


def _answer(guard: sg.Guard, body: bytes, path: str = "/v1/pets") -> Any:
    """(status, violations) of a refused JSON POST, or (201, the body the handler gets)."""
    request = sg.HttpRequest("POST", path, "", [("content-type", "application/json")], body)
    try:
        validated = guard.check_request(request)
    except sg.RequestError as error:
        return error.status_code, [v.to_dict() for v in error.violations]
    assert validated is not None
    return 201, validated.body


def _new_pet() -> dict[str, Any]:
    return {"name": "Rex", "animal": {"pet_type": "cat", "indoor": True, "lives_left": 9},
            "status": "available", "owner": {"name": "Ann", "email": "ann@example.com"}}


def test_bench_create_pet_takes_the_fast_path() -> None:
    fast, _ = _twins()
    plan = fast._plans[fast.operation("post", "/pets")]
    assert plan.validators().shallow_json == {"application/json": 3}


@pytest.mark.parametrize(("body", "status", "keyword"), [
    # A deep value where the closed schema allows nothing: too deep wins, as without the fast
    # path (the default limit is 64 levels).
    ({**_new_pet(), "x": json.loads("[" * 70 + "]" * 70)}, 400, "maxDepth"),
    # 2**64 + 5 is a float for orjson; the exact integer goes past `maximum: 9`.
    ({**_new_pet(), "animal": {"pet_type": "cat", "indoor": True, "lives_left": 2**64 + 5}},
     400, "maximum"),
    # Many brackets, none deep: the exact check clears it and the schema decides.
    ({**_new_pet(), "tags": [[]] * 100}, 400, "maxItems"),
    (_new_pet(), 201, None),
])
def test_fast_path_answers_as_the_full_decoder(body: Any, status: int,
                                              keyword: str | None) -> None:
    fast, slow = _twins()
    raw = json.dumps(body).encode()
    answer = _answer(fast, raw)
    assert answer == _answer(slow, raw)
    assert answer[0] == status
    if keyword is not None:
        assert answer[1][0]["keyword"] == keyword
    else:
        assert answer[1] == body


_BODIES = st.one_of(
    json_values(),
    st.builds(lambda extra: {**_new_pet(), **extra},
              st.dictionaries(st.sampled_from(["name", "tags", "weight_kg", "notes", "x"]),
                              st.one_of(json_values(), _HOSTILE), max_size=2)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_BODIES, prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b" "]))
def test_fast_path_changes_no_answer(body: Any, prefix: bytes) -> None:
    fast, slow = _TWINS
    raw = prefix + json.dumps(body).encode()
    assert _answer(fast, raw) == _answer(slow, raw)


_TWINS = _twins()


# -- the walk that replaces a second parse on a failing body (_depth.survey) ------------------

def _reference(value: Any, max_depth: int, size: int, long_depth: int) -> tuple[bool, bool]:
    def long(node: Any, levels: int) -> bool:
        if levels == 0 or not isinstance(node, (dict, list)):
            return False
        children = list(node.values()) if isinstance(node, dict) else node
        return (isinstance(node, list) and len(node) > size) or any(
            long(child, levels - 1) for child in children)
    return depth(value) > max_depth, long(value, long_depth)


@settings(max_examples=500, deadline=None)
@given(value=st.recursive(st.none() | st.integers(), lambda inner: st.lists(inner, max_size=5)
                          | st.dictionaries(st.text(max_size=2), inner, max_size=4),
                          max_leaves=60),
       max_depth=st.integers(1, 6), size=st.integers(0, 4), long_depth=st.integers(0, 6))
def test_survey_answers_as_a_recursive_walk(value: Any, max_depth: int, size: int,
                                            long_depth: int) -> None:
    deeper, long = survey(value, max_depth, size, long_depth)
    expected_deeper, expected_long = _reference(value, max_depth, size, long_depth)
    assert deeper == expected_deeper
    if not deeper:  # a deeper body is refused as such; its arrays do not matter
        assert long == expected_long


@settings(max_examples=300, deadline=None)
@given(value=st.recursive(st.none() | st.text(max_size=2), lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                          max_leaves=40),
       limit=st.integers(0, 8))
def test_deeper_than_answers_as_a_recursive_walk(value: Any, limit: int) -> None:
    # What guards a recursive schema (and compile_schema's max_depth) before the engine.
    assert deeper_than(value, limit) == (depth(value) > limit)


def _containers(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_containers(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_containers(v) for v in value)
    return 0


def _big_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_big_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_big_float(v) for v in value)
    return isinstance(value, float) and abs(value) >= 2.0**63


@settings(max_examples=500, deadline=None)
@given(value=st.recursive(st.none() | st.integers() | st.sampled_from(
           [1e19, -9.3e18, 9.2e18, 2.0**63, -(2.0**63), 0.5]),
           lambda inner: st.lists(inner, max_size=5)
           | st.dictionaries(st.text(max_size=2), inner, max_size=4), max_leaves=60),
       max_depth=st.integers(0, 6), few=st.integers(0, 8))
def test_survey_whole_answers_as_recursive_walks(value: Any, max_depth: int, few: int) -> None:
    # What replaces the byte scan of a refused body up to 64 KB: exactly, where the scan
    # only bounded (brackets inside strings counted, 19 digits taken as maybe inexact).
    assert survey_whole(value, max_depth, few) == (depth(value) > max_depth, _big_float(value),
                                            _containers(value) <= few)


def test_a_small_refused_body_with_an_inexact_integer_is_decoded_exactly() -> None:
    # orjson keeps every 64-bit integer and rounds the others into floats of 2**63 or more:
    # those send a refused body to the exact decoder, whose answer stands.
    fast, slow = _twins()
    for number in (2**64, -(2**63) - 1, 10**30):
        raw = json.dumps({**_new_pet(), "weight_kg": number}).encode()
        answer = _answer(fast, raw)
        assert answer == _answer(slow, raw)
        assert answer[1][0]["keyword"] in ("maximum", "minimum", "exclusiveMinimum")


def test_the_survey_of_a_big_body_stops_past_the_limit() -> None:
    # 20,000 containers in a chain of 40 levels: the walk stops at the level past the limit.
    value: Any = [{"a": [1, 2]} for _ in range(10_000)]
    for _ in range(38):
        value = [value]
    assert survey(value, 8) == (True, False)
    assert survey(value, 64) == (False, False)  # the 10,000 items sit 38 levels down: not near
    assert survey(value, 64, long_depth=40) == (False, True)
    assert survey([[0] * 300], 4) == (False, True)  # 300 items > 256, one level down


def test_duplicate_keys_are_refused_on_a_bounded_body() -> None:
    """reject_duplicate_keys needs the exact parse: the fast path (orjson keeps the last
    value) is off, whatever the bound."""
    guard = sg.Guard(SPECS / "bench.yaml", reject_duplicate_keys=True)
    raw = json.dumps(_new_pet())[:-1].encode() + b', "name": "Max"}'
    status, errors = _answer(guard, raw)
    assert status == 400
    assert errors[0]["keyword"] == "uniqueKeys"
    assert _answer(_TWINS[0], raw)[0] == 201  # accepted when duplicates are not refused


def test_draft4_ref_siblings_bound_nothing() -> None:
    """Draft 4 applies a `$ref` alone (its siblings are not keywords there), so
    `additionalProperties: false` beside it closes nothing; in 2020-12 siblings apply."""
    prefix = "urn:x#/d/"
    definitions = {"0": {"$ref": prefix + "1", "additionalProperties": False},
                   "1": {"type": "object"}}
    assert schema_bound(definitions, "0", prefix, draft4=True) == Bound(None, False)
    assert schema_bound(definitions, "0", prefix, draft4=False) == Bound(1, True)


@pytest.mark.parametrize(("schema", "draft4", "expected"), [
    # Keywords draft 4 does not have bound nothing there.
    ({"const": 1}, True, Bound(None, False)),
    ({"const": 1}, False, Bound(0, True)),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 9}, True, Bound(0, False)),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 9}, False, Bound(0, True)),
    ({"type": "number", "minimum": 0, "maximum": 9, "exclusiveMaximum": True}, True,
     Bound(0, True)),
])
def test_keywords_by_draft(schema: Any, draft4: bool, expected: Bound) -> None:
    assert schema_bound({"0": schema}, "0", "urn:x#/d/", draft4=draft4) == expected


def test_spec_in_draft4_keeps_the_scan_when_a_ref_has_siblings() -> None:
    spec = {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "jsonSchemaDialect": "http://json-schema.org/draft-04/schema#",
        "paths": {"/x": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/X", "additionalProperties": False}}}},
            "responses": {"204": {"description": "ok"}}}}},
        "components": {"schemas": {"X": {"type": "object"}}},
    }
    guard = sg.Guard(spec)
    plan = guard._plans[guard.operation("post", "/x")]
    assert plan.validators().shallow_json == {}
    deep = b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}"
    request = sg.HttpRequest("POST", "/x", "", [("content-type", "application/json")], deep)
    with pytest.raises(sg.RequestError) as caught:
        guard.check_request(request)
    assert caught.value.violations[0].keyword == "maxDepth"


# -- twin guards on generated specs: the fast path never changes an answer ------------------

def _deepen(value: Any, key: str) -> Any:
    """``value`` with a value nested past the test's depth limit of 3 somewhere inside."""
    deep = [[[[1]]]]
    if isinstance(value, dict):
        inner = next((k for k, v in value.items() if isinstance(v, (dict, list))), key)
        if isinstance(value.get(inner), (dict, list)):
            return {**value, inner: _deepen(value[inner], key)}
        return {**value, key: deep}
    if isinstance(value, list):
        return [*value, deep]
    return deep


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), made=body_specs())
def test_generated_specs_answer_the_same_with_and_without_the_fast_path(
        data: st.DataObject, made: tuple[dict[str, Any], Any]) -> None:
    spec, schema = made
    try:
        fast = sg.Guard(spec, max_json_depth=3)
        slow = sg.Guard(spec, max_json_depth=3)
    except (sg.SpecError, ValueError):
        return
    slow.bodies.shallow_depth = None
    shaped = from_schema(schema)
    instance = data.draw(st.one_of(shaped, st.builds(_deepen, shaped, st.sampled_from(KEYS)),
                                   json_values(), _HOSTILE))
    raw = json.dumps(instance).encode()
    fast_answer = _answer(fast, raw, "/x")
    event("fast path" if fast._plans[fast.operation("post", "/x")].validators().shallow_json
          else "scanned")
    event(f"answer {fast_answer[0]}")
    assert fast_answer == _answer(slow, raw, "/x")
