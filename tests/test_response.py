"""check_response: status, media type, headers and body in the response context."""

from __future__ import annotations

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
