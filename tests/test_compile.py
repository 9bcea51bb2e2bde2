"""The OAS rewrite in front of the engine, as a user of compile_schema sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import schemaguard as sg
from schemaguard._compile import LENGTH_GUARD, length_guarded

SPECS = Path(__file__).parent.parent / "specs"


def violations(validator: sg.SchemaValidator, instance: Any) -> list[tuple[str, str]]:
    return [(v.pointer, v.keyword) for v in validator.iter_violations(instance)]


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"type": "integer", "nullable": True}, None, True),
        ({"type": "string", "nullable": True, "maxLength": 2}, None, True),
        # OAS 3.0.3 §4.7.24.1 (clarified): nullable only widens `type`; enum keeps its meaning.
        ({"type": "string", "nullable": True, "enum": ["a"]}, None, False),
        ({"type": "string", "nullable": True, "enum": ["a", None]}, None, True),
        # Without `type` in the same schema object nullable adds nothing.
        ({"nullable": True, "enum": ["a"]}, None, False),
        # nullable does not reach through allOf.
        ({"allOf": [{"type": "string", "nullable": True}], "type": "string"}, None, False),
        ({"type": "string", "nullable": False}, None, False),
    ],
    ids=["type+nullable", "constraints-ignore-null", "enum-without-null", "enum-with-null",
         "no-type", "not-through-allOf", "nullable-false"],
)
def test_nullable_follows_oas_303(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    assert sg.compile_schema(schema, dialect="oas30").is_valid(instance) is valid


@pytest.mark.parametrize(
    ("dialect", "valid"),
    [("draft4", False), ("oas30", False), ("draft2020-12", True), ("oas31", True)],
)
def test_one_point_zero_is_an_integer_only_in_2020_12_dialects(dialect: Any, valid: bool) -> None:
    assert sg.compile_schema({"type": "integer"}, dialect=dialect).is_valid(1.0) is valid


@pytest.mark.parametrize("dialect", ["draft4", "oas30", "draft2020-12", "oas31"])
@pytest.mark.parametrize(
    "instance", [True, False, float("nan"), float("inf"), float("-inf")],
    ids=["true", "false", "nan", "inf", "-inf"],
)
def test_booleans_and_non_finite_floats_are_never_numbers(dialect: Any, instance: Any) -> None:
    validator = sg.compile_schema({"type": "number"}, dialect=dialect)
    assert not validator.is_valid(instance)


def test_big_integers_compare_exactly() -> None:
    validator = sg.compile_schema({"type": "integer", "maximum": 2**64}, dialect="oas31")
    assert validator.is_valid(2**64)
    assert not validator.is_valid(2**64 + 1)
    assert not validator.is_valid(10**30)


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("int32", 2**31 - 1, 2**31),
        ("int32", -(2**31), -(2**31) - 1),
        ("int64", 2**63 - 1, 2**63),
    ],
    ids=["int32-max", "int32-min", "int64-max"],
)
@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_integer_formats_are_bounds(dialect: Any, fmt: str, good: int, bad: int) -> None:
    validator = sg.compile_schema({"type": "integer", "format": fmt}, dialect=dialect)
    assert validator.is_valid(good)
    [violation] = validator.iter_violations(bad)
    assert (violation.keyword, violation.pointer) == ("format", "")
    assert violation.schema_pointer == "/format"
    assert violation.message.startswith(f"expected an {fmt} integer")


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("byte", "aGVsbG8=", "hello!"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
        ("date", "2024-02-29", "2023-02-29"),
        ("date-time", "2024-01-01T00:00:00Z", "2024-01-01 00:00"),
        ("email", "a@example.com", "a.example.com"),
        ("ipv4", "192.0.2.1", "192.0.2.256"),
        ("ipv6", "2001:db8::1", "2001:db8:::1"),
        ("hostname", "api.example.com", "-bad-.example"),
        ("uri", "https://example.com/x", "not a uri"),
        ("time", "12:00:00Z", "25:00:00Z"),
    ],
)
@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_oas_formats_are_asserted(dialect: Any, fmt: str, good: str, bad: str) -> None:
    validator = sg.compile_schema({"type": "string", "format": fmt}, dialect=dialect)
    assert validator.is_valid(good)
    assert violations(validator, bad) == [("", "format")]


@pytest.mark.parametrize("dialect", ["draft4", "draft2020-12"])
def test_plain_dialects_treat_formats_as_annotations(dialect: Any) -> None:
    assert sg.compile_schema({"format": "email"}, dialect=dialect).is_valid("nope")


def test_user_formats_are_asserted_in_plain_dialects() -> None:
    validator = sg.compile_schema(
        {"format": "even-length"}, formats={"even-length": lambda s: len(s) % 2 == 0}
    )
    assert validator.is_valid("ab")
    assert violations(validator, "abc") == [("", "format")]


def test_unknown_formats_are_ignored() -> None:
    assert sg.compile_schema({"type": "string", "format": "ssn"}, dialect="oas31").is_valid("x")


REF_SIBLING = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {},
    "components": {"schemas": {"Name": {"type": "string"}}},
}


def test_ref_siblings_are_ignored_in_30_and_applied_in_31() -> None:
    schema = {"$ref": "#/components/schemas/Name", "maxLength": 2}
    spec30 = sg.load_spec(REF_SIBLING)
    spec31 = sg.load_spec({**REF_SIBLING, "openapi": "3.1.0"})
    assert sg.compile_schema(schema, dialect="oas30", spec=spec30).is_valid("long")
    assert not sg.compile_schema(schema, dialect="oas31", spec=spec31).is_valid("long")


@pytest.fixture(scope="module")
def f_spec() -> sg.Spec:
    return sg.load_spec(SPECS / "F.yaml")


def test_read_only_properties_are_rejected_in_requests(f_spec: sg.Spec) -> None:
    validator = sg.compile_schema({"$ref": "#/components/schemas/UserCreate"}, dialect="oas31",
                                  context="request", spec=f_spec)
    body = {"name": "bob", "email": "bob@example.com"}
    assert validator.is_valid(body)
    [violation] = validator.iter_violations({**body, "id": 7})
    assert violation.pointer == "/id"
    assert violation.keyword == "readOnly"
    assert violation.schema_pointer == "/components/schemas/UserCreate/properties/id/readOnly"


def test_write_only_properties_are_violations_in_responses(f_spec: sg.Spec) -> None:
    validator = sg.compile_schema({"$ref": "#/components/schemas/User"}, dialect="oas31",
                                  context="response", spec=f_spec)
    assert validator.is_valid({"id": 1, "name": "a"})
    assert violations(validator, {"id": 1, "name": "a", "password": "x"}) == [
        ("/password", "writeOnly")
    ]


def test_read_only_required_properties_are_not_required_in_requests() -> None:
    schema = {"type": "object", "required": ["id", "name"],
              "properties": {"id": {"type": "integer", "readOnly": True}, "name": {}}}
    request = sg.compile_schema(schema, dialect="oas31", context="request")
    response = sg.compile_schema(schema, dialect="oas31", context="response")
    plain = sg.compile_schema(schema, dialect="oas31")
    assert request.is_valid({"name": "x"})
    assert violations(response, {"name": "x"}) == [("/id", "required")]
    assert plain.is_valid({"id": 1, "name": "x"})


def test_read_only_through_a_ref_is_honoured() -> None:
    spec = sg.load_spec({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
        "components": {"schemas": {
            "Id": {"type": "integer", "readOnly": True},
            "Thing": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}},
        }},
    })
    validator = sg.compile_schema({"$ref": "#/components/schemas/Thing"}, dialect="oas30",
                                  context="request", spec=spec)
    assert violations(validator, {"id": 1}) == [("/id", "readOnly")]


@pytest.fixture(scope="module", params=["discriminator.yaml", "discriminator-3.1.yaml"])
def pets(request: pytest.FixtureRequest) -> sg.SchemaValidator:
    spec = sg.load_spec(SPECS / request.param)
    return sg.compile_schema({"$ref": "#/components/schemas/Pet"}, dialect=spec.dialect,
                             context="request", spec=spec)


def test_discriminator_reports_the_selected_branch_only(pets: sg.SchemaValidator) -> None:
    found = violations(pets, {"petType": "dog", "name": "Rex"})
    assert found == [("/packSize", "required")]


def test_discriminator_explicit_mapping_value_selects_its_schema(pets: sg.SchemaValidator) -> None:
    # `gecko` maps to Lizard, whose name differs from the value.
    assert violations(pets, {"petType": "gecko", "name": "Liz"}) == [("/lengthCm", "required")]
    assert pets.is_valid({"petType": "gecko", "name": "Liz", "lengthCm": 12})


def test_discriminator_unmapped_value_fails_with_one_violation(pets: sg.SchemaValidator) -> None:
    # OAS 3.1.0 §4.8.25: "no schema can be determined and validation SHOULD fail".
    [violation] = pets.iter_violations({"petType": "zebra", "name": "Z"})
    assert (violation.pointer, violation.keyword) == ("/petType", "discriminator")
    assert violation.schema_pointer == "/components/schemas/Pet/discriminator"
    assert "zebra" not in violation.message


def test_discriminator_missing_property_is_required(pets: sg.SchemaValidator) -> None:
    assert violations(pets, {"name": "x"}) == [("/petType", "required")]


def test_discriminator_without_mapping_uses_component_names() -> None:
    spec = sg.load_spec(SPECS / "discriminator.yaml")
    shapes = sg.compile_schema({"$ref": "#/components/schemas/Shape"}, dialect="oas30",
                               spec=spec)
    assert shapes.is_valid({"shapeType": "Circle", "radius": 1})
    assert not shapes.is_valid({"shapeType": "circle", "radius": 1})
    assert violations(shapes, {"shapeType": "Square", "radius": 1})[0][1] in {
        "required", "additionalProperties"}


def test_violations_point_into_the_referenced_file() -> None:
    spec = sg.load_spec(SPECS / "multifile" / "openapi.yaml")
    validator = sg.compile_schema({"$ref": "schemas/pet.yaml#/NewPet"}, dialect="oas30",
                                  context="request", spec=spec)
    bad = next(iter(validator.iter_violations({})))
    assert bad.schema_pointer.startswith("schemas/pet.yaml#/NewPet")


@pytest.mark.parametrize(
    ("pattern", "matches", "rejects"),
    [
        (r"^\d{5}$", "12345", "١٢٣٤٥"),
        (r"^\w+$", "abc_1", "é"),
        (r"^[a-z]+$", "abc", "abc\n"),
        (r"^a.c$", "abc", "a\nc"),
        (r"^[^]$", "\n", ""),
        (r"^(?=.*[A-Z])(?=.*\d).{8,}$", "Passw0rdxx", "password1"),
    ],
    ids=["digit-ascii", "word-ascii", "dollar-end-of-input", "dot-no-newline", "any-class",
         "lookahead"],
)
def test_patterns_have_ecma_262_meaning(pattern: str, matches: str, rejects: str) -> None:
    validator = sg.compile_schema({"type": "string", "pattern": pattern}, dialect="oas31")
    assert validator.is_valid(matches)
    assert not validator.is_valid(rejects)


def test_a_pattern_that_exhausts_the_backtrack_budget_fails_closed() -> None:
    validator = sg.compile_schema({"type": "string", "pattern": r"^(?=(a+)+b)"}, dialect="oas31")
    assert not validator.is_valid("a" * 5000)


def test_messages_never_echo_the_instance() -> None:
    secret = "s3cr3t-value-9876543210"
    schema = {"type": "object", "additionalProperties": False, "required": ["a"],
              "properties": {"a": {"type": "integer"}, "b": {"enum": ["x"]},
                             "c": {"maxLength": 3}, "d": {"pattern": "^x$"}}}
    validator = sg.compile_schema(schema, dialect="oas31")
    instance = {"a": secret, "b": secret, "c": secret, "d": secret, secret: secret}
    found = list(validator.iter_violations(instance))
    assert len(found) == 5
    assert all(secret not in v.message for v in found)


def test_validate_raises_with_violations_capped() -> None:
    validator = sg.compile_schema({"type": "array", "items": {"type": "integer"}})
    with pytest.raises(sg.SchemaValidationError) as info:
        validator.validate(["x"] * 100, max_errors=5)
    assert len(info.value.violations) == 5
    assert info.value.violations[0].pointer == "/0"


@pytest.mark.parametrize(
    ("schema", "pointer"),
    [
        ({"minLength": "x"}, "/minLength"),
        ({"properties": {"a": {"multipleOf": 0}}}, "/properties/a/multipleOf"),
        ({"type": "strng"}, "/type"),
        ({"pattern": "(["}, "/pattern"),
        ({"items": [{"type": "string"}]}, "/items"),
        ({"required": "a"}, "/required"),
    ],
)
def test_malformed_schemas_raise_spec_error_with_pointer(schema: Any, pointer: str) -> None:
    with pytest.raises(sg.SpecError) as info:
        sg.compile_schema(schema, dialect="oas31")
    assert info.value.pointer == pointer


def test_boolean_exclusive_minimum_is_refused_in_31_and_kept_in_30() -> None:
    with pytest.raises(sg.SpecError):
        sg.compile_schema({"minimum": 5, "exclusiveMinimum": True}, dialect="oas31")
    validator = sg.compile_schema({"minimum": 5, "exclusiveMinimum": True}, dialect="oas30")
    assert not validator.is_valid(5)
    assert validator.is_valid(5.5)


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="dialect"):
        sg.compile_schema({}, dialect="draft7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="context"):
        sg.compile_schema({}, context="both")  # type: ignore[arg-type]


def test_ref_without_spec_is_a_spec_error() -> None:
    with pytest.raises(sg.SpecError, match="spec="):
        sg.compile_schema({"$ref": "#/components/schemas/X"}, dialect="oas30")


def test_plain_schema_internal_refs_resolve() -> None:
    schema = {"$defs": {"pos": {"type": "integer", "minimum": 1}},
              "type": "array", "items": {"$ref": "#/$defs/pos"}}
    validator = sg.compile_schema(schema)
    assert validator.is_valid([1, 2])
    assert violations(validator, [1, 0]) == [("/1", "minimum")]


def test_user_formats_are_length_guarded_where_max_length_is_beside_them() -> None:
    """P21: a user format checker never sees a string over the maxLength next to it; the
    compiled definitions (shared by validators) are copied, not changed."""
    seen: list[str] = []
    capped = {"type": "string", "format": "code", "maxLength": 3}
    defs = {"0": {"properties": {"a": capped, "b": {"type": "string", "format": "code"}},
                  "items": {"allOf": [capped]},
                  "enum": [{"format": "code", "maxLength": 3}]}}
    out, formats = length_guarded(defs, {"code": lambda v: bool(seen.append(v)) or True})
    assert defs["0"]["properties"]["a"] is capped
    assert capped["format"] == "code"
    renamed = "code" + LENGTH_GUARD + "3"
    assert out["0"]["properties"]["a"]["format"] == renamed
    assert out["0"]["items"]["allOf"][0]["format"] == renamed
    assert out["0"]["properties"]["b"]["format"] == "code"  # no maxLength: the checker decides
    assert out["0"]["enum"] == defs["0"]["enum"]  # data, not a schema
    assert formats[renamed]("abcd") is True
    assert seen == []
    assert formats[renamed]("abc") is True
    assert seen == ["abc"]
