"""The Guard as a user meets it: construction, options, modes, bodies, verifiers."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import gzip
import json
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest

import schemaguard as sg
from schemaguard._compile import Compiler
from schemaguard._guard import Started

SPECS = Path(__file__).parent.parent / "specs"
INFO = {"title": "t", "version": "1"}
OK = {"200": {"description": "ok"}}


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": INFO, "paths": paths, **extra}


def request(method: str = "GET", path: str = "/", query: str = "",
            headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> sg.HttpRequest:
    return sg.HttpRequest(method, path, query, headers or [], body)


def json_request(path: str, value: Any, method: str = "POST",
                 headers: list[tuple[str, str]] | None = None) -> sg.HttpRequest:
    return request(method, path, "", [("content-type", "application/json"), *(headers or [])],
                   json.dumps(value).encode())


BODY = spec({"/items": {"post": {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["n"],
                                        "properties": {"n": {"type": "integer"}}}},
        "application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": {"n": {"type": "integer"},
                                             "tags": {"type": "array",
                                                      "items": {"type": "string"}}}}},
        "text/plain": {"schema": {"type": "string", "maxLength": 5}},
        "application/octet-stream": {},
    }},
    "responses": OK}}})


@pytest.fixture(scope="module")
def body_guard() -> sg.Guard:
    return sg.Guard(BODY, content_encodings=("gzip", "deflate"))


def test_json_body_is_decoded_and_validated(body_guard: sg.Guard) -> None:
    ok = body_guard.check_request(json_request("/items", {"n": 3}))
    assert ok is not None
    assert ok.body == {"n": 3}
    assert ok.media_type == "application/json"
    with pytest.raises(sg.RequestValidationError) as info:
        body_guard.check_request(json_request("/items", {"n": "3"}))
    assert [(v.location, v.pointer, v.keyword) for v in info.value.violations] == [
        ("body", "/n", "type")]


def test_json_integers_past_64_bits_stay_exact(body_guard: sg.Guard) -> None:
    big = 2**70 + 1
    ok = body_guard.check_request(request("POST", "/items", "", [
        ("content-type", "application/json")], b'{"n": %d}' % big))
    assert ok is not None
    assert ok.body == {"n": big}


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        (b'{"n": 1', "json"),
        (b'{"n": 1}garbage', "json"),
        (b'{"n": 1e400}', "json"),
        (b'{"n": NaN}', "json"),
        (b'\xff\xfe{\x00}\x00', "contentEncoding"),
        (b'"\\ud800"', "contentEncoding"),
        (b"[" * 65 + b"]" * 65, "maxDepth"),
        (b"[" * 5000 + b"]" * 5000, "maxDepth"),
        (b"1],[2", "json"),
    ],
    ids=["truncated", "trailing", "overflow", "nan", "utf16", "lone-surrogate", "depth-65",
         "depth-5000", "wrapper-escape"],
)
def test_bad_json_is_a_400_without_parser_details(body_guard: sg.Guard, body: bytes,
                                                 keyword: str) -> None:
    with pytest.raises(sg.RequestValidationError) as info:
        body_guard.check_request(request("POST", "/items", "",
                                         [("content-type", "application/json")], body))
    [violation] = info.value.violations
    assert (violation.location, violation.keyword) == ("body", keyword)
    assert "line" not in violation.message
    assert "char" not in violation.message


@pytest.mark.parametrize("message", [
    "depth limit exceeded: line 1 column 1026 (char 1025)",  # orjson 3.11 and newer
    "array and object recursion depth exceeded: line 1 column 1026 (char 1025)",  # 3.10
])
def test_too_deep_is_told_by_every_orjson_the_project_supports(
    body_guard: sg.Guard, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orjson words its own nesting limit differently across the versions pyproject admits;
    each is the 400 maxDepth, never a syntax error."""
    import orjson

    real = orjson.loads

    def loads(data: bytes | str) -> object:
        if len(data) > 1000:  # the wrapped body the decoder builds for a deep one
            raise orjson.JSONDecodeError(message, "", 0)
        return real(data)

    monkeypatch.setattr(orjson, "loads", loads)
    with pytest.raises(sg.RequestValidationError) as info:
        body_guard.check_request(request("POST", "/items", "",
                                         [("content-type", "application/json")],
                                         b"[" * 100 + b"]" * 100))
    assert [v.keyword for v in info.value.violations] == ["maxDepth"]


def test_depth_limit_is_exact() -> None:
    guard = sg.Guard(spec({"/d": {"post": {"requestBody": {"content": {
        "application/json": {}}}, "responses": OK}}}), max_json_depth=3)
    ok = guard.check_request(request("POST", "/d", "", [("content-type", "application/json")],
                                     b'{"a": [{"b": 1}], "c": [1, 2, [3]]}'))
    assert ok is not None
    with pytest.raises(sg.RequestValidationError):
        guard.check_request(request("POST", "/d", "", [("content-type", "application/json")],
                                    b'{"a": [{"b": [1]}]}'))


