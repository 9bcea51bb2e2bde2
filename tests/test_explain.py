"""_explain: a small refused body's violations, told without the engine's error objects.

What a user sees is the same 400: the same violations (pointer, keyword, message, spec
pointer) the engine reports for the whole body, in at most a different order. What changes
is its cost: the engine is asked ``is_valid`` of the values, and asked for errors only where a
keyword that applies is not one told here (pattern, format, multipleOf...). These tests hold
the two side by side, pin where the engine's reading differs from a plain one, and check
that the bench body's refusal makes no engine error at all.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import schemaguard as sg
from schemaguard._schema import SchemaValidator, compile_at
from strategies import from_schema, json_values, twin_paths

BODY = "/paths/~1x/post/requestBody/content/application~1json/schema"
ROOT = Path(__file__).resolve().parent.parent


def spec_for(schema: Any, version: str = "3.1.0",
             components: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": version, "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {"204": {"description": "ok"}}}}},
        "components": {"schemas": components or {}},
    }


def validator_for(schema: Any, version: str = "3.1.0",
                  components: dict[str, Any] | None = None) -> SchemaValidator:
    return compile_at(sg.load_spec(spec_for(schema, version, components)), BODY,
                      context="request")


def records(violations: Any) -> Counter[tuple[str, str, str, str]]:
    return Counter((v.pointer, v.keyword, v.message, v.schema_pointer) for v in violations)


def told_and_engine(validator: SchemaValidator, instance: Any
                    ) -> tuple[Counter[Any], Counter[Any]]:
    """(what a refusal reports for a small instance, the engine's errors of the whole)."""
    return (records(validator.first_violations(instance, 10**6, small=True)),
            records(validator.iter_violations(instance)))


# -- the bench body --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> tuple[sg.Guard, SchemaValidator]:
    guard = sg.Guard(ROOT / "specs" / "bench.yaml")
    guard.compile_all()
    plan = next(p for p in guard._plans.values() if p.operation.operation_id == "createPet")
    return guard, next(iter(plan.validators().bodies.values()))


def new_pet_invalid() -> Any:
    """The benchmarks' refused 1 KB body (benchmarks/bodies.py): four errors."""
    spec = importlib.util.spec_from_file_location("bench_bodies",
                                                  ROOT / "benchmarks" / "bodies.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.new_pet_invalid()


def test_the_bench_body_is_told_without_an_engine_error(
        bench: tuple[sg.Guard, SchemaValidator], monkeypatch: pytest.MonkeyPatch) -> None:
    guard, validator = bench
    body = new_pet_invalid()
    told, engine = told_and_engine(validator, body)
    assert told == engine
    assert sorted((pointer, keyword) for pointer, keyword, _, _ in told) == [
        ("/animal/good_with_kids", "type"), ("/owner/address/city", "required"),
        ("/vaccinations/1/date", "type"), ("/weight_kg", "maximum")]
    asked: list[Any] = []
    monkeypatch.setattr(SchemaValidator, "_errors",
                        lambda self, *args: asked.append(args) or iter(()))
    request = sg.HttpRequest("POST", "/v1/pets", "", [
        ("Content-Type", "application/json"), ("Authorization", "Bearer t0k3n")],
        orjson.dumps(body))
    with pytest.raises(sg.RequestValidationError) as caught:
        guard.check_request(request)
    assert len(caught.value.violations) == 4
    assert asked == []  # no engine error was made to tell them


def test_a_keyword_not_told_here_is_the_engines(
        bench: tuple[sg.Guard, SchemaValidator]) -> None:
    _, validator = bench
    body = new_pet_invalid()
    body["name"] = "9 lives"  # fails the name's pattern: only the engine runs patterns
    told, engine = told_and_engine(validator, body)
    assert told == engine
    assert ("/name", "pattern") in {(p, k) for p, k, _, _ in told}


# -- where the engine's reading is pinned ----------------------------------------------------


def test_a_required_name_that_is_not_allowed_is_reported_as_the_engine_does() -> None:
    # jsonschema-rs reports a required name that additionalProperties: false forbids as
    # missing even when it is there (no instance can hold both keywords). The body is
    # refused either way; the violations are the engine's, so it is left to the engine.
    validator = validator_for({"type": "object", "required": ["a"],
                               "additionalProperties": False})
    told, engine = told_and_engine(validator, {"a": 1})
    assert told == engine
    assert {(p, k) for p, k, _, _ in told} == {("/a", "additionalProperties"),
                                               ("/a", "required")}


def test_an_enum_of_objects_is_described_as_the_engine_does() -> None:
    # The engine's message lists an object option's keys sorted; it is left to the engine.
    validator = validator_for({"enum": [{"b": 1, "a": 2}]})
    told, engine = told_and_engine(validator, {"c": 3})
    assert told == engine
    assert [m for _, _, m, _ in told] == ['expected one of: {"a":2,"b":1}']


@pytest.mark.parametrize(("version", "refused"), [("3.0.3", True), ("3.1.0", False)])
def test_an_integral_float_against_integer_follows_the_draft(version: str,
                                                             refused: bool) -> None:
    # OAS 3.0 compiles to draft 4, where 2.0 is not an integer; 3.1 to 2020-12, where it is.
    validator = validator_for({"type": "object", "properties": {
        "n": {"type": "integer"}, "s": {"type": "string"}}}, version)
    instance = {"n": 2.0, "s": 1}
    told, engine = told_and_engine(validator, instance)
    assert told == engine
    assert (("/n", "type") in {(p, k) for p, k, _, _ in told}) is refused


def test_draft_4_exclusive_bounds_are_reported_at_their_flag() -> None:
    validator = validator_for({"type": "object", "properties": {
        "w": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10,
              "exclusiveMaximum": True}}}, "3.0.3")
    for value, keyword in ((0, "exclusiveMinimum"), (10, "exclusiveMaximum")):
        told, engine = told_and_engine(validator, {"w": value})
        assert told == engine
        assert [(p, k) for p, k, _, _ in told] == [("/w", keyword)]


def test_a_read_only_property_in_a_request_keeps_its_note() -> None:
    validator = validator_for({"type": "object", "properties": {
        "id": {"type": "string", "readOnly": True}, "name": {"type": "string"}}})
    told, engine = told_and_engine(validator, {"id": "x", "name": 3})
    assert told == engine
    assert {k for _, k, _, _ in told} == {"readOnly", "type"}


@pytest.mark.parametrize("closed", [False, True], ids=["declared", "closed"])
def test_a_response_body_is_told_as_the_engine_reports_it(closed: bool) -> None:
    # Response validation asks the same question (location "response"): a writeOnly
    # property is excessive data exposure, and a closed schema (response scanning) refuses
    # what the spec does not declare.
    doc = spec_for({"type": "object", "properties": {
        "id": {"type": "integer", "minimum": 1}, "secret": {"type": "string", "writeOnly": True},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}}}})
    validator = compile_at(sg.load_spec(doc), BODY, context="response", closed=closed)
    instance = {"id": 0, "secret": "s3cr3t", "tags": ["ok", "toolong"], "extra": True}
    told = validator.first_violations(instance, 20, location="response", small=True)
    assert records(told) == records(validator.iter_violations(instance, location="response"))
    assert {v.location for v in told} == {"response"}
    keywords = {(v.pointer, v.keyword) for v in told}
    assert {("/id", "minimum"), ("/tags/1", "maxLength")} <= keywords
    assert any(pointer == "/secret" for pointer, _ in keywords)
    assert any(pointer == "/extra" for pointer, _ in keywords) is closed


