"""check_response: status, media type, headers and body in the response context."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import schemaguard as sg

SPECS = Path(__file__).parent.parent / "specs"
JSON = [("content-type", "application/json")]


@pytest.fixture(scope="module")
def guard() -> sg.Guard:
    return sg.Guard(SPECS / "F.yaml", verifiers=dict.fromkeys(
        ["bearer", "apiKey", "basicAuth", "oauth"], lambda credentials: True))


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (sg.HttpResponse(200, JSON, b'{"id": 1, "name": "bob"}'), []),
        (sg.HttpResponse(200, JSON, b'{"id": 1, "name": "bob", "passwordHash": "$2b$x"}'),
         [(None, "/passwordHash", "additionalProperties")]),
        (sg.HttpResponse(200, JSON, b'{"id": 1, "name": "bob", "password": "x"}'),
         [(None, "/password", "writeOnly")]),
        (sg.HttpResponse(200, JSON, b'{"name": "bob"}'), [(None, "/id", "required")]),
        (sg.HttpResponse(500, [], b""), [(None, "", "status")]),
        (sg.HttpResponse(200, [("content-type", "text/html")], b"<p>"),
         [("Content-Type", "", "contentMediaType")]),
        (sg.HttpResponse(200, JSON, b"{not json"), [(None, "", "json")]),
    ],
    ids=["valid", "leaked-field", "write-only", "missing", "undeclared-status", "media-type",
         "bad-json"],
)
def test_responses_are_checked_against_the_operation(
    guard: sg.Guard, response: sg.HttpResponse, expected: list[tuple[str | None, str, str]]
) -> None:
    operation = guard.operation("GET", "/users/{id}")
    if not expected:
        guard.check_response(operation, response)
        return
    with pytest.raises(sg.ResponseValidationError) as info:
        guard.check_response(operation, response)
    assert [(v.name, v.pointer, v.keyword) for v in info.value.violations] == expected
    assert all(v.location == "response" for v in info.value.violations)
    assert "$2b$x" not in str([v.message for v in info.value.violations])


def test_status_ranges_default_and_headers() -> None:
    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "responses": {
            "2XX": {"description": "ok", "headers": {
                "X-Rate": {"required": True, "schema": {"type": "integer", "maximum": 10}}}},
            "default": {"description": "problem", "content": {"application/problem+json": {
                "schema": {"type": "object", "required": ["status"]}}}},
        }}}}}
    guard = sg.Guard(spec)
    operation = guard.operation("GET", "/a")
    guard.check_response(operation, sg.HttpResponse(204, [("x-rate", "3")]))
    with pytest.raises(sg.ResponseValidationError) as info:
        guard.check_response(operation, sg.HttpResponse(201, [("X-Rate", "30")]))
    assert [(v.name, v.keyword) for v in info.value.violations] == [("X-Rate", "maximum")]
    with pytest.raises(sg.ResponseValidationError) as info:
        guard.check_response(operation, sg.HttpResponse(200))
    assert [(v.name, v.keyword) for v in info.value.violations] == [("X-Rate", "required")]
    guard.check_response(operation, sg.HttpResponse(
        404, [("content-type", "application/problem+json")], b'{"status": 404}'))
    with pytest.raises(sg.ResponseValidationError):
        guard.check_response(operation, sg.HttpResponse(
            404, [("content-type", "application/problem+json")], b'{"stack": "Traceback"}'))


def test_unknown_operations_are_refused(guard: sg.Guard) -> None:
    foreign = sg.Operation("x", "GET", "/x", "/paths/~1x/get")
    with pytest.raises(ValueError, match="not an operation"):
        guard.check_response(foreign, sg.HttpResponse(200))


# -- a big invalid response costs what its first violations cost (bad-inputs P55's bound) --

_UNION_ITEMS = {
    "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
    "paths": {"/pets": {"get": {"operationId": "list", "responses": {"200": {
        "description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"data": {
                "type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}}}}}},
    "components": {"schemas": {
        "Pet": {"oneOf": [{"$ref": "#/components/schemas/Dog"},
                          {"$ref": "#/components/schemas/Cat"}],
                "discriminator": {"propertyName": "t",
                                  "mapping": {"A": "#/components/schemas/Dog",
                                              "B": "#/components/schemas/Cat"}}},
        "Dog": {"type": "object", "required": ["t", "bark"],
                "properties": {"t": {"type": "string"}, "bark": {"type": "boolean"}}},
        "Cat": {"type": "object", "required": ["t", "meow"],
                "properties": {"t": {"type": "string"}, "meow": {"type": "boolean"}}}}},
}


@pytest.mark.parametrize(("count", "item", "pointer"), [
    (5_000, {"t": "A"}, "/data/0/bark"),  # 50 KB: below the truncation size
    (20_000, {"t": "A"}, "/data/0/bark"),  # 200 KB
    (20_000, {"t": "Z"}, "/data/0/t"),  # no branch selected
])
def test_a_big_invalid_response_is_refused_at_the_cost_of_its_first_violations(
        count: int, item: dict[str, str], pointer: str) -> None:
    # Before, the engine built all 20,000 errors (about a second) to report the first 20.
    guard = sg.Guard(_UNION_ITEMS, validate_responses="enforce")
    operation = guard.operation("GET", "/pets")
    body = json.dumps({"data": [item] * count}).encode()
    response = sg.HttpResponse(200, JSON, body)
    best, violations = float("inf"), ()
    for _ in range(3):
        start = time.perf_counter()
        with pytest.raises(sg.ResponseValidationError) as info:
            guard.check_response(operation, response)
        best = min(best, (time.perf_counter() - start) * 1000)
        violations = info.value.violations
    assert best <= 50, f"{best:.0f} ms to refuse a {len(body)}-byte response"
    assert 1 <= len(violations) <= 20
    assert violations[0].pointer == pointer
    assert all(v.location == "response" for v in violations)