def test_duplicate_keys_last_wins_unless_rejected() -> None:
    body = b'{"n": 1, "n": 2}'
    headers = [("content-type", "application/json")]
    ok = sg.Guard(BODY).check_request(request("POST", "/items", "", headers, body))
    assert ok is not None
    assert ok.body == {"n": 2}
    with pytest.raises(sg.RequestValidationError) as info:
        sg.Guard(BODY, reject_duplicate_keys=True).check_request(
            request("POST", "/items", "", headers, body))
    assert info.value.violations[0].keyword == "uniqueKeys"


def test_form_body_is_typed(body_guard: sg.Guard) -> None:
    ok = body_guard.check_request(request(
        "POST", "/items", "", [("content-type", "application/x-www-form-urlencoded")],
        b"n=5&tags=a&tags=b%20c"))
    assert ok is not None
    assert ok.body == {"n": 5, "tags": ["a", "b c"]}


def test_text_and_binary_bodies(body_guard: sg.Guard) -> None:
    ok = body_guard.check_request(request("POST", "/items", "",
                                          [("content-type", "text/plain")], b"hello"))
    assert ok is not None
    assert ok.body == "hello"
    with pytest.raises(sg.RequestValidationError):
        body_guard.check_request(request("POST", "/items", "",
                                         [("content-type", "text/plain")], b"too long"))
    raw = bytes(range(256))
    ok = body_guard.check_request(request("POST", "/items", "",
                                          [("content-type", "application/octet-stream")], raw))
    assert ok is not None
    assert ok.body == raw


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("text/html", 415),
        ("application/json; charset=utf-16", 415),
        ("not a media type", 415),
        ("Application/JSON ; charset=\"UTF-8\"", None),
        ("application/json; charset=utf-8", None),
    ],
)
def test_content_type_is_matched_per_rfc_9110(body_guard: sg.Guard, content_type: str | None,
                                              status: int | None) -> None:
    headers = [("content-type", content_type)] if content_type else []
    req = request("POST", "/items", "", headers, b'{"n": 1}')
    if status is None:
        assert body_guard.check_request(req) is not None
    else:
        with pytest.raises(sg.RequestError) as info:
            body_guard.check_request(req)
        assert info.value.status_code == status


def test_most_specific_media_range_wins() -> None:
    guard = sg.Guard(spec({"/m": {"post": {"requestBody": {"content": {
        "*/*": {"schema": {"type": "string", "maxLength": 1}},
        "application/*": {"schema": {"type": "string", "maxLength": 2}},
        "application/vnd.x+json": {"schema": {"type": "object"}},
    }}, "responses": OK}}}))
    ok = guard.check_request(request("POST", "/m", "", [
        ("content-type", "application/vnd.x+json")], b"{}"))
    assert ok is not None
    assert ok.media_type == "application/vnd.x+json"
    ok = guard.check_request(request("POST", "/m", "", [("content-type", "application/xml")],
                                     b"ab"))
    assert ok is not None
    assert ok.media_type == "application/*"
    with pytest.raises(sg.RequestValidationError):
        guard.check_request(request("POST", "/m", "", [("content-type", "image/png")], b"ab"))


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_enabled_content_codings_are_decoded(body_guard: sg.Guard, coding: str) -> None:
    raw = b'{"n": 7}'
    packed = gzip.compress(raw) if coding == "gzip" else zlib.compress(raw)
    ok = body_guard.check_request(request("POST", "/items", "", [
        ("content-type", "application/json"), ("content-encoding", coding)], packed))
    assert ok is not None
    assert ok.body == {"n": 7}


def test_content_codings_are_refused_by_default_and_bombs_capped() -> None:
    packed = gzip.compress(b"{}")
    headers = [("content-type", "application/json"), ("content-encoding", "gzip")]
    with pytest.raises(sg.UnsupportedMediaType) as info:
        sg.Guard(BODY).check_request(request("POST", "/items", "", headers, packed))
    assert ("Accept-Encoding", "identity") in info.value.headers
    bomb = gzip.compress(b" " * 20_000_000)
    with pytest.raises(sg.PayloadTooLarge):
        sg.Guard(BODY, content_encodings=("gzip",)).check_request(
            request("POST", "/items", "", headers, bomb))


def test_body_presence_rules(body_guard: sg.Guard) -> None:
    with pytest.raises(sg.RequestValidationError) as info:
        body_guard.check_request(request("POST", "/items", "",
                                         [("content-type", "application/json")]))
    assert info.value.violations[0].keyword == "required"
    no_body = spec({"/g": {"get": {"responses": OK}}})
    smuggled = request("GET", "/g", "", [("content-type", "application/json")], b"{}")
    with pytest.raises(sg.RequestValidationError) as info:
        sg.Guard(no_body).check_request(smuggled)
    assert info.value.violations[0].keyword == "unexpected"
    assert sg.Guard(no_body, allow_unexpected_body=True).check_request(smuggled) is not None


def multipart(boundary: str, parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    body = b""
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"'
                                                     if filename else "")
        body += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                 f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


