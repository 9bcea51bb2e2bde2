"""The locator (_locate.py): the first violations of a big invalid body at a bounded cost.

The engine builds every error of an instance before the first can be read; a discriminated
``oneOf`` item costs ~100 µs to report, so a 50 KB array of 5,000 of them took half a second
(bad-inputs P55: "<= 20 errors, response < 16 KB, <= 50 ms"). Big bodies are now split into
parts checked one by one until enough violations are found. What matters:

* the cost no longer grows with the number of bad items (P55, for bodies under the 64 KB at
  which arrays used to be truncated, and for shapes truncation never bounded: nested arrays,
  maps);
* the violations are exactly the engine's: the same records, only the order differs (a
  property test with every part split, on generated discriminated and plain schemas).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import schemaguard as sg
from schemaguard import _locate
from schemaguard._schema import SchemaValidator, compile_at
from strategies import body_specs, from_schema, json_values, schemas, twin_paths

BRANCHES = {
    "A": {"type": "object", "required": ["t", "qty"], "additionalProperties": False,
          "properties": {"t": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}},
    "B": {"type": "object", "required": ["t", "b"], "additionalProperties": False,
          "properties": {"t": {"type": "string"}, "b": {"type": "string"}}},
    "C": {"type": "object", "required": ["t", "c"], "additionalProperties": False,
          "properties": {"t": {"type": "string"}, "c": {"type": "boolean"}}},
}
ITEM = {"$ref": "#/components/schemas/Item"}
BODIES = {
    "array": {"type": "array", "items": ITEM},
    "wrapped": {"type": "object", "required": ["orders"],
                "properties": {"orders": {"type": "array", "items": ITEM}}},
    "nested": {"type": "array", "items": {"type": "array", "items": ITEM}},
    "map": {"type": "object", "additionalProperties": ITEM},
}


def union_spec(body: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/orders": {"post": {
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": body}}},
            "responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": {
            **BRANCHES,
            "Item": {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in BRANCHES],
                     "discriminator": {"propertyName": "t"}},
        }},
    }


def hostile(shape: str, item: dict[str, Any]) -> Any:
    """A body just under 60 KB holding thousands of failing items, in ``shape``."""
    count = 60_000 // (len(json.dumps(item, separators=(",", ":"))) + 8)
    if shape == "array":
        return [item] * count
    if shape == "wrapped":
        return {"orders": [item] * count}
    if shape == "nested":
        return [[item] * (count // 20) for _ in range(20)]
    return {f"k{i}": item for i in range(count)}


def refuse(guard: sg.Guard, body: bytes) -> tuple[sg.RequestError, float]:
    """The refusal of ``body`` and the best of three times it took (ms)."""
    request = sg.HttpRequest("POST", "/orders", "", [("Content-Type", "application/json")],
                             body)
    best, error = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        try:
            guard.check_request(request)
        except sg.RequestError as exc:
            error = exc
        best = min(best, (time.perf_counter() - start) * 1000)
    assert error is not None, "the hostile body was accepted"
    return error, best


# bad-inputs L12: nothing is offloaded, so per-request CPU stays <= 50 ms (also below).
@pytest.mark.parametrize("shape", sorted(BODIES))
@pytest.mark.parametrize(("item", "pointer", "keyword"), [
    ({"t": "A"}, "/qty", "required"),  # the selected branch fails
    ({"t": "A", "qty": 0}, "/qty", "minimum"),
    ({"t": "Z"}, "/t", "discriminator"),  # no branch selected
])
def test_p55_error_work_is_bounded_below_the_truncation_size(
        shape: str, item: dict[str, Any], pointer: str, keyword: str) -> None:
    guard = sg.Guard(union_spec(BODIES[shape]))
    body = json.dumps(hostile(shape, item), separators=(",", ":")).encode()
    assert len(body) < 64 * 1024  # under the size at which arrays are truncated
    error, ms = refuse(guard, body)
    assert error.status_code == 400
    assert len(error.violations) == 20
    first = error.violations[0]
    prefix = {"array": "/0", "wrapped": "/orders/0", "nested": "/0/0", "map": "/k0"}[shape]
    assert (first.pointer, first.keyword) == (prefix + pointer, keyword)
    assert len(json.dumps(error.to_problem()).encode()) < 16 * 1024
    assert ms <= 50, f"{ms:.1f} ms to refuse {len(body)} bytes"  # was ~500 ms


def test_one_bad_item_among_many_is_found_with_all_its_violations() -> None:
    guard = sg.Guard(union_spec(BODIES["wrapped"]))
    items: list[Any] = [{"t": "B", "b": "x"}] * 3_000
    items[2_345] = {"t": "C", "c": "yes", "extra": 1}
    error, _ = refuse(guard, json.dumps({"orders": items}).encode())
    found = {(v.pointer, v.keyword) for v in error.violations}
    assert found == {("/orders/2345/c", "type"), ("/orders/2345/extra", "additionalProperties")}
    schema_pointers = {v.schema_pointer for v in error.violations}
    assert schema_pointers == {"/components/schemas/C/properties/c/type",
                               "/components/schemas/C/additionalProperties"}


def test_every_failing_value_of_a_discriminated_branch_is_reported() -> None:
    spec = union_spec(BODIES["array"])
    spec["components"]["schemas"]["A"]["properties"].update(
        {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}})
    error, _ = refuse(sg.Guard(spec), json.dumps(
        [{"t": "A", "qty": 1, "a": "x", "b": 2, "c": 3}]).encode())
    assert [(v.pointer, v.keyword) for v in error.violations] == [
        ("/0/a", "type"), ("/0/b", "type"), ("/0/c", "type")]


def test_the_object_own_keywords_and_its_values_are_both_reported() -> None:
    body = {"type": "object", "required": ["orders", "note"], "additionalProperties": False,
            "properties": {"orders": {"type": "array", "items": ITEM, "maxItems": 100},
                           "note": {"type": "string"}}}
    guard = sg.Guard(union_spec(body))
    instance = {"orders": [{"t": "B", "b": "x"}] * 150 + [{"t": "B"}], "stray": 1}
    error, _ = refuse(guard, json.dumps(instance).encode())
    assert Counter((v.pointer, v.keyword) for v in error.violations) == Counter({
        ("/note", "required"): 1, ("/stray", "additionalProperties"): 1,
        ("/orders", "maxItems"): 1, ("/orders/150/b", "required"): 1})


# -- the same records as the engine ----------------------------------------------------------


def records(violations: Any) -> Counter[tuple[str, str, str, str]]:
    return Counter((v.pointer, v.keyword, v.message, v.schema_pointer) for v in violations)


def both(validator: SchemaValidator, instance: Any) -> tuple[Counter[Any], Counter[Any]]:
    """(the locator's violations with every part split, the engine's for the whole)."""
    assume(not twin_paths(instance))  # the engine's path cannot tell the places apart
    whole = records(validator.iter_violations(instance))
    if not whole:
        return whole, whole
    split = records(validator.first_violations(instance, 10**6))
    return split, whole


_SPLIT_KEYWORDS = ("type", "properties", "required", "additionalProperties", "items",
                   "minItems", "maxItems", "uniqueItems")


def splittable(schema: Any) -> Any:
    """``schema`` with its object and array schemas reduced to what the locator splits
    (generated schemas mostly carry other keywords, which make a part a leaf)."""
    if not isinstance(schema, dict):
        return schema
    if not ({"properties", "items"} & schema.keys()):
        return schema
    out = {k: v for k, v in schema.items() if k in _SPLIT_KEYWORDS}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k.replace("~", "").replace("/", ""): splittable(v)
                             for k, v in out["properties"].items()}
        out["type"] = "object"
        out.pop("items", None)
    elif "items" in out:
        out["type"] = "array"
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = splittable(out[key])
    return out


def body_validator(spec: dict[str, Any], pointer: str = "/components/schemas/Body"
                   ) -> SchemaValidator | None:
    """The request-context validator of the schema at ``pointer`` (None: a spec the
    generator made that cannot be loaded)."""
    try:
        return compile_at(sg.load_spec(spec), pointer, context="request")
    except sg.SpecError:
        return None


def assert_twins(validator: SchemaValidator | None, instance: Any) -> None:
    """The locator finds the engine's violations of ``instance``."""
    if validator is None:
        return
    split, whole = both(validator, instance)
    event("invalid" if whole else "valid")
    assert split == whole


