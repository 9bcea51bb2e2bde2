"""Django behind the WSGI GuardMiddleware: a minimal project configured in-test
(``settings.configure``, a urls module built at run time), ``WSGIHandler()`` wrapped by the
middleware and driven with werkzeug's test ``Client``."""

from __future__ import annotations

import json
import logging
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="schemaguard-adapter-tests",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="schemaguard_test_django_urls",
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
        APPEND_SLASH=False,
        LOGGING_CONFIG=None,
    )
    django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import (  # noqa: E402
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

import schemaguard as sg  # noqa: E402
from schemaguard.wsgi import GuardMiddleware  # noqa: E402

from ._support import (  # noqa: E402
    API_KEY,
    AUTH_READER,
    CAP,
    JSON,
    KEY,
    REJECTIONS,
    SPEC_F,
    VALID_USER,
    Answer,
    Rejection,
    Spy,
    Verifiers,
    check_rejection,
    check_withheld,
    logged,
    user_with_password,
    wsgi_request,
)

URLS_MODULE = "schemaguard_test_django_urls"


class DjangoProject:
    """Views over F.yaml's paths; ``leak`` makes GET /users/{id} return the password,
    ``stream`` makes it a StreamingHttpResponse (no Content-Length)."""

    def __init__(self) -> None:
        self.spy = Spy()
        self.leak = False
        self.stream = False

    def urlpatterns(self) -> list[Any]:
        spy = self.spy

        def users(request: HttpRequest) -> HttpResponse:
            validated = request.META["schemaguard"]
            if request.method == "GET":
                spy.record(route="list", validated=validated,
                           args={k: request.GET.getlist(k) for k in request.GET})
                return JsonResponse([{"id": 1, "name": "alice"}], safe=False)
            if request.method == "POST":
                raw = request.body
                parsed = json.loads(raw)
                spy.record(route="create", validated=validated, raw=raw, json=parsed)
                return JsonResponse({"id": 10, "name": parsed["name"]}, status=201)
            return HttpResponseNotAllowed(["GET", "POST"])

        def user(request: HttpRequest, user_id: int) -> HttpResponse:
            validated = request.META["schemaguard"]
            spy.record(route=request.method, validated=validated, user_id=user_id)
            if request.method == "DELETE":
                return HttpResponse(status=204)
            body = user_with_password(user_id) if self.leak else {"id": user_id,
                                                                  "name": "alice"}
            if self.stream:
                return StreamingHttpResponse(iter([json.dumps(body).encode()]),
                                             content_type="application/json")
            return JsonResponse(body)

        def orders(request: HttpRequest) -> HttpResponse:
            spy.record(route="order", validated=request.META["schemaguard"],
                       raw=request.body)
            return HttpResponse(status=201)

        def ping(request: HttpRequest) -> HttpResponse:
            spy.record(route="ping", validated=request.META["schemaguard"])
            return HttpResponse(b"pong", content_type="text/plain")

        def files(request: HttpRequest, name: str) -> HttpResponse:
            spy.record(route="files", validated=request.META["schemaguard"], name=name)
            return HttpResponse(b"file", content_type="text/plain")

        return [
            path("users", users),
            path("users/<int:user_id>", user),
            path("orders", orders),
            path("public/ping", ping),
            path("files/<str:name>", files),
        ]


@pytest.fixture
def project() -> Iterator[DjangoProject]:
    project = DjangoProject()
    module = types.ModuleType(URLS_MODULE)
    module.urlpatterns = project.urlpatterns()  # type: ignore[attr-defined]
    sys.modules[URLS_MODULE] = module
    # CommonMiddleware is what gives Django responses a Content-Length (needed for
    # response validation: responses without one pass through unvalidated).
    with override_settings(ROOT_URLCONF=URLS_MODULE,
                           MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
                           ALLOWED_HOSTS=["*"], APPEND_SLASH=False, DEBUG=False):
        yield project
    sys.modules.pop(URLS_MODULE, None)


def guarded(**options: Any) -> tuple[Any, Verifiers]:
    verifiers = Verifiers()
    options.setdefault("max_body_bytes", CAP)
    return GuardMiddleware(WSGIHandler(), SPEC_F, verifiers=verifiers.mapping(),
                           **options), verifiers


def send(app: Any, method: str, target: str, headers: Any = (), body: bytes | None = None
         ) -> Answer:
    return wsgi_request(app, method, target, headers, body)


def test_query_reaches_the_view_typed(project: DjangoProject) -> None:
    app, verifiers = guarded()
    answer = send(app, "GET", "/users?limit=7&tag=x&tag=y", [AUTH_READER])
    assert answer.status == 200
    seen = project.spy.last
    assert isinstance(seen["validated"], sg.ValidatedRequest)
    assert seen["validated"].query == {"limit": 7, "tag": ["x", "y"]}
    assert seen["args"] == {"limit": ["7"], "tag": ["x", "y"]}
    assert verifiers.calls == {"bearer": 1}


def test_path_parameter_reaches_the_view_typed(project: DjangoProject) -> None:
    app, _ = guarded()
    answer = send(app, "GET", "/users/42", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == {"id": 42, "name": "alice"}
    assert project.spy.last["validated"].path_params == {"id": 42}
    assert project.spy.last["user_id"] == 42


def test_body_reaches_the_view_with_the_same_bytes(project: DjangoProject) -> None:
    app, verifiers = guarded()
    answer = send(app, "POST", "/users", [KEY, JSON], VALID_USER)
    assert answer.status == 201
    seen = project.spy.last
    assert seen["raw"] == VALID_USER
    assert seen["validated"].body == {"name": "new_user", "email": "new@example.com",
                                      "age": 30}
    assert seen["json"] == seen["validated"].body
    assert verifiers.values == [("apiKey", API_KEY)]


@pytest.mark.parametrize("case", REJECTIONS, ids=lambda c: c.id)
def test_rejections(project: DjangoProject, case: Rejection) -> None:
    app, _ = guarded()
    answer = send(app, case.method, case.path, case.headers, case.body)
    check_rejection(case, answer)
    assert project.spy.count == 0


def test_enforced_response_validation_never_sends_the_password(
        project: DjangoProject, caplog: pytest.LogCaptureFixture) -> None:
    app, _ = guarded(validate_responses="enforce")
    project.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = send(app, "GET", "/users/3", [AUTH_READER])
    check_withheld(answer)
    assert project.spy.count == 1
    assert logged(caplog, logging.ERROR)


def test_reported_response_validation_passes_it_through_and_logs(
        project: DjangoProject, caplog: pytest.LogCaptureFixture) -> None:
    app, _ = guarded(validate_responses="report")
    project.leak = True
    with caplog.at_level(logging.INFO, logger="schemaguard"):
        answer = send(app, "GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.json() == user_with_password(3)
    assert any("breaks the spec" in r.getMessage() for r in logged(caplog, logging.WARNING))


def test_streaming_response_is_not_validated_documented(project: DjangoProject) -> None:
    """Documented limit: a response without Content-Length (StreamingHttpResponse, or a
    project without CommonMiddleware) passes through unvalidated even in enforce mode."""
    app, _ = guarded(validate_responses="enforce")
    project.leak = True
    project.stream = True
    answer = send(app, "GET", "/users/3", [AUTH_READER])
    assert answer.status == 200
    assert answer.header("content-length") is None
    assert answer.json() == user_with_password(3)


def test_head_with_enforced_response_validation(project: DjangoProject) -> None:
    """Django leaves HEAD bodies to the server, so the middleware validates the GET body."""
    app, _ = guarded(validate_responses="enforce")
    answer = send(app, "HEAD", "/users/3", [AUTH_READER])
    assert answer.status == 200


def test_p39_duplicate_api_key_is_merged_by_wsgi(project: DjangoProject) -> None:
    """P39, WSGI side: the two X-API-Key headers reach Django's environ as one merged
    HTTP_X_API_KEY; the verifier sees one opaque value and refuses it (401)."""
    app, verifiers = guarded()
    answer = send(app, "POST", "/users", [KEY, KEY, JSON], VALID_USER)
    assert answer.status == 401
    assert verifiers.values == [("apiKey", f"{API_KEY}, {API_KEY}")]
    assert project.spy.count == 0