UPLOAD = [
    ("title", None, "text/plain", b"Holiday"),
    ("priority", None, "text/plain", b"2"),
    ("tags", None, "text/plain", b"a"),
    ("tags", None, "text/plain", b"b"),
    ("meta", None, "application/json", b'{"source": "camera"}'),
    ("file", "a.png", "image/png", b"\x89PNG\r\n\x00\xff"),
]


def test_multipart_fields_are_typed_and_files_stay_bytes() -> None:
    guard = sg.Guard(SPECS / "multipart.yaml")
    headers = [("content-type", "multipart/form-data; boundary=XyZ")]
    ok = guard.check_request(request("POST", "/api/uploads", "", headers,
                                     multipart("XyZ", UPLOAD)))
    assert ok is not None
    assert ok.body == {"title": "Holiday", "priority": 2, "tags": ["a", "b"],
                       "meta": {"source": "camera"}, "file": b"\x89PNG\r\n\x00\xff"}
    bad = [*UPLOAD[:4], ("meta", None, "application/json", b'{"source": "phone"}')]
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(request("POST", "/api/uploads", "", headers,
                                    multipart("XyZ", bad)))
    found = {(v.pointer, v.keyword) for v in info.value.violations}
    assert ("/file", "required") in found
    assert ("/meta/source", "enum") in found


def test_malformed_multipart_is_a_400() -> None:
    guard = sg.Guard(SPECS / "multipart.yaml")
    with pytest.raises(sg.RequestValidationError):
        guard.check_request(request("POST", "/api/uploads", "", [
            ("content-type", "multipart/form-data; boundary=B")], b"garbage without parts"))
    with pytest.raises(sg.RequestValidationError):
        guard.check_request(request("POST", "/api/uploads", "", [
            ("content-type", "multipart/form-data")], b"--B--\r\n"))


def test_multipart_part_count_is_capped() -> None:
    guard = sg.Guard(SPECS / "multipart.yaml", max_fields=50)
    parts = [("tags", None, "text/plain", b"x")] * 51
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(request("POST", "/api/uploads", "", [
            ("content-type", "multipart/form-data; boundary=B")], multipart("B", parts)))
    assert info.value.violations[0].keyword == "maxProperties"


SECURED = spec(
    {"/s": {"get": {"security": [{"key": []}], "responses": OK}},
     "/o": {"get": {"security": [{}, {"key": []}], "responses": OK}}},
    components={"securitySchemes": {"key": {"type": "apiKey", "in": "header",
                                            "name": "X-Key"}}},
)


def test_a_used_scheme_without_verifier_refuses_to_start() -> None:
    with pytest.raises(ValueError, match=r"`key`.*has no verifier"):
        sg.Guard(SECURED)


def test_undefined_schemes_are_spec_errors() -> None:
    with pytest.raises(sg.SpecError, match="not defined") as info:
        sg.Guard(spec({"/s": {"get": {"security": [{"nope": []}], "responses": OK}}}))
    assert info.value.pointer == "/paths/~1s/get/security/0/nope"


def test_async_verifiers_are_awaited_and_refused_by_the_sync_check() -> None:
    async def verify(credentials: sg.Credentials) -> Any:
        await asyncio.sleep(0)
        return credentials.value == "good" and {"who": "me"}

    guard = sg.Guard(SECURED, verifiers={"key": verify})
    good = request("GET", "/s", "", [("x-key", "good")])
    ok = asyncio.run(guard.check_request_async(good))
    assert ok is not None
    assert ok.principal == {"who": "me"}
    assert ok.principals == {"key": {"who": "me"}}
    with pytest.raises(sg.Unauthorized):
        asyncio.run(guard.check_request_async(request("GET", "/s", "", [("x-key", "bad")])))
    with pytest.raises(ValueError, match="check_request_async"):
        guard.check_request(good)


def test_a_sync_verifier_returning_an_awaitable_is_a_configuration_error() -> None:
    async def later() -> bool:
        return True

    guard = sg.Guard(SECURED, verifiers={"key": lambda credentials: later()})
    with pytest.raises(ValueError, match="awaitable"):
        guard.check_request(request("GET", "/s", "", [("x-key", "good")]))


@pytest.mark.parametrize("answer", [None, False, 0, "", {}, []], ids=repr)
def test_only_a_truthy_principal_passes(answer: Any) -> None:
    guard = sg.Guard(SECURED, verifiers={"key": lambda credentials: answer})
    with pytest.raises(sg.Unauthorized) as info:
        guard.check_request(request("GET", "/s", "", [("x-key", "k")]))
    assert ("WWW-Authenticate", 'ApiKey realm="api", in="header", name="X-Key"') in \
        info.value.headers


def test_a_raising_verifier_propagates_for_the_middleware_to_answer_500() -> None:
    def broken(credentials: sg.Credentials) -> Any:
        raise RuntimeError("db 10.0.0.5 down")

    guard = sg.Guard(SECURED, verifiers={"key": broken})
    with pytest.raises(RuntimeError):
        guard.check_request(request("GET", "/s", "", [("x-key", "k")]))