@pytest.fixture(params=[0, _locate.SMALL], ids=["split-all", "split-default"])
def split_everything(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part split (no part is small), or the default: parts reaching a discriminator
    split whatever their size, small ones left to the engine."""
    monkeypatch.setattr(_locate, "SMALL", request.param)


@st.composite
def union_specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A spec whose body holds discriminated unions of generated object schemas, and the
    branch schemas (by name) instances are shaped from."""
    version, dialect = draw(st.sampled_from([("3.0.3", "oas30"), ("3.1.0", "oas31")]))
    tag = draw(st.sampled_from(["t", "kind"]))
    branches: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 3))):
        drawn = draw(schemas(dialect, combinators=False, depth=2))
        if draw(st.booleans()):
            drawn = splittable(drawn)
        schema = dict(drawn) if isinstance(drawn, dict) else {}
        schema["type"] = "object"
        schema["properties"] = {**(schema.get("properties") or {}), tag: {"type": "string"}}
        schema["required"] = sorted({tag, *draw(st.lists(st.sampled_from(
            sorted(schema["properties"])), max_size=2))})
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        if draw(st.booleans()):
            schema["properties"]["secret"] = {"type": "string", "readOnly": True}
        branches[f"Br{index}"] = schema
    discriminator: dict[str, Any] = {"propertyName": tag}
    if draw(st.booleans()):
        discriminator["mapping"] = {f"v{i}": f"#/components/schemas/{name}"
                                    for i, name in enumerate(branches)}
    union = {draw(st.sampled_from(["oneOf", "anyOf"])): [
        {"$ref": f"#/components/schemas/{name}"} for name in branches],
        "discriminator": discriminator}
    item = {"$ref": "#/components/schemas/Union"}
    body = draw(st.sampled_from([
        {"type": "array", "items": item, "maxItems": 6},
        {"type": "object", "properties": {"u": item, "list": {"type": "array", "items": item,
                                                              "uniqueItems": True},
                                          # plain properties beside the unions (the rest)
                                          "n": {"type": "integer", "maximum": 5},
                                          "note": {"type": "object", "required": ["a"],
                                                   "properties": {"a": {"type": "string"}}}},
         "required": ["u"]},
        {"type": "object", "additionalProperties": item, "maxProperties": 5},
        {"type": "array", "items": {"type": "array", "items": item}},
    ]))
    spec = {
        "openapi": version, "info": {"title": "t", "version": "1"}, "paths": {},
        "components": {"schemas": {**branches, "Union": union, "Body": body}},
    }
    values = list(discriminator.get("mapping") or branches)
    return spec, {"tag": tag, "values": values, "branches": branches}


