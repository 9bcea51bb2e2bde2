"""Flask behind the WSGI GuardMiddleware (``app.wsgi_app = GuardMiddleware(app.wsgi_app, ...)``),
driven with Flask's own test client."""

from __future__ import annotations

import logging
from typing import Any

import pytest

flask = pytest.importorskip("flask")

import schemaguard as sg  # noqa: E402
from schemaguard.wsgi import GuardMiddleware  # noqa: E402

from ._support import (  # noqa: E402
    API_KEY,
    AUTH_READER,
    AUTH_WRITER,
    CAP,
    JSON,
    KEY,
    PROBLEM,
    REJECTIONS,
    SECRET,
    SPEC_F,
    VALID_ORDER,
    VALID_USER,
    Answer,
    Rejection,
    Spy,
    Verifiers,
    check_rejection,
    check_withheld,
    logged,
    user_with_password,
)


class FlaskApp:
    """A guarded Flask app over F.yaml with spied handlers."""

    def __init__(self, **options: Any) -> None:
        self.spy = Spy()
        self.verifiers = Verifiers()
        self.leak = False  # GET /users/{id} returns the writeOnly password
        app = flask.Flask(__name__)
        spy, request, jsonify = self.spy, flask.request, flask.jsonify

        @app.get("/users")
        def list_users() -> Any:
            spy.record(route="list", validated=request.environ["schemaguard"],
                       args=request.args.to_dict(flat=False))
            return jsonify([{"id": 1, "name": "alice"}])

        @app.post("/users")
        def create_user() -> Any:
            raw = request.get_data(cache=True)
            parsed = request.get_json()
            spy.record(route="create", validated=request.environ["schemaguard"], raw=raw,
                       json=parsed)
            return jsonify({"id": 10, "name": parsed["name"], "email": parsed["email"]}), 201

        @app.get("/users/<int:user_id>")
        def get_user(user_id: int) -> Any:
            spy.record(route="get", validated=request.environ["schemaguard"], user_id=user_id)
            if self.leak:
                return jsonify(user_with_password(user_id))
            return jsonify({"id": user_id, "name": "alice"})

        @app.delete("/users/<int:user_id>")
        def delete_user(user_id: int) -> Any:
            spy.record(route="delete", validated=request.environ["schemaguard"])
            return "", 204

        @app.post("/orders")
        def create_order() -> Any:
            spy.record(route="order", validated=request.environ["schemaguard"],
                       raw=request.get_data(cache=True), json=request.get_json())
            return "", 201

        @app.get("/public/ping")
        def ping() -> Any:
            spy.record(route="ping", validated=request.environ["schemaguard"])
            return "pong"

        @app.get("/files/<name>")
        def files(name: str) -> Any:
            spy.record(route="files", validated=request.environ["schemaguard"], name=name)
            return "file"

        options.setdefault("max_body_bytes", CAP)
        app.wsgi_app = GuardMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, SPEC_F, verifiers=self.verifiers.mapping(), **options)
        self.app = app

    def request(self, method: str, path: str, headers: Any = (), body: bytes | None = None
                ) -> Answer:
        client = self.app.test_client()
        response = client.open(path, method=method, headers=list(headers), data=body)
        return Answer(response.status_code, response.headers.to_wsgi_list(), response.data)


@pytest.fixture
def guarded() -> FlaskApp:
    return FlaskApp()


def test_query_reaches_the_handler_typed(guarded: FlaskApp) -> None:
    answer = guarded.request("GET", "/users?limit=5&role=admin&tag=a&tag=b", [AUTH_READER])
    assert answer.status == 200
    seen = guarded.spy.last
    validated = seen["validated"]
    assert isinstance(validated, sg.ValidatedRequest)
    assert validated.query == {"limit": 5, "role": "admin", "tag": ["a", "b"]}
    assert type(validated.query["limit"]) is int
    assert seen["args"] == {"limit": ["5"], "role": ["admin"], "tag": ["a", "b"]}
    assert validated.principal == {"sub": "alice", "scopes": ["users:read"]}
    assert validated.operation.method == "GET"
    assert validated.operation.path_template == "/users"
    assert guarded.verifiers.calls == {"bearer": 1}