def test_optional_security_lets_anonymous_through_but_not_bad_credentials() -> None:
    guard = sg.Guard(SECURED, verifiers={"key": lambda credentials: credentials.value == "ok"})
    ok = guard.check_request(request("GET", "/o"))
    assert ok is not None
    assert ok.principal is None
    with pytest.raises(sg.Unauthorized):
        guard.check_request(request("GET", "/o", "", [("x-key", "bad")]))


def test_credentials_repr_hides_secrets() -> None:
    credentials = sg.Credentials("basic", "http", username="u", password="hunter2", value="tok")
    assert "hunter2" not in repr(credentials)
    assert "tok" not in repr(credentials)


ROUTES = spec({"/a": {"get": {"operationId": "getA", "responses": OK}},
               "/health": {"get": {"responses": OK}}})


@pytest.mark.parametrize(
    ("options", "path", "outcome"),
    [
        ({}, "/nope", 404),
        ({"unknown_paths": "pass"}, "/nope", None),
        ({"unknown_paths": "report"}, "/nope", None),
        ({"mode": "report"}, "/nope", None),
        ({"mode": "off"}, "/nope", None),
        ({"ignore_paths": ["/metrics*"]}, "/metrics/x", None),
        ({}, "/a?", "ok"),
    ],
    ids=["reject", "pass", "report-unknown", "report-mode", "off", "ignored", "known"],
)
def test_unknown_path_policies(options: dict[str, Any], path: str, outcome: Any) -> None:
    guard = sg.Guard(ROUTES, **options)
    req = request("GET", path.rstrip("?"))
    if outcome == 404:
        with pytest.raises(sg.NotFound):
            guard.check_request(req)
    elif outcome == "ok":
        assert guard.check_request(req) is not None
    else:
        assert guard.check_request(req) is None


def test_report_mode_logs_and_passes(caplog: pytest.LogCaptureFixture) -> None:
    guard = sg.Guard(spec({"/q": {"get": {"parameters": [
        {"name": "n", "in": "query", "schema": {"type": "integer"}}], "responses": OK}}}),
        operations={"GET /q": {"mode": "report"}})
    with caplog.at_level("WARNING", logger="schemaguard"):
        assert guard.check_request(request("GET", "/q", "n=secret-value")) is None
    assert "would reject" in caplog.text
    assert "secret-value" not in caplog.text


def test_operation_overrides_by_operation_id_and_validation_of_options() -> None:
    guard = sg.Guard(ROUTES, operations={"getA": {"mode": "off"}})
    assert guard.check_request(request("GET", "/a", "", [], b"x")) is None
    with pytest.raises(ValueError, match="no operation"):
        sg.Guard(ROUTES, operations={"nope": {"mode": "off"}})
    with pytest.raises(ValueError, match="unknown option"):
        sg.Guard(ROUTES, operations={"getA": {"colour": "red"}})
    for bad in ({"mode": "strict"}, {"max_body_bytes": 0}, {"invalid_status": 418},
                {"content_encodings": ["br"]}, {"unknown_paths": "allow"},
                {"max_json_depth": 2000}):
        with pytest.raises(ValueError, match="must be"):
            sg.Guard(ROUTES, **bad)


def test_invalid_status_422() -> None:
    guard = sg.Guard(BODY, invalid_status=422)
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(json_request("/items", {"n": "x"}))
    assert info.value.status_code == 422
    assert info.value.to_problem()["title"] == "Unprocessable Content"


def test_problem_document_shape_and_error_cap() -> None:
    guard = sg.Guard(spec({"/l": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"type": "array", "items": {"type": "integer"}}}}}, "responses": OK}}}),
        max_errors=5)
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(json_request("/l", ["secret"] * 10_000))
    problem = info.value.to_problem()
    assert set(problem) == {"type", "title", "status", "detail", "errors"}
    assert (problem["type"], problem["status"]) == ("about:blank", 400)
    assert len(problem["errors"]) == 5
    assert "secret" not in json.dumps(problem)
    assert set(problem["errors"][0]) == {"location", "name", "pointer", "keyword", "message"}


