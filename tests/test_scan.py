"""scan_responses: detectors (with look-alikes that must not match), sensitive and undeclared
properties from the schema, and what report, redact and block do in real apps (issue 7)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from flask import Flask, Response

import schemaguard as sg
from schemaguard._scan import Scanner
from schemaguard.wsgi import GuardMiddleware

SPEC = Path(__file__).resolve().parent.parent / "specs" / "sensitive.yaml"
SCANNER = Scanner(sg.default_detectors())


@pytest.mark.parametrize(("detector", "text"), [
    ("card_number", "4111 1111 1111 1111"),
    ("card_number", "4111111111111111"),
    ("card_number", "5500-0000-0000-0004"),
    ("card_number", "378282246310005"),  # Amex, 15 digits
    ("us_ssn", "536-90-4399"),
    ("iban", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "DE89370400440532013000"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----"),
    ("private_key", "-----BEGIN PRIVATE KEY-----"),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ("cloud_access_key", "AKIAIOSFODNN7EXAMPLE"),
    ("cloud_access_key", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9"),
    ("bearer_token", "Bearer abcdefghijklmnop1234"),
    ("password_hash", "$2b$12$KIXQ1Jd3oXbq2dkpTPdJ5eZ8w7ZtqN7q3iC1R7rXf6cF7eQ5Q9x2e"),
    ("password_hash", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJ"),
    ("password_hash", "$6$rounds=5000$saltsalt$ZbzdFKz3kX5g0j6xQhR7Yy1mN2pO3qR4sT5uV6wX7yZ8"),
], ids=lambda value: value if len(value) < 24 else value[:20])
def test_detectors_find_real_secrets(detector: str, text: str) -> None:
    for embedded in (text, f"see {text} here", f'{{"v": "{text}"}}'):
        assert [d.name for d, _, _ in SCANNER.in_text(embedded)] == [detector]
    assert SCANNER.found(f"x {text} y".encode())


@pytest.mark.parametrize("text", [
    "1234567812345678",  # a 16-digit order id that fails the Luhn check
    "4111111111111112",  # one digit off a test card
    "0000000000000000",  # passes Luhn, is no card
    "order 2024-01-31 total 1499",
    "000-12-3456", "666-12-3456", "123-00-4567", "912-34-5678",  # impossible SSNs
    "GB82WEST12345698765433",  # IBAN with a wrong check digit
    "-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----",
    "AKIA1234", "akiaiosfodnn7example",
    "eyJhbGciOiJIUzI1NiJ9", "Bearer short", "$5 off", "price: $2b",
], ids=str)
def test_look_alikes_do_not_match(text: str) -> None:
    assert SCANNER.in_text(text) == []
    assert SCANNER.found(f'{{"v": "{text}"}}'.encode()) == []


def _json(document: Any) -> sg.HttpResponse:
    body = orjson.dumps(document)
    return sg.HttpResponse(200, [("Content-Type", "application/json"),
                                 ("Content-Length", str(len(body)))], body)


def _findings(guard: sg.Guard, op: str, document: Any) -> set[tuple[str, str]]:
    operation = next(o for o in guard.operations if o.operation_id == op)
    result = guard.inspect_response(operation, _json(document))
    return {(f.pointer, f.detector) for f in result.findings}


LEAKY_USER = {
    "id": 1, "name": "Ada", "email": "ada@example.com", "password": "hunter2", "pin": "1234",
    "taxId": "000-00-0000", "address": {"city": "Paris", "geo": [48.8, 2.3]},
    "internalNotes": "vip",
}


def test_schema_marks_sensitive_and_undeclared_properties() -> None:
    guard = sg.Guard(SPEC, scan_responses="report")
    assert _findings(guard, "getUser", LEAKY_USER) == {
        ("/password", "write_only_property"),  # writeOnly
        ("/pin", "sensitive_property"),  # format: password
        ("/taxId", "sensitive_property"),  # x-sensitive: true
        ("/address/geo", "undeclared_property"),  # excessive data exposure, nested
        ("/internalNotes", "undeclared_property"),
    }
    clean = {"id": 1, "name": "Ada", "email": "ada@example.com", "address": {"city": "Paris"}}
    assert _findings(guard, "getUser", clean) == set()


def test_composed_schemas_declare_their_members_properties() -> None:
    """Admin = allOf [User, {role}]: every member's properties are declared, none leaks."""
    guard = sg.Guard(SPEC, scan_responses="report")
    admin = {"id": 1, "name": "Ada", "role": "owner", "address": {"city": "Paris"}}
    assert _findings(guard, "getAdmin", admin) == set()
    assert _findings(guard, "getAdmin", {**admin, "salary": 1}) == {
        ("/salary", "undeclared_property")}