@st.composite
def union_instances(draw: st.DrawFn, made: dict[str, Any]) -> Any:
    tag, values, branches = made["tag"], made["values"], made["branches"]

    def item() -> Any:
        name = draw(st.sampled_from(sorted(branches)))
        value = draw(from_schema(branches[name]))
        if isinstance(value, dict):
            value = dict(value)
            choice = draw(st.integers(0, 9))
            if choice < 7:
                value[tag] = draw(st.sampled_from(values))
            elif choice < 9:
                value[tag] = draw(st.sampled_from(["nope", 3]))
            else:
                value.pop(tag, None)
            names = sorted(branches[name].get("properties") or {})
            for key in draw(st.lists(st.sampled_from(names), max_size=2)) if names else ():
                value[key] = draw(json_values(3))  # most often a wrong value
        return value

    def items() -> list[Any]:
        return [item() for _ in range(draw(st.integers(0, 7)))]

    return draw(st.sampled_from([
        items(),
        {"u": item(), "list": items(), **draw(st.dictionaries(
            st.sampled_from(["n", "note"]), json_values(2), max_size=2))},
        {f"k{i}": item() for i in range(draw(st.integers(0, 7)))},
        [items() for _ in range(draw(st.integers(0, 3)))],
        draw(json_values()),
    ]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), made=union_specs())
def test_split_violations_are_the_engines_for_discriminated_unions(
        split_everything: None, data: st.DataObject,
        made: tuple[dict[str, Any], dict[str, Any]]) -> None:
    spec, shape = made
    assert_twins(body_validator(spec), data.draw(union_instances(shape)))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), made=body_specs())
def test_split_violations_are_the_engines_for_generated_schemas(
        split_everything: None, data: st.DataObject, made: tuple[dict[str, Any], Any]) -> None:
    spec, schema = made
    if data.draw(st.booleans()):
        schema = splittable(schema)
        content = spec["paths"]["/x"]["post"]["requestBody"]["content"]
        content["application/json"]["schema"] = schema
    validator = body_validator(
        spec, "/paths/~1x/post/requestBody/content/application~1json/schema")
    assert_twins(validator, data.draw(st.one_of(from_schema(schema), json_values())))