def test_path_parameters_must_match_the_template() -> None:
    with pytest.raises(sg.SpecError, match="not declared"):
        sg.Guard(spec({"/u/{id}": {"get": {"responses": OK}}}))
    with pytest.raises(sg.SpecError, match="not in the path"):
        sg.Guard(spec({"/u": {"get": {"parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {}}], "responses": OK}}}))
    with pytest.raises(sg.SpecError, match="required: true"):
        sg.Guard(spec({"/u/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path", "schema": {}}], "responses": OK}}}))


def test_validators_compile_once_under_concurrent_first_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    original = Compiler.build

    def counting(self: Compiler, *args: Any, **kwargs: Any) -> Any:  # one schema compiled
        built.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Compiler, "build", counting)
    sg.Guard(BODY).check_request(json_request("/items", {"n": 1}))
    once = len(built)  # what one first use compiles (the operation's three body schemas)
    assert once == 3
    built.clear()
    guard = sg.Guard(BODY)
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def first_use() -> None:
        barrier.wait()
        try:
            guard.check_request(json_request("/items", {"n": 1}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(built) == once


def test_servers_base_path_is_part_of_the_route() -> None:
    guard = sg.Guard(SPECS / "bench.yaml")
    assert guard.check_request(request("GET", "/v1/health")) is not None
    with pytest.raises(sg.NotFound):
        guard.check_request(request("GET", "/health"))


def _example_request(guard: sg.Guard, operation: sg.Operation) -> sg.HttpRequest | None:
    """A request built from an operation's JSON body example, or None when it has none."""
    item = guard.spec.content["paths"][operation.path_template]
    op = item[operation.method.lower()]
    body = op.get("requestBody", {})
    if "$ref" in body:
        return None
    media = body.get("content", {}).get("application/json", {})
    examples = [media["example"]] if "example" in media else [
        e["value"] for e in media.get("examples", {}).values() if "value" in e]
    if not examples or "{" in operation.path_template:
        return None
    required = [p for p in op.get("parameters", []) + item.get("parameters", [])
                if isinstance(p, dict) and p.get("required")]
    if required:
        return None
    base = sg._router.base_paths(guard.spec.content.get("servers"))[0]
    return json_request(base + operation.path_template, examples[0], operation.method)


@pytest.mark.parametrize(
    "path", [*sorted(SPECS.glob("*.yaml")), SPECS / "multifile" / "openapi.yaml"],
    ids=lambda p: p.name,
)
def test_every_bundled_spec_compiles_and_answers_its_examples(path: Path) -> None:
    loaded = sg.load_spec(path)
    schemes = (loaded.content.get("components") or {}).get("securitySchemes") or {}
    guard = sg.Guard(loaded, verifiers=dict.fromkeys(schemes, lambda c: True), eager=True)
    for operation in guard.operations:
        req = _example_request(guard, operation)
        if req is None:
            continue
        # The example carries no credentials: a 401/403 says the body was not the problem.
        with contextlib.suppress(sg.Unauthorized, sg.Forbidden):
            guard.check_request(req)


def test_large_invalid_bodies_report_violations_from_a_bounded_pass() -> None:
    guard = sg.Guard(spec({"/l": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"type": "object", "properties": {
            "items": {"type": "array", "maxItems": 50_000,
                      "items": {"type": "integer", "minimum": 1}},
            "few": {"type": "array", "maxItems": 3}}}}}}, "responses": OK}}}),
        max_body_bytes=10_000_000)
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(json_request("/l", {"items": [0] * 40_000}))
    assert [v.pointer for v in info.value.violations][:3] == ["/items/0", "/items/1",
                                                              "/items/2"]
    # A violation only the full array shows (here maxItems) still fails, with a summary.
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(json_request("/l", {"items": [1] * 30_000, "few": [1] * 30_000}))
    [violation] = info.value.violations
    assert violation.keyword == "schema"


# -- routing the same request again (the guard remembers literal paths) --------------------

REMEMBERED = spec({
    "/pets": {"get": {"operationId": "listPets", "responses": OK},
              "post": {"operationId": "addPet", "responses": OK}},
    "/pets/mine": {"get": {"operationId": "myPets", "responses": OK}},
    "/pets/{id}": {"get": {"operationId": "getPet", "parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": OK}},
    "/off": {"get": {"operationId": "offOp", "responses": OK}},
}, servers=[{"url": "/v1"}, {"url": "/api"}])


def _answer(guard: sg.Guard, method: str, path: str) -> Any:
    try:
        found = guard.check_request(request(method, path))
    except sg.RequestError as error:
        return error.status_code
    return found.operation.operation_id if found is not None else None


def test_a_literal_path_gets_the_same_answer_every_time() -> None:
    guard = sg.Guard(REMEMBERED, operations={"offOp": {"mode": "off"}})
    expected = {("GET", "/v1/pets"): "listPets", ("HEAD", "/v1/pets"): "listPets",
                ("GET", "/api/pets"): "listPets", ("POST", "/v1/pets"): "addPet",
                ("DELETE", "/v1/pets"): 405, ("get", "/v1/pets"): 405,
                ("GET", "/v1/pets/mine"): "myPets", ("GET", "/v1/pets/7"): "getPet",
                ("GET", "/v1/pets/%6Dine"): "myPets", ("GET", "/v1/pets/"): 404,
                ("GET", "/v1/off"): None, ("GET", "/v2/pets"): 404}
    for _ in range(3):  # the first time routes through the trie, later ones remember
        assert {key: _answer(guard, *key) for key in expected} == expected
    seven = guard.check_request(request("GET", "/v1/pets/7"))
    assert seven is not None
    assert seven.path_params == {"id": 7}


def test_what_the_guard_remembers_is_bounded_by_the_spec_not_by_clients() -> None:
    guard = sg.Guard(REMEMBERED)
    for n in range(2_000):  # ids, unknown paths and encoded spellings are never remembered
        _answer(guard, "GET", f"/v1/pets/{n}")
        _answer(guard, "GET", f"/v1/nothing/{n}")
        _answer(guard, "GET", f"/v1/pets/%6{n % 10}ine")
        _answer(guard, "PATCH", f"/v1/pets/{n}")
    _answer(guard, "GET", "/v1/pets/mine")
    # only literal templates (times base paths and methods) can be remembered
    assert len(guard._exact) == 1


