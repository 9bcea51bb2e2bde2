"""Routing under attack: bad-inputs.md §4 rows P30-P37 and P56.

The guard routes on the raw path percent-decoded exactly once as UTF-8 (what Starlette and
Werkzeug do before their own routing), so ``%2F`` makes a new segment, ``%252F`` stays a literal
``%2F`` inside one segment, and undecodable bytes are refused. Undocumented variants of a path
are 404 (``unknown_paths="reject"``) before any security runs; undeclared methods are 405 with
``Allow``.

Documented decisions:

* P36: method-override headers are refused with 400 on an operation the spec declares; on a
  method the path does not declare (the row's ``POST /users/1``) routing comes first
  (DESIGN.md order of checks) and the answer is 405 — the override is never honoured.
* P37: the core answers a CORS preflight (``OPTIONS`` not in the spec) with 405 and ``Allow``,
  demanding no credentials and reaching no handler. Apps that need 204 preflights put a CORS
  layer in front of the guard (or declare ``options`` in the spec).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import schemaguard as sg


def get(kit: Any, path: str, headers: list[tuple[str, str]] | None = None) -> sg.HttpRequest:
    return kit.request("GET", path, headers=headers if headers is not None else kit.bearer())


def test_files_happy_path(kit: Any) -> None:
    ok = kit.ok(kit.guard(), get(kit, "/files/report-2024.v1_final.pdf"))
    assert ok.path_params == {"name": "report-2024.v1_final.pdf"}


# -- P30: encoded slashes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/files/..%2F..%2Fetc%2Fpasswd", "/files/..%2fpasswd", "/files/%2e%2e%2f%2e%2e%2fetc",
     "/files/a%2Fb", "/files/%2F", "/files/..%5C..%2Fwin.ini%2F"],
    ids=["P30-row", "lower-hex", "dots-encoded", "two-segments", "slash-only", "backslash"],
)
def test_p30_encoded_slash_makes_extra_segments(kit: Any, f_spec: str, path: str) -> None:
    kit.reject(kit.guard(f_spec), get(kit, path), 404, hidden=["passwd", "etc", "win.ini"])
    assert kit.verifiers.count() == 0


# -- P31, P32, P33: double encoding, NUL, invalid UTF-8 --------------------------------------


def test_p31_double_encoding_is_decoded_once(kit: Any, f_spec: str) -> None:
    error = kit.reject(kit.guard(f_spec), get(kit, "/files/%252e%252e%252fetc"), 400,
                       hidden=["%2e%2e", "../", "..%2f"])
    kit.has(error, "path", "name", "", "pattern")


@pytest.mark.parametrize("path", ["/files/a%00.txt", "/files/%00", "/files/a%0Ab",
                                  "/files/a%20b", "/files/%E2%80%AEtxt.exe"],
                         ids=["P32-nul", "nul-only", "newline", "space", "rtl-override"])
def test_p32_control_characters_fail_the_pattern(kit: Any, path: str) -> None:
    error = kit.reject(kit.guard(), get(kit, path), 400, hidden=["\x00", "\\u0000", "\u202e"])
    kit.has(error, "path", "name", "", "pattern")


@pytest.mark.parametrize(
    "path",
    ["/files/%C0%AF", "/files/%FF", "/files/%ED%A0%80", "/files/%E2%82", "/files/a%C3",
     "/users/%FF1"],
    ids=["P33-overlong", "P33-ff", "surrogate", "truncated", "truncated-tail", "other-route"],
)
def test_p33_invalid_utf8_in_path_is_400(kit: Any, f_spec: str, path: str) -> None:
    error = kit.reject(kit.guard(f_spec), get(kit, path), 400, hidden=["\ufffd"])
    kit.has(error, "path")
    assert kit.verifiers.count() == 0


# -- P34: undocumented variants of a secured path --------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/users/", "//users", "/USERS", "/users;x=1", "/Users/1", "/users/1/", "/./users",
     "/users%2F", "/public/ping/", "/public//ping", "/users/1/..", "/public/ping/%2e%2e"],
    ids=["P34-trailing-slash", "P34-double-slash", "P34-upper", "P34-matrix", "upper-item",
         "item-trailing-slash", "dot-prefix", "encoded-slash", "public-slash",
         "public-double-slash", "item-dotdot", "public-encoded-dotdot"],
)
def test_p34_path_variants_are_404_without_credentials(kit: Any, f_spec: str,
                                                       path: str) -> None:
    kit.reject(kit.guard(f_spec), get(kit, path, headers=[]), 404)
    assert kit.verifiers.count() == 0


@pytest.mark.parametrize("path", ["/users/.", "/users/..", "/users/%2e", "/users/%2e%2e"],
                         ids=["dot", "dotdot", "encoded-dot", "encoded-dotdot"])
def test_p34_dot_segments_are_template_values_and_stay_secured(kit: Any, path: str) -> None:
    # No dot-segment removal: "." fills {id} like any other segment (as the framework's router
    # would), so the operation's security and parameter checks apply.
    guard = kit.guard()
    kit.reject(guard, get(kit, path, headers=[]), 401)
    assert kit.verifiers.count() == 0
    error = kit.reject(guard, get(kit, path), 400)
    kit.has(error, "path", "id", "", "type")


def test_p34_head_is_secured_as_get(kit: Any) -> None:
    guard = kit.guard()
    error = kit.reject(guard, kit.request("HEAD", "/users/1"), 401)
    assert kit.header(error, "WWW-Authenticate")
    ok = kit.ok(guard, kit.request("HEAD", "/users/1", headers=kit.bearer()))
    assert ok.operation.method.upper() == "GET"
    assert ok.path_params == {"id": 1}


def test_unknown_paths_pass_and_report_are_opt_in(kit: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    assert kit.guard(unknown_paths="pass").check_request(get(kit, "/users/", [])) is None
    with caplog.at_level(logging.WARNING):
        assert kit.guard(unknown_paths="report").check_request(get(kit, "/users/", [])) is None
    assert caplog.records
    # Passing unknown paths never relaxes a known one.
    kit.reject(kit.guard(unknown_paths="pass"), get(kit, "/users/1", []), 401)


def test_ignore_paths_only_affect_matching_paths(kit: Any) -> None:
    guard = kit.guard(ignore_paths=["/health", "/metrics*"])
    assert guard.check_request(get(kit, "/health", [])) is None
    assert guard.check_request(get(kit, "/metrics/x", [])) is None
    kit.reject(guard, get(kit, "/users/1", []), 401)
    kit.reject(guard, get(kit, "/health/../users/1", []), 404)


# -- P35: undeclared methods -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "POST", "TRACE", "CONNECT", "PROPFIND"])
def test_p35_undeclared_method_is_405_with_allow(kit: Any, f_spec: str, method: str) -> None:
    request = kit.request(method, "/users/1", headers=kit.bearer())
    error = kit.reject(kit.guard(f_spec), request, 405)
    assert kit.header(error, "Allow") == ["DELETE, GET, HEAD"]
    kit.has(error, "route")
    assert kit.verifiers.count() == 0


def test_p35_allow_for_other_paths(kit: Any) -> None:
    guard = kit.guard()
    error = kit.reject(guard, kit.request("DELETE", "/public/ping"), 405)
    assert kit.header(error, "Allow") == ["GET, HEAD"]
    error = kit.reject(guard, kit.request("PUT", "/users", headers=kit.key()), 405)
    assert kit.header(error, "Allow") == ["GET, HEAD, POST"]


# -- P36: method override headers ------------------------------------------------------------

OVERRIDES = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
             "x-http-method-override"]


@pytest.mark.parametrize("header", OVERRIDES)
def test_p36_row_request_is_refused_by_routing(kit: Any, header: str) -> None:
    request = kit.request("POST", "/users/1",
                          headers=[*kit.bearer("t-write"), (header, "DELETE")])
    error = kit.reject(kit.guard(), request, 405)
    assert kit.header(error, "Allow") == ["DELETE, GET, HEAD"]
    assert kit.verifiers.count() == 0


@pytest.mark.parametrize("header", OVERRIDES)
def test_p36_override_header_on_declared_operation_is_400(kit: Any, header: str) -> None:
    guard = kit.guard()
    request = kit.request("GET", "/users/1", headers=[*kit.bearer(), (header, "DELETE")])
    error = kit.reject(guard, request, 400)
    kit.has(error, "header", header, "")
    assert kit.verifiers.count("oauth") == 0  # never evaluated as DELETE
    body = b'{"name":"a","email":"a@x.io"}'
    request = kit.request("POST", "/users", headers=[*kit.key(), kit.JSON, (header, "GET")],
                          body=body)
    kit.reject(guard, request, 400)


# -- P37: CORS preflight ---------------------------------------------------------------------


def test_p37_preflight_is_405_without_credentials(kit: Any) -> None:
    request = kit.request("OPTIONS", "/users/1",
                          headers=[("Origin", "https://a.example"),
                                   ("Access-Control-Request-Method", "DELETE")])
    error = kit.reject(kit.guard(), request, 405)
    assert kit.header(error, "Allow") == ["DELETE, GET, HEAD"]
    assert not kit.header(error, "WWW-Authenticate")
    assert kit.verifiers.count() == 0


# -- P56: route-template ReDoS ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/exports/" + "-" * 2000 + "/x", 404), ("/exports/" + "-" * 8000, (400, 404)),
     ("/exports/" + "-" * 80_000, (400, 404)), ("/exports/" + "a-" * 20_000, (400, 404)),
     ("/exports/" + "-" * 2000 + "/" + "-" * 2000, 404)],
    ids=["P56-2000-extra-segment", "P56-8000", "80000", "alternating", "two-segments"],
)
def test_p56_multi_parameter_segment_is_linear(kit: Any, path: str, status: Any) -> None:
    guard = kit.guard()
    kit.reject(guard, get(kit, path), status, hidden=["-" * 100, "a-a-a-a-a-a"])
    assert kit.median_ms(guard, get(kit, path)) <= 100


def test_p56_exports_params_are_split_and_validated(kit: Any, f_spec: str) -> None:
    guard = kit.guard(f_spec)
    ok = kit.ok(guard, get(kit, "/exports/csv-20240101-20241231"))
    assert ok.path_params == {"kind": "csv", "from": "20240101", "to": "20241231"}
    error = kit.reject(guard, get(kit, "/exports/xml-20240101-20241231"), 400)
    kit.has(error, "path", "kind", "", "enum")
    error = kit.reject(guard, get(kit, "/exports/csv-20240101-2024-1231"), 400)
    kit.has(error, "path", "to", "", "pattern")