def test_small_counts_containers_until_it_knows() -> None:
    assert _locate.small(1)
    assert _locate.small([])
    assert _locate.small({"a": [1, 2]})
    assert _locate.small([[]] * 63)
    assert not _locate.small([[]] * 64)
    assert not _locate.small({"a": [[[]]]}, limit=3)
    assert _locate.small({"a": [[]]}, limit=3)


@st.composite
def compositions(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A spec whose body schema is an allOf / oneOf / anyOf of generated schemas (some behind
    a $ref, a 3.1 $ref sometimes beside other keywords), and a schema to shape instances."""
    version, dialect = draw(st.sampled_from([("3.0.3", "oas30"), ("3.1.0", "oas31")]))
    members = draw(st.lists(schemas(dialect, combinators=False, depth=2), min_size=1,
                            max_size=3))
    members = [splittable(m) if draw(st.booleans()) else m for m in members]
    components = {f"M{i}": m for i, m in enumerate(members)}
    refs = [{"$ref": f"#/components/schemas/M{i}"} if draw(st.booleans()) else m
            for i, m in enumerate(members)]
    keyword = draw(st.sampled_from(["allOf", "oneOf", "anyOf"]))
    body: dict[str, Any] = {keyword: refs}
    if draw(st.booleans()):
        body["type"] = draw(st.sampled_from(["object", "array", ["object", "array"]]))
    if keyword == "allOf" and draw(st.booleans()):
        body.update(draw(st.sampled_from([
            {"required": ["a"]}, {"properties": {"b": {"type": "integer"}}},
            {"items": {"type": "string"}, "maxItems": 3}])))
        if dialect == "oas31" and draw(st.booleans()):
            body["$ref"] = "#/components/schemas/M0"
    spec = {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {**components, "Body": body}}}
    return spec, draw(st.sampled_from(members))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), made=compositions())
def test_split_violations_are_the_engines_for_compositions(
        split_everything: None, data: st.DataObject, made: tuple[dict[str, Any], Any]) -> None:
    spec, shape = made
    assert_twins(body_validator(spec), data.draw(st.one_of(from_schema(shape), json_values())))


# bad-inputs L12: per-request CPU <= 50 ms.
@pytest.mark.parametrize("keyword", ["oneOf", "anyOf"])
def test_p55_undiscriminated_unions_are_bounded_too(keyword: str) -> None:
    spec = union_spec({"type": "array", "items": {keyword: [
        {"$ref": f"#/components/schemas/{name}"} for name in BRANCHES]}})
    item = {"t": "A"}  # matches no branch
    error, ms = refuse(sg.Guard(spec), json.dumps(hostile("array", item)).encode())
    assert len(error.violations) == 20
    assert {(v.keyword, v.pointer) for v in error.violations[:2]} == {
        (keyword, "/0"), (keyword, "/1")}
    assert ms <= 50, f"{ms:.1f} ms"


# bad-inputs L12: per-request CPU <= 50 ms.
def test_p55_bodies_composed_with_allof_are_bounded_too() -> None:
    spec = union_spec({"allOf": [{"$ref": "#/components/schemas/Base"}, BODIES["wrapped"]]})
    spec["components"]["schemas"]["Base"] = {"type": "object", "required": ["id"]}
    error, ms = refuse(sg.Guard(spec), json.dumps({"id": 1, **hostile("wrapped", {"t": "A"})})
                       .encode())
    assert len(error.violations) == 20
    assert error.violations[0].pointer == "/orders/0/qty"
    assert ms <= 50, f"{ms:.1f} ms"


def test_each_schema_is_compiled_once_for_all_the_places_that_reach_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine compiles everything a validator reaches (~1 MB for a schema reaching 85
    others), so the locator's validators are kept per schema, whatever reaches it."""
    from schemaguard._compile import Compiler

    built: list[tuple[str, str]] = []
    engine = Compiler._engine

    def counting(self: Compiler, reachable: Any, def_id: str, path: str, formats: Any) -> Any:
        built.append((def_id, path))
        return engine(self, reachable, def_id, path, formats)

    monkeypatch.setattr(Compiler, "_engine", counting)
    body = {"type": "object", "properties": {"a": BODIES["array"], "b": BODIES["array"]}}
    guard = sg.Guard(union_spec(body))
    payload = json.dumps({"a": [{"t": "A"}] * 100, "b": [{"t": "B"}] * 100}).encode()
    refuse(guard, payload)
    assert len(built) == len(set(built))  # nothing compiled twice
    first = len(built)
    refuse(sg.Guard(union_spec(body)), payload)  # another guard: its own compilers
    assert len(built) == 2 * first
    refuse(guard, payload)
    assert len(built) == 2 * first  # the first guard kept what it built


@pytest.mark.parametrize("keyword", ["oneOf", "anyOf"])
def test_a_union_that_holds_is_never_reported(split_everything: None, keyword: str) -> None:
    """The locator is asked only about failing parts, but it infers nothing it can check:
    a union that holds yields no violation even when asked."""
    spec = union_spec({keyword: [{"$ref": f"#/components/schemas/{name}"}
                                 for name in BRANCHES]})
    validator = body_validator(spec, "/paths/~1orders/post/requestBody/content/"
                                     "application~1json/schema")
    assert validator is not None
    valid = {"t": "A", "qty": 1}
    assert validator.is_valid(valid)
    assert validator.first_violations(valid, 20) == []
    assert [(v.pointer, v.keyword) for v in validator.first_violations({"t": "A"}, 20)] == [
        ("", keyword)]


# A big list that fails its array's own keywords: the engine's error would hold the whole list
# converted back to Python (bad-inputs L12: a 1 MiB body held the event loop ~45 ms), so the
# keywords are read off the list; the violations stay the engine's.
@pytest.mark.parametrize("dialect", ["3.0.3", "3.1.0"])
@pytest.mark.parametrize(("keywords", "items"), [
    ({"uniqueItems": True}, [{"n": i} for i in range(5_000)] + [{"n": 0}]),
    ({"maxItems": 100}, [{"n": i} for i in range(5_000)]),
    ({"minItems": 6_000, "uniqueItems": True}, [{"n": 1}] * 5_000),
    ({"minItems": 2, "maxItems": 10, "uniqueItems": True},
     [{"n": i} for i in range(5_000)]),
    ({"maxItems": 2.0}, [{"n": i} for i in range(5_000)]),  # the engine reads 2
], ids=["unique", "max", "min-and-unique", "max-only-of-three", "integral-float"])
def test_a_big_list_failing_its_own_keywords_is_reported_as_the_engine_would(
        dialect: str, keywords: dict[str, Any], items: list[Any]) -> None:
    if dialect == "3.0.3" and any(type(v) is float for v in keywords.values()):
        pytest.skip("draft 4 (OAS 3.0) refuses a count that is not an integer literal")
    spec = {"openapi": dialect, "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"Body": {"type": "object", "properties": {"list": {
                "type": "array", **keywords, "items": {
                    "type": "object", "properties": {"n": {"type": "integer"}}}}}}}}}
    validator = body_validator(spec)
    assert validator is not None
    instance = {"list": items}
    whole = records(validator.iter_violations(instance))
    assert whole
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        found = validator.first_violations(instance, 20)
        best = min(best, (time.perf_counter() - start) * 1000)
    assert records(found) == whole
    assert best <= 50, f"{best:.0f} ms"