# -- bad-inputs L13, L14: generous bounds; benchmarks/run.py shows the real numbers ---------


def _best_ms(call: Any, repeat: int = 3) -> float:
    import time

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


INTEGERS = spec({"/n": {"post": {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array",
                                    "items": {"type": "integer", "minimum": 0}}}}},
    "responses": OK}}})


def test_l13_an_accepted_1_mib_body_is_checked_in_under_250_ms() -> None:
    """bad-inputs L13: an accepted body at the default cap (1 MiB) costs <= 250 ms (best of
    3); python-jsonschema took 890 ms on this 1 MiB integer array."""
    guard = sg.Guard(INTEGERS)
    count = (1_048_576 - 2) // 7  # "1xxxxx," per item
    body = b"[" + b",".join(b"%d" % (100_000 + n) for n in range(count)) + b"]"
    assert 1_040_000 < len(body) <= 1_048_576
    req = request("POST", "/n", "", [("content-type", "application/json")], body)
    ok = guard.check_request(req)
    assert ok is not None
    assert len(ok.body) == count
    ms = _best_ms(lambda: guard.check_request(req))
    assert ms <= 250, f"{ms:.0f} ms"


def test_l13_a_valid_2_kb_request_costs_well_under_a_millisecond() -> None:
    """bad-inputs L13 asks p50 <= 0.3 ms and p99 <= 1 ms; this bound (median <= 3 ms) only
    catches a regression by an order of magnitude."""
    import statistics
    import time

    guard = sg.Guard(SPECS / "F.yaml", eager=True, verifiers=dict.fromkeys(
        ["bearer", "apiKey", "basicAuth", "oauth"], lambda credentials: True))
    order = {"items": [{"sku": f"sku-{n:04d}", "qty": n + 1} for n in range(63)],
             "amount": 12.5}
    req = json_request("/orders", order, headers=[("authorization", "Bearer t")])
    assert 1_900 < len(req.body) < 2_200
    assert guard.check_request(req) is not None
    times = []
    for _ in range(200):
        start = time.perf_counter()
        guard.check_request(req)
        times.append((time.perf_counter() - start) * 1000)
    assert statistics.median(times) <= 3, f"median {statistics.median(times):.2f} ms"


def test_l14_bench_spec_is_ready_for_its_first_request_within_a_second() -> None:
    """bad-inputs L14: building the guard for specs/bench.yaml (every validator compiled)
    and answering a first request take <= 1 s (best of 3)."""
    def start() -> None:
        guard = sg.Guard(SPECS / "bench.yaml", eager=True)
        assert guard.check_request(request("GET", "/v1/pets/42", "limit=25")) is not None

    ms = _best_ms(start)
    assert ms <= 1000, f"{ms:.0f} ms"


def _body_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return spec({"/a": {"post": {"requestBody": {"content": {
        "application/json": {"schema": schema}}}, "responses": OK}}})


@pytest.mark.parametrize(("document", "error"), [
    (_body_schema({"type": "string", "pattern": "(unclosed"}), sg.SpecError),
    (_body_schema({"type": "string", "minLength": "x"}), sg.SpecError),
    (_body_schema({"type": "number", "exclusiveMinimum": True}), sg.SpecError),
    (spec({"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}),
     sg.SpecError),
    (spec({"/a": {"post": {"callbacks": {"cb": {"{$request.body#/url}": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"pattern": "(x"}}}},
        "responses": OK}}}}, "responses": OK}}}), sg.SpecError),
    (SECURED, ValueError),  # a used scheme without a verifier
], ids=["pattern", "minLength", "exclusiveMinimum", "ref", "callback-pattern", "verifier"])
def test_l14_spec_errors_surface_when_the_app_is_built(document: dict[str, Any],
                                                       error: type[Exception]) -> None:
    """bad-inputs L14: with lazy compilation (eager=False, the default) every spec error is
    still raised when the guard or a middleware is built, never on a first request."""
    from schemaguard.asgi import GuardMiddleware as AsgiGuard
    from schemaguard.wsgi import GuardMiddleware as WsgiGuard

    def app(*args: Any) -> Any:  # pragma: no cover - never called
        raise AssertionError("the app was called")

    for build in (sg.Guard, lambda d: WsgiGuard(app, d), lambda d: AsgiGuard(app, d)):
        with pytest.raises(error):
            build(document)


def test_every_guard_option_is_in_the_readme_options_table() -> None:
    """The README's Options table is where users look an option up: it names each keyword
    of ``Guard`` (read from the source: compiled methods carry no signature)."""
    source = Path(sg.__file__).with_name("_guard.py").read_text(encoding="utf-8")
    [init] = [node for node in ast.walk(ast.parse(source)) if isinstance(
        node, ast.FunctionDef) and node.name == "__init__" and any(
        a.arg == "verifiers" for a in node.args.kwonlyargs)]
    options = {a.arg for a in init.args.kwonlyargs}
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Options", 1)[1].split("\n## ", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert "max_log_rate" in options
    assert options == documented