def test_int32_bounds_keep_their_note() -> None:
    validator = validator_for({"type": "object", "properties": {
        "n": {"type": "integer", "format": "int32"}}}, "3.0.3")
    told, engine = told_and_engine(validator, {"n": 2**31})
    assert told == engine
    assert len(told) == 1


def test_huge_integers_are_compared_by_the_engine() -> None:
    validator = validator_for({"type": "object", "properties": {
        "n": {"type": "integer", "maximum": 2**60}, "m": {"type": "number", "minimum": 0}}})
    told, engine = told_and_engine(validator, {"n": 2**60 + 1, "m": -(2**62)})
    assert told == engine
    assert {(p, k) for p, k, _, _ in told} == {("/n", "maximum"), ("/m", "minimum")}


@pytest.mark.parametrize("told", [True, False], ids=["told", "engine"])
def test_a_bound_beyond_64_bits_is_named_in_its_violation(told: bool) -> None:
    # orjson writes no integer beyond 64 bits: the message was a TypeError (a 500) whichever
    # path built it, until the limit was written by str().
    validator = validator_for({"type": "object", "properties": {
        "n": {"type": "integer", "maximum": 10**20},
        "e": {"enum": ["x", 10**21]}}})
    instance = {"n": 10**20 + 1, "e": "y"} if told else {"n": 10**21}
    violations = validator.first_violations(instance, 20, small=True)
    assert records(violations) == records(validator.iter_violations(instance))
    messages = {v.pointer: v.message for v in violations}
    assert messages["/n"] == "expected a number <= 100000000000000000000"
    if told:
        assert messages["/e"] == 'expected one of: "x", 1000000000000000000000'