def test_a_small_object_beside_a_union_is_reported_at_once_with_the_selected_branch(
        ) -> None:
    """A small object whose properties include a discriminated union: its other properties'
    violations come from one engine call (the 'rest'), the union's from its selected
    branch; together they are the engine's violations of the whole."""
    body = {"type": "object", "required": ["item", "count", "owner"],
            "properties": {"item": ITEM, "count": {"type": "integer", "maximum": 10},
                           "owner": {"type": "object", "required": ["city"],
                                     "properties": {"city": {"type": "string"}}}}}
    validator = body_validator(union_spec(body), "/paths/~1orders/post/requestBody/content/"
                                                 "application~1json/schema")
    assert validator is not None
    instance = {"item": {"t": "A", "qty": 0}, "count": 11, "owner": {}}
    calls: list[str] = []
    leaf = validator._errors

    def counting(engine: Any, value: Any, prefix: str, *rest: Any) -> Any:
        calls.append(prefix)
        return leaf(engine, value, prefix, *rest)

    located = list(validator._locator.violations(instance, "body", None, counting,
                                                 validator._pruned_errors, True))
    assert records(located) == records(validator.iter_violations(instance))
    assert {(v.pointer, v.keyword) for v in located} == {
        ("/item/qty", "minimum"), ("/count", "maximum"), ("/owner/city", "required")}
    assert calls == ["", "/item"]  # the rest at once, then the selected branch