def test_parameter_violations_point_inside_the_parameter_they_name() -> None:
    """A parameter's violations name it and point below it, whatever its name holds (the
    engine's path starts with the parameter's internal key; "/" and "~" are escaped in
    pointers), including a discriminated union inside a JSON query parameter."""
    pet = {"oneOf": [{"$ref": "#/components/schemas/Cat"}],
           "discriminator": {"propertyName": "kind"}}
    guard = sg.Guard(spec({"/s": {"get": {"parameters": [
        {"name": "a/b~c", "in": "query", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"n": {"type": "integer"},
                                             "m/x": {"type": "integer"}}}}}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 10}},
        {"name": "pet", "in": "query", "content": {"application/json": {"schema": pet}}},
    ], "responses": OK}}}, components={"schemas": {"Cat": {
        "type": "object", "required": ["kind"],
        "properties": {"kind": {"type": "string"}, "lives": {"type": "integer"}}}}}))
    query = ("a%2Fb~c=" + '{"n":"x","m/x":"y"}' + "&limit=11&pet="
             + '{"kind":"Cat","lives":"nine"}').replace('"', "%22").replace("{", "%7B") \
        .replace("}", "%7D").replace(",", "%2C").replace(":", "%3A")
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(request("GET", "/s", query))
    assert sorted((v.location, v.name, v.pointer, v.keyword)
                  for v in info.value.violations) == [
        ("query", "a/b~c", "/m~1x", "type"),
        ("query", "a/b~c", "/n", "type"),
        ("query", "limit", "", "maximum"),
        ("query", "pet", "/lives", "type"),
    ]
    assert all(v.schema_pointer.startswith("/") for v in info.value.violations)


def test_parameter_violations_fail_closed_when_the_engine_cannot_tell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Parameters that fail their schema are refused even when the engine gives no errors to
    report (its recursion limit; the decoders bound the nesting first): one violation on
    the nested value, never a pass."""
    from schemaguard._schema import SchemaValidator

    guard = sg.Guard(spec({"/s": {"get": {"parameters": [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
        {"name": "f", "in": "query", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"n": {"type": "integer"}}}}}},
    ], "responses": OK}}}))
    monkeypatch.setattr(SchemaValidator, "engine_errors", lambda self, instance: None)
    with pytest.raises(sg.RequestValidationError) as info:
        guard.check_request(request("GET", "/s", "limit=1&f=%7B%22n%22%3A%22x%22%7D"))
    assert [(v.location, v.name, v.keyword) for v in info.value.violations] == [
        ("query", "f", "maxDepth")]


# -- decide_async in parts (start / complete / resume_async / refuse), for the ASGI adapter ----


def _outcome(result: Any) -> Any:
    if isinstance(result, sg.ValidatedRequest):
        return ("ok", result.body, result.media_type)
    if isinstance(result, sg.RequestError):
        return (result.status_code, [v.to_dict() for v in result.violations])
    return result


@pytest.mark.parametrize("sent", [
    json_request("/items", {"n": 3}),
    json_request("/items", {"n": "three"}),
    request("POST", "/items", "", [("content-type", "text/plain")], b"toolong"),
    request("POST", "/items", "", [("content-type", "image/png")], b"x"),
    request("POST", "/items", "", [("content-type", "application/json")], b"{"),
    request("POST", "/nowhere"),
    request("DELETE", "/items"),
], ids=["valid", "invalid", "too-long", "media-type", "broken-json", "404", "405"])
def test_start_then_complete_decides_as_decide_does(body_guard: sg.Guard,
                                                     sent: sg.HttpRequest) -> None:
    """The ASGI middleware's path: the body read by the adapter after ``start``."""
    bare = sg.HttpRequest(sent.method, sent.path, sent.query, sent.headers)
    started = body_guard.start(bare)
    if isinstance(started, sg.RequestError):  # refused before the body: as decide refuses
        assert _outcome(started) == _outcome(body_guard.decide(sent, None))
        return
    assert started is not None
    assert started.head is not None  # no security: only the body is left
    assert _outcome(body_guard.complete(started, sent.body)) == \
        _outcome(body_guard.decide(bare, lambda cap: sent.body))


def test_start_leaves_security_to_resume_async() -> None:
    guard = sg.Guard(SECURED, verifiers={"key": lambda credentials: credentials.value == "ok"})
    started = guard.start(request("GET", "/s", "", [("x-key", "bad")]))
    assert started is not None
    assert not isinstance(started, sg.RequestError)
    assert started.head is None
    with pytest.raises(ValueError, match="after the checks before it"):
        guard.complete(started, b"")
    refused = asyncio.run(guard.resume_async(started, None))
    assert isinstance(refused, sg.Unauthorized)
    good = guard.start(request("GET", "/s", "", [("x-key", "ok")]))
    assert not isinstance(good, (sg.RequestError, type(None)))
    passed = asyncio.run(guard.resume_async(good, None))
    assert isinstance(passed, sg.ValidatedRequest)
    assert passed.principal is True