def test_open_objects_and_free_text_are_scanned_for_secrets() -> None:
    guard = sg.Guard(SPEC, scan_responses="report")
    notes = [{"id": 1, "text": "paid with 4111 1111 1111 1111, order 1234567812345678",
              "meta": {"anything": "goes", "key": "AKIAIOSFODNN7EXAMPLE"}},
             {"id": 2, "text": "nothing to see"}]
    assert _findings(guard, "listNotes", notes) == {
        ("/0/text", "card_number"), ("/0/meta/key", "cloud_access_key")}


def test_redact_keeps_the_document_valid_and_drops_what_leaks() -> None:
    guard = sg.Guard(SPEC, scan_responses="redact")
    operation = guard.operation("GET", "/users/{userId}")
    user = {**LEAKY_USER, "name": "card 4111 1111 1111 1111 on file"}
    result = guard.inspect_response(operation, _json(user))
    assert result.body is not None
    redacted = orjson.loads(result.body)  # still JSON
    assert redacted == {
        "id": 1, "name": "card [REDACTED] on file", "email": "ada@example.com",
        "password": "[REDACTED]", "pin": "[REDACTED]", "taxId": "[REDACTED]",
        "address": {"city": "Paris"},
    }


def test_text_bodies_are_scanned_and_redacted() -> None:
    guard = sg.Guard(SPEC, scan_responses="redact")
    operation = guard.operation("GET", "/report")
    body = b"key: -----BEGIN RSA PRIVATE KEY----- MIIE...\nssn 536-90-4399\n"
    result = guard.inspect_response(operation, sg.HttpResponse(
        200, [("Content-Type", "text/plain")], body))
    assert {f.detector for f in result.findings} == {"private_key", "us_ssn"}
    assert result.body == b"key: [REDACTED] MIIE...\nssn [REDACTED]\n"


def test_detectors_are_pluggable() -> None:
    employee = sg.Detector("employee_id", r"\b(EMP-[0-9]{6})\b",
                           check=lambda value: not value.endswith("000000"))
    guard = sg.Guard(SPEC, scan_responses="report", detectors=[*sg.default_detectors(), employee])
    notes = [{"id": 1, "text": "owner EMP-123456, not EMP-000000"}]
    assert _findings(guard, "listNotes", notes) == {("/0/text", "employee_id")}


@pytest.mark.parametrize(("detectors", "message"), [
    ([sg.Detector("x", r"(a)(b)")], "exactly one capture group"),
    ([sg.Detector("x", r"a")], "exactly one capture group"),
    ([sg.Detector("x", r"(a"), ], "not an RE2 pattern"),
    ([sg.Detector("x", r"(a)"), sg.Detector("x", r"(b)")], "unique"),
])
def test_bad_detectors_refuse_to_start(detectors: list[sg.Detector], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sg.Guard(SPEC, scan_responses="report", detectors=detectors)


def test_scan_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="scan_responses must be one of"):
        sg.Guard(SPEC, scan_responses="mask")


# -- in a real app ------------------------------------------------------------------------------

def _flask(scan: str, document: Any, calls: list[int]) -> Flask:
    app = Flask(__name__)

    @app.get("/users/<int:user_id>")
    def get_user(user_id: int) -> Response:
        calls.append(user_id)
        return Response(orjson.dumps(document), mimetype="application/json")

    app.wsgi_app = GuardMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, str(SPEC), scan_responses=scan)
    return app


def test_block_answers_a_generic_500_and_never_sends_the_field() -> None:
    calls: list[int] = []
    client = _flask("block", {**LEAKY_USER, "name": "4111 1111 1111 1111"}, calls).test_client()
    answer = client.get("/users/1")
    assert answer.status_code == 500
    assert answer.json == {"type": "about:blank", "title": "Internal Server Error",
                           "status": 500, "detail": "the request could not be processed"}
    assert b"4111" not in answer.data
    assert b"hunter2" not in answer.data
    assert calls == [1]