# -- side by side on generated schemas -------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "c", "d~x", "e/y"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                     st.sampled_from([0.5, 2.0, -1.0, 2**53 + 1, -(2**63), 1e300]),
                     st.sampled_from(["", "x", "xy", "ÿ€😀", "abc"]))


@st.composite
def told_schemas(draw: st.DrawFn, version: str, depth: int = 2) -> Any:
    """Schemas made mostly of the keywords _explain tells, with some it does not."""
    kinds = ["scalar", "object", "array"] if depth > 0 else ["scalar"]
    kind = draw(st.sampled_from(kinds))
    if kind == "object":
        names = draw(st.lists(_NAMES, max_size=3, unique=True))
        node: dict[str, Any] = {"type": "object", "properties": {
            name: draw(told_schemas(version, depth - 1)) for name in names}}
        if names and draw(st.booleans()):
            node["required"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        extra = draw(st.sampled_from(["absent", "false", "true", "schema"]))
        if extra == "false":
            node["additionalProperties"] = False
        elif extra == "true":
            node["additionalProperties"] = True
        elif extra == "schema":
            node["additionalProperties"] = draw(told_schemas(version, 0))
        for key in ("minProperties", "maxProperties"):
            if draw(st.integers(0, 3)) == 0:
                node[key] = draw(st.integers(0, 3))
        return node
    if kind == "array":
        node = {"type": "array", "items": draw(told_schemas(version, depth - 1))}
        for key in ("minItems", "maxItems"):
            if draw(st.integers(0, 3)) == 0:
                node[key] = draw(st.integers(0, 3))
        if draw(st.integers(0, 3)) == 0:
            node["uniqueItems"] = True
        return node
    node = {}
    if draw(st.booleans()):
        node["type"] = draw(st.sampled_from(["string", "integer", "number", "boolean"]))
    if version == "3.0.3" and draw(st.integers(0, 3)) == 0:
        node["nullable"] = True
    for key in ("minimum", "maximum"):
        if draw(st.integers(0, 2)) == 0:
            node[key] = draw(st.sampled_from([0, 1, 2.5, -3, 2**53, 10**20]))
            flag = "exclusiveMinimum" if key == "minimum" else "exclusiveMaximum"
            if draw(st.integers(0, 2)) == 0:
                node[flag] = True if version == "3.0.3" else node.pop(key)
    for key in ("minLength", "maxLength"):
        if draw(st.integers(0, 3)) == 0:
            node[key] = draw(st.integers(0, 3))
    if draw(st.integers(0, 4)) == 0:
        node["enum"] = draw(st.lists(_SCALARS, min_size=1, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        node[draw(st.sampled_from(["pattern", "multipleOf", "format", "readOnly"]))] = \
            draw(st.sampled_from(["^a", 2, "email", True]))
    return node


def _valid_spec_schema(node: Any) -> Any:
    """Keep the odd keyword a generated scalar drew where its value is one the spec allows."""
    if isinstance(node, dict):
        out = {k: _valid_spec_schema(v) for k, v in node.items()}
        for key, kinds in (("pattern", str), ("multipleOf", int), ("format", str),
                           ("readOnly", bool)):
            if key in out and not isinstance(out[key], kinds):
                del out[key]
        if "properties" in node:
            out["properties"] = {k: _valid_spec_schema(v) for k, v in node["properties"].items()}
        return out
    return node


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), version=st.sampled_from(["3.0.3", "3.1.0"]))
def test_told_violations_are_the_engines(data: st.DataObject, version: str) -> None:
    schema = _valid_spec_schema(data.draw(told_schemas(version)))
    try:
        validator = validator_for(schema, version)
    except sg.SpecError:
        assume(False)
        return
    instance = data.draw(st.one_of(from_schema(schema), json_values(), _SCALARS,
                                   st.dictionaries(_NAMES, _SCALARS, max_size=4),
                                   st.lists(_SCALARS, max_size=4)))
    assume(not twin_paths(instance))
    if validator.is_valid(instance):
        event("valid")
        return
    event("invalid")
    told, engine = told_and_engine(validator, instance)
    assert told == engine