def test_start_leaves_security_to_resume_for_a_sync_adapter() -> None:
    """The WSGI middleware's path for a secured operation: ``resume`` calls the verifier,
    then reads the body with the adapter's reader, as ``decide`` does."""
    seen: list[str] = []

    def verifier(credentials: sg.Credentials) -> bool:
        seen.append(credentials.value)
        return credentials.value == "ok"

    guard = sg.Guard(SECURED, verifiers={"key": verifier})
    bad = guard.start(request("GET", "/s", "", [("x-key", "bad")]))
    assert isinstance(bad, Started)
    assert bad.head is None
    reads: list[int] = []
    assert isinstance(guard.resume(bad, lambda cap: reads.append(cap) or b""), sg.Unauthorized)
    assert reads == []  # refused before the body was read
    good = guard.start(request("GET", "/s", "", [("x-key", "ok")]))
    assert isinstance(good, Started)
    passed = guard.resume(good, lambda cap: reads.append(cap) or b"")
    assert isinstance(passed, sg.ValidatedRequest)
    assert passed.principal is True
    assert seen == ["bad", "ok"]
    assert len(reads) == 1


def test_a_big_body_is_for_resume_async_which_checks_it_in_a_thread() -> None:
    from schemaguard._guard import OFFLOAD_BYTES

    guard = sg.Guard(BODY, max_body_bytes=4 * OFFLOAD_BYTES)
    big = b'{"n": 1' + b" " * OFFLOAD_BYTES + b"}"
    started = guard.start(request("POST", "/items", "",
                                  [("content-type", "application/json")]))
    assert started is not None
    assert not isinstance(started, sg.RequestError)

    async def read(cap: int, seconds: float) -> bytes:
        return big

    done = asyncio.run(guard.resume_async(started, read))
    assert isinstance(done, sg.ValidatedRequest)
    assert done.body == {"n": 1}
    # A sync adapter (WSGI) checks it in place: the same answer.
    inline = guard.complete(started, big)
    assert isinstance(inline, sg.ValidatedRequest)
    assert inline.body == {"n": 1}


def test_refuse_answers_a_read_error_as_the_guard_does() -> None:
    """A 413 met while the adapter reads the body: counted by on_violation, and only
    reported (passed on) in report mode."""
    seen: list[int] = []
    for mode, answered in (("enforce", True), ("report", False)):
        guard = sg.Guard(BODY, mode=mode,
                         on_violation=lambda error, operation: seen.append(error.status_code))
        started = guard.start(request("POST", "/items", "",
                                      [("content-type", "application/json")]))
        assert started is not None
        assert not isinstance(started, sg.RequestError)
        error = sg.PayloadTooLarge("too large", ())
        assert (guard.refuse(started, error) is error) is answered
    assert seen == [413, 413]


PARAMETERS = spec({"/things/{id}": {"get": {"parameters": [
    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
    {"name": "filter", "in": "query",
     "schema": {"type": "object", "properties": {"tag": {"type": "string"}}},
     "style": "deepObject", "explode": True},
    {"name": "opts", "in": "query", "schema": {"type": "array", "items": {"type": "string"},
                                               "default": ["a", "b"]}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10}},
    {"name": "detail", "in": "query", "allowEmptyValue": True, "schema": {"type": "string"}},
    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
], "responses": OK}}})


def test_parameters_by_location_as_declared_defaults_copied_per_request() -> None:
    """The guard splits the parameters by location when the handler first asks (most never
    do): the values sent, typed, then defaults and allowed empty values, each location in
    declaration order; a default is the handler's own copy, never the spec's object."""
    guard = sg.Guard(PARAMETERS)
    sent = request("GET", "/things/7", "detail=&filter[tag]=x&limit=3",
                   [("X-Trace", "t1"), ("Cookie", "session=s1; other=o")])
    first = guard.check_request(sent)
    assert first is not None
    assert first.path_params == {"id": 7}
    assert first.query == {"filter": {"tag": "x"}, "opts": ["a", "b"], "limit": 3,
                           "detail": ""}
    assert list(first.query) == ["filter", "opts", "limit", "detail"]
    assert first.headers == {"X-Trace": "t1"}
    assert first.cookies == {"session": "s1"}
    assert first.query is first.query  # split once
    first.query["opts"].append("mine")  # the handler's copy
    second = guard.check_request(request("GET", "/things/8"))
    assert second is not None
    assert second.query == {"opts": ["a", "b"], "limit": 10}
    assert second.headers == {}
    assert second.cookies == {}
    assert "path_params={'id': 8}" in repr(second)


def test_validated_request_built_by_hand_keeps_its_dicts() -> None:
    operation = sg.Guard(PARAMETERS).operation("GET", "/things/{id}")
    query = {"limit": 1}
    built = sg.ValidatedRequest(operation, query=query, body={"a": 1})
    assert built.query is query
    assert built.path_params == {}
    assert built.headers == {}
    assert built.cookies == {}
    assert built.principals == {}
    assert built.body == {"a": 1}