def test_redact_in_flask_sends_a_valid_body_with_its_new_length() -> None:
    calls: list[int] = []
    client = _flask("redact", LEAKY_USER, calls).test_client()
    answer = client.get("/users/1")
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.data)
    assert answer.json is not None
    assert answer.json["password"] == "[REDACTED]"
    assert "internalNotes" not in answer.json


def test_report_logs_pointer_and_detector_never_the_value(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    secret = "4111 1111 1111 1111"
    client = _flask("report", {**LEAKY_USER, "name": secret}, calls).test_client()
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = client.get("/users/1")
    assert answer.status_code == 200
    assert secret.encode() in answer.data  # report only: the response is unchanged
    record = next(r for r in caplog.records if "sensitive data" in r.getMessage())
    findings = record.schemaguard["findings"]  # type: ignore[attr-defined]
    assert {"pointer": "/name", "detector": "card_number"} in findings
    assert {"pointer": "/password", "detector": "write_only_property"} in findings
    logged = caplog.text + repr([r.__dict__ for r in caplog.records])
    for value in (secret, "hunter2", "1234", "000-00-0000", "vip"):
        assert value not in logged


def test_asgi_redacts_too() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from schemaguard.asgi import GuardMiddleware as AsgiGuard

    async def get_user(request: Any) -> JSONResponse:
        return JSONResponse(LEAKY_USER)

    app = Starlette(routes=[Route("/users/{user_id:int}", get_user)])
    app.add_middleware(AsgiGuard, spec=str(SPEC), scan_responses="redact")
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/users/1")

    answer = asyncio.run(get())
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content)
    document = orjson.loads(answer.content)
    assert document["pin"] == "[REDACTED]"
    assert "internalNotes" not in document


# -- no false positives: what a response schema declares is never "undeclared" ----------------

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))


def _response_schemas() -> list[Any]:
    found = []
    for path in SPECS:
        guard = sg.Guard(path, verifiers=_accept_all(path))
        for operation in guard.operations:
            responses = guard._responses[operation]
            for status, declared in responses._declared.items():
                for entry in declared.entries:
                    if entry.schema_pointer is not None and entry.range.is_json:
                        found.append(pytest.param(
                            path, operation.method, operation.path_template, status,
                            entry.key, id=f"{path.stem}:{operation.method}"
                                          f"{operation.path_template}:{status}"))
    return found


def _accept_all(path: Path) -> dict[str, Any]:
    spec = sg.load_spec(path)
    schemes = (spec.content.get("components") or {}).get("securitySchemes") or {}
    return dict.fromkeys(schemes, bool)


@pytest.mark.parametrize(("path", "method", "template", "status", "media"),
                         _response_schemas())
def test_conforming_responses_expose_nothing_undeclared(path: Path, method: str, template: str,
                                                        status: str, media: str) -> None:
    """Differential: instances drawn (by schemaguard.testing's generator) from a response
    schema and accepted by the plain response validator carry only declared properties, so
    the closed validator may only object to sensitive ones (writeOnly, password, x-sensitive),
    never call a declared property undeclared (redact would strip real data)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from schemaguard._compile import compiler_for
    from schemaguard._generate import Generator, format_strategies

    guard = sg.Guard(path, verifiers=_accept_all(path))
    operation = guard.operation(method, template)
    declared = guard._responses[operation]._declared[status]
    entry = next(e for e in declared.entries if e.key == media)
    assert entry.schema_pointer is not None
    plain = guard._responses[operation]._validator(declared.uri, entry.schema_pointer)
    closed = guard._responses[operation]._validator(declared.uri, entry.schema_pointer,
                                                    closed=True)
    spec = guard.spec
    compiler = compiler_for(spec, spec.schema_dialect, "response")
    node: Any = spec.document(declared.uri).content
    for token in entry.schema_pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    _, root = compiler.build(node, None, origin=(declared.uri, entry.schema_pointer))
    generator = Generator(compiler.definitions(root), compiler.draft, format_strategies({}))
    strategy = generator.strategy({"$ref": compiler.ref(root)}).filter(plain.is_valid)

    @settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        instance = data.draw(strategy)
        wrong = [v for v in closed.iter_violations(instance)
                 if v.keyword not in ("writeOnly", "sensitive")]
        assert wrong == [], (instance, wrong)

    check()