def test_path_parameter_reaches_the_handler_typed(guarded: FlaskApp) -> None:
    answer = guarded.request("GET", "/users/42", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == {"id": 42, "name": "alice"}
    seen = guarded.spy.last
    assert seen["validated"].path_params == {"id": 42}
    assert seen["user_id"] == 42


def test_body_reaches_the_handler_with_the_same_bytes(guarded: FlaskApp) -> None:
    answer = guarded.request("POST", "/users", [KEY, JSON], VALID_USER)
    assert answer.status == 201
    seen = guarded.spy.last
    assert seen["raw"] == VALID_USER
    assert seen["validated"].body == {"name": "new_user", "email": "new@example.com", "age": 30}
    assert seen["json"] == seen["validated"].body
    assert seen["validated"].media_type == "application/json"
    assert seen["validated"].principals == {"apiKey": {"client": "svc"}}
    assert guarded.verifiers.values == [("apiKey", API_KEY)]


def test_order_body_keeps_numbers(guarded: FlaskApp) -> None:
    answer = guarded.request("POST", "/orders", [AUTH_WRITER, JSON], VALID_ORDER)
    assert answer.status == 201
    seen = guarded.spy.last
    assert seen["raw"] == VALID_ORDER
    assert seen["validated"].body["amount"] == 19.99
    assert seen["json"] == seen["validated"].body


def test_public_operation_calls_no_verifier(guarded: FlaskApp) -> None:
    answer = guarded.request("GET", "/public/ping")
    assert answer.status == 200
    assert answer.body == b"pong"
    assert guarded.verifiers.total == 0
    assert guarded.spy.last["validated"].principal is None


@pytest.mark.parametrize("case", REJECTIONS, ids=lambda c: c.id)
def test_rejections(guarded: FlaskApp, case: Rejection) -> None:
    answer = guarded.request(case.method, case.path, case.headers, case.body)
    check_rejection(case, answer)
    assert guarded.spy.count == 0


def test_enforced_response_validation_never_sends_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = FlaskApp(validate_responses="enforce")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    check_withheld(answer)
    assert answer.json()["status"] == 500
    assert guarded.spy.count == 1
    assert logged(caplog, logging.WARNING)
    assert logged(caplog, logging.ERROR)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_enforced_response_validation_passes_a_conforming_response() -> None:
    guarded = FlaskApp(validate_responses="enforce")
    answer = guarded.request("GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == {"id": 3, "name": "alice"}


def test_reported_response_validation_passes_it_through_and_logs(
        caplog: pytest.LogCaptureFixture) -> None:
    guarded = FlaskApp(validate_responses="report")
    guarded.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = guarded.request("GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == user_with_password(3)
    warnings = logged(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "breaks the spec" in warnings[0].getMessage()
    assert SECRET not in warnings[0].getMessage()
    assert warnings[0].schemaguard["violations"][0]["pointer"] == "/password"


def test_head_with_enforced_response_validation() -> None:
    guarded = FlaskApp(validate_responses="enforce")
    answer = guarded.request("HEAD", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.body == b""


def test_p39_duplicate_api_key_is_merged_by_wsgi(guarded: FlaskApp) -> None:
    """P39, WSGI side: the WSGI environ has one HTTP_X_API_KEY, so two X-API-Key headers
    arrive merged ("key-1, key-1"); the guard cannot see the duplicate and the verifier gets
    one opaque value, refuses it, and the answer is 401 (ASGI sees both: 400, no verifier)."""
    answer = guarded.request("POST", "/users", [KEY, KEY, JSON], VALID_USER)
    assert answer.status == 401
    assert answer.json()["errors"][0]["keyword"] == "invalid"
    assert guarded.verifiers.values == [("apiKey", f"{API_KEY}, {API_KEY}")]
    assert guarded.spy.count == 0


def test_flask_error_handlers_do_not_see_rejections(guarded: FlaskApp) -> None:
    """A rejection is answered before Flask: its own 404 page never appears."""
    answer = guarded.request("GET", "/definitely/not/here")
    assert answer.status == 404
    assert answer.header("content-type") == PROBLEM
    assert b"<!doctype html>" not in answer.body.lower()
